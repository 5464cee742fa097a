"""/library end to end: readers browse, reserve, get .ics files, wait, cancel, rate and learn.

Storage time is frozen at NOW (Tue 1 Dec 2026, 10:00 in Yala); the event is on Sat 5 Dec 2026
at 09:00 in Yala with 30-minute loans. The scene (book, event) is set through storage: the
facilitators' /books and /schedule have their own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import col, select

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuUser
from bot.services import services_from_app
from schedules.library_jobs import FEEDBACK_JOB, FEEDBACK_KEY, FeedbackAsker
from storage import citizens, library, reminders
from storage.clock import ManualClock
from storage.enums import Purpose, ReservationStatus
from storage.library import LOAN_EVENT_KIND, loan_ref
from storage.models import LibraryReservation
from tests.e2e.library_helpers import (
    BANGKOK,
    BOOK_ACCOUNT,
    EN,
    EVENT_AT,
    FACILITATOR,
    LATITUDE,
    LONGITUDE,
    OTHER_BLURB,
    OTHER_TITLE,
    PLACE,
    TH,
    TITLE,
    Stage,
    book_account,
    frozen_clock,
    last_document,
    last_text,
    listed_book,
    new_event,
    person,
    problems,
    stage,
    texts,
)

THAI_DAY = "เสาร์ 5 ธ.ค. 2569, 09:00 น."
ENGLISH_DAY = "Sat 5 Dec 2026, 09:00"
LINK = "https://t.me/learncity_test_bot?start=library"


@pytest.fixture
async def clock() -> AsyncIterator[ManualClock]:
    async with frozen_clock() as manual:
        yield manual


@pytest.fixture
async def live(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LiveBot]:
    """A running bot; afterwards no press went unanswered, no call was refused, no error shown."""
    bot = LiveBot(database_url=sqlite_url(tmp_path / "library.db"), in_process=True)
    async with bot:
        yield bot
    assert problems(bot) == []


@pytest.fixture
async def scene(live: LiveBot) -> Stage:
    return await stage(live)


async def _reservations(scene: Stage) -> list[LibraryReservation]:
    async with scene.db.session() as session:
        rows = await session.exec(select(LibraryReservation).order_by(col(LibraryReservation.id)))
        return list(rows.all())


def _ics(live: LiveBot, chat_id: int) -> Calendar:
    name, data = live.emulator.files.content_of(last_document(live, chat_id))
    assert name.endswith(".ics")
    return Calendar.from_ical(data)


def _event_of(calendar: Calendar) -> dict[str, object]:
    [event] = [c for c in calendar.walk() if c.name == "VEVENT"]
    return {
        "start": event.decoded("dtstart"),
        "end": event.decoded("dtend"),
        "location": str(event.get("location")),
        "url": str(event.get("url")),
        "summary": str(event.get("summary")),
        "geo": (event.get("geo").latitude, event.get("geo").longitude),
    }


async def _open_book(live: LiveBot, user: EmuUser, day: str, title: str) -> None:
    """/library → the event → the book's page."""
    await live.send(user, "/library")
    await live.press(user, day)
    await live.press(user, title)


