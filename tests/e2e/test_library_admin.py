"""`/events` end to end: a facilitator's rosters, feedback, cancelling an event, withdrawing a
book and stopping a loan (safeguarding) — and what others may not see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuMessage
from storage import library
from storage.clock import ManualClock
from storage.enums import Role
from storage.errors import ReservationRefused
from tests.e2e.library_people import (
    BOOK_TITLE,
    EN,
    OTHER_TITLE,
    TH,
    book,
    frozen_clock,
    person,
    reserve,
    running_bot,
    until,
)

F_TH, F_EN, F_OTHER, ADMIN = 8301, 8302, 8303, 8309  # F_OTHER facilitates another event
R_TH, R_EN, R_WAIT, R_OTHER = 8311, 8312, 8313, 8314
NAMES = {R_TH: "Somchai <S> & Co", R_EN: "Anna", R_WAIT: "Malee", R_OTHER: "Tom"}
LANGUAGES = {R_TH: "th", R_EN: "en", R_WAIT: "th", R_OTHER: "en"}
START = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # Saturday 09:00 in Yala
PLACE = "Yala City Library"


@dataclass
class Library:
    live: LiveBot
    clock: ManualClock
    event_id: int
    fisher: library.Book
    teacher: library.Book
    loans: dict[int, library.Reservation]


@pytest.fixture
async def lib(tmp_path: Path) -> AsyncIterator[Library]:
    with frozen_clock() as manual:
        async with running_bot(tmp_path, admin_ids=frozenset({ADMIN})) as live:
            await person(live, F_TH, "th", role=Role.facilitator)
            await person(live, F_EN, "en", role=Role.facilitator)
            await person(live, F_OTHER, "en", role=Role.facilitator)
            await person(live, ADMIN, "en")
            for reader, name in NAMES.items():
                await person(live, reader, LANGUAGES[reader], name=name)
            fisher = await book(live, BOOK_TITLE, linked_to=8500)
            teacher = await book(live, OTHER_TITLE, linked_to=8501)
            event = await _event(live, [fisher.id, teacher.id], created_by=F_TH)
            assert live.db is not None and event.id is not None
            async with live.db.session() as session:
                await library.add_facilitator(event.id, F_EN, by=F_TH, session=session)
            await _event(live, [teacher.id], created_by=F_OTHER)
            loans = {}
            for reader, book_id in ((R_TH, fisher.id), (R_EN, fisher.id), (R_WAIT, fisher.id),
                                    (R_OTHER, teacher.id)):  # fmt: skip
                loans[reader] = await reserve(
                    live, event.id, book_id, reader, NAMES[reader], LANGUAGES[reader]
                )
            yield Library(live, manual, event.id, fisher, teacher, loans)


async def _event(
    live: LiveBot, book_ids: list[int], *, created_by: int, starts_at: datetime = START
) -> library.LibraryEvent:
    assert live.db is not None
    async with live.db.session() as session:
        return await library.create_event(
            starts_at=starts_at, place_text=PLACE, slots_per_book=2, book_ids=book_ids,
            created_by=created_by, session=session,
        )  # fmt: skip


async def _open_event(lib: Library, user_id: int) -> EmuMessage:
    """`/events`, then the event's card."""
    user = lib.live.emulator.users[user_id]
    [listing] = await lib.live.send(user, "/events")
    await lib.live.press_data(user, listing, f"v1:libev:ev:{lib.event_id}")
    return lib.live.emulator.last_sent(user_id)


def _text(lib: Library, chat_id: int) -> str:
    return lib.live.emulator.last_sent(chat_id).text or ""


