"""The controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage import audit
from storage.clock import ManualClock, now, set_clock
from storage.database import Database

BANGKOK = timezone(timedelta(hours=7))


def test_now_is_timezone_aware_utc() -> None:
    value = now()
    assert value.tzinfo is UTC
    assert abs(value - datetime.now(UTC)) < timedelta(seconds=5)


def test_set_clock_replaces_and_none_restores_the_system_clock() -> None:
    fixed = datetime(2030, 1, 1, tzinfo=UTC)
    set_clock(lambda: fixed)
    try:
        assert now() == fixed
    finally:
        set_clock(None)
    assert now() > fixed - timedelta(days=365 * 10)
    assert now() != fixed


def test_a_clock_in_another_zone_is_read_as_utc() -> None:
    set_clock(lambda: datetime(2026, 1, 5, 8, 30, tzinfo=BANGKOK))
    try:
        assert now() == datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
        assert now().tzinfo is UTC
    finally:
        set_clock(None)


def test_a_naive_clock_is_refused() -> None:
    set_clock(lambda: datetime(2026, 1, 5, 8, 30))
    try:
        with pytest.raises(ValueError, match="naive"):
            now()
    finally:
        set_clock(None)


def test_manual_clock_moves_only_when_told(clock: ManualClock) -> None:
    start = clock()
    assert now() == start
    clock.advance(minutes=30)
    assert now() == start + timedelta(minutes=30)
    clock.set(datetime(2026, 2, 1, 7, 0, tzinfo=BANGKOK))
    assert now() == datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 2, 1))


async def test_storage_stamps_records_with_the_overridden_clock(
    db: Database, clock: ManualClock
) -> None:
    clock.advance(hours=2)
    async with db.session() as session:
        entry = await audit.record("test.clock", actor="system", session=session)
    assert entry.at == clock()
    async with db.session() as session:
        (stored,) = await audit.recent(session=session)
    assert stored.at == clock()