async def test_a_thai_and_an_english_reader_browse_reserve_get_ics_and_cancel(
    live: LiveBot, scene: Stage
) -> None:
    somsri = await person(live, 7101, "สมศรี", "th", last_name="ใจดี")
    anne = await person(live, 7102, "Anne", "en", last_name="Smith")

    await live.send(somsri, "/library")
    events = live.emulator.last_sent(somsri.id)
    assert THAI_DAY in (events.text or "") and PLACE in (events.text or "")
    await live.press(somsri, THAI_DAY)
    catalogue = live.emulator.last_sent(somsri.id).text or ""
    assert TITLE["th"] in catalogue and "ไทย, มาเลย์" in catalogue and "#ประมง" in catalogue
    await live.press(somsri, TITLE["th"])
    page = live.emulator.last_sent(somsri.id)
    assert TITLE["th"] in (page.text or "") and "เรื่องเล่าจากทะเล" in (page.text or "")
    assert str(BOOK_ACCOUNT) not in (page.text or "") + str(page.reply_markup)
    assert "09:00–09:30 น." in page.button_texts and "เวลาว่างแรกสุด" in page.button_texts
    await live.press(somsri, "09:00–09:30 น.")
    confirmation = live.emulator.last_sent(somsri.id)
    assert confirmation.kind == "document"
    assert any("จองแล้ว" in text and THAI_DAY in text and PLACE in text
               for text in texts(live, somsri.id))  # fmt: skip
    thai_ics = _event_of(_ics(live, somsri.id))
    assert thai_ics["start"] == datetime(2026, 12, 5, 9, 0, tzinfo=BANGKOK)
    assert str(thai_ics["start"].tzinfo) == "Asia/Bangkok"  # type: ignore[attr-defined]
    assert thai_ics["end"] == datetime(2026, 12, 5, 9, 30, tzinfo=BANGKOK)
    assert thai_ics["location"] == PLACE and thai_ics["url"] == LINK
    assert thai_ics["geo"] == (LATITUDE, LONGITUDE) and TITLE["th"] in str(thai_ics["summary"])

    await _open_book(live, anne, ENGLISH_DAY, TITLE["en"])
    page = live.emulator.last_sent(anne.id)
    assert "Stories from the sea" in (page.text or "") and "Thai, Malay" in (page.text or "")
    assert "09:00–09:30" not in page.button_texts, "Somsri has that slot"
    await live.press(anne, "First free time")
    assert any(
        "Reserved" in text and "Sat 5 Dec 2026, 09:30" in text for text in texts(live, anne.id)
    )
    english_ics = _event_of(_ics(live, anne.id))
    assert english_ics["start"] == datetime(2026, 12, 5, 9, 30, tzinfo=BANGKOK)
    assert english_ics["summary"] == "Human library: A fisher's life"

    # The book hears of each loan: the time and the reader's first name, nothing more.
    notices = texts(live, BOOK_ACCOUNT)
    assert len(notices) == 2 and "สมศรี" in notices[0] and "Anne" in notices[1]
    assert all("ใจดี" not in n and "Smith" not in n and "7101" not in n for n in notices)

    await live.press(somsri, "การจองของฉัน")
    assert TITLE["th"] in last_text(live, somsri.id)
    await live.press(somsri, lambda label: label.startswith("ยกเลิก: "))
    await live.press(somsri, "ยืนยันการยกเลิก")
    assert "ยกเลิกการจอง" in last_text(live, somsri.id)
    statuses = [(r.telegram_user_id, r.status) for r in await _reservations(scene)]
    assert statuses == [(7101, ReservationStatus.cancelled), (7102, ReservationStatus.reserved)]


async def test_the_map_is_sent_only_when_the_reader_asks(live: LiveBot, scene: Stage) -> None:
    anne = await person(live, 7102, "Anne", "en")
    await live.send(anne, "/library")
    await live.press(anne, ENGLISH_DAY)
    assert [m.kind for m in live.emulator.sent_to(anne.id)] == ["text"]
    await live.press(anne, "🗺 Map")
    location = live.emulator.last_sent(anne.id)
    assert location.kind == "location"
    assert location.extra["location"] == {"latitude": LATITUDE, "longitude": LONGITUDE}


async def test_the_catalogue_filters_by_tag_and_by_language(live: LiveBot, scene: Stage) -> None:
    other = await listed_book(
        scene.db, account=book_account(live, 9201), title=OTHER_TITLE, blurb=OTHER_BLURB,
        tags=["teaching"], languages=["ms", "en"],
    )  # fmt: skip
    await new_event(scene.db, [scene.book.id, other.id], starts_at=EVENT_AT + timedelta(days=7))
    anne = await person(live, 7102, "Anne", "en")
    await live.send(anne, "/library")
    await live.press(anne, "Sat 12 Dec 2026, 09:00")
    both = last_text(live, anne.id)
    assert TITLE["en"] in both and OTHER_TITLE["en"] in both
    await live.press(anne, "#teaching")
    teaching = last_text(live, anne.id)
    assert OTHER_TITLE["en"] in teaching and TITLE["en"] not in teaching
    await live.press(anne, "All books")
    await live.press(anne, "Thai")
    thai = last_text(live, anne.id)
    assert TITLE["en"] in thai and OTHER_TITLE["en"] not in thai and "speak Thai" in thai


