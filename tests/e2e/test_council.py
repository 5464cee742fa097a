"""/council end to end: citizens see the next meeting in their language, RSVP and change it,
get the meeting as an .ics file, suggest topics, and see cancelled and moved meetings.

Storage time is frozen at Tue 1 Dec 2026, 10:00 in Yala; the council meets on the 15th at
09:00 (Tue 15 Dec 2026, Fri 15 Jan 2027). The series is made through storage: the
facilitators' /schedule has its own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot
from storage import citizens, council, reminders
from storage.clock import ManualClock
from storage.council import MEETING_EVENT_KIND, AgendaInput, Meeting, meeting_ref
from storage.enums import Purpose, RsvpAnswer
from tests.e2e.citizen_council_helpers import (
    COUNCIL_LATITUDE,
    COUNCIL_LINK,
    COUNCIL_LONGITUDE,
    COUNCIL_PLACE,
    COUNCIL_TITLE,
    DEC_EN,
    DEC_MEETING,
    DEC_TH,
    JAN_EN,
    citizen,
    last_ics_event,
    last_page,
    meetings,
    monthly_council,
    running,
)
from tests.e2e.library_helpers import BANGKOK, EN, TH, frozen_clock, texts

FACILITATOR = 9300


@pytest.fixture
async def clock() -> AsyncIterator[ManualClock]:
    async with frozen_clock() as manual:
        yield manual


@pytest.fixture
async def live(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LiveBot]:
    async with running(tmp_path) as bot:
        yield bot


@pytest.fixture
async def december(live: LiveBot) -> Meeting:
    """The monthly council; its December meeting."""
    assert live.db is not None
    await monthly_council(live.db)
    return (await meetings(live.db))[0]


async def _attendees(live: LiveBot, meeting: Meeting) -> list[int]:
    assert live.db is not None
    async with live.db.session() as session:
        event = await reminders.get_event(
            MEETING_EVENT_KIND, meeting_ref(meeting.id), session=session
        )
        assert event is not None and event.id is not None
        return await reminders.attendee_ids(event.id, session=session)


async def test_a_thai_and_an_english_citizen_see_the_next_meeting_in_their_language(
    live: LiveBot, december: Meeting
) -> None:
    assert live.db is not None
    async with live.db.session() as session:
        await council.set_agenda(
            december.id,
            [AgendaInput({"th": "ทักษะดิจิทัลสำหรับผู้สูงอายุ", "en": "Digital skills for elders"})],
            by=FACILITATOR,
            session=session,
        )
    somsri = await citizen(live, 8101, "สมศรี", "th")
    anne = await citizen(live, 8102, "Anne", "en")

    await live.send(somsri, "/council")
    page = last_page(live, somsri.id)
    text = page.text or ""
    assert COUNCIL_TITLE["th"] in text and DEC_TH in text and "11:00 น." in text
    assert COUNCIL_PLACE in text and "ทักษะดิจิทัลสำหรับผู้สูงอายุ" in text
    assert "ผู้ตอบว่าจะมาร่วม: 0 คน" in text and "ท่านยังไม่ได้ตอบ" in text
    assert page.button_texts[:3] == ["มาร่วม", "อาจจะมา", "ไม่สะดวก"]
    assert "💡 เสนอหัวข้อ" in page.button_texts and "🗺 แผนที่" in page.button_texts

    await live.send(anne, "/council")
    text = last_page(live, anne.id).text or ""
    assert COUNCIL_TITLE["en"] in text and f"{DEC_EN}–11:00" in text
    assert "Digital skills for elders" in text and "Said they will come: 0" in text

    # The map, on request only.
    await live.press(anne, "🗺 Map")
    location = live.emulator.last_sent(anne.id)
    assert location.kind == "location"
    assert location.extra["location"] == {
        "latitude": COUNCIL_LATITUDE,
        "longitude": COUNCIL_LONGITUDE,
    }

    # The next few meetings: December and January, each a button.
    await live.press(anne, "🗓 Later meetings")
    later = last_page(live, anne.id)
    assert DEC_EN in (later.text or "") and JAN_EN in (later.text or "")
    await live.press(anne, JAN_EN)
    assert JAN_EN in (last_page(live, anne.id).text or "")
    await live.press(anne, "🗓 Later meetings")
    await live.press(anne, "« Back")
    assert DEC_EN in (last_page(live, anne.id).text or "")


async def test_rsvp_yes_then_maybe_then_no_keeps_one_row_and_follows_the_reminders(
    live: LiveBot, december: Meeting
) -> None:
    assert live.db is not None
    somchai = await citizen(live, 8103, "สมชาย", "th", last_name="รักเรียน")
    await live.send(somchai, "/council")

    await live.press(somchai, "มาร่วม")
    page = last_page(live, somchai.id)
    assert "คำตอบของท่าน: มาร่วม" in (page.text or "")
    assert "ผู้ตอบว่าจะมาร่วม: 1 คน" in (page.text or "")
    assert "✅ มาร่วม" in page.button_texts
    # A Yes brings the meeting as a calendar file, in Yala's local time, with a link back.
    name, event = last_ics_event(live, somchai.id)
    assert name.endswith(".ics")
    assert event["start"] == datetime(2026, 12, 15, 9, 0, tzinfo=BANGKOK)
    assert str(event["start"].tzinfo) == "Asia/Bangkok"  # type: ignore[attr-defined]
    assert event["end"] == datetime(2026, 12, 15, 11, 0, tzinfo=BANGKOK)
    assert event["location"] == COUNCIL_PLACE and event["url"] == COUNCIL_LINK
    assert event["summary"] == f"สภากาแฟ: {COUNCIL_TITLE['th']}"
    assert await _attendees(live, december) == [somchai.id]
    documents = len([m for m in live.emulator.sent_to(somchai.id) if m.kind == "document"])

    await live.press(somchai, "อาจจะมา")
    assert "คำตอบของท่าน: อาจจะมา" in (last_page(live, somchai.id).text or "")
    assert await _attendees(live, december) == [somchai.id]

    await live.press(somchai, "ไม่สะดวก")
    assert "คำตอบของท่าน: ไม่สะดวกมา" in (last_page(live, somchai.id).text or "")
    assert "ผู้ตอบว่าจะมาร่วม: 0 คน" in (last_page(live, somchai.id).text or "")
    assert await _attendees(live, december) == []
    # Only the first Yes sent a file.
    assert documents == len([m for m in live.emulator.sent_to(somchai.id) if m.kind == "document"])

    async with live.db.session() as session:
        rows = await council.rsvps(december.id, session=session)
    assert [(r.telegram_user_id, r.answer, r.language) for r in rows] == [
        (somchai.id, RsvpAnswer.no, "th")
    ]
    assert rows[0].display_name == "สมชาย รักเรียน"

    # Yes again: the attendee is back (and gets the file again).
    await live.press(somchai, "มาร่วม")
    assert await _attendees(live, december) == [somchai.id]
    assert documents + 1 == len(
        [m for m in live.emulator.sent_to(somchai.id) if m.kind == "document"]
    )


async def test_a_citizen_without_council_consent_is_asked_first_and_strangers_go_to_start(
    live: LiveBot, december: Meeting
) -> None:
    assert live.db is not None
    malee = await citizen(live, 8104, "มาลี", "th", council_consent=False)
    await live.send(malee, "/council")
    asked = last_page(live, malee.id)
    assert asked.text == TH["council.ask_consent"]
    assert asked.button_texts == [TH["council.button.consent"]]
    async with live.db.session() as session:
        assert await council.rsvps(december.id, session=session) == []

    await live.press(malee, TH["council.button.consent"])
    async with live.db.session() as session:
        assert await citizens.has_consent(malee.id, Purpose.coffee_council, session=session)
    assert TH["council.consent_thanks"] in texts(live, malee.id)
    assert DEC_TH in (last_page(live, malee.id).text or "")

    stranger = live.user(8105, "Stranger", language_code="en")
    live.emulator.chats[stranger.id].started = True
    await live.send(stranger, "/council")
    assert last_page(live, stranger.id).text == EN["council.unregistered"]


async def test_a_suggestion_is_stored_with_its_detected_language_and_limits_are_explained(
    live: LiveBot, december: Meeting
) -> None:
    assert live.db is not None
    somsri = await citizen(live, 8106, "สมศรี", "th")
    await live.send(somsri, "/council")
    await live.press(somsri, "💡 เสนอหัวข้อ")
    assert "500" in (last_page(live, somsri.id).text or "")

    # Too long: explained, and the next message is still taken as the topic.
    await live.send(somsri, "ก" * 501)
    assert "501" in (last_page(live, somsri.id).text or "")
    await live.send(somsri, "อยากเรียนการทำขนมพื้นบ้านเพื่อขายออนไลน์")
    assert "ขอบคุณที่เสนอหัวข้อ" in (last_page(live, somsri.id).text or "")
    # The next text is not a topic any more (the fallback answers it).
    await live.send(somsri, "สวัสดี")

    for topic in ("Reading club for teenagers", "Saturday market for local crafts"):
        await live.press(somsri, "💡 เสนอหัวข้อ")
        await live.send(somsri, topic)
    async with live.db.session() as session:
        stored = await council.suggestions(december.id, session=session)
    assert [(s.text, s.language) for s in stored] == [
        ("อยากเรียนการทำขนมพื้นบ้านเพื่อขายออนไลน์", "th"),
        ("Reading club for teenagers", "en"),
        ("Saturday market for local crafts", "en"),
    ]

    # A fourth is over the limit: said plainly, nothing stored.
    await live.press(somsri, "💡 เสนอหัวข้อ")
    await live.send(somsri, "หัวข้อที่สี่")
    assert last_page(live, somsri.id).text == TH["council.refused.too_many"].format(limit=3)
    async with live.db.session() as session:
        assert len(await council.suggestions(december.id, session=session)) == 3

    # Changing one's mind: Cancel, and the next text is not stored.
    await live.press(somsri, "💡 เสนอหัวข้อ")
    await live.press(somsri, "ยกเลิก")
    assert TH["council.suggest_cancelled"] in texts(live, somsri.id)


async def test_cancelled_and_moved_meetings_say_so(live: LiveBot, december: Meeting) -> None:
    assert live.db is not None
    anne = await citizen(live, 8107, "Anne", "en")
    january = (await meetings(live.db))[1]
    async with live.db.session() as session:
        await council.cancel_meeting(december.id, by=FACILITATOR, session=session)
    async with live.db.session() as session:
        await council.move_meeting(
            january.id, january.starts_at + timedelta(days=1), by=FACILITATOR, session=session
        )

    await live.send(anne, "/council")
    text = last_page(live, anne.id).text or ""
    assert f"of {DEC_EN} is cancelled" in text
    assert "Sat 16 Jan 2027, 09:00" in text and f"Moved: it was planned for {JAN_EN}" in text

    await live.press(anne, "🗓 Later meetings")
    later = last_page(live, anne.id)
    assert "Cancelled" in (later.text or "") and f"Moved (was {JAN_EN})" in (later.text or "")
    assert DEC_EN not in later.button_texts, "a cancelled meeting cannot be opened"

    # An old page's Yes for the cancelled meeting: told so, nothing stored.
    message = last_page(live, anne.id)
    query = await live.press_data(anne, message, f"v1:cncl:r:{december.id}:y")
    assert query.answer is not None and query.answer.get("text") == EN["council.refused.cancelled"]
    async with live.db.session() as session:
        assert await council.rsvps(december.id, session=session) == []


async def test_the_council_deep_link_opens_the_next_meeting(
    live: LiveBot, december: Meeting
) -> None:
    anne = await citizen(live, 8108, "Anne", "en")
    await live.send(anne, "/start council")
    assert DEC_EN in (last_page(live, anne.id).text or "")


async def test_forged_and_stale_buttons_expire_and_change_nothing(
    live: LiveBot, december: Meeting, clock: ManualClock
) -> None:
    assert live.db is not None
    anne = await citizen(live, 8109, "Anne", "en")
    await live.send(anne, "/council")
    page = last_page(live, anne.id)
    for data in (
        "v1:cncl:r:999999:y",
        f"v1:cncl:r:{december.id}:x",
        f"v1:cncl:r:{december.id}",
        "v1:cncl:m:abc",
        "v1:cncl:sg:999999",
        "v1:cncl:map:999999",
        "v1:cncl:sgx",
        "v1:cncl:nope",
    ):
        query = await live.press_data(anne, page, data)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"], data

    # Once the meeting has begun, answers are closed; once it ended, its buttons expire.
    clock.set(DEC_MEETING + timedelta(minutes=5))
    query = await live.press_data(anne, page, f"v1:cncl:r:{december.id}:y")
    assert query.answer is not None and query.answer.get("text") == EN["council.refused.past"]
    clock.set(DEC_MEETING + timedelta(hours=3))
    query = await live.press_data(anne, page, f"v1:cncl:r:{december.id}:y")
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    async with live.db.session() as session:
        assert await council.rsvps(december.id, session=session) == []
        assert await council.suggestions(december.id, session=session) == []