async def test_the_roster_shows_readers_per_book_and_slot_and_the_waitlist(lib: Library) -> None:
    card = await _open_event(lib, F_TH)
    assert "Yala City Library" in (card.text or "")
    assert "ชีวิตชาวประมงยะลา: จองแล้ว 2 จาก 2 ที่ รอคิว 1 คน" in (card.text or "")
    assert card.button_texts[:2] == ["รายชื่อผู้อ่าน", "ความคิดเห็น"]
    await lib.live.press(lib.live.emulator.users[F_TH], "รายชื่อผู้อ่าน")
    roster = lib.live.emulator.last_sent(F_TH)
    text = roster.text or ""
    fisher, teacher = text.index("ชีวิตชาวประมงยะลา"), text.index("ครูสอนภาษามลายู")
    assert text.index("09:00–09:30 น.: Somchai <S> & Co") > fisher, "names as given, escaped"
    assert "09:30–10:00 น.: Anna\nรายชื่อรอคิว: 1. Malee" in text
    assert text.index("09:00–09:30 น.: Tom") > teacher
    assert text.rindex("09:30–10:00 น.: ว่าง") > teacher
    assert "⛔ 09:00 Somchai <S> & Co · ชีวิตชาวประมงยะลา" in roster.button_texts
    assert str(R_TH) not in text


async def test_a_facilitator_not_on_the_event_cannot_see_its_roster(lib: Library) -> None:
    live, expired = lib.live, EN["common.expired"]
    other = live.emulator.users[F_OTHER]
    [listing] = await live.send(other, "/events")
    assert len(listing.button_texts) == 1, "only the event they facilitate"
    for forged in ("ros", "ev", "fb", "can", "cany", "wd"):
        query = await live.press_data(other, listing, f"v1:libev:{forged}:{lib.event_id}")
        assert query.answer is not None and query.answer["text"] == expired, forged
    stop = await live.press_data(other, listing, f"v1:libev:stopy:{lib.loans[R_TH].id}")
    assert stop.answer is not None and stop.answer["text"] == expired
    assert live.db is not None
    async with live.db.session() as session:
        view = await library.event_view(lib.event_id, session=session)
        assert view is not None and not view.cancelled
        assert await library.get_reservation(lib.loans[R_TH].id, session=session) == lib.loans[R_TH]

    card = await _open_event(lib, ADMIN)  # an admin manages every event, but sees no names
    assert "Roster" not in card.button_texts and "Feedback" in card.button_texts
    query = await live.press_data(live.emulator.users[ADMIN], card, f"v1:libev:ros:{lib.event_id}")
    assert query.answer is not None and query.answer["text"] == expired


async def test_a_citizen_cannot_list_events(lib: Library) -> None:
    [refusal] = await lib.live.send(lib.live.emulator.users[R_TH], "/events")
    assert refusal.text == TH["guard.refused"]


async def test_cancelling_the_event_tells_every_reader_in_their_language(lib: Library) -> None:
    live = lib.live
    await _open_event(lib, F_EN)
    await live.press(live.emulator.users[F_EN], "Cancel event")
    assert "Every reader with a reservation" in _text(lib, F_EN)
    await live.press(live.emulator.users[F_EN], "Yes, cancel the event")
    assert _text(lib, F_EN) == EN["libev.cancel_done"].format(id=lib.event_id, count=4)
    await until(live, lambda: all(live.emulator.sent_to(r) for r in NAMES))
    assert _text(lib, R_TH).startswith("แจ้งยกเลิกกิจกรรมห้องสมุดมนุษย์")
    assert "เสาร์ 5 ธ.ค. 2569, 09:00 น. – 10:00 น." in _text(lib, R_TH)
    assert _text(lib, R_WAIT).startswith("แจ้งยกเลิกกิจกรรมห้องสมุดมนุษย์"), "waitlisted too"
    assert _text(lib, R_EN).startswith("A human-library event was cancelled")
    assert "Sat 5 Dec 2026, 09:00" in _text(lib, R_OTHER)
    assert live.db is not None
    async with live.db.session() as session:
        for reader in NAMES:
            assert await library.my_loans(reader, now=START, session=session) == []
    [listing] = await live.send(live.emulator.users[F_EN], "/events")
    assert listing.text == EN["libev.none"]


