"""The audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage import audit
from storage.clock import ManualClock
from storage.database import Database


def test_a_telegram_actor_is_tg_and_the_id() -> None:
    assert audit.actor_for(123456789) == "tg:123456789"
    assert audit.SYSTEM == "system"


async def test_record_stamps_the_clock_and_returns_the_stored_entry(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        entry = await audit.record(
            "group.registered",
            actor=audit.SYSTEM,
            target="group:-100123",
            detail={"title": "ชมรมผู้สูงอายุ"},
            session=session,
        )
    assert entry.id is not None
    assert entry.at == clock()
    async with db.session() as session:
        (stored,) = await audit.recent(session=session)
    assert (stored.id, stored.actor, stored.action, stored.target, stored.detail) == (
        entry.id,
        "system",
        "group.registered",
        "group:-100123",
        {"title": "ชมรมผู้สูงอายุ"},
    )


async def test_recent_is_newest_first_and_limited(db: Database, clock: ManualClock) -> None:
    async with db.session() as session:
        for n in range(5):
            await audit.record(f"test.{n}", actor="system", session=session)
            clock.advance(seconds=1)
        # Same instant: the later insert still counts as newer.
        await audit.record("test.5", actor="system", session=session)
        await audit.record("test.6", actor="system", session=session)
    async with db.session() as session:
        assert [e.action for e in await audit.recent(3, session=session)] == [
            "test.6",
            "test.5",
            "test.4",
        ]
        assert len(await audit.recent(session=session)) == 7
        with pytest.raises(ValueError):
            await audit.recent(0, session=session)


async def test_detail_must_be_json_and_an_entry_needs_action_and_actor(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(ValueError, match="JSON"):
            await audit.record(
                "x.y", actor="system", detail={"when": datetime(2026, 1, 1)}, session=session
            )
        with pytest.raises(ValueError):
            await audit.record("", actor="system", session=session)
        with pytest.raises(ValueError):
            await audit.record("x.y", actor="", session=session)
        assert await audit.recent(session=session) == []


async def test_all_entries_are_oldest_first_and_can_start_from_a_time(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        for n in range(3):
            await audit.record(f"test.{n}", actor="system", session=session)
            clock.advance(hours=1)
        # Two entries at the same instant: the earlier insert comes first.
        await audit.record("test.3", actor="system", session=session)
        await audit.record("test.4", actor="system", session=session)
    async with db.session() as session:
        assert [e.action for e in await audit.all_entries(session=session)] == [
            "test.0",
            "test.1",
            "test.2",
            "test.3",
            "test.4",
        ]
        since = clock() - timedelta(hours=1)  # the instant test.2 was written: included
        assert [e.action for e in await audit.all_entries(since=since, session=session)] == [
            "test.2",
            "test.3",
            "test.4",
        ]
