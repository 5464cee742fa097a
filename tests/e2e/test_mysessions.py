"""/mysessions end to end: library loans and council answers in one time-ordered list, each
with its calendar file and Cancel; forged and stale buttons expire.

Storage time is frozen at Tue 1 Dec 2026, 10:00 in Yala. The scene, set through storage: a
one-off council on Thu 3 Dec at 18:00, a library event on Sat 5 Dec from 09:00 (one
30-minute loan per book), and the monthly council on Tue 15 Dec at 09:00.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot
from storage import council, library, reminders
from storage.clock import ManualClock
from storage.council import MEETING_EVENT_KIND, Meeting, meeting_ref
from storage.enums import ReservationStatus, RsvpAnswer
from tests.e2e.citizen_council_helpers import (
    COUNCIL_LINK,
    COUNCIL_PLACE,
    DEC_EN,
    DEC_TH,
    citizen,
    last_ics_event,
    last_page,
    meetings,
    monthly_council,
    running,
)
from tests.e2e.library_helpers import (
    BANGKOK,
    EN,
    EVENT_AT,
    PLACE,
    TH,
    TITLE,
    Stage,
    frozen_clock,
    stage,
    texts,
)

THU_MEETING = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # Thu 3 Dec 2026, 18:00 in Yala
THU_TH, THU_EN = "พฤหัส 3 ธ.ค. 2569, 18:00 น.", "Thu 3 Dec 2026, 18:00"
LIBRARY_TH, LIBRARY_EN = "เสาร์ 5 ธ.ค. 2569, 09:00 น.", "Sat 5 Dec 2026, 09:00"
LIBRARY_LINK = "https://t.me/learncity_test_bot?start=library"
ONE_OFF_TITLE = {"th": "สภากาแฟพิเศษ: ตลาดนัดการเรียนรู้", "en": "Special council: learning fair"}


@pytest.fixture
async def clock() -> AsyncIterator[ManualClock]:
    async with frozen_clock() as manual:
        yield manual


@pytest.fixture
async def live(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LiveBot]:
    async with running(tmp_path) as bot:
        yield bot


@pytest.fixture
async def scene(live: LiveBot) -> Stage:
    """The library event with one book and one 30-minute loan; both councils."""
    assert live.db is not None
    found = await stage(live, slots=1)
    await monthly_council(live.db)
    async with live.db.session() as session:
        await council.create_series(
            title=ONE_OFF_TITLE, place_text=COUNCIL_PLACE, rule=None, first_start=THU_MEETING,
            created_by=9300, session=session,
        )  # fmt: skip
    return found


async def _council(live: LiveBot, starts_at: datetime) -> Meeting:
    assert live.db is not None
    return next(m for m in await meetings(live.db) if m.starts_at == starts_at)


async def _answer(live: LiveBot, meeting: Meeting, user_id: int, answer: RsvpAnswer) -> None:
    assert live.db is not None
    async with live.db.session() as session:
        await council.rsvp(meeting.id, user_id, answer, "th", session=session)


async def _reserve(scene: Stage, user_id: int, name: str) -> library.Reservation:
    async with scene.db.session() as session:
        return await library.reserve(
            scene.event_id, scene.book.id, user_id, reader_name=name, language="th",
            press_order=user_id, session=session,
        )  # fmt: skip


async def _attendees(live: LiveBot, meeting: Meeting) -> list[int]:
    assert live.db is not None
    async with live.db.session() as session:
        event = await reminders.get_event(
            MEETING_EVENT_KIND, meeting_ref(meeting.id), session=session
        )
        assert event is not None and event.id is not None
        return await reminders.attendee_ids(event.id, session=session)


async def test_loans_and_council_answers_in_one_time_ordered_list_with_calendar_files(
    live: LiveBot, scene: Stage
) -> None:
    somsri = await citizen(live, 8201, "สมศรี", "th")
    december = await _council(live, datetime(2026, 12, 15, 2, 0, tzinfo=UTC))
    thursday = await _council(live, THU_MEETING)
    await _answer(live, december, somsri.id, RsvpAnswer.yes)
    await _answer(live, thursday, somsri.id, RsvpAnswer.maybe)
    await _reserve(scene, somsri.id, "สมศรี")

    await live.send(somsri, "/mysessions")
    page = last_page(live, somsri.id)
    text = page.text or ""
    # Thursday's council, Saturday's loan, the 15th's council: by time, not by kind.
    positions = [text.index(THU_TH), text.index(LIBRARY_TH), text.index(DEC_TH)]
    assert positions == sorted(positions)
    assert "1. ☕ สภากาแฟ" in text and "2. 📚 ห้องสมุดมนุษย์" in text and "3. ☕ สภากาแฟ" in text
    assert TITLE["th"] in text and PLACE in text and "จองแล้ว" in text
    assert "ท่านตอบว่าอาจจะมา" in text and "ท่านตอบว่ามาร่วม" in text
    assert page.button_texts == [
        "✖ ยกเลิก 1", "📅 ปฏิทิน 1", "✖ ยกเลิก 2", "📅 ปฏิทิน 2", "✖ ยกเลิก 3", "📅 ปฏิทิน 3",
    ]  # fmt: skip

    await live.press(somsri, "📅 ปฏิทิน 2")
    name, loan = last_ics_event(live, somsri.id)
    assert name.endswith(".ics") and loan["url"] == LIBRARY_LINK and loan["location"] == PLACE
    assert loan["start"] == datetime(2026, 12, 5, 9, 0, tzinfo=BANGKOK)
    assert loan["end"] == datetime(2026, 12, 5, 9, 30, tzinfo=BANGKOK)
    assert str(loan["start"].tzinfo) == "Asia/Bangkok"  # type: ignore[attr-defined]

    await live.press(somsri, "📅 ปฏิทิน 3")
    name, meeting = last_ics_event(live, somsri.id)
    assert name.endswith(".ics") and meeting["url"] == COUNCIL_LINK
    assert meeting["start"] == datetime(2026, 12, 15, 9, 0, tzinfo=BANGKOK)
    assert meeting["end"] == datetime(2026, 12, 15, 11, 0, tzinfo=BANGKOK)
    assert str(meeting["start"].tzinfo) == "Asia/Bangkok"  # type: ignore[attr-defined]
    assert meeting["location"] == COUNCIL_PLACE

    await live.press(somsri, "📅 ปฏิทิน 1")
    _, one_off = last_ics_event(live, somsri.id)
    assert one_off["start"] == datetime(2026, 12, 3, 18, 0, tzinfo=BANGKOK)

    # In English, the same list reads in English.
    anne = await citizen(live, 8202, "Anne", "en")
    await _answer(live, december, anne.id, RsvpAnswer.maybe)
    await live.send(anne, "/mysessions")
    text = last_page(live, anne.id).text or ""
    assert DEC_EN in text and "You said maybe" in text and "1. ☕ Coffee council" in text


async def test_cancelling_each_kind_from_the_list(live: LiveBot, scene: Stage) -> None:
    somsri = await citizen(live, 8203, "สมศรี", "th")
    waiting = await citizen(live, 8204, "Anne", "en")
    december = await _council(live, datetime(2026, 12, 15, 2, 0, tzinfo=UTC))
    await _answer(live, december, somsri.id, RsvpAnswer.yes)
    loan = await _reserve(scene, somsri.id, "สมศรี")
    queued = await _reserve(scene, waiting.id, "Anne")
    assert loan.reserved and queued.waitlisted

    # The waitlisted reader sees their place, without a calendar file (no time of their own).
    await live.send(waiting, "/mysessions")
    assert "On the waitlist" in (last_page(live, waiting.id).text or "")
    assert last_page(live, waiting.id).button_texts == ["✖ Cancel 1"]

    await live.send(somsri, "/mysessions")
    await live.press(somsri, "✖ ยกเลิก 1")
    confirm = last_page(live, somsri.id)
    assert TITLE["th"] in (confirm.text or "") and confirm.button_texts == [
        TH["mysessions.button.cancel_yes"],
        TH["mysessions.button.cancel_no"],
    ]
    # "Keep it" changes nothing.
    await live.press(somsri, TH["mysessions.button.cancel_no"])
    async with scene.db.session() as session:
        kept = await library.get_reservation(loan.id, session=session)
    assert kept is not None and kept.reserved

    await live.press(somsri, "✖ ยกเลิก 1")
    await live.press(somsri, TH["mysessions.button.cancel_yes"])
    after = last_page(live, somsri.id).text or ""
    assert f"ยกเลิกแล้ว: {TITLE['th']}" in after and DEC_TH in after and LIBRARY_TH not in after
    async with scene.db.session() as session:
        cancelled = await library.get_reservation(loan.id, session=session)
        promoted = await library.get_reservation(queued.id, session=session)
    assert cancelled is not None and cancelled.status is ReservationStatus.cancelled
    assert promoted is not None and promoted.reserved
    # The promoted reader is told as /library tells them: in English, with their .ics file.
    assert any("A place freed up" in text for text in texts(live, waiting.id))
    _, promoted_ics = last_ics_event(live, waiting.id)
    assert promoted_ics["start"] == datetime(2026, 12, 5, 9, 0, tzinfo=BANGKOK)

    # The council answer: cancelled = "no"; the reminders stop.
    assert await _attendees(live, december) == [somsri.id]
    await live.press(somsri, "✖ ยกเลิก 1")
    assert "ยืนยันว่าท่านจะไม่มาร่วม" in (last_page(live, somsri.id).text or "")
    await live.press(somsri, TH["mysessions.button.cancel_yes"])
    assert await _attendees(live, december) == []
    async with scene.db.session() as session:
        rows = await council.rsvps(december.id, session=session)
    assert [(r.telegram_user_id, r.answer) for r in rows] == [(somsri.id, RsvpAnswer.no)]
    shown = last_page(live, somsri.id)
    assert "บันทึกแล้วว่าท่านไม่สะดวกมา" in (shown.text or "")
    assert TH["mysessions.empty"] in (shown.text or "") and shown.button_texts == []

    # An empty list is a friendly pointer to /library and /council.
    await live.send(somsri, "/mysessions")
    assert last_page(live, somsri.id).text == TH["mysessions.empty"]
    assert "/library" in TH["mysessions.empty"] and "/council" in TH["mysessions.empty"]


async def test_forged_and_stale_buttons_expire_and_change_nothing(
    live: LiveBot, scene: Stage, clock: ManualClock
) -> None:
    anne = await citizen(live, 8205, "Anne", "en")
    other = await citizen(live, 8206, "Bee", "en")
    december = await _council(live, datetime(2026, 12, 15, 2, 0, tzinfo=UTC))
    thursday = await _council(live, THU_MEETING)
    theirs = await _reserve(scene, other.id, "Bee")
    await _answer(live, thursday, other.id, RsvpAnswer.yes)
    mine = await _reserve(scene, anne.id, "Anne")  # waitlisted behind Bee
    await _answer(live, december, anne.id, RsvpAnswer.yes)

    await live.send(anne, "/mysessions")
    page = last_page(live, anne.id)
    for data in (
        f"v1:mys:cx:l:{theirs.id}",  # another reader's reservation
        f"v1:mys:cxy:l:{theirs.id}",
        f"v1:mys:ics:l:{theirs.id}",
        f"v1:mys:cxy:c:{thursday.id}",  # a meeting Anne never answered
        f"v1:mys:ics:l:{mine.id}",  # a waitlist place has no calendar file
        "v1:mys:cxy:x:1",
        "v1:mys:cxy:c:abc",
        "v1:mys:cxy:c",
        "v1:mys:nope",
    ):
        query = await live.press_data(anne, page, data)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"], data
    async with scene.db.session() as session:
        still = await library.get_reservation(theirs.id, session=session)
        assert still is not None and still.reserved
        answers = await council.rsvps(thursday.id, session=session)
    assert [(r.telegram_user_id, r.answer) for r in answers] == [(other.id, RsvpAnswer.yes)]

    # Past items: once the council has ended, its buttons expire and nothing changes.
    clock.set(december.ends_at + timedelta(minutes=1))
    for data in (f"v1:mys:cxy:c:{december.id}", f"v1:mys:ics:c:{december.id}"):
        query = await live.press_data(anne, page, data)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"], data
    async with scene.db.session() as session:
        [answer] = await council.rsvps(december.id, session=session)
    assert answer.answer is RsvpAnswer.yes
    assert EVENT_AT < december.starts_at