async def test_a_waitlisted_reader_is_promoted_and_told_in_their_language(live: LiveBot) -> None:
    scene = await stage(live, slots=1)
    somsri = await person(live, 7101, "สมศรี", "th")
    anne = await person(live, 7102, "Anne", "en")
    await _open_book(live, somsri, THAI_DAY, TITLE["th"])
    await live.press(somsri, "เวลาว่างแรกสุด")
    await _open_book(live, anne, ENGLISH_DAY, TITLE["en"])
    page = live.emulator.last_sent(anne.id)
    assert "First free time" not in page.button_texts and "Free times: 0 · waitlist: 0" in (
        page.text or ""
    )
    await live.press(anne, "Join the waitlist")
    assert "on the waitlist, number 1" in last_text(live, anne.id)
    assert live.emulator.sent_to(anne.id)[-1].kind == "text", "no calendar file while waiting"

    await live.press(somsri, "การจองของฉัน")
    await live.press(somsri, lambda label: label.startswith("ยกเลิก: "))
    await live.press(somsri, "ยืนยันการยกเลิก")

    told = [m for m in live.emulator.sent_to(anne.id) if "A place freed up" in (m.text or "")]
    assert len(told) == 1 and ENGLISH_DAY in (told[0].text or "")
    promoted_ics = _event_of(_ics(live, anne.id))
    assert promoted_ics["start"] == datetime(2026, 12, 5, 9, 0, tzinfo=BANGKOK)
    assert "Anne" in texts(live, BOOK_ACCOUNT)[-1], "the book hears of the promoted reader"
    statuses = [(r.telegram_user_id, r.status) for r in await _reservations(scene)]
    assert statuses == [(7101, ReservationStatus.cancelled), (7102, ReservationStatus.reserved)]


async def test_duplicate_and_overlapping_reservations_are_refused_clearly(
    live: LiveBot, scene: Stage
) -> None:
    other = await listed_book(
        scene.db, account=book_account(live, 9201), title=OTHER_TITLE, blurb=OTHER_BLURB,
        tags=["teaching"],
    )  # fmt: skip
    await new_event(scene.db, [scene.book.id, other.id], starts_at=EVENT_AT + timedelta(days=7))
    anne = await person(live, 7102, "Anne", "en")
    day = "Sat 12 Dec 2026, 09:00"
    await _open_book(live, anne, day, TITLE["en"])
    await live.press(anne, "09:00–09:30")
    await _open_book(live, anne, day, TITLE["en"])
    await live.press(anne, "First free time")
    assert live.emulator.last_sent(anne.id).text == EN["library.refused.duplicate"]
    await _open_book(live, anne, day, OTHER_TITLE["en"])
    await live.press(anne, "09:00–09:30")
    assert live.emulator.last_sent(anne.id).text == EN["library.refused.overlap"]
    await live.press(anne, "First free time")  # the first slot that does not overlap
    assert any(
        "Reserved" in text and "Sat 12 Dec 2026, 09:30" in text for text in texts(live, anne.id)
    )
    rows = [(r.book_id, r.slot_index) for r in await _reservations(scene)]
    assert rows == [(scene.book.id, 0), (other.id, 1)]


