"""Time travel: reminders planned from the database, swept at chosen moments."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.i18n.catalog import catalogs
from schedules.planning import parse_quiet_hours
from schedules.reminders import ReminderPolicy, sweep
from storage import citizens, reminders
from storage.citizens import NewCitizen
from storage.database import Database
from storage.enums import AgeBand, Purpose
from storage.models import Delivery

BANGKOK = ZoneInfo("Asia/Bangkok")
POLICY = ReminderPolicy(quiet=parse_quiet_hours("21:00-07:00"), tz=BANGKOK)


def bkk(day: int, hour: int, minute: int = 0) -> datetime:
    """A Bangkok wall-clock moment in December 2026, as aware UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BANGKOK).astimezone(UTC)


async def _citizen(db: Database, user_id: int, *, reminders_ok: bool = True) -> None:
    async with db.session() as session:
        await citizens.register_citizen(
            NewCitizen(user_id, "th", AgeBand.age_35_49, False, None),
            {p: (p is not Purpose.reminders or reminders_ok) for p in Purpose},
            session=session,
        )


async def _event(db: Database, starts_at: datetime, *attendees: int, ref: str = "1") -> int:
    async with db.session() as session:
        event = await reminders.upsert_event(
            "test", ref, title={"th": "สภากาแฟ", "en": "Coffee council"}, starts_at=starts_at,
            place={"th": "ศาลากลาง", "en": "City hall"}, session=session,
        )  # fmt: skip
        assert event.id is not None
        for user_id in attendees:
            await reminders.add_attendee(event.id, user_id, session=session)
        return event.id


async def _queued(db: Database) -> list[tuple[str, str, str | None]]:
    """(lead minutes, status, recipient) of every reminder in the delivery log."""
    async with db.session() as session:
        rows = (await session.exec(select(Delivery))).all()
    return sorted(
        (row.key.split("|")[0].rsplit(":", 1)[1], row.status, row.recipient) for row in rows
    )


@pytest.fixture
async def db(sqlite_db: Database) -> Database:
    await _citizen(sqlite_db, 1)
    return sqlite_db


async def test_default_lead_times_fire_24_hours_and_1_hour_before(db: Database) -> None:
    await _event(db, bkk(10, 9), 1)  # Thursday 10 Dec, 09:00
    assert (await sweep(db, catalogs(), POLICY, now=bkk(9, 8, 59))).enqueued == 0
    result = await sweep(db, catalogs(), POLICY, now=bkk(9, 9))
    assert result.enqueued == 1 and result.next_fire_at == bkk(10, 8)
    await sweep(db, catalogs(), POLICY, now=bkk(9, 9, 30))  # nothing new, nothing twice
    await sweep(db, catalogs(), POLICY, now=bkk(10, 8))
    assert await _queued(db) == [("1440", "pending", "tg:1"), ("60", "pending", "tg:1")]


async def test_the_reminder_text_is_in_the_persons_language(db: Database) -> None:
    await _event(db, bkk(10, 9), 1)
    await sweep(db, catalogs(), POLICY, now=bkk(10, 8))
    async with db.session() as session:
        from storage import deliveries

        [task] = await deliveries.claim_due(5, now=bkk(10, 8), session=session)
    assert "สภากาแฟ" in task.text and "10 ธ.ค. 2569, 09:00 น." in task.text
    assert "ศาลากลาง" in task.text


@pytest.mark.parametrize(
    ("event", "fires"),
    [
        ((10, 21, 59), (10, 20, 59)),  # 20:59 is before quiet hours: as planned
        ((10, 22, 30), (10, 21, 30)),  # quiet, but 07:00 would be after the event: kept
        ((11, 7, 30), (11, 7, 0)),  # 06:30 is quiet: moved to 07:00, still before the event
    ],
)
async def test_quiet_hours_with_a_one_hour_lead(
    db: Database, event: tuple[int, int, int], fires: tuple[int, int, int]
) -> None:
    async with db.session() as session:
        await reminders.set_lead_minutes(1, [60], session=session)
    await _event(db, bkk(*event), 1)
    result = await sweep(db, catalogs(), POLICY, now=bkk(10, 12))
    assert result.next_fire_at == bkk(*fires)


