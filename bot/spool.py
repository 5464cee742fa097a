"""A local spool for updates the database could not take: one fsync'd JSON file per update.

With long polling the offset is confirmed as soon as updates are fetched, so an update that
could not be handled during an outage exists nowhere else. Each one is written to
`<update_id>.json` (through a temporary file, fsync'd, renamed, the directory fsync'd), so it
survives a crash, and is replayed in update_id order, then deleted. The files hold personal
data: the directory is 0700 and each file 0600, and `forget_person` removes someone's files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_SUFFIX = ".json"
_TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class SpooledUpdate:
    """One update waiting in the spool: its id, whose it is, and the update as Telegram sent it."""

    update_id: int
    sender: int
    update: dict[str, Any]


class Spool:
    """The spool directory. Nothing touches the disk until the first update is spooled.

    Which update belongs to whom is kept in memory too (read from the files once), so asking
    "does this person have updates waiting?" on every update costs no disk access.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._senders: dict[int, int] | None = None  # update_id → sender, once loaded

    def add(self, update_id: int, sender: int, update: dict[str, Any]) -> Path:
        """Write one update durably and count it as pending; returns its file (blocking)."""
        senders = self._index()
        path = self._write(update_id, sender, update)
        senders[update_id] = sender
        return path

    async def put(self, update_id: int, sender: int, update: dict[str, Any]) -> Path:
        """`add` with the disk work in a thread, so fsync does not stall the event loop."""
        senders = self._index()
        path = await asyncio.to_thread(self._write, update_id, sender, update)
        senders[update_id] = sender  # here, not in the thread: readers iterate the index
        return path

    def _write(self, update_id: int, sender: int, update: dict[str, Any]) -> Path:
        self._ensure_directory()
        payload = {
            "version": FORMAT_VERSION,
            "update_id": update_id,
            "sender": sender,
            "spooled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "update": update,
        }
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        final = self._path(update_id)
        temporary = self.directory / f".{update_id}.{uuid.uuid4().hex}{_TEMP_SUFFIX}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # whatever the umask
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._sync_directory()  # the rename itself must survive a crash too
        return final

    def pending(self) -> list[int]:
        """The ids of spooled updates, oldest first."""
        return sorted(self._index())

    def has_pending(self, sender: int) -> bool:
        """True if `sender` has updates waiting (theirs must not overtake them)."""
        return sender in self._index().values()

    def sender_of(self, update_id: int) -> int | None:
        """Whose spooled update this is, or None if it is not (or no longer) spooled."""
        return self._index().get(update_id)

    def read(self, update_id: int) -> SpooledUpdate | None:
        """One spooled update, or None if it is gone (replayed or forgotten meanwhile)."""
        try:
            payload = json.loads(self._path(update_id).read_bytes())
        except FileNotFoundError:
            self._index().pop(update_id, None)
            return None
        return SpooledUpdate(int(payload["update_id"]), int(payload["sender"]), payload["update"])

    def remove(self, update_id: int) -> None:
        """Delete a spooled update (it was replayed); blocking."""
        self._index().pop(update_id, None)
        self._unlink(update_id)

    async def discard(self, update_id: int) -> None:
        """`remove` with the disk work in a thread."""
        self._index().pop(update_id, None)
        await asyncio.to_thread(self._unlink, update_id)

    def _unlink(self, update_id: int) -> None:
        self._path(update_id).unlink(missing_ok=True)
        self._sync_directory()

    def forget_person(self, telegram_user_id: int) -> int:
        """Delete every spooled update of this person (/forget); returns how many."""
        mine = [uid for uid, sender in self._index().items() if sender == telegram_user_id]
        for update_id in mine:
            self._path(update_id).unlink(missing_ok=True)
            self._index().pop(update_id, None)
        if mine:
            self._sync_directory()
        return len(mine)

    def _index(self) -> dict[int, int]:
        if self._senders is None:
            self._senders = self._load()
        return self._senders

    def _load(self) -> dict[int, int]:
        """Read who sent each spooled update; remove half-written temporary files."""
        senders: dict[int, int] = {}
        if not self.directory.is_dir():
            return senders
        for path in self.directory.iterdir():
            if path.name.endswith(_TEMP_SUFFIX):
                path.unlink(missing_ok=True)  # a write cut short by a crash: never confirmed
                continue
            if not path.name.endswith(_SUFFIX) or not path.stem.isdigit():
                continue
            try:
                payload = json.loads(path.read_bytes())
                senders[int(payload["update_id"])] = int(payload["sender"])
            except (OSError, ValueError, KeyError, TypeError):
                logger.error("unreadable spool file %s is left in place", path.name)
        return senders

    def _path(self, update_id: int) -> Path:
        return self.directory / f"{update_id:020d}{_SUFFIX}"

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o077:
            self.directory.chmod(0o700)

    def _sync_directory(self) -> None:
        if not self.directory.is_dir():
            return
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