async def test_stale_and_forged_buttons_are_expired_and_change_nothing(
    live: LiveBot, scene: Stage
) -> None:
    somsri = await person(live, 7101, "สมศรี", "th")
    anne = await person(live, 7102, "Anne", "en")
    await _open_book(live, somsri, THAI_DAY, TITLE["th"])
    await live.press(somsri, "09:00–09:30 น.")
    [theirs] = await _reservations(scene)

    # Another reader's reservation id, in forged data.
    await live.send(anne, "/library")
    message = live.emulator.last_sent(anne.id)
    for data in (f"v1:lib:cx:{theirs.id}", f"v1:lib:cxy:{theirs.id}", f"v1:lib:stop:{theirs.id}",
                 f"v1:lib:stopy:{theirs.id}", "v1:lib:rs:1:1", "v1:lib:nonsense"):  # fmt: skip
        query = await live.press_data(anne, message, data)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    assert [(r.id, r.status) for r in await _reservations(scene)] == [
        (theirs.id, ReservationStatus.reserved)
    ]

    # A retired book: its page, still open, no longer reserves.
    await _open_book(live, anne, ENGLISH_DAY, TITLE["en"])
    async with scene.db.session() as session:
        await library.retire_book(scene.book.id, by=FACILITATOR, session=session)
    for label in ("09:30–10:00", "First free time", "« Back"):
        query = await live.press(anne, label)
        assert query.answer is not None
        expected = EN["common.expired"] if label != "« Back" else None
        assert query.answer.get("text") == expected
    assert TITLE["en"] not in last_text(live, anne.id), "the catalogue no longer lists it"

    # A cancelled event: its buttons and the loans at it are gone.
    book = await listed_book(
        scene.db, account=book_account(live, 9201), title=OTHER_TITLE, blurb=OTHER_BLURB
    )
    event = await new_event(scene.db, [book.id], starts_at=EVENT_AT + timedelta(days=7))
    await _open_book(live, anne, "Sat 12 Dec 2026, 09:00", OTHER_TITLE["en"])
    await live.press(anne, "09:00–09:30")
    await live.press(anne, "My loans")
    assert event.id is not None
    async with scene.db.session() as session:
        await library.cancel_event(event.id, by=FACILITATOR, session=session)
    before = [(r.id, r.status) for r in await _reservations(scene)]
    for label in ("Cancel: A Malay teacher",):
        query = await live.press(anne, label)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    query = await live.press_data(anne, message, f"v1:lib:ev:{event.id}")
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    query = await live.press_data(anne, message, f"v1:lib:bk:{event.id}:{book.id}")
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    assert [(r.id, r.status) for r in await _reservations(scene)] == before


async def test_consent_is_asked_first_and_strangers_are_sent_to_start(
    live: LiveBot, scene: Stage
) -> None:
    stranger = live.user(7200, "Stranger", language_code="en")
    await live.send(stranger, "/library")
    assert live.emulator.last_sent(stranger.id).text == EN["library.unregistered"]

    somchai = await person(live, 7103, "สมชาย", "th", library_consent=False)
    await live.send(somchai, "/library")
    ask = live.emulator.last_sent(somchai.id)
    assert ask.text == TH["library.ask_consent"] and THAI_DAY not in (ask.text or "")
    await live.press(somchai, TH["library.button.consent"])
    assert THAI_DAY in last_text(live, somchai.id)
    async with scene.db.session() as session:
        assert await citizens.has_consent(7103, Purpose.human_library, session=session)


async def test_the_deep_link_opens_the_library(live: LiveBot, scene: Stage) -> None:
    anne = await person(live, 7102, "Anne", "en")
    await live.send(anne, "/start library")
    assert ENGLISH_DAY in last_text(live, anne.id)


async def test_a_reserved_loan_is_planned_for_reminders(live: LiveBot, scene: Stage) -> None:
    anne = await person(live, 7102, "Anne", "en")
    await _open_book(live, anne, ENGLISH_DAY, TITLE["en"])
    await live.press(anne, "First free time")
    [loan] = await _reservations(scene)
    assert loan.id is not None
    async with scene.db.session() as session:
        planned = await reminders.get_event(LOAN_EVENT_KIND, loan_ref(loan.id), session=session)
        assert planned is not None and planned.id is not None
        assert planned.starts_at == EVENT_AT and planned.cancelled_at is None
        assert await reminders.attendee_ids(planned.id, session=session) == [anne.id]


