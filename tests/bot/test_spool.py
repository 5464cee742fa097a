"""The spool: durable, private, in update_id order, emptied by replay and by /forget."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.spool import Spool


def _update(update_id: int, user_id: int) -> dict[str, object]:
    return {"update_id": update_id, "poll_answer": {"poll_id": "p", "user": {"id": user_id}}}


def test_updates_come_back_in_update_id_order_whatever_the_order_they_were_spooled(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "spool")
    for update_id in (1_000_000_007, 9, 120, 10):
        spool.add(update_id, 42, _update(update_id, 42))
    assert spool.pending() == [9, 10, 120, 1_000_000_007]
    reopened = Spool(tmp_path / "spool")  # after a restart, from the files alone
    assert reopened.pending() == [9, 10, 120, 1_000_000_007]
    spooled = reopened.read(120)
    assert spooled is not None
    assert (spooled.update_id, spooled.sender, spooled.update) == (120, 42, _update(120, 42))


def test_a_write_is_fsynced_file_and_directory_before_it_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    spool = Spool(tmp_path / "spool")
    path = spool.add(5, 42, _update(5, 42))
    assert synced == ["file", "dir"]
    assert [p.name for p in (tmp_path / "spool").iterdir()] == [path.name], "no temporary left"


def test_a_half_written_file_from_a_crash_is_not_replayed(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.add(5, 42, _update(5, 42))
    leftover = tmp_path / "spool" / ".6.abc.tmp"
    leftover.write_text('{"update_id": 6, "sen')
    reopened = Spool(tmp_path / "spool")
    assert reopened.pending() == [5]
    assert not leftover.exists()


def test_spool_files_are_readable_by_the_bot_alone(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)  # an existing, too open directory is tightened
    old_umask = os.umask(0)
    try:
        path = Spool(directory).add(5, 42, _update(5, 42))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_replayed_update_is_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.add(5, 42, _update(5, 42))
    spool.add(6, 42, _update(6, 42))
    spool.remove(5)
    assert spool.pending() == [6]
    assert spool.read(5) is None
    assert len(list((tmp_path / "spool").iterdir())) == 1
    assert Spool(tmp_path / "spool").pending() == [6]


def test_forget_person_removes_their_updates_only(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.add(5, 42, _update(5, 42))
    spool.add(6, 43, _update(6, 43))
    spool.add(7, 42, _update(7, 42))
    assert spool.has_pending(42)
    assert spool.forget_person(42) == 2
    assert not spool.has_pending(42) and spool.has_pending(43)
    assert spool.pending() == [6]
    assert Spool(tmp_path / "spool").pending() == [6], "gone from disk too"
    assert spool.forget_person(42) == 0


def test_nothing_touches_the_disk_until_something_is_spooled(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    assert spool.pending() == [] and not spool.has_pending(42)
    assert spool.forget_person(42) == 0
    assert not (tmp_path / "spool").exists()


async def test_the_async_forms_write_and_delete_the_same_way(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    await spool.put(8, 42, _update(8, 42))
    await spool.put(3, 43, _update(3, 43))
    assert Spool(tmp_path / "spool").pending() == [3, 8]
    await spool.discard(3)
    assert spool.pending() == [8] and not spool.has_pending(43)
    assert Spool(tmp_path / "spool").pending() == [8]
