"""The delivery log: each message reaches each recipient exactly once, and reports back."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from storage.citizens import get_citizen, set_consent, set_reachable
from storage.clock import ManualClock
from storage.database import Database
from storage.deliveries import (
    DeliveryReport,
    DeliveryTask,
    Recipient,
    broadcast_recipients,
    citizen_recipient,
    claim_due,
    count_broadcast_recipients,
    counts_by_status,
    drop_pending,
    enqueue,
    finished_unreported,
    get_message,
    group_recipient,
    mark_blocked,
    mark_failed,
    mark_reported,
    mark_sent,
    next_due_at,
    recover_in_flight,
    report,
    retry_later,
)
from storage.enums import DeliveryStatus, Purpose
from storage.errors import UnknownMessage
from storage.models import Delivery, OutboxMessage
from tests.storage.conftest import START
from tests.storage.factories import registered

CONTENT = {"th": "สวัสดีค่ะ", "en": "Hello", "both": "สวัสดี / Hello"}
FACILITATOR = "tg:7"
ANNA = citizen_recipient(1001, "th")
BEN = citizen_recipient(1002, "en")
GROUP = group_recipient(-100123)


async def enqueue_to(
    db: Database,
    recipients: list[Recipient],
    purpose: str = "broadcast:1",
    **kwargs: object,
) -> OutboxMessage:
    """Enqueue `CONTENT` (unless given) in its own committed session."""
    options: dict[str, object] = {
        "kind": "broadcast",
        "content": CONTENT,
        "created_by": FACILITATOR,
        "audience": "citizens:reminders",
    }
    options.update(kwargs)
    async with db.session() as session:
        return await enqueue(purpose, recipients=recipients, session=session, **options)  # type: ignore[arg-type]


async def stored_deliveries(db: Database) -> list[Delivery]:
    async with db.session() as session:
        return list((await session.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def claim(db: Database, limit: int = 100, now: datetime | None = None) -> list[DeliveryTask]:
    async with db.session() as session:
        return await claim_due(limit, now=now, session=session)


async def report_of(db: Database, message: OutboxMessage) -> DeliveryReport:
    assert message.id is not None
    async with db.session() as session:
        return await report(message.id, session=session)


# --- enqueueing ------------------------------------------------------------------------------


async def test_enqueue_logs_the_message_and_one_pending_delivery_per_recipient(
    db: Database, clock: ManualClock
) -> None:
    message = await enqueue_to(db, [ANNA, BEN, GROUP], report_to_chat_id=7)
    assert message.id is not None
    assert message.purpose == "broadcast:1"
    assert message.kind == "broadcast"
    assert message.content == CONTENT
    assert message.audience == "citizens:reminders"
    assert message.created_by == FACILITATOR
    assert message.created_at == clock()
    assert message.report_to_chat_id == 7
    assert message.reported_at is None

    rows = await stored_deliveries(db)
    assert [(d.recipient, d.chat_id, d.language) for d in rows] == [
        ("tg:1001", 1001, "th"),
        ("tg:1002", 1002, "en"),
        ("chat:-100123", -100123, "both"),
    ]
    assert {d.key for d in rows} == {
        "broadcast:1|tg:1001",
        "broadcast:1|tg:1002",
        "broadcast:1|chat:-100123",
    }
    for delivery in rows:
        assert delivery.message_id == message.id
        assert delivery.status is DeliveryStatus.pending
        assert delivery.attempts == 0
        assert delivery.next_attempt_at == delivery.created_at == clock()
        assert delivery.sent_at is None and delivery.last_error is None


async def test_enqueueing_the_same_purpose_again_adds_only_the_missing_recipients(
    db: Database,
) -> None:
    first = await enqueue_to(db, [ANNA, BEN])
    again = await enqueue_to(db, [ANNA, BEN, GROUP], content={"th": "อื่น"}, report_to_chat_id=9)
    assert again.id == first.id
    assert again.content == CONTENT  # the first call's message stands
    assert again.report_to_chat_id is None
    assert [d.recipient for d in await stored_deliveries(db)] == [
        "tg:1001",
        "tg:1002",
        "chat:-100123",
    ]


async def test_a_recipient_listed_twice_gets_one_delivery(db: Database) -> None:
    await enqueue_to(db, [ANNA, ANNA, BEN])
    assert [d.recipient for d in await stored_deliveries(db)] == ["tg:1001", "tg:1002"]


async def test_concurrent_enqueues_of_one_purpose_never_duplicate(db: Database) -> None:
    recipients = [citizen_recipient(2000 + n, "th") for n in range(50)]
    await asyncio.gather(*(enqueue_to(db, recipients[n::2] + recipients[:10]) for n in range(4)))
    async with db.session() as session:
        messages = (await session.exec(select(OutboxMessage))).all()
    rows = await stored_deliveries(db)
    assert len(messages) == 1
    assert sorted(d.recipient for d in rows) == sorted(r.recipient for r in recipients)


async def test_ten_thousand_recipients_are_enqueued_in_one_call(db: Database) -> None:
    recipients = [
        citizen_recipient(5_000_000_000 + n, "th" if n % 3 else "en") for n in range(10_000)
    ]
    message = await enqueue_to(db, recipients, "broadcast:big")
    await enqueue_to(db, recipients, "broadcast:big")  # again: nothing new
    assert (await report_of(db, message)).total == 10_000
    async with db.session() as session:
        assert await counts_by_status(session=session) == {
            "pending": 10_000,
            "sending": 0,
            "sent": 0,
            "blocked": 0,
            "failed": 0,
            "dropped": 0,
        }
    tasks = await claim(db, 500)
    assert len(tasks) == 500
    assert len({task.id for task in tasks}) == 500


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"content": {}}, "at least one text"),
        ({"content": {"fr": "Bonjour"}}, "content keys"),
        ({"content": {"th": "  "}}, "empty"),
        ({"status": "sent"}, "pending or dropped"),
        ({"kind": "x" * 17}, "kind"),
        ({"purpose": ""}, "purpose"),
        ({"recipients": [ANNA, Recipient("tg:1", 1, "fr")]}, "language"),
        ({"recipients": [Recipient("tg:" + "9" * 70, 1, "th")]}, "recipient"),
        ({"not_before": datetime(2026, 1, 5, 9, 0)}, "timezone-aware"),
    ],
)
async def test_enqueue_refuses_what_could_not_be_sent_and_writes_nothing(
    db: Database, change: dict[str, object], match: str
) -> None:
    arguments: dict[str, object] = {
        "purpose": "broadcast:1",
        "kind": "broadcast",
        "content": CONTENT,
        "recipients": [ANNA, BEN],
        "created_by": FACILITATOR,
        "audience": "citizens:reminders",
    }
    arguments.update(change)
    async with db.session() as session:
        with pytest.raises(ValueError, match=match):
            await enqueue(session=session, **arguments)  # type: ignore[arg-type]
        assert await get_message("broadcast:1", session=session) is None
    assert await stored_deliveries(db) == []


# --- claiming --------------------------------------------------------------------------------


async def test_claim_takes_the_oldest_due_deliveries_up_to_the_limit(
    db: Database, clock: ManualClock
) -> None:
    later = clock() + timedelta(minutes=30)
    await enqueue_to(db, [GROUP], "later", not_before=later)
    await enqueue_to(db, [ANNA, BEN], "first")
    clock.advance(minutes=1)
    await enqueue_to(db, [citizen_recipient(1003, "th")], "second")

    first_two = await claim(db, 2)
    assert [(t.purpose, t.chat_id) for t in first_two] == [("first", 1001), ("first", 1002)]
    assert [(t.purpose, t.chat_id) for t in await claim(db, 5)] == [("second", 1003)]
    assert await claim(db, 5) == []  # "later" is not due yet

    assert [t.purpose for t in await claim(db, 5, now=later)] == ["later"]


async def test_a_claimed_delivery_is_sending_counts_an_attempt_and_is_not_claimed_again(
    db: Database, clock: ManualClock
) -> None:
    message = await enqueue_to(db, [ANNA])
    (task,) = await claim(db)
    assert task == DeliveryTask(
        id=task.id,
        message_id=message.id or 0,
        purpose="broadcast:1",
        kind="broadcast",
        chat_id=1001,
        language="th",
        text=CONTENT["th"],
        attempt=1,
    )
    assert await claim(db) == []
    (row,) = await stored_deliveries(db)
    assert row.status is DeliveryStatus.sending
    assert row.attempts == 1


async def test_each_recipient_gets_the_text_of_their_language_or_a_fallback(
    db: Database,
) -> None:
    await enqueue_to(db, [ANNA, BEN, GROUP], "all")
    await enqueue_to(db, [ANNA, GROUP], "no-both", content={"th": "ไทย", "en": "English"})
    await enqueue_to(db, [ANNA], "only-en", content={"en": "English"})
    texts = {(t.purpose, t.chat_id): t.text for t in await claim(db)}
    assert texts == {
        ("all", 1001): CONTENT["th"],
        ("all", 1002): "Hello",
        ("all", -100123): CONTENT["both"],
        ("no-both", 1001): "ไทย",
        ("no-both", -100123): "English",
        ("only-en", 1001): "English",
    }


async def test_a_delivery_whose_chat_was_erased_is_never_claimed(db: Database) -> None:
    await enqueue_to(db, [ANNA, BEN])
    async with db.session() as session:
        await session.exec(
            update(Delivery).where(col(Delivery.recipient) == "tg:1001").values(chat_id=None)
        )
    assert [t.chat_id for t in await claim(db)] == [1002]


async def test_recover_in_flight_puts_sending_deliveries_back_to_pending(db: Database) -> None:
    await enqueue_to(db, [ANNA, BEN, GROUP])
    await claim(db, 2)
    async with db.session() as session:
        assert await recover_in_flight(session=session) == 2
        assert await recover_in_flight(session=session) == 0
    tasks = await claim(db)
    assert sorted(t.attempt for t in tasks) == [1, 2, 2]


async def test_concurrent_claimers_never_get_the_same_delivery(db: Database) -> None:
    await enqueue_to(db, [citizen_recipient(3000 + n, "th") for n in range(60)])
    batches = await asyncio.gather(*(claim(db, 7) for _ in range(12)))
    ids = [task.id for batch in batches for task in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_postgresql_claimers_skip_rows_another_transaction_has_claimed(
    db: Database,
) -> None:
    if db.backend != "postgresql":
        pytest.skip("SQLite serialises writers; SKIP LOCKED is PostgreSQL's")
    await enqueue_to(db, [citizen_recipient(4000 + n, "th") for n in range(5)])
    async with db.session() as first:
        held = await claim_due(3, session=first)
        async with db.session() as second:
            # Without SKIP LOCKED this would wait for `first`, which waits for it.
            others = await asyncio.wait_for(claim_due(3, session=second), timeout=5)
    assert [t.chat_id for t in held] == [4000, 4001, 4002]
    assert [t.chat_id for t in others] == [4003, 4004]
    assert {t.id for t in held}.isdisjoint({t.id for t in others})


# --- outcomes --------------------------------------------------------------------------------


async def test_mark_sent_records_the_telegram_message_once(
    db: Database, clock: ManualClock
) -> None:
    await enqueue_to(db, [ANNA])
    (task,) = await claim(db)
    clock.advance(seconds=2)
    async with db.session() as session:
        assert await mark_sent(task.id, 555, session=session)
        assert not await mark_sent(task.id, 556, session=session)
    (row,) = await stored_deliveries(db)
    assert row.status is DeliveryStatus.sent
    assert row.telegram_message_id == 555
    assert row.sent_at == row.updated_at == clock()


async def test_only_a_delivery_being_sent_can_be_marked(db: Database) -> None:
    await enqueue_to(db, [ANNA])
    (row,) = await stored_deliveries(db)
    assert row.id is not None
    async with db.session() as session:
        assert not await mark_sent(row.id, 1, session=session)
        assert not await mark_failed(row.id, "x", session=session)
        assert not await mark_blocked(row.id, "x", session=session)
        assert not await mark_sent(999_999, 1, session=session)
    (row,) = await stored_deliveries(db)
    assert row.status is DeliveryStatus.pending


async def test_a_blocked_delivery_makes_the_citizen_unreachable(db: Database) -> None:
    await registered(db, 1001)
    await enqueue_to(db, [ANNA, citizen_recipient(1009, "en"), GROUP])  # 1009: no record
    tasks = await claim(db)
    async with db.session() as session:
        for task in tasks:
            assert await mark_blocked(
                task.id, "Forbidden: bot was blocked by the user", session=session
            )
    rows = await stored_deliveries(db)
    assert {d.status for d in rows} == {DeliveryStatus.blocked}
    assert rows[0].last_error == "Forbidden: bot was blocked by the user"
    async with db.session() as session:
        citizen = await get_citizen(1001, session=session)
        assert citizen is not None and citizen.reachable is False
        assert await get_citizen(1009, session=session) is None


async def test_mark_failed_keeps_a_shortened_error(db: Database) -> None:
    await enqueue_to(db, [ANNA])
    (task,) = await claim(db)
    async with db.session() as session:
        assert await mark_failed(task.id, "Bad Request: " + "x" * 400, session=session)
    (row,) = await stored_deliveries(db)
    assert row.status is DeliveryStatus.failed
    assert row.last_error is not None and len(row.last_error) == 255


async def test_retry_later_makes_it_due_again_at_the_given_time(
    db: Database, clock: ManualClock
) -> None:
    await enqueue_to(db, [ANNA])
    (task,) = await claim(db)
    retry_at = clock() + timedelta(seconds=30)
    async with db.session() as session:
        assert await retry_later(
            task.id, retry_at, "Too Many Requests: retry after 30", session=session
        )
        assert await next_due_at(session=session) == retry_at
    assert await claim(db) == []
    clock.set(retry_at)
    (again,) = await claim(db)
    assert again.id == task.id
    assert again.attempt == 2
    (row,) = await stored_deliveries(db)
    assert row.last_error == "Too Many Requests: retry after 30"


async def test_drop_pending_stops_what_is_not_yet_sent(db: Database) -> None:
    await enqueue_to(db, [ANNA, BEN], "reminder:5:100:60")
    await enqueue_to(db, [ANNA], "reminder:50:100:60")
    await claim(db, 1)  # ANNA's first reminder is in flight: left alone
    async with db.session() as session:
        assert await drop_pending("reminder:5:", session=session) == 1
    statuses = {(d.key, d.status) for d in await stored_deliveries(db)}
    assert statuses == {
        ("reminder:5:100:60|tg:1001", DeliveryStatus.sending),
        ("reminder:5:100:60|tg:1002", DeliveryStatus.dropped),
        ("reminder:50:100:60|tg:1001", DeliveryStatus.pending),
    }


# --- reports ---------------------------------------------------------------------------------


async def test_a_report_counts_every_outcome_and_knows_when_it_is_finished(
    db: Database,
) -> None:
    recipients = [citizen_recipient(6000 + n, "th") for n in range(6)]
    message = await enqueue_to(db, recipients)
    sent, blocked, failed, retried, in_flight = await claim(db, 5)  # the sixth stays pending
    async with db.session() as session:
        await mark_sent(sent.id, 1, session=session)
        await mark_blocked(blocked.id, "blocked", session=session)
        await mark_failed(failed.id, "bad", session=session)
        await retry_later(retried.id, START + timedelta(days=1), "flood", session=session)
    progress = await report_of(db, message)
    assert progress == DeliveryReport(
        message_id=message.id or 0,
        purpose="broadcast:1",
        total=6,
        pending=2,
        sending=1,
        sent=1,
        blocked=1,
        failed=1,
        dropped=0,
    )
    assert not progress.finished

    async with db.session() as session:
        await drop_pending("broadcast:1", session=session)
        await mark_sent(in_flight.id, 2, session=session)
    done = await report_of(db, message)
    assert (done.pending, done.sending, done.sent, done.dropped) == (0, 0, 2, 2)
    assert done.finished


async def test_a_report_for_no_message_is_refused(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(UnknownMessage):
            await report(424242, session=session)


async def test_finished_messages_are_reported_once_where_asked(db: Database) -> None:
    wants_report = await enqueue_to(db, [ANNA, BEN], "broadcast:1", report_to_chat_id=7)
    no_report = await enqueue_to(db, [ANNA], "broadcast:2")
    empty = await enqueue_to(db, [], "broadcast:3", report_to_chat_id=8)
    async with db.session() as session:
        ready = await finished_unreported(session=session)
    assert [(m.id, r.total) for m, r in ready] == [(empty.id, 0)]

    for task in await claim(db):
        async with db.session() as session:
            await mark_sent(task.id, None, session=session)
    async with db.session() as session:
        ready = await finished_unreported(session=session)
    assert [(m.purpose, m.report_to_chat_id, r.sent) for m, r in ready] == [
        ("broadcast:1", 7, 2),
        ("broadcast:3", 8, 0),
    ]
    assert no_report.id not in {m.id for m, _ in ready}

    assert wants_report.id is not None and empty.id is not None
    async with db.session() as session:
        assert await mark_reported(wants_report.id, session=session)
        assert not await mark_reported(wants_report.id, session=session)
        assert await mark_reported(empty.id, session=session)
        assert await finished_unreported(session=session) == []


async def test_a_reminder_planned_too_late_is_logged_as_dropped_and_never_sent(
    db: Database,
) -> None:
    message = await enqueue_to(
        db, [ANNA], "reminder:5:1767225600:60", kind="reminder", status="dropped"
    )
    assert await claim(db) == []
    result = await report_of(db, message)
    assert (result.total, result.dropped, result.finished) == (1, 1, True)
    # Planning it again later changes nothing: it was decided once.
    await enqueue_to(db, [ANNA], "reminder:5:1767225600:60", kind="reminder")
    assert await claim(db) == []


async def test_next_due_at_and_counts_by_status_describe_the_queue(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        assert await next_due_at(session=session) is None
        assert set((await counts_by_status(session=session)).values()) == {0}
    await enqueue_to(db, [ANNA], "later", not_before=clock() + timedelta(hours=1))
    await enqueue_to(db, [BEN, GROUP], "now")
    await claim(db, 1)
    async with db.session() as session:
        assert await next_due_at(session=session) == clock()
        counts = await counts_by_status(session=session)
    assert counts["pending"] == 2
    assert counts["sending"] == 1
    assert sum(counts.values()) == 3


# --- who gets announcements ------------------------------------------------------------------


async def test_broadcasts_go_to_reachable_citizens_who_consent_in_their_language(
    db: Database,
) -> None:
    await registered(db, 1001, language="th")
    await registered(db, 1002, language="en")
    await registered(db, 1003, {Purpose.needs_survey: True})  # never agreed to announcements
    await registered(db, 1004)
    await registered(db, 1005)
    async with db.session() as session:
        await set_consent(1004, Purpose.reminders, False, session=session)
        await set_reachable(1005, False, session=session)
    async with db.session() as session:
        recipients = await broadcast_recipients(session=session)
        count = await count_broadcast_recipients(session=session)
    assert recipients == [Recipient("tg:1001", 1001, "th"), Recipient("tg:1002", 1002, "en")]
    assert count == 2


def test_recipients_name_citizens_and_groups_as_strings() -> None:
    assert citizen_recipient(42, "en") == Recipient("tg:42", 42, "en")
    assert group_recipient(-100500) == Recipient("chat:-100500", -100500, "both")


async def test_erasing_a_message_erases_its_deliveries(db: Database) -> None:
    message = await enqueue_to(db, [ANNA, BEN])
    async with db.engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM outbox_messages WHERE id = :id"), {"id": message.id}
        )
    assert await stored_deliveries(db) == []