async def test_after_the_loan_the_reader_rates_it_and_says_what_they_learned(
    live: LiveBot, scene: Stage, clock: ManualClock
) -> None:
    somsri = await person(live, 7101, "สมศรี", "th")
    await _open_book(live, somsri, THAI_DAY, TITLE["th"])
    await live.press(somsri, "เวลาว่างแรกสุด")
    asker = live.app.bot_data[FEEDBACK_KEY]
    assert isinstance(asker, FeedbackAsker)
    assert live.app.job_queue is not None and live.app.job_queue.get_jobs_by_name(FEEDBACK_JOB)
    assert (await asker.run()).asked == 0, "not before the loan ends"

    clock.set(EVENT_AT + timedelta(minutes=45))
    [job] = live.app.job_queue.get_jobs_by_name(FEEDBACK_JOB)
    await job.run(live.app)  # what the repeating job does every sweep interval
    assert asker.last_run is not None and asker.last_run.asked == 1
    dispatcher = services_from_app(live.app).dispatcher
    assert dispatcher is not None
    await dispatcher.idle()
    [poll_message] = [m for m in live.emulator.sent_to(somsri.id) if m.kind == "poll"]
    poll = poll_message.extra["poll"]
    assert poll["question"] == f"การพูดคุยกับ {TITLE['th']} เป็นอย่างไรบ้าง (1–5)"
    assert [o["text"] for o in poll["options"]][3] == "4 – ดีมาก" and len(poll["options"]) == 5
    assert poll["is_anonymous"] is False and poll["allows_multiple_answers"] is False
    assert (await asker.run()).asked == 0, "asked once"

    await live.emulator.polls.vote(somsri, poll_message, [3])
    await live.settle()
    assert live.emulator.last_sent(somsri.id).text == TH["library.feedback_ask_text"].format(
        minutes=30
    )
    await live.send(somsri, "ได้เรียนรู้เรื่องการปรับตัวเมื่อต้องเปลี่ยนอาชีพ")
    assert live.emulator.last_sent(somsri.id).text == TH["library.feedback_thanks"]
    [loan] = await _reservations(scene)
    assert (loan.feedback_rating, loan.feedback_language) == (4, "th")
    assert loan.feedback_text == "ได้เรียนรู้เรื่องการปรับตัวเมื่อต้องเปลี่ยนอาชีพ"

    await live.send(somsri, "ข้อความอื่น")  # no longer waiting: the usual fallback answers
    [loan] = await _reservations(scene)
    assert loan.feedback_text == "ได้เรียนรู้เรื่องการปรับตัวเมื่อต้องเปลี่ยนอาชีพ"


async def test_the_linked_book_stops_a_loan_the_facilitators_hear_and_the_reader_is_barred(
    live: LiveBot, scene: Stage
) -> None:
    anne = await person(live, 7102, "Anne", "en", last_name="Smith")
    await _open_book(live, anne, ENGLISH_DAY, TITLE["en"])
    await live.press(anne, "First free time")
    [loan] = await _reservations(scene)

    # Only the book of that loan may stop it: not the reader, not anyone with forged data.
    notice = live.emulator.last_sent(BOOK_ACCOUNT)
    query = await live.press_data(anne, live.emulator.last_sent(anne.id), f"v1:lib:stop:{loan.id}")
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]

    await live.press(scene.book_user, "หยุด / แจ้งเหตุ")
    await live.press(scene.book_user, "ไม่ใช่ ย้อนกลับ")
    assert last_text(live, BOOK_ACCOUNT) == notice.history[0], "changed its mind: nothing done"
    await live.press(scene.book_user, "หยุด / แจ้งเหตุ")
    await live.press(scene.book_user, "ยืนยัน หยุดและแจ้งเหตุ")
    assert "หยุดการพูดคุยและแจ้งผู้ดำเนินกิจกรรมแล้ว" in last_text(live, BOOK_ACCOUNT)

    report = live.emulator.last_sent(FACILITATOR).text or ""
    assert "stopped" in report and "Anne Smith" in report
    assert TITLE["en"] in report and PLACE in report

    await _open_book(live, anne, ENGLISH_DAY, TITLE["en"])
    await live.press(anne, "First free time")
    assert live.emulator.last_sent(anne.id).text == EN["library.refused.barred"]
    [stopped] = await _reservations(scene)
    assert stopped.stopped_at is not None and stopped.status is ReservationStatus.released


@pytest.mark.parametrize("language", ["th", "en"])
def test_button_labels_fit_a_small_screen(language: str) -> None:
    messages = TH if language == "th" else EN
    labels = [
        text.replace("{title}", "x" * 18)  # a title inside a label is cut to 18 characters
        for key, text in messages.items()
        if key.startswith("library.button.")
    ]
    assert labels and all(len(label) <= 32 for label in labels)
