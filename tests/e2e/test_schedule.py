"""`/schedule` end to end: a facilitator schedules human-library events with the calendar or by
typing, in Thai and English; past dates and forged or stale buttons change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuMessage
from storage import library
from storage.enums import Role
from storage.models import LibraryEvent
from tests.e2e.library_people import (
    BOOK_TITLE,
    EN,
    OTHER_TITLE,
    TH,
    book,
    frozen_clock,
    person,
    running_bot,
)

FACILITATOR_EN, FACILITATOR_TH, CITIZEN = 8201, 8202, 8203


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    with frozen_clock():
        async with running_bot(tmp_path) as bot:
            await person(bot, FACILITATOR_EN, "en", role=Role.facilitator)
            await person(bot, FACILITATOR_TH, "th", role=Role.facilitator)
            await person(bot, CITIZEN, "th")
            await book(bot, BOOK_TITLE, linked_to=8500)
            await book(bot, OTHER_TITLE)  # not linked yet: it can still be scheduled
            yield bot


async def _events(live: LiveBot) -> list[LibraryEvent]:
    assert live.db is not None
    async with live.db.session() as session:
        return list((await session.exec(select(LibraryEvent))).all())


def _text(message: EmuMessage) -> str:
    return message.text or ""


async def test_a_facilitator_schedules_an_event_with_the_calendar(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    [kinds] = await live.send(user, "/schedule")
    assert kinds.button_texts == ["Human library", "Cancel"]
    await live.press(user, "Human library")
    calendar = live.emulator.last_sent(FACILITATOR_EN)
    assert "November 2026" in calendar.button_texts
    assert "(19)" in calendar.button_texts and "•20" in calendar.button_texts, "no past days"
    await live.press(user, "Dec ›")
    assert "December 2026" in live.emulator.last_sent(FACILITATOR_EN).button_texts
    await live.press(user, "5")
    assert "Saturday 5 December 2026" in _text(live.emulator.last_sent(FACILITATOR_EN))
    await live.press(user, "09:00")
    [location] = await live.send(user, "Yala City Library, room 2")
    assert location.button_texts == ["Skip", "Cancel"]
    [books] = await live.send_other(user, "location")
    assert books.button_texts[:2] == ["☐ A fisher's life", "☐ A Malay teacher"]
    query = await live.press(user, "Next")
    assert query.answer is not None and query.answer["text"] == EN["schedule.need_a_book"]
    await live.press(user, "☐ A fisher's life")
    await live.press(user, "☐ A Malay teacher")
    await live.press(user, "Next")
    loans = live.emulator.last_sent(FACILITATOR_EN)
    assert loans.button_texts[:5] == ["15 min", "20 min", "✓ 30 min", "45 min", "60 min"]
    await live.press(user, "45 min")
    assert live.emulator.last_sent(FACILITATOR_EN).button_texts[:3] == ["✓ 1", "2", "3"]
    await live.press(user, "2")
    slots = live.emulator.last_sent(FACILITATOR_EN)
    assert "3 (until 11:15)" in slots.button_texts and "1 (until 09:45)" in slots.button_texts
    await live.press(user, "3 (until 11:15)")
    summary = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert "Saturday 5 December 2026" in summary
    assert "09:00–09:45, 09:45–10:30, 10:30–11:15" in summary
    assert "Yala City Library, room 2" in summary and "Map location: shared" in summary
    assert "A fisher's life" in summary and "A Malay teacher" in summary
    await live.press(user, "Confirm")

    [event] = await _events(live)
    assert _text(live.emulator.last_sent(FACILITATOR_EN)).startswith("Scheduled.")
    assert f"event no. {event.id}" in _text(live.emulator.last_sent(FACILITATOR_EN))
    assert event.starts_at == datetime(2026, 12, 5, 2, 0, tzinfo=UTC), "09:00 in Yala, UTC"
    assert (event.loan_minutes, event.readers_per_loan, event.slots_per_book) == (45, 2, 3)
    assert (event.latitude, event.longitude) == (6.5411, 101.2804)
    assert live.db is not None
    async with live.db.session() as session:
        assert event.id is not None
        assert await library.event_facilitators(event.id, session=session) == [FACILITATOR_EN]
        offered = await library.event_books(event.id, include_unlisted=True, session=session)
    assert [b.book.title["en"] for b in offered] == ["A fisher's life", "A Malay teacher"]

    [listing] = await live.send(user, "/events")
    assert any("Yala City Library" in label for label in listing.button_texts)


async def test_a_typed_thai_date_is_echoed_in_the_buddhist_era(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_TH]
    await live.send(user, "/schedule")
    await live.press(user, "ห้องสมุดมนุษย์")
    [echo] = await live.send(user, "5/12/2569")
    assert "วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569" in _text(echo)
    assert echo.button_texts == ["ยืนยัน", "พิมพ์ใหม่", "ยกเลิก"]
    await live.press(user, "ยืนยัน")
    [place] = await live.send(user, "9.30")
    assert _text(place).startswith("จัดที่ใด")
    await live.send(user, "ห้องสมุดประชาชนเทศบาลนครยะลา")
    await live.press(user, "ข้าม")
    await live.press(user, "☐ ชีวิตชาวประมงยะลา")
    await live.press(user, "ถัดไป")
    await live.press(user, "✓ 30 นาที")
    await live.press(user, "✓ 1")
    await live.press(user, "4 รอบ (ถึง 11:30 น.)")
    summary = _text(live.emulator.last_sent(FACILITATOR_TH))
    assert "09:30–10:00, 10:00–10:30, 10:30–11:00, 11:00–11:30" in summary
    assert "ตำแหน่งบนแผนที่: ไม่มี" in summary
    await live.press(user, "ยืนยัน")
    [event] = await _events(live)
    assert event.starts_at == datetime(2026, 12, 5, 2, 30, tzinfo=UTC)
    assert (event.loan_minutes, event.readers_per_loan, event.slots_per_book) == (30, 1, 4)
    assert event.latitude is None
    assert f"หมายเลข {event.id}" in _text(live.emulator.last_sent(FACILITATOR_TH))


async def test_a_typed_date_is_echoed_in_english_and_can_be_typed_again(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/schedule")
    await live.press(user, "Human library")
    [echo] = await live.send(user, "5/12/2569")
    assert "Saturday 5 December 2026" in _text(echo)
    await live.press(user, "Re-enter")
    assert "Which day?" in _text(live.emulator.last_sent(FACILITATOR_EN))
    [echo] = await live.send(user, "6/12/2026")
    assert "Sunday 6 December 2026" in _text(echo)
    await live.press(user, "Confirm")
    [place] = await live.send(user, "14:00")
    assert "Where?" in _text(place)


async def test_a_past_date_or_time_is_refused(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/schedule")
    await live.press(user, "Human library")
    [refusal] = await live.send(user, "1/11/2569")
    assert "Sunday 1 November 2026 has already passed" in _text(refusal)
    [unreadable] = await live.send(user, "5/12/69")
    assert _text(unreadable).startswith("Sorry, that date could not be read")
    query = await live.press_data(user, _wizard(live, FACILITATOR_EN), "v1:sched:day:20261101")
    assert query.answer is not None and query.answer["text"] == EN["common.expired"]

    await live.press(user, "•20")  # today
    query = await live.press(user, "08:00")  # 10:00 now in Yala
    assert query.answer is not None
    assert query.answer["text"] == EN["schedule.time_past"].format(time="08:00")
    [again] = await live.send(user, "9:59")
    assert _text(again) == EN["schedule.time_past"].format(time="09:59")
    [place] = await live.send(user, "10:30")
    assert "Where?" in _text(place)
    assert await _events(live) == []


def _wizard(live: LiveBot, chat_id: int) -> EmuMessage:
    """The newest bot message with buttons in the chat (the wizard's live message)."""
    return next(m for m in reversed(live.emulator.sent_to(chat_id)) if m.buttons)


async def test_forged_and_stale_wizard_buttons_expire(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    expired = EN["common.expired"]
    [first] = await live.send(user, "/schedule")
    for forged in ("v1:sched:ok", "v1:sched:day:20261205", "v1:sched:kind:council", "v1:sched:x"):
        query = await live.press_data(user, first, forged)
        assert query.answer is not None and query.answer["text"] == expired, forged

    [second] = await live.send(user, "/schedule")  # a new wizard: the first one's buttons died
    query = await live.press_data(user, first, "v1:sched:kind:library")
    assert query.answer is not None and query.answer["text"] == expired
    await live.press(user, "Human library")
    for forged in ("v1:sched:day:20261101", "v1:sched:month:202610", "v1:sched:time:0900"):
        query = await live.press_data(user, second, forged)
        assert query.answer is not None and query.answer["text"] == expired, forged
    await live.press(user, "Dec ›")
    await live.press(user, "5")
    await live.press(user, "10:00")
    await live.send(user, "Library")
    await live.press(user, "Skip")
    query = await live.press_data(user, _wizard(live, FACILITATOR_EN), "v1:sched:book:999")
    assert query.answer is not None and query.answer["text"] == expired
    await live.press(user, "☐ A fisher's life")
    await live.press(user, "Next")
    query = await live.press_data(user, _wizard(live, FACILITATOR_EN), "v1:sched:loan:17")
    assert query.answer is not None and query.answer["text"] == expired
    query = await live.press_data(user, _wizard(live, FACILITATOR_EN), "v1:sched:ok")
    assert query.answer is not None and query.answer["text"] == expired, "no skipping steps"
    await live.press(user, "✓ 30 min")
    await live.press(user, "✓ 1")
    await live.press(user, "2 (until 11:00)")
    confirm = _wizard(live, FACILITATOR_EN)
    await live.press(user, "Confirm")
    assert len(await _events(live)) == 1
    query = await live.press_data(user, confirm, "v1:sched:ok")  # a double tap
    assert query.answer is not None and query.answer["text"] == expired
    assert len(await _events(live)) == 1


async def test_cancel_stores_nothing_and_text_after_it_is_not_taken(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/schedule")
    await live.press(user, "Human library")
    await live.press(user, "Cancel")
    assert live.emulator.last_sent(FACILITATOR_EN).text == EN["schedule.cancelled"]
    [answer] = await live.send(user, "5/12/2026")
    assert answer.text == EN["fallback.text"], "the wizard no longer takes text"
    assert await _events(live) == []


async def test_text_at_a_button_step_passes_to_other_flows(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_TH]
    await live.send(user, "/schedule")
    [answer] = await live.send(user, "สวัสดี")
    assert answer.text == TH["fallback.text"]


async def test_a_citizen_cannot_schedule(live: LiveBot) -> None:
    [refusal] = await live.send(live.emulator.users[CITIZEN], "/schedule")
    assert refusal.text == TH["guard.refused"]


async def test_without_books_there_is_nothing_to_schedule(tmp_path: Path) -> None:
    with frozen_clock():
        async with running_bot(tmp_path) as live:
            await person(live, FACILITATOR_EN, "en", role=Role.facilitator)
            user = live.emulator.users[FACILITATOR_EN]
            await live.send(user, "/schedule")
            await live.press(user, "Human library")
            assert live.emulator.last_sent(FACILITATOR_EN).text == EN["schedule.no_books"]