async def test_quiet_hours_end_edge_moves_to_seven(db: Database) -> None:
    async with db.session() as session:
        await reminders.set_lead_minutes(1, [180], session=session)
    await _event(db, bkk(11, 9, 59), 1, ref="a")  # 3 h before = 06:59: quiet → 07:00
    await _event(db, bkk(12, 10, 0), 1, ref="b")  # 3 h before = 07:00: not quiet
    result = await sweep(db, catalogs(), POLICY, now=bkk(10, 12))
    assert result.next_fire_at == bkk(11, 7, 0)
    await sweep(db, catalogs(), POLICY, now=bkk(11, 6, 59))
    assert await _queued(db) == []
    await sweep(db, catalogs(), POLICY, now=bkk(11, 7, 0))
    assert len(await _queued(db)) == 1
    result = await sweep(db, catalogs(), POLICY, now=bkk(11, 7, 1))
    assert result.next_fire_at == bkk(12, 7, 0)


async def test_reminders_off_or_no_consent_means_none(db: Database) -> None:
    await _citizen(db, 2, reminders_ok=False)
    await _citizen(db, 3)
    async with db.session() as session:
        await reminders.set_reminders_enabled(3, False, session=session)
    await _event(db, bkk(10, 9), 2, 3)
    await sweep(db, catalogs(), POLICY, now=bkk(10, 8, 30))
    assert await _queued(db) == []


async def test_a_lead_time_changed_after_planning_is_used(db: Database) -> None:
    await _event(db, bkk(10, 9), 1)
    first = await sweep(db, catalogs(), POLICY, now=bkk(9, 8))
    assert first.next_fire_at == bkk(9, 9)
    async with db.session() as session:
        await reminders.set_lead_minutes(1, [180], session=session)
    second = await sweep(db, catalogs(), POLICY, now=bkk(9, 8))
    assert second.next_fire_at == bkk(10, 7)  # 06:00 is quiet: 07:00, before the event
    await sweep(db, catalogs(), POLICY, now=bkk(10, 7))
    assert await _queued(db) == [("180", "pending", "tg:1")]


async def test_an_event_moved_after_planning_reminds_for_the_new_time(db: Database) -> None:
    await _event(db, bkk(10, 9), 1)
    await sweep(db, catalogs(), POLICY, now=bkk(9, 9))  # the 24 h reminder is queued
    async with db.session() as session:
        await reminders.upsert_event(
            "test", "1", title={"th": "สภากาแฟ", "en": "Coffee council"},
            starts_at=bkk(17, 9), session=session,
        )  # fmt: skip
    result = await sweep(db, catalogs(), POLICY, now=bkk(10, 8))
    assert result.enqueued == 0, "no 1 h reminder for the old time"
    result = await sweep(db, catalogs(), POLICY, now=bkk(15, 8))
    assert result.next_fire_at == bkk(16, 9)
    await sweep(db, catalogs(), POLICY, now=bkk(16, 9))
    # The old time's reminder, still unsent when the event moved, was withdrawn.
    assert await _queued(db) == [("1440", "dropped", "tg:1"), ("1440", "pending", "tg:1")]


async def test_missed_reminders_are_sent_if_the_event_is_ahead_and_dropped_if_not(
    db: Database,
) -> None:
    await _event(db, bkk(10, 9), 1, ref="ahead")
    await _event(db, bkk(9, 9), 1, ref="past")
    # The bot was down from the 8th until 08:30 on the 10th.
    result = await sweep(db, catalogs(), POLICY, now=bkk(10, 8, 30))
    assert result.enqueued == 1  # the 1 h reminder of the event still ahead
    statuses = sorted(status for _, status, _ in await _queued(db))
    assert statuses == ["dropped", "dropped", "dropped", "pending"]
