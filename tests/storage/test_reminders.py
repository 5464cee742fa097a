"""Scheduled events, their attendees, reminder settings, and who may be reminded when."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from storage import audit
from storage.citizens import set_consent, set_reachable
from storage.clock import ManualClock
from storage.columns import UtcDateTime
from storage.database import Database
from storage.deliveries import citizen_recipient, enqueue
from storage.enums import DeliveryStatus, Purpose
from storage.errors import NotRegistered, UnknownEvent
from storage.models import Delivery, ScheduledEvent
from storage.reminders import (
    DEFAULT_LEAD_MINUTES,
    LEAD_CHOICES,
    ReminderCandidate,
    ReminderPrefs,
    add_attendee,
    attendee_ids,
    cancel_event,
    get_event,
    reminder_candidates,
    reminder_prefs,
    reminder_purpose,
    remove_attendee,
    set_lead_minutes,
    set_reminders_enabled,
    upsert_event,
)
from tests.storage.conftest import START
from tests.storage.factories import registered

TITLE = {"th": "สภากาแฟ ครั้งที่ 3", "en": "Coffee council No. 3"}
PLACE = {"th": "ศาลากลางจังหวัดยะลา", "en": "Yala City Hall"}
SATURDAY = datetime(2026, 1, 10, 1, 0, tzinfo=START.tzinfo)  # 08:00 in Yala


async def new_event(
    db: Database, ref: str = "meeting:3", starts_at: datetime = SATURDAY, **kwargs: object
) -> ScheduledEvent:
    """Upsert council event `ref` (title TITLE, place PLACE unless given) in its own session."""
    options: dict[str, object] = {"title": TITLE, "place": PLACE, "starts_at": starts_at}
    options.update(kwargs)
    async with db.session() as session:
        return await upsert_event("council", ref, session=session, **options)  # type: ignore[arg-type]


async def attend(db: Database, event: ScheduledEvent, *telegram_user_ids: int) -> None:
    assert event.id is not None
    async with db.session() as session:
        for telegram_user_id in telegram_user_ids:
            await add_attendee(event.id, telegram_user_id, session=session)


async def candidates(
    db: Database, after: datetime = START, before: datetime = START + timedelta(days=30)
) -> list[ReminderCandidate]:
    async with db.session() as session:
        return await reminder_candidates(
            starting_after=after, starting_before=before, session=session
        )


async def reminder_actions(db: Database) -> list[tuple[str, dict[str, object] | None]]:
    async with db.session() as session:
        entries = await audit.all_entries(session=session)
    return [(e.action, e.detail) for e in entries if e.action == "reminders.changed"]


async def statuses(db: Database) -> dict[str, DeliveryStatus]:
    async with db.session() as session:
        return {d.key: d.status for d in (await session.exec(select(Delivery))).all()}


# --- reminder settings -----------------------------------------------------------------------


async def test_a_new_citizen_gets_reminders_at_the_default_lead_times(db: Database) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        prefs = await reminder_prefs(1001, session=session)
    assert prefs == ReminderPrefs(enabled=True, lead_minutes=DEFAULT_LEAD_MINUTES)
    assert DEFAULT_LEAD_MINUTES == (1440, 60)
    assert set(DEFAULT_LEAD_MINUTES) <= set(LEAD_CHOICES)


async def test_strangers_have_no_reminder_settings(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(NotRegistered):
            await reminder_prefs(404, session=session)
        with pytest.raises(NotRegistered):
            await set_reminders_enabled(404, False, session=session)
        with pytest.raises(NotRegistered):
            await set_lead_minutes(404, [60], session=session)


async def test_lead_times_are_stored_largest_first_without_repeats_and_audited(
    db: Database,
) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        prefs = await set_lead_minutes(1001, [15, 2880, 15, 180], session=session)
    assert prefs == ReminderPrefs(enabled=True, lead_minutes=(2880, 180, 15))
    async with db.session() as session:
        assert await reminder_prefs(1001, session=session) == prefs
        await set_lead_minutes(1001, [180, 2880, 15], session=session)  # the same choice
    assert await reminder_actions(db) == [("reminders.changed", {"lead_minutes": [2880, 180, 15]})]


async def test_lead_times_are_stored_as_a_json_list_and_null_means_the_defaults(
    db: Database,
) -> None:
    await registered(db, 1001)
    await registered(db, 1002)
    async with db.session() as session:
        await set_lead_minutes(1001, [60, 15], session=session)
    async with db.engine.connect() as connection:
        raw = await connection.execute(
            sa.text("SELECT telegram_user_id, reminder_leads FROM citizens ORDER BY id")
        )
        assert [tuple(row) for row in raw] == [(1001, "[60,15]"), (1002, None)]


@pytest.mark.parametrize(
    "minutes",
    [[], [30], [60, 45], [0], [-60], [True], ["60"]],
    ids=["none", "not-offered", "one-not-offered", "zero", "negative", "bool", "text"],
)
async def test_lead_times_outside_the_choices_are_refused(
    db: Database, minutes: list[object]
) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        with pytest.raises(ValueError):
            await set_lead_minutes(1001, minutes, session=session)  # type: ignore[arg-type]
        assert (await reminder_prefs(1001, session=session)).lead_minutes == DEFAULT_LEAD_MINUTES
    assert await reminder_actions(db) == []


async def test_reminders_are_turned_off_and_on_again_with_one_audit_entry_per_change(
    db: Database,
) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        await set_lead_minutes(1001, [60], session=session)
        off = await set_reminders_enabled(1001, False, session=session)
        await set_reminders_enabled(1001, False, session=session)
        on = await set_reminders_enabled(1001, True, session=session)
    assert off == ReminderPrefs(enabled=False, lead_minutes=(60,))
    assert on == ReminderPrefs(enabled=True, lead_minutes=(60,))
    assert [detail for _, detail in await reminder_actions(db)] == [
        {"lead_minutes": [60]},
        {"enabled": False},
        {"enabled": True},
    ]


# --- events and attendees --------------------------------------------------------------------


async def test_an_event_is_created_once_and_updated_by_kind_and_ref(
    db: Database, clock: ManualClock
) -> None:
    event = await new_event(db)
    assert event.id is not None
    assert (event.kind, event.ref, event.title, event.place) == (
        "council",
        "meeting:3",
        TITLE,
        PLACE,
    )
    assert event.starts_at == SATURDAY
    assert event.cancelled_at is None
    assert event.created_at == event.updated_at == clock()

    clock.advance(hours=1)
    moved = await new_event(db, starts_at=SATURDAY + timedelta(hours=2), place=None)
    assert moved.id == event.id
    assert moved.starts_at == SATURDAY + timedelta(hours=2)
    assert moved.place is None
    assert moved.created_at == START
    assert moved.updated_at == clock()
    async with db.session() as session:
        assert len((await session.exec(select(ScheduledEvent))).all()) == 1


async def test_a_cancelled_event_stays_cancelled_unless_reopened(
    db: Database, clock: ManualClock
) -> None:
    await new_event(db)
    async with db.session() as session:
        cancelled = await cancel_event("council", "meeting:3", session=session)
        assert cancelled is not None and cancelled.cancelled_at == clock()
        clock.advance(minutes=5)
        again = await cancel_event("council", "meeting:3", session=session)
        assert again is not None and again.cancelled_at == START  # the first cancellation
        assert await cancel_event("council", "meeting:404", session=session) is None

    still = await new_event(db, starts_at=SATURDAY + timedelta(days=7))
    assert still.cancelled_at is not None
    reopened = await new_event(db, starts_at=SATURDAY + timedelta(days=7), reopen=True)
    assert reopened.cancelled_at is None
    async with db.session() as session:
        found = await get_event("council", "meeting:3", session=session)
    assert found is not None and found.cancelled_at is None


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"title": {}}, "at least one language"),
        ({"title": {"fr": "Conseil"}}, "languages"),
        ({"place": {"th": " "}}, "empty"),
        ({"starts_at": datetime(2026, 1, 10, 8, 0)}, "timezone-aware"),
        ({"ref": "x" * 65}, "ref"),
    ],
)
async def test_events_refuse_unusable_titles_places_and_times(
    db: Database, change: dict[str, object], match: str
) -> None:
    arguments: dict[str, object] = {"ref": "meeting:3", "title": TITLE, "starts_at": SATURDAY}
    arguments.update(change)
    ref = arguments.pop("ref")
    async with db.session() as session:
        with pytest.raises(ValueError, match=match):
            await upsert_event("council", ref, session=session, **arguments)  # type: ignore[arg-type]


async def test_attendees_are_added_once_and_can_be_removed(db: Database) -> None:
    event = await new_event(db)
    assert event.id is not None
    async with db.session() as session:
        assert await add_attendee(event.id, 1001, session=session)
        assert await add_attendee(event.id, 1002, session=session)
        assert not await add_attendee(event.id, 1001, session=session)
        assert await attendee_ids(event.id, session=session) == [1001, 1002]
        assert await remove_attendee(event.id, 1001, session=session)
        assert not await remove_attendee(event.id, 1001, session=session)
        assert await attendee_ids(event.id, session=session) == [1002]
        with pytest.raises(UnknownEvent):
            await add_attendee(9999, 1001, session=session)


# --- who may be reminded ---------------------------------------------------------------------


async def test_candidates_are_attendees_who_consent_are_reachable_and_want_reminders(
    db: Database,
) -> None:
    await registered(db, 1001, language="th")
    await registered(db, 1002, language="en")
    await registered(db, 1003, {Purpose.coffee_council: True})  # never agreed to reminders
    await registered(db, 1004)
    await registered(db, 1005)
    await registered(db, 1006)
    async with db.session() as session:
        await set_lead_minutes(1002, [15, 180], session=session)
        await set_consent(1004, Purpose.reminders, False, session=session)
        await set_reachable(1005, False, session=session)
        await set_reminders_enabled(1006, False, session=session)
    event = await new_event(db)
    await attend(db, event, 1001, 1002, 1003, 1004, 1005, 1006, 1007)  # 1007: a stranger

    assert await candidates(db) == [
        ReminderCandidate(
            event_id=event.id or 0,
            kind="council",
            ref="meeting:3",
            title=TITLE,
            place=PLACE,
            starts_at=SATURDAY,
            telegram_user_id=1001,
            language="th",
            lead_minutes=DEFAULT_LEAD_MINUTES,
        ),
        ReminderCandidate(
            event_id=event.id or 0,
            kind="council",
            ref="meeting:3",
            title=TITLE,
            place=PLACE,
            starts_at=SATURDAY,
            telegram_user_id=1002,
            language="en",
            lead_minutes=(180, 15),
        ),
    ]


async def test_candidates_come_only_from_events_in_the_window_and_not_cancelled(
    db: Database,
) -> None:
    await registered(db, 1001)
    at_start = await new_event(db, "at-start", START + timedelta(hours=1))
    at_end = await new_event(db, "at-end", START + timedelta(hours=5))
    before = await new_event(db, "before", START)
    after = await new_event(db, "after", START + timedelta(hours=5, seconds=1))
    cancelled = await new_event(db, "cancelled", START + timedelta(hours=2))
    for event in (at_start, at_end, before, after, cancelled):
        await attend(db, event, 1001)
    async with db.session() as session:
        await cancel_event("council", "cancelled", session=session)

    window = await candidates(db, START, START + timedelta(hours=5))
    assert [c.ref for c in window] == ["at-start", "at-end"]
    assert await candidates(db, START, START) == []


async def test_candidates_are_ordered_by_start_then_event_then_attendee(db: Database) -> None:
    for telegram_user_id in (1001, 1002, 1003):
        await registered(db, telegram_user_id)
    late = await new_event(db, "late", SATURDAY + timedelta(hours=1))
    early = await new_event(db, "early", SATURDAY)
    await attend(db, late, 1003, 1001)
    await attend(db, early, 1002, 1001)
    assert [(c.ref, c.telegram_user_id) for c in await candidates(db)] == [
        ("early", 1002),
        ("early", 1001),
        ("late", 1003),
        ("late", 1001),
    ]


async def test_ten_thousand_attendees_are_found_in_one_query(db: Database) -> None:
    event = await new_event(db)
    tables = SQLModel.metadata.tables
    now = sa.literal(START, UtcDateTime)
    async with db.session() as session:
        await session.exec(
            sa.insert(tables["citizens"]),
            params=[
                {
                    "telegram_user_id": 7_000_000_000 + n,
                    "language": "th" if n % 2 else "en",
                    "role": "citizen",
                    "age_band": "35-49",
                    "reachable": True,
                    "reminders_enabled": n % 10 != 0,  # every tenth turned reminders off
                    "created_at": START,
                    "updated_at": START,
                }
                for n in range(10_000)
            ],
        )
        citizens = tables["citizens"]
        await session.exec(
            sa.insert(tables["consents"]).from_select(
                ["citizen_id", "purpose", "granted", "decided_at"],
                sa.select(citizens.c.id, sa.literal("reminders"), sa.true(), now),
            )
        )
        await session.exec(
            sa.insert(tables["event_attendees"]).from_select(
                ["event_id", "telegram_user_id", "added_at"],
                sa.select(sa.literal(event.id), citizens.c.telegram_user_id, now),
            )
        )
    selects: list[str] = []

    def count_selects(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count_selects)
    try:
        found = await candidates(db)
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count_selects)
    assert len(selects) == 1  # joins, not one query per attendee
    assert len(found) == 9_000
    assert len({c.telegram_user_id for c in found}) == 9_000


# --- reminders already waiting when plans change ---------------------------------------------


def test_a_reminder_purpose_names_the_event_its_start_and_the_lead() -> None:
    starts_at = datetime(2026, 1, 1, 0, 0, tzinfo=START.tzinfo)
    assert reminder_purpose(5, starts_at, 60) == "reminder:5:1767225600:60"


async def enqueue_reminder(db: Database, event: ScheduledEvent, lead: int, *ids: int) -> None:
    assert event.id is not None
    async with db.session() as session:
        await enqueue(
            reminder_purpose(event.id, event.starts_at, lead),
            "reminder",
            {"th": "เตือนความจำ", "en": "Reminder"},
            [citizen_recipient(i, "th") for i in ids],
            created_by=audit.SYSTEM,
            audience=f"event:{event.id}",
            not_before=event.starts_at - timedelta(minutes=lead),
            session=session,
        )


async def test_cancelling_an_event_drops_its_waiting_reminders(db: Database) -> None:
    event = await new_event(db)
    other = await new_event(db, "meeting:4")
    await enqueue_reminder(db, event, 60, 1001, 1002)
    await enqueue_reminder(db, other, 60, 1001)
    async with db.session() as session:
        await cancel_event("council", "meeting:3", session=session)
    assert set((await statuses(db)).values()) == {DeliveryStatus.dropped, DeliveryStatus.pending}
    assert [
        key for key, status in (await statuses(db)).items() if status is DeliveryStatus.pending
    ] == [f"{reminder_purpose(other.id or 0, SATURDAY, 60)}|tg:1001"]


async def test_moving_an_event_drops_the_reminders_for_the_old_time(db: Database) -> None:
    event = await new_event(db)
    await enqueue_reminder(db, event, 1440, 1001)
    unchanged = await new_event(db)  # same time again: nothing dropped
    assert set((await statuses(db)).values()) == {DeliveryStatus.pending}
    moved = await new_event(db, starts_at=SATURDAY + timedelta(days=1))
    await enqueue_reminder(db, moved, 1440, 1001)
    assert unchanged.id == moved.id
    assert await statuses(db) == {
        f"{reminder_purpose(event.id or 0, SATURDAY, 1440)}|tg:1001": DeliveryStatus.dropped,
        f"{reminder_purpose(event.id or 0, moved.starts_at, 1440)}|tg:1001": (
            DeliveryStatus.pending
        ),
    }


async def test_removing_an_attendee_drops_only_their_waiting_reminders(db: Database) -> None:
    event = await new_event(db)
    await attend(db, event, 1001, 1002)
    await enqueue_reminder(db, event, 60, 1001, 1002)
    assert event.id is not None
    async with db.session() as session:
        await remove_attendee(event.id, 1001, session=session)
    purpose = reminder_purpose(event.id, SATURDAY, 60)
    assert await statuses(db) == {
        f"{purpose}|tg:1001": DeliveryStatus.dropped,
        f"{purpose}|tg:1002": DeliveryStatus.pending,
    }


async def test_deleting_an_event_deletes_its_attendees(db: Database) -> None:
    event = await new_event(db)
    await attend(db, event, 1001)
    async with db.engine.begin() as connection:
        await connection.execute(
            sa.text("DELETE FROM scheduled_events WHERE id = :id"), {"id": event.id}
        )
    async with db.session() as session:
        assert await attendee_ids(event.id or 0, session=session) == []
        assert (await session.exec(select(col(ScheduledEvent.id)))).all() == []