async def test_withdrawing_a_book_tells_its_readers_in_their_language(lib: Library) -> None:
    live = lib.live
    facilitator = live.emulator.users[F_EN]
    await _open_event(lib, F_EN)
    await live.press(facilitator, "Withdraw a book")
    await live.press(facilitator, "A fisher's life")
    assert "Withdraw A fisher's life from event no." in _text(lib, F_EN)
    await live.press(facilitator, "Yes, withdraw the book")
    assert _text(lib, F_EN) == EN["libev.withdraw_done"].format(book="A fisher's life", count=3)
    await until(live, lambda: all(live.emulator.sent_to(r) for r in (R_TH, R_EN, R_WAIT)))
    assert "ชีวิตชาวประมงยะลา จะไม่มาร่วมกิจกรรม" in _text(lib, R_TH)
    assert "ชีวิตชาวประมงยะลา" in _text(lib, R_WAIT)
    assert "A fisher's life will not be at the human-library event" in _text(lib, R_EN)
    assert live.emulator.sent_to(R_OTHER) == [], "the other book's reader keeps their loan"
    card = await _open_event(lib, F_EN)
    assert "A fisher's life (withdrawn)" in (card.text or "")


async def test_stop_report_from_the_roster_tells_the_facilitators_and_bars_the_reader(
    lib: Library,
) -> None:
    live = lib.live
    facilitator = live.emulator.users[F_TH]
    await _open_event(lib, F_TH)
    await live.press(facilitator, "รายชื่อผู้อ่าน")
    await live.press(facilitator, "⛔ 09:00 Somchai <S> & Co · ชีวิตชาวประมงยะลา")
    assert "ต้องการหยุดการอ่านรอบนี้หรือไม่" in _text(lib, F_TH)
    await live.press(facilitator, "ยืนยัน หยุดการอ่าน")
    assert "Somchai <S> & Co จะจองหนังสือเล่มนี้ไม่ได้อีก" in _text(lib, F_TH)

    notice = _text(lib, F_EN)
    assert notice.startswith("⚠️ A human-library loan was stopped (by a facilitator)")
    assert "Book: A fisher's life" in notice and "Sat 5 Dec 2026, 09:00 – 09:30" in notice
    assert "Reader: Somchai <S> & Co" in notice and str(R_TH) not in notice
    assert live.emulator.sent_to(F_OTHER) == [], "not a facilitator of this event"
    promoted = [m.text or "" for m in live.emulator.sent_to(R_WAIT)]
    assert any("ชีวิตชาวประมงยะลา" in text and "09:00" in text for text in promoted), promoted

    assert live.db is not None
    next_week = datetime(2026, 12, 12, 2, 0, tzinfo=UTC)
    later = await _event(
        live, [lib.fisher.id, lib.teacher.id], created_by=F_TH, starts_at=next_week
    )
    assert later.id is not None
    with pytest.raises(ReservationRefused) as refused:
        await reserve(live, later.id, lib.fisher.id, R_TH, NAMES[R_TH], "th")
    assert refused.value.reason == "barred"
    await reserve(live, later.id, lib.teacher.id, R_TH, NAMES[R_TH], "th")  # other books: fine

    await live.press(live.emulator.users[F_EN], "Roster")  # from the notice
    roster = _text(lib, F_EN)
    assert "09:00–09:30: Malee" in roster and "Somchai" not in roster


async def test_the_feedback_summary_shows_ratings_and_what_readers_learned(lib: Library) -> None:
    live = lib.live
    assert live.db is not None
    lib.clock.set(datetime(2026, 12, 5, 4, 0, tzinfo=UTC))  # the event is over
    async with live.db.session() as session:
        for number, (reader, rating) in enumerate(((R_TH, 5), (R_EN, 4))):
            loan = lib.loans[reader]
            await library.mark_feedback_asked(loan.id, session=session)
            await library.record_feedback_poll(f"poll-{number}", loan.id, session=session)
            await library.record_rating(f"poll-{number}", reader, rating, session=session)
        await library.record_feedback_text(
            lib.loans[R_TH].id, R_TH, "ได้รู้จัก <เรือกอและ> & ทะเล", "th", session=session
        )
    card = await _open_event(lib, F_EN)
    assert "(ended)" in (card.text or "")
    assert "Cancel event" not in card.button_texts, "an event that is over cannot be cancelled"
    await live.press(live.emulator.users[F_EN], "Feedback")
    summary = _text(lib, F_EN)
    assert "Readers asked: 2\nRatings: 2\nAverage: 4.5 of 5" in summary
    assert "5★ ▇ 1\n4★ ▇ 1\n3★  0" in summary
    assert "• ได้รู้จัก <เรือกอและ> & ทะเล — A fisher's life" in summary
    assert "Somchai" not in summary and "Anna" not in summary, "no names"
