"""`/schedule` end to end: a facilitator schedules human-library events and coffee councils with
the calendar or by typing, in Thai and English, once or by a monthly rule; past dates and
forged or stale buttons change nothing. `/councils`: one meeting of a council is moved or
cancelled, and everyone who said yes or maybe is told in their language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuMessage
from storage import clock, council, library, recurrence
from storage.enums import MeetingStatus, Role
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
    until,
)

FACILITATOR_EN, FACILITATOR_TH, CITIZEN = 8201, 8202, 8203
CITIZEN_EN, CITIZEN_NO = 8204, 8205


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    with frozen_clock():
        async with running_bot(tmp_path) as bot:
            await person(bot, FACILITATOR_EN, "en", role=Role.facilitator)
            await person(bot, FACILITATOR_TH, "th", role=Role.facilitator)
            await person(bot, CITIZEN, "th")
            await person(bot, CITIZEN_EN, "en")
            await person(bot, CITIZEN_NO, "en")
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
    assert kinds.button_texts == ["Human library", "Coffee council", "Cancel"]
    await live.press(user, "Human library")
    calendar = live.emulator.last_sent(FACILITATOR_EN)
    assert "November 2026" in calendar.button_texts
    assert "(19)" in calendar.button_texts and "•20" in calendar.button_texts, "no past days"
    await live.press(user, "Dec ›")
    assert "December 2026" in live.emulator.last_sent(FACILITATOR_EN).button_texts
    await live.press(user, "5")
    assert "Saturday 5 December 2026" in _text(live.emulator.last_sent(FACILITATOR_EN))
    await live.press(user, "09:00")
    repeat = live.emulator.last_sent(FACILITATOR_EN)
    assert repeat.button_texts == [
        "Once", "Monthly: first Saturday", "Monthly: the 5th", "Cancel"
    ]  # fmt: skip
    await live.press(user, "Once")
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
    assert "Repeats: once, on Saturday 5 December 2026 at 09:00" in summary
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
    [repeat] = await live.send(user, "9.30")
    assert "ทุกวันเสาร์แรกของเดือน เวลา 09:30 น." in _text(repeat)
    await live.press(user, "ครั้งเดียว")
    assert _text(live.emulator.last_sent(FACILITATOR_TH)).startswith("จัดที่ใด")
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
    [repeat] = await live.send(user, "14:00")
    assert "Does it repeat?" in _text(repeat)
    assert "the first Sunday of each month at 14:00" in _text(repeat)


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
    [repeat] = await live.send(user, "10:30")
    assert "Does it repeat?" in _text(repeat)
    assert await _events(live) == []


def _wizard(live: LiveBot, chat_id: int) -> EmuMessage:
    """The newest bot message with buttons in the chat (the wizard's live message)."""
    return next(m for m in reversed(live.emulator.sent_to(chat_id)) if m.buttons)


async def test_forged_and_stale_wizard_buttons_expire(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    expired = EN["common.expired"]
    [first] = await live.send(user, "/schedule")
    for forged in ("v1:sched:ok", "v1:sched:day:20261205", "v1:sched:kind:move", "v1:sched:x"):
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
    for forged in ("v1:sched:rep:nth5", "v1:sched:rep:last", "v1:sched:deft"):
        query = await live.press_data(user, _wizard(live, FACILITATOR_EN), forged)
        assert query.answer is not None and query.answer["text"] == expired, forged
    await live.press(user, "Once")
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


# --- monthly human-library events ---------------------------------------------------------------


async def test_a_monthly_library_event_creates_the_next_three_events(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/schedule")
    await live.press(user, "Human library")
    await live.press(user, "Dec ›")
    await live.press(user, "5")
    await live.press(user, "09:00")
    await live.press(user, "Monthly: first Saturday")
    await live.send(user, "Yala City Library")
    await live.press(user, "Skip")
    await live.press(user, "☐ A fisher's life")
    await live.press(user, "Next")
    await live.press(user, "✓ 30 min")
    await live.press(user, "✓ 1")
    await live.press(user, "2 (until 10:00)")
    summary = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert "Repeats: the first Saturday of each month at 09:00" in summary
    assert "3 events will be created" in summary
    for day in ("Saturday 5 December 2026", "Saturday 2 January 2027", "Saturday 6 February 2027"):
        assert f"{day}, 09:00" in summary, day
    await live.press(user, "Confirm")

    events = sorted(await _events(live), key=lambda event: event.starts_at)
    assert [event.starts_at for event in events] == [
        datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
        datetime(2027, 1, 2, 2, 0, tzinfo=UTC),
        datetime(2027, 2, 6, 2, 0, tzinfo=UTC),
    ]
    assert {(e.place_text, e.loan_minutes, e.slots_per_book) for e in events} == {
        ("Yala City Library", 30, 2)
    }
    done = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert done.startswith("Scheduled. 3 human-library events")
    assert f"no. {events[2].id}: Saturday 6 February 2027, 09:00" in done
    assert live.db is not None
    async with live.db.session() as session:
        for event in events:
            assert event.id is not None
            assert await library.event_facilitators(event.id, session=session) == [FACILITATOR_EN]
            [offered] = await library.event_books(event.id, session=session)
            assert offered.book.title["en"] == "A fisher's life"


# --- coffee councils ----------------------------------------------------------------------------


async def _series(live: LiveBot) -> list[council.SeriesView]:
    assert live.db is not None
    async with live.db.session() as session:
        return await council.list_series(session=session)


async def test_a_facilitator_schedules_a_monthly_council_in_thai(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_TH]
    [kinds] = await live.send(user, "/schedule")
    assert kinds.button_texts == ["ห้องสมุดมนุษย์", "สภากาแฟ", "ยกเลิก"]
    await live.press(user, "สภากาแฟ")
    title_th = live.emulator.last_sent(FACILITATOR_TH)
    assert "ชื่อการประชุมภาษาไทย" in _text(title_th)
    assert title_th.button_texts == ["ใช้ชื่อ “สภากาแฟ”", "ยกเลิก"]
    await live.press(user, "ใช้ชื่อ “สภากาแฟ”")
    assert live.emulator.last_sent(FACILITATOR_TH).button_texts[0] == "ใช้ชื่อ “Coffee council”"
    [too_long] = await live.send(user, "x" * 101)
    assert _text(too_long) == TH["schedule.title_too_long"].format(limit=100)
    [calendar] = await live.send(user, "Yala coffee council")
    assert "พฤศจิกายน 2569" in calendar.button_texts
    await live.send(user, "5/12/2569")
    await live.press(user, "ยืนยัน")
    await live.press(user, "08:00")
    repeat = live.emulator.last_sent(FACILITATOR_TH)
    assert repeat.button_texts == [
        "ครั้งเดียว", "ทุกเดือน: วันเสาร์แรก", "ทุกเดือน: วันที่ 5", "ยกเลิก"
    ]  # fmt: skip
    assert "ทุกวันเสาร์แรกของเดือน เวลา 08:00 น." in _text(repeat)
    assert "ทุกวันที่ 5 ของเดือน เวลา 08:00 น." in _text(repeat)
    await live.press(user, "ทุกเดือน: วันเสาร์แรก")
    await live.send(user, "ร้านกาแฟริมบึงพญาตานี")
    await live.press(user, "ข้าม")
    duration = live.emulator.last_sent(FACILITATOR_TH)
    assert duration.button_texts == ["60 นาที", "90 นาที", "✓ 120 นาที", "180 นาที", "ยกเลิก"]
    await live.press(user, "90 นาที")

    summary = _text(live.emulator.last_sent(FACILITATOR_TH))
    assert "ชื่อ: สภากาแฟ / Yala coffee council" in summary
    assert "กำหนดการ: ทุกวันเสาร์แรกของเดือน เวลา 08:00 น." in summary
    assert "เวลา: 08:00 น. – 09:30 น. (90 นาที)" in summary
    upcoming = [
        "• วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569 เวลา 08:00 น.",
        "• วันเสาร์ที่ 2 มกราคม พ.ศ. 2570 เวลา 08:00 น.",
        "• วันเสาร์ที่ 6 กุมภาพันธ์ พ.ศ. 2570 เวลา 08:00 น.",
    ]
    assert "\n".join(upcoming) in summary, "the next 3 meetings in the Buddhist Era"
    await live.press(user, "ยืนยัน")

    [series] = await _series(live)
    assert series.rrule == "FREQ=MONTHLY;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0;BYSECOND=0"
    assert series.title == {"th": "สภากาแฟ", "en": "Yala coffee council"}
    assert series.first_start == datetime(2026, 12, 5, 1, 0, tzinfo=UTC), "08:00 in Yala"
    assert (series.duration_minutes, series.place_text) == (90, "ร้านกาแฟริมบึงพญาตานี")
    assert series.facilitator_ids == (FACILITATOR_TH,)
    assert series.timezone == "Asia/Bangkok" and series.latitude is None
    done = _text(live.emulator.last_sent(FACILITATOR_TH))
    assert done.startswith(f"บันทึกเรียบร้อยแล้ว สภากาแฟหมายเลข {series.id}")
    assert "/councils" in done
    assert live.db is not None
    async with live.db.session() as session:
        meetings = await council.upcoming_meetings(clock.now(), session=session)
    assert [m.starts_at for m in meetings][:2] == [
        datetime(2026, 12, 5, 1, 0, tzinfo=UTC),
        datetime(2027, 1, 2, 1, 0, tzinfo=UTC),
    ], "the next meetings exist at once, for citizens to answer"


async def test_a_the_31st_council_falls_on_the_last_day_of_february(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/schedule")
    await live.press(user, "Coffee council")
    await live.press(user, "Use “สภากาแฟ”")
    await live.press(user, "Use “Coffee council”")
    await live.send(user, "31/12/2026")
    await live.press(user, "Confirm")
    await live.send(user, "18:00")
    repeat = live.emulator.last_sent(FACILITATOR_EN)
    assert repeat.button_texts == [
        "Once", "Monthly: last Thursday", "Monthly: the 31st", "Cancel"
    ], "a 5th Thursday is offered only as the last one"  # fmt: skip
    await live.press(user, "Monthly: the 31st")
    await live.send(user, "Town hall café")
    await live.send_other(user, "location")
    await live.press(user, "✓ 120 min")
    summary = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert (
        "Repeats: the 31st of each month at 18:00 (in shorter months, the month's last day)"
        in summary
    )
    assert "Time: 18:00 – 20:00 (120 minutes)" in summary
    assert "Map location: shared" in summary
    for when in (
        "Thursday 31 December 2026, 18:00",
        "Sunday 31 January 2027, 18:00",
        "Sunday 28 February 2027, 18:00",
    ):
        assert f"• {when}" in summary, when
    await live.press(user, "Confirm")
    [series] = await _series(live)
    assert series.rrule == (
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYHOUR=18;BYMINUTE=0;BYSECOND=0"
    )
    assert (series.latitude, series.longitude) == (6.5411, 101.2804)

    [listing] = await live.send(user, "/councils")
    assert "1. Coffee council" in _text(listing)
    assert "Next: Thursday 31 December 2026, 18:00" in _text(listing)
    await live.press(user, "1. Coffee council")
    card = live.emulator.last_sent(FACILITATOR_EN)
    assert "• Sunday 28 February 2027, 18:00" in _text(card)
    assert card.button_texts == [
        "Thu 31 Dec 2026, 18:00", "Sun 31 Jan 2027, 18:00", "Sun 28 Feb 2027, 18:00",
        "All councils",
    ]  # fmt: skip


async def test_a_one_off_council(live: LiveBot) -> None:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/schedule")
    await live.press(user, "Coffee council")
    await live.send(user, "คุยเรื่องงบประมาณชุมชน")
    await live.send(user, "Community budget talk")
    await live.press(user, "Dec ›")
    await live.press(user, "12")
    await live.press(user, "10:00")
    await live.press(user, "Once")
    await live.send(user, "Community hall")
    await live.press(user, "Skip")
    await live.press(user, "60 min")
    summary = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert "Name: คุยเรื่องงบประมาณชุมชน / Community budget talk" in summary
    assert "Repeats: once, on Saturday 12 December 2026 at 10:00" in summary
    assert "Coming meetings:\n• Saturday 12 December 2026, 10:00" in summary
    await live.press(user, "Confirm")
    [series] = await _series(live)
    assert series.rrule is None and series.rule is None
    assert series.first_start == datetime(2026, 12, 12, 3, 0, tzinfo=UTC)
    assert series.duration_minutes == 60
    assert "First meeting: Saturday 12 December 2026, 10:00" in _text(
        live.emulator.last_sent(FACILITATOR_EN)
    )
    [listing] = await live.send(user, "/councils")
    assert "Repeats: once, on Saturday 12 December 2026 at 10:00" in _text(listing)


# --- /councils: one meeting moved or cancelled --------------------------------------------------

FIRST_SATURDAY = recurrence.nth_weekday(1, recurrence.SATURDAY, time(8, 0))
DEC_5 = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 in Yala


async def _monthly_council(live: LiveBot) -> council.SeriesView:
    """A first-Saturday council facilitated by FACILITATOR_EN; for its 5 December meeting the
    Thai and an English citizen said yes, another citizen said no."""
    assert live.db is not None
    async with live.db.session() as session:
        series = await council.create_series(
            title={"th": "สภากาแฟ", "en": "Coffee council"},
            place_text="Town hall café",
            rule=FIRST_SATURDAY,
            first_start=recurrence.first_start(
                FIRST_SATURDAY, on_or_after=date(2026, 12, 1), timezone="Asia/Bangkok"
            ),
            created_by=FACILITATOR_EN,
            session=session,
        )
        [meeting, *_] = await council.upcoming_meetings(clock.now(), session=session)
        assert meeting.starts_at == DEC_5
        await council.rsvp(meeting.id, CITIZEN, "yes", "th", session=session)
        await council.rsvp(meeting.id, CITIZEN_EN, "maybe", "en", session=session)
        await council.rsvp(meeting.id, CITIZEN_NO, "no", "en", session=session)
    return series


async def _open_first_meeting(live: LiveBot) -> EmuMessage:
    user = live.emulator.users[FACILITATOR_EN]
    await live.send(user, "/councils")
    await live.press(user, "1. Coffee council")
    await live.press(user, "Sat 5 Dec 2026, 08:00")
    return live.emulator.last_sent(FACILITATOR_EN)


async def _meeting_of_dec_5(live: LiveBot, series_id: int) -> council.Meeting:
    assert live.db is not None
    async with live.db.session() as session:
        found = await council.upcoming_meetings(
            clock.now(), limit=10, include_cancelled=True, session=session
        )
    return next(m for m in found if m.series_id == series_id and m.original_start == DEC_5)


async def test_moving_one_meeting_tells_those_who_said_yes_in_their_language(
    live: LiveBot,
) -> None:
    series = await _monthly_council(live)
    user = live.emulator.users[FACILITATOR_EN]
    card = await _open_first_meeting(live)
    assert "Saturday 5 December 2026, 08:00" in _text(card)
    assert card.button_texts == ["Move", "Cancel this meeting", "Back"]
    await live.press(user, "Move")
    calendar = live.emulator.last_sent(FACILITATOR_EN)
    assert "Move a meeting" in _text(calendar) and "Now: Saturday 5 December 2026" in _text(
        calendar
    )
    assert "December 2026" in calendar.button_texts or "November 2026" in calendar.button_texts
    [echo] = await live.send(user, "6/12/2569")
    assert "Sunday 6 December 2026" in _text(echo)
    await live.press(user, "Confirm")
    await live.press(user, "09:00")
    summary = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert "New time: Sunday 6 December 2026, 09:00" in summary
    await live.press(user, "Confirm")
    done = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert done.startswith("Moved. The meeting is now on Sunday 6 December 2026, 09:00")
    assert "(2)" in done

    meeting = await _meeting_of_dec_5(live, series.id)
    assert meeting.starts_at == datetime(2026, 12, 6, 2, 0, tzinfo=UTC), "the meeting row moved"
    assert meeting.moved and not meeting.cancelled
    await until(
        live, lambda: bool(live.emulator.sent_to(CITIZEN) and live.emulator.sent_to(CITIZEN_EN))
    )
    thai = _text(live.emulator.last_sent(CITIZEN))
    assert thai.startswith("แจ้งเลื่อนการประชุมสภากาแฟ")
    assert "จากเดิม วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569 เวลา 08:00 น." in thai
    assert "เลื่อนเป็น วันอาทิตย์ที่ 6 ธันวาคม พ.ศ. 2569 เวลา 09:00 น." in thai
    english = _text(live.emulator.last_sent(CITIZEN_EN))
    assert english.startswith("A coffee council meeting has moved")
    assert "Saturday 5 December 2026, 08:00 will now be on Sunday 6 December 2026, 09:00" in english
    assert live.emulator.sent_to(CITIZEN_NO) == [], "who said no is not told"

    await live.send(user, "/councils")
    await live.press(user, "1. Coffee council")
    listing = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert "• Sunday 6 December 2026, 09:00 (moved from Saturday 5 December 2026, 08:00)" in listing


async def test_cancelling_one_meeting_tells_them_and_marks_it_cancelled(live: LiveBot) -> None:
    series = await _monthly_council(live)
    user = live.emulator.users[FACILITATOR_EN]
    card = await _open_first_meeting(live)
    move = str(card.buttons[0]["callback_data"])
    await live.press(user, "Cancel this meeting")
    confirm = live.emulator.last_sent(FACILITATOR_EN)
    assert "Everyone who said yes or maybe will be told" in _text(confirm)
    await live.press(user, "Yes, cancel it")
    done = _text(live.emulator.last_sent(FACILITATOR_EN))
    assert done.startswith("Cancelled: the meeting on Saturday 5 December 2026, 08:00")
    assert "(2)" in done

    meeting = await _meeting_of_dec_5(live, series.id)
    assert meeting.status is MeetingStatus.cancelled
    await until(
        live, lambda: bool(live.emulator.sent_to(CITIZEN) and live.emulator.sent_to(CITIZEN_EN))
    )
    thai = _text(live.emulator.last_sent(CITIZEN))
    assert thai.startswith("แจ้งยกเลิกการประชุมสภากาแฟ")
    assert "วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569 เวลา 08:00 น. งดการประชุม" in thai
    assert _text(live.emulator.last_sent(CITIZEN_EN)).startswith(
        "A coffee council meeting is cancelled"
    )
    assert live.emulator.sent_to(CITIZEN_NO) == []

    query = await live.press_data(user, card, move)  # a stale "Move"
    assert query.answer is not None and query.answer["text"] == EN["common.expired"]
    await live.press(user, "Back")
    listing = live.emulator.last_sent(FACILITATOR_EN)
    assert "• Saturday 5 December 2026, 08:00 (cancelled)" in _text(listing)
    assert "strikethrough" in [entity["type"] for entity in listing.entities]
    assert listing.button_texts[:3] == [
        "Sat 2 Jan 2027, 08:00", "Sat 6 Feb 2027, 08:00", "Sat 6 Mar 2027, 08:00"
    ]  # fmt: skip


async def test_councils_belong_to_their_facilitators(live: LiveBot) -> None:
    series = await _monthly_council(live)
    [mine] = await live.send(live.emulator.users[FACILITATOR_EN], "/councils")
    [other] = await live.send(live.emulator.users[FACILITATOR_TH], "/councils")
    assert other.text == TH["schedule.councils_none"], "another facilitator's council"
    other_user = live.emulator.users[FACILITATOR_TH]
    epoch = int(DEC_5.timestamp())
    for forged in (
        f"v1:schs:ser:{series.id}",
        f"v1:schs:occ:{series.id}:{epoch}",
        f"v1:schs:cxy:{series.id}:{epoch}",
        f"v1:schs:mv:{series.id}:{epoch}",
    ):
        query = await live.press_data(other_user, other, forged)
        assert query.answer is not None and query.answer["text"] == TH["common.expired"], forged
    owner = live.emulator.users[FACILITATOR_EN]
    for forged in (
        f"v1:schs:occ:{series.id}:{epoch + 60}",  # not an occurrence
        f"v1:schs:cxy:{series.id + 1}:{epoch}",  # no such series
        f"v1:schs:occ:{series.id}",
        "v1:schs:nope",
    ):
        query = await live.press_data(owner, mine, forged)
        assert query.answer is not None and query.answer["text"] == EN["common.expired"], forged
    assert (await _meeting_of_dec_5(live, series.id)).status is MeetingStatus.scheduled
    [refusal] = await live.send(live.emulator.users[CITIZEN], "/councils")
    assert refusal.text == TH["guard.refused"]


async def test_the_calendar_turns_to_2570_at_midnight_in_yala(tmp_path: Path) -> None:
    """A day chosen on New Year's Eve that has passed by the time it is pressed expires; the
    new year's dates are shown and read in the Buddhist Era."""
    with frozen_clock() as manual:
        manual.set(datetime(2026, 12, 31, 16, 58, tzinfo=UTC))  # 23:58 in Yala
        async with running_bot(tmp_path) as live:
            await person(live, FACILITATOR_TH, "th", role=Role.facilitator)
            user = live.emulator.users[FACILITATOR_TH]
            await live.send(user, "/schedule")
            await live.press(user, "สภากาแฟ")
            await live.press(user, "ใช้ชื่อ “สภากาแฟ”")
            await live.press(user, "ใช้ชื่อ “Coffee council”")
            calendar = live.emulator.last_sent(FACILITATOR_TH)
            assert "ธันวาคม 2569" in calendar.button_texts and "•31" in calendar.button_texts
            assert "7/1/2570" in _text(calendar), "a week ahead, in the Buddhist Era"
            manual.advance(minutes=3)  # 00:01 on 1 January 2570 in Yala
            query = await live.press(user, "•31")
            assert query.answer is not None and query.answer["text"] == TH["common.expired"]
            [echo] = await live.send(user, "1/1/2570")
            assert "วันศุกร์ที่ 1 มกราคม พ.ศ. 2570" in _text(echo)
            await live.press(user, "ยืนยัน")
            [repeat] = await live.send(user, "18:00")
            assert repeat.button_texts[:3] == [
                "ครั้งเดียว", "ทุกเดือน: วันศุกร์แรก", "ทุกเดือน: วันที่ 1"
            ]  # fmt: skip
            await live.press(user, "ทุกเดือน: วันศุกร์แรก")
            await live.send(user, "ศาลาประชาคม")
            await live.press(user, "ข้าม")
            await live.press(user, "✓ 120 นาที")
            summary = _text(live.emulator.last_sent(FACILITATOR_TH))
            assert "• วันศุกร์ที่ 1 มกราคม พ.ศ. 2570 เวลา 18:00 น." in summary
            assert "• วันศุกร์ที่ 5 กุมภาพันธ์ พ.ศ. 2570 เวลา 18:00 น." in summary
            await live.press(user, "ยืนยัน")
            [series] = await _series(live)
            assert series.first_start == datetime(2027, 1, 1, 11, 0, tzinfo=UTC)


async def test_a_move_stopped_or_overtaken_changes_nothing(live: LiveBot) -> None:
    series = await _monthly_council(live)
    user = live.emulator.users[FACILITATOR_EN]
    await _open_first_meeting(live)
    await live.press(user, "Move")
    await live.press(user, "Cancel")
    assert live.emulator.last_sent(FACILITATOR_EN).text == EN["schedule.move_stopped"]
    assert (await _meeting_of_dec_5(live, series.id)).starts_at == DEC_5

    await _open_first_meeting(live)
    await live.press(user, "Move")
    await live.send(user, "7/12/2026")
    await live.press(user, "Confirm")
    await live.press(user, "10:00")
    assert live.db is not None
    async with live.db.session() as session:  # another facilitator cancels it meanwhile
        await council.cancel_occurrence(series.id, DEC_5, by=FACILITATOR_TH, session=session)
    await live.press(user, "Confirm")
    assert live.emulator.last_sent(FACILITATOR_EN).text == EN["schedule.refused.cancelled"]
    meeting = await _meeting_of_dec_5(live, series.id)
    assert meeting.cancelled and meeting.starts_at == DEC_5
