"""After a loan: one native rating poll per reader, queued for the dispatcher, at the right time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.i18n.catalog import catalogs
from schedules.dispatcher import PollSent
from schedules.library_jobs import (
    FeedbackAsker,
    ask_for_feedback,
    feedback_purpose,
    poll_content,
    reservation_of,
)
from storage import citizens, deliveries, library
from storage.clock import ManualClock, set_clock
from storage.database import Database
from storage.enums import Purpose
from storage.models import Delivery, LibraryReservation, OutboxMessage
from tests.e2e.library_helpers import EVENT_AT, NOW, TITLE, listed_book, new_event
from tests.storage.factories import ALL_GRANTED, registered

READER = 7101


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    manual = ManualClock(NOW)
    set_clock(manual)
    try:
        yield manual
    finally:
        set_clock(None)


async def _loan(db: Database, reader: int = READER, *, language: str = "th") -> int:
    """A registered reader's reservation of the first slot (09:00–09:30 in Yala)."""
    await registered(db, reader, ALL_GRANTED, language=language)
    book = await listed_book(db)
    event = await new_event(db, [book.id])
    assert event.id is not None
    async with db.session() as session:
        loan = await library.reserve(
            event.id, book.id, reader, reader_name="Somsri", language=language,
            press_order=1, session=session,
        )  # fmt: skip
    return loan.id


async def _outbox(db: Database) -> list[tuple[OutboxMessage, list[Delivery]]]:
    async with db.session() as session:
        messages = (await session.exec(select(OutboxMessage))).all()
        found = []
        for message in messages:
            rows = await session.exec(select(Delivery).where(Delivery.message_id == message.id))
            found.append((message, list(rows.all())))
        return found


async def test_a_loan_that_ended_gets_one_rating_poll(db: Database, clock: ManualClock) -> None:
    loan_id = await _loan(db)
    assert (await ask_for_feedback(db, catalogs())).asked == 0
    clock.set(EVENT_AT + timedelta(minutes=29))
    assert (await ask_for_feedback(db, catalogs())).asked == 0, "the loan is still on"

    clock.set(EVENT_AT + timedelta(minutes=31))
    assert (await ask_for_feedback(db, catalogs())).asked == 1
    assert (await ask_for_feedback(db, catalogs())).asked == 0, "asked once"
    [(message, [delivery])] = await _outbox(db)
    assert message.purpose == feedback_purpose(loan_id) and message.kind == "poll"
    assert (delivery.chat_id, delivery.language, delivery.status) == (READER, "th", "pending")
    thai = deliveries.poll_for(message.content, "th")
    assert thai.question == f"การพูดคุยกับ {TITLE['th']} เป็นอย่างไรบ้าง (1–5)"
    assert len(thai.options) == 5 and thai.options[0].startswith("1")
    assert not thai.is_anonymous and not thai.allows_multiple_answers
    async with db.session() as session:
        row = await session.get(LibraryReservation, loan_id)
        assert row is not None and row.feedback_asked_at is not None


async def test_the_poll_goes_in_the_readers_current_language(
    db: Database, clock: ManualClock
) -> None:
    await _loan(db, language="th")
    async with db.session() as session:
        await citizens.set_language(READER, "en", session=session)
    clock.set(EVENT_AT + timedelta(hours=1))
    await ask_for_feedback(db, catalogs())
    [(_, [delivery])] = await _outbox(db)
    assert delivery.language == "en"


async def test_a_reader_who_withdrew_consent_is_not_asked(db: Database, clock: ManualClock) -> None:
    loan_id = await _loan(db)
    async with db.session() as session:
        await citizens.set_consent(READER, Purpose.human_library, False, session=session)
    clock.set(EVENT_AT + timedelta(hours=1))
    result = await ask_for_feedback(db, catalogs())
    assert (result.asked, result.skipped) == (0, 1)
    assert await _outbox(db) == []
    assert (await ask_for_feedback(db, catalogs())).skipped == 0, "marked asked all the same"
    async with db.session() as session:
        row = await session.get(LibraryReservation, loan_id)
        assert row is not None and row.feedback_asked_at is not None


async def test_loans_that_ended_long_ago_are_not_asked(db: Database, clock: ManualClock) -> None:
    await _loan(db)
    clock.set(EVENT_AT + timedelta(days=3))
    assert (await ask_for_feedback(db, catalogs())).asked == 0


async def test_the_poll_hook_maps_the_sent_poll_to_its_loan(
    db: Database, clock: ManualClock
) -> None:
    loan_id = await _loan(db)
    asker = FeedbackAsker(db, catalogs(), dispatcher=None)
    sent = PollSent(feedback_purpose(loan_id), READER, "th", "poll-1", 42)
    await asker.on_poll_sent(sent)
    await asker.on_poll_sent(sent)  # a repeat changes nothing
    async with db.session() as session:
        assert await library.record_rating("poll-1", READER, 4, session=session)
        row = await session.get(LibraryReservation, loan_id)
        assert row is not None and row.feedback_rating == 4


def test_poll_text_is_plain_not_html() -> None:
    content = poll_content(catalogs(), {"th": "ปลา & ทะเล", "en": "Fish & sea <1>"})
    assert content["en"]["question"] == "How was your conversation with Fish & sea <1>? (1–5)"
    assert content["th"]["options"][4] == "5 – ดีเยี่ยม"


def test_purposes_name_their_reservation() -> None:
    assert reservation_of(feedback_purpose(12)) == 12
    assert reservation_of("library-feedback:x") is None
    assert reservation_of("reminder:1:2:3") is None
