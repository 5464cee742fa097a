"""The facilitators' coffee-council tools end to end: the agenda vote, check-in, minutes.

Storage time is frozen at Monday 7 January 2030, 10:00 in Yala, and moved by the tests; the
council meets on the first Saturday of the month at 08:00 in Yala (2 February and 2 March 2030,
01:00 UTC), for two hours. The series and the RSVPs are set through storage: /schedule and
/council have their own tests. The council job and the reminder sweep are run by hand after
each move of the clock, as their repeating jobs would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from bot.services import services_from_app
from handlers.council_admin import checkin_link, checkin_secret
from schedules.council_jobs import COUNCIL_JOBS_KEY, CouncilJobs
from storage import citizens, clock, council, reminders, surveys
from storage.citizens import NewCitizen
from storage.clock import ManualClock
from storage.council import Meeting
from storage.database import Database
from storage.enums import ActionStatus, AgeBand, Purpose, Role, RsvpAnswer
from storage.models import CouncilActionItem
from storage.recurrence import SATURDAY, nth_weekday
from tests.e2e.library_helpers import problems
from tests.e2e.library_people import EN, TH, person

NOW = datetime(2030, 1, 7, 3, 0, tzinfo=UTC)  # Monday 10:00 in Yala
FEB = datetime(2030, 2, 2, 1, 0, tzinfo=UTC)  # Saturday 08:00 in Yala
MAR = datetime(2030, 3, 2, 1, 0, tzinfo=UTC)
FACILITATOR, OTHER_FACILITATOR = 8100, 8101
SOMSRI, ANNE, CHAI, DAVID, EVE = 8201, 8202, 8203, 8204, 8205
TITLE = {"th": "สภากาแฟยะลา", "en": "Yala coffee council"}
PLACE = "ร้านกาแฟหน้าเทศบาลนครยะลา"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CODE_IN_LINK = re.compile(r"start=ci-([0-9]+)-([A-Z2-7]{8})")


@pytest.fixture
def frozen() -> Iterator[ManualClock]:
    manual = ManualClock(NOW)
    clock.set_clock(manual)
    try:
        yield manual
    finally:
        clock.set_clock(None)


@pytest.fixture
async def live(tmp_path: Path, frozen: ManualClock) -> AsyncIterator[LiveBot]:
    """A running bot; afterwards no press went unanswered, no call was refused, no error shown."""
    bot = LiveBot(
        database_url=sqlite_url(tmp_path / "council.db"),
        in_process=True,
        settings_overrides={"quiet_hours": "00:00-00:00"},
    )
    async with bot:
        yield bot
    assert problems(bot) == []


@dataclass
class Scene:
    live: LiveBot
    feb: Meeting
    mar: Meeting
    users: dict[int, EmuUser]

    @property
    def db(self) -> Database:
        assert self.live.db is not None
        return self.live.db


async def _scene(live: LiveBot) -> Scene:
    """The facilitator (English), four citizens, and a first-Saturday council."""
    await person(live, FACILITATOR, "en", role=Role.facilitator, name="Farida")
    await person(live, OTHER_FACILITATOR, "th", role=Role.facilitator, name="Kamon")
    for user_id, language, name in (
        (SOMSRI, "th", "สมศรี"),
        (ANNE, "en", "Anne"),
        (CHAI, "th", "ชาย"),
        (DAVID, "en", "David"),
    ):
        await person(live, user_id, language, name=name)
    assert live.db is not None
    async with live.db.session() as session:
        series = await council.create_series(
            title=TITLE, place_text=PLACE, rule=nth_weekday(1, SATURDAY, time(8, 0)),
            created_by=FACILITATOR, session=session,
        )  # fmt: skip
        await council.add_facilitator(series.id, OTHER_FACILITATOR, by=FACILITATOR, session=session)
        feb, mar = await council.upcoming_meetings(NOW, limit=2, session=session)
    assert (feb.starts_at, mar.starts_at) == (FEB, MAR) and feb.series_id == series.id
    return Scene(live, feb, mar, dict(live.emulator.users))


async def _rsvp(scene: Scene, meeting: Meeting, user_id: int, answer: RsvpAnswer) -> None:
    async with scene.db.session() as session:
        citizen = await citizens.get_citizen(user_id, session=session)
        assert citizen is not None
        await council.rsvp(
            meeting.id, user_id, answer, citizen.language,
            display_name=scene.users[user_id].first_name, session=session,
        )  # fmt: skip


def _jobs(live: LiveBot) -> CouncilJobs:
    jobs = live.app.bot_data[COUNCIL_JOBS_KEY]
    assert isinstance(jobs, CouncilJobs)
    return jobs


async def _deliver(live: LiveBot) -> None:
    """Let the dispatcher send everything due, and the bot handle what came back."""
    dispatcher = services_from_app(live.app).dispatcher
    assert dispatcher is not None
    dispatcher.wake()
    await dispatcher.idle()
    await live.settle()


def _polls(live: LiveBot, chat_id: int) -> list[EmuMessage]:
    return [m for m in live.emulator.sent_to(chat_id) if m.kind == "poll"]


def _texts(live: LiveBot, chat_id: int) -> list[str]:
    return [m.text or "" for m in live.emulator.sent_to(chat_id) if m.text]


def _starting(prefix: str) -> Callable[[str], bool]:
    return lambda label: label.startswith(prefix)


# --- the agenda ---------------------------------------------------------------------------------


async def test_shortlist_trim_vote_in_each_language_result_and_close(
    live: LiveBot, frozen: ManualClock
) -> None:
    scene = await _scene(live)
    facilitator = scene.users[FACILITATOR]
    # February's meeting agreed an action item that is still open: it leads March's agenda.
    frozen.set(FEB + timedelta(hours=3))
    async with scene.db.session() as session:
        await council.add_action_item(
            scene.feb.id, what="ซ่อมไฟถนนหน้าโรงเรียน", owner_name="ชาย",
            due_on=date(2030, 2, 20), by=FACILITATOR, session=session,
        )  # fmt: skip
    frozen.set(datetime(2030, 2, 20, 3, 0, tzinfo=UTC))
    async with scene.db.session() as session:
        await surveys.add_free_text(
            SOMSRI, "อยากเรียนทำขนมไทย", "th", survey_id=None, session=session
        )
    for user_id, answer in (
        (SOMSRI, RsvpAnswer.yes),
        (ANNE, RsvpAnswer.maybe),
        (CHAI, RsvpAnswer.no),
    ):
        await _rsvp(scene, scene.mar, user_id, answer)
    async with scene.db.session() as session:
        await council.suggest(scene.mar.id, ANNE, "A reading corner at the market", "en",
                              session=session)  # fmt: skip

    assert (await _jobs(live).run()).offered == 0, "not yet: more than 3 days ahead"
    frozen.set(MAR - timedelta(days=3) + timedelta(minutes=1))
    assert (await _jobs(live).run()).offered == 2, "each facilitator of the series… "
    assert (await _jobs(live).run()).offered == 0, "…once"
    offer = live.emulator.last_sent(FACILITATOR)
    text = offer.text or ""
    road = text.index("ซ่อมไฟถนนหน้าโรงเรียน")
    assert road < text.index("อยากเรียนทำขนมไทย") < text.index("A reading corner"), text
    assert offer.button_texts[:3] == [
        "☑ 1. ซ่อมไฟถนนหน้าโรงเรียน", "☑ 2. อยากเรียนทำขนมไทย", "☑ 3. A reading corner at the market",
    ]  # fmt: skip
    assert "วาระการประชุม" in (live.emulator.last_sent(OTHER_FACILITATOR).text or "")

    # Trim: untick the road, rename the market topic, add one.
    await live.press(facilitator, "☑ 1. ซ่อมไฟถนนหน้าโรงเรียน")
    assert live.emulator.last_sent(FACILITATOR).button_texts[0] == "☐ 1. ซ่อมไฟถนนหน้าโรงเรียน"
    stale = live.emulator.last_sent(FACILITATOR)
    await live.press(facilitator, "✏️ Rename a topic")
    await live.press(facilitator, _starting("3. A reading corner"))
    await live.send(facilitator, "no separator here")
    assert "separated by “/”" in _texts(live, FACILITATOR)[-1]
    await live.send(facilitator, "มุมอ่านหนังสือในตลาด / A reading corner at the market")
    await live.press(facilitator, "+ Add a topic")
    await live.send(facilitator, "ตลาดนัดชุมชน / Community market")
    screen = live.emulator.last_sent(FACILITATOR)
    assert screen.button_texts[:4] == [
        "☐ 1. ซ่อมไฟถนนหน้าโรงเรียน", "☑ 2. อยากเรียนทำขนมไทย",
        "☑ 3. A reading corner at the market", "☑ 4. Community market",
    ], "each in the facilitator's language (English)"  # fmt: skip
    # The old screen's buttons expired when the state changed.
    query = await live.press_data(facilitator, stale, str(stale.buttons[0]["callback_data"]))
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]

    await live.press(facilitator, "Open the vote")
    assert "The vote is open." in (live.emulator.last_sent(FACILITATOR).text or "")
    await _deliver(live)
    [thai_poll] = _polls(live, SOMSRI)
    [english_poll] = _polls(live, ANNE)
    assert _polls(live, CHAI) == [], "no is no"
    thai, english = thai_poll.extra["poll"], english_poll.extra["poll"]
    assert [o["text"] for o in thai["options"]] == [
        "อยากเรียนทำขนมไทย", "มุมอ่านหนังสือในตลาด", "ตลาดนัดชุมชน",
    ]  # fmt: skip
    assert [o["text"] for o in english["options"]] == [
        "อยากเรียนทำขนมไทย", "A reading corner at the market", "Community market",
    ]  # fmt: skip
    assert thai["question"].startswith("สภากาแฟยะลา เสาร์ 2 มี.ค. 2573, 08:00 น.: ")
    assert english["question"].startswith("Yala coffee council, Sat 2 Mar 2030, 08:00: ")
    assert not thai["is_anonymous"] and thai["allows_multiple_answers"]

    # The other facilitator's shortlist cannot change the agenda any more.
    await live.press(scene.users[OTHER_FACILITATOR], _starting("☑ 2."))
    assert _texts(live, OTHER_FACILITATOR)[-1] == TH["cadm.vote_already_open"]

    await live.emulator.polls.vote(scene.users[SOMSRI], thai_poll, [1, 2])
    await live.emulator.polls.vote(scene.users[ANNE], english_poll, [2])
    await live.settle()
    async with scene.db.session() as session:
        result = await council.agenda_result(scene.mar.id, session=session)
    assert [(item.label["en"], item.votes) for item in result] == [
        ("Community market", 2), ("A reading corner at the market", 1),
        ("อยากเรียนทำขนมไทย", 0),
    ]  # fmt: skip

    # Someone who says yes after the vote opened gets the poll at the next run.
    await _rsvp(scene, scene.mar, DAVID, RsvpAnswer.yes)
    assert (await _jobs(live).run()).late_polls == 1
    await _deliver(live)
    assert len(_polls(live, DAVID)) == 1 and len(_polls(live, SOMSRI)) == 1

    # The meeting's screen shows the agenda by votes.
    await live.send(facilitator, "/minutes")
    await live.press(facilitator, _starting("Sat 2 Mar 2030"))
    shown = live.emulator.last_sent(FACILITATOR).text or ""
    assert shown.index("1. Community market — 2 vote(s)") < shown.index("2. A reading corner")
    assert "voting open until Sat 2 Mar 2030, 06:00" in shown

    # Two hours before the meeting the polls are stopped and the facilitators told the result.
    frozen.set(MAR - timedelta(hours=2) + timedelta(seconds=1))
    run = await _jobs(live).run()
    assert (run.closed, run.polls_stopped) == (1, 3)
    assert all(live.emulator.polls.poll_of(m)["is_closed"] for m in [thai_poll, english_poll])
    assert (await _jobs(live).run()).closed == 0, "closed once"
    await _deliver(live)
    notice = live.emulator.last_sent(FACILITATOR).text or ""
    assert "The agenda vote is closed" in notice and "1. Community market — 2 vote(s)" in notice
    assert "ปิดการลงคะแนนวาระแล้ว" in (live.emulator.last_sent(OTHER_FACILITATOR).text or "")


# --- check-in -----------------------------------------------------------------------------------


def _code_of(message: EmuMessage) -> tuple[int, str]:
    match = CODE_IN_LINK.search(message.extra.get("caption", ""))
    assert match is not None, message.extra
    return int(match[1]), match[2]


async def test_attendance_qr_rotates_and_check_in_works_once_in_its_window(
    live: LiveBot, frozen: ManualClock
) -> None:
    scene = await _scene(live)
    facilitator = scene.users[FACILITATOR]
    for user_id in (SOMSRI, ANNE, CHAI):
        await _rsvp(
            scene, scene.feb, user_id, RsvpAnswer.yes if user_id != CHAI else RsvpAnswer.maybe
        )

    [closed] = await live.send(facilitator, "/attendance")
    assert closed.text is not None and "check-in opens Sat 2 Feb 2030, 07:30" in closed.text

    frozen.set(FEB - timedelta(minutes=20))  # 07:40 in Yala: check-in is open
    photo, roster = await live.send(facilitator, "/attendance")
    assert photo.kind == "photo" and roster.kind == "text"
    _, png = live.emulator.files.content_of(photo)
    assert png.startswith(PNG_SIGNATURE)
    meeting_id, first_code = _code_of(photo)
    assert meeting_id == scene.feb.id and "works until 07:45" in photo.extra["caption"]
    assert "Nobody has checked in yet." in (roster.text or "")

    somsri, anne, david = scene.users[SOMSRI], scene.users[ANNE], scene.users[DAVID]
    *_, ok = await live.send(somsri, f"/start ci-{meeting_id}-{first_code}")  # after "welcome back"
    assert ok.text == TH["cadm.checkin_ok"].format(
        title=TITLE["th"], when="เสาร์ 2 ก.พ. 2573, 08:00 น."
    )
    *_, again = await live.send(somsri, f"/start ci-{meeting_id}-{first_code}")
    assert again.text == TH["cadm.checkin_already"].format(title=TITLE["th"])

    # Five minutes on, Refresh shows a new code; the old photo goes.
    frozen.advance(minutes=5)
    await live.press(facilitator, "🔄 Refresh")
    assert photo.deleted
    new_photo = [m for m in live.emulator.sent_to(FACILITATOR) if m.kind == "photo"][-1]
    _, second_code = _code_of(new_photo)
    assert second_code != first_code
    # The previous window's code still works (someone scanning as it turned)…
    *_, late = await live.send(anne, f"/start ci-{meeting_id}-{first_code}")
    assert late.text is not None and late.text.startswith("Thank you: you are checked in")
    # …but not one two windows old: a forwarded old link.
    frozen.advance(minutes=5)
    *_, expired = await live.send(david, f"/start ci-{meeting_id}-{first_code}")
    assert expired.text == EN["cadm.checkin_expired"]

    # March's code, scanned now, is outside March's window.
    secret = checkin_secret(live.app.bot.token)
    march_code = council.checkin_code(scene.mar.id, clock.now(), secret)
    *_, outside = await live.send(david, f"/start ci-{scene.mar.id}-{march_code}")
    assert outside.text == EN["cadm.checkin_outside"].format(
        title=TITLE["en"], opens="Sat 2 Mar 2030, 07:30", closes="Sat 2 Mar 2030, 10:00"
    )
    *_, invalid = await live.send(david, "/start ci-12x")
    assert invalid.text == EN["cadm.checkin_invalid"]

    # Someone who never agreed to the coffee council is asked first, then checked in.
    live.user(EVE, "Eve", language_code="en")
    live.emulator.chats[EVE].started = True
    async with scene.db.session() as session:
        await citizens.register_citizen(
            NewCitizen(EVE, "en", AgeBand.age_35_49, False, None),
            {p: p is not Purpose.coffee_council for p in Purpose},
            session=session,
        )
    current = council.checkin_code(meeting_id, clock.now(), secret)
    assert checkin_link("learncity_test_bot", meeting_id, current).endswith(current)
    *_, ask = await live.send(live.emulator.users[EVE], f"/start ci-{meeting_id}-{current}")
    assert ask.text == EN["cadm.ask_consent"]
    await live.press(live.emulator.users[EVE], "I agree, check me in")
    assert (live.emulator.last_sent(EVE).text or "").startswith("Thank you: you are checked in")

    # The facilitator marks Chai (maybe, no phone) present; the list shows everyone once.
    await live.press(facilitator, "🔄 Refresh the list")
    await live.press(facilitator, "✓ ชาย")
    listed = [m for m in live.emulator.sent_to(FACILITATOR) if m.kind == "text"][-1]
    assert "Present (4)" in (listed.text or "") and "marked by a facilitator" in (listed.text or "")
    assert listed.button_texts == ["🔄 Refresh the list"]
    async with scene.db.session() as session:
        present = await council.attendance(meeting_id, session=session)
    assert [p.telegram_user_id for p in present] == [SOMSRI, ANNE, EVE, CHAI]

    # After the meeting, Refresh gives no code.
    frozen.set(FEB + timedelta(hours=2, minutes=1))
    query = await live.press(facilitator, "🔄 Refresh")
    assert query.answer is not None and query.answer.get("text") == EN["cadm.checkin_closed"]


# --- minutes and action items -------------------------------------------------------------------


async def test_minutes_reach_attendees_in_their_language_and_an_owner_is_reminded(
    live: LiveBot, frozen: ManualClock
) -> None:
    scene = await _scene(live)
    facilitator = scene.users[FACILITATOR]
    for user_id in (SOMSRI, ANNE, CHAI):
        await _rsvp(scene, scene.feb, user_id, RsvpAnswer.yes)
    frozen.set(FEB + timedelta(minutes=10))
    async with scene.db.session() as session:
        for user_id in (SOMSRI, ANNE):  # Chai said yes but did not come
            await council.mark_present(scene.feb.id, user_id, by=FACILITATOR, session=session)
        await reminders.set_lead_minutes(SOMSRI, [1440], session=session)

    frozen.set(FEB + timedelta(hours=2, minutes=30))  # after the meeting
    await live.send(facilitator, "/minutes")
    await live.press(facilitator, _starting("Sat 2 Feb 2030"))
    assert "No minutes yet." in (live.emulator.last_sent(FACILITATOR).text or "")
    await live.press(facilitator, "📝 Record minutes")
    await live.press(facilitator, "Skip")
    assert _texts(live, FACILITATOR)[-1].startswith("Now type the minutes in English")
    query = await live.press(facilitator, "Skip")  # no language at all: asked again for Thai
    assert query.answer is not None
    assert query.answer.get("text") == EN["cadm.minutes_need_one"]
    assert _texts(live, FACILITATOR)[-1].startswith("Minutes: Yala coffee council")
    await live.send(facilitator, "ที่ประชุมตกลงจัดตลาดนัดชุมชนทุกวันเสาร์ <ต้นเดือน>")
    await live.press(facilitator, "Skip")  # no English
    await live.press(facilitator, "+ Add an action item")
    await live.send(facilitator, "ติดต่อเทศบาลเรื่องพื้นที่ตลาด")
    owners = live.emulator.last_sent(FACILITATOR).button_texts
    assert owners[:3] == ["สมศรี", "Anne", "ชาย"], "present first, then the other yes"
    await live.press(facilitator, "สมศรี")
    await live.send(facilitator, "31/2/2573")
    assert _texts(live, FACILITATOR)[-1] == EN["cadm.date_unreadable"].format(example="16/2/2030")
    await live.send(facilitator, "20/2/2573")  # Buddhist Era: 20 February 2030
    await live.press(facilitator, "+ Add an action item")
    await live.send(facilitator, "Print posters")
    await live.send(facilitator, "Mr. Lee from the school")  # no Telegram account: no reminder
    await live.press(facilitator, "25")  # from the calendar: 25 February 2030
    summary = live.emulator.last_sent(FACILITATOR).text or ""
    assert "• ติดต่อเทศบาลเรื่องพื้นที่ตลาด — สมศรี, by 20 Feb 2030" in summary
    assert "• Print posters — Mr. Lee from the school, by 25 Feb 2030" in summary
    await live.press(facilitator, "Send the minutes")
    assert "(recipients: 2)" in (live.emulator.last_sent(FACILITATOR).text or "")
    await _deliver(live)

    thai = live.emulator.last_sent(SOMSRI).text or ""
    assert thai.startswith("บันทึกการประชุมสภากาแฟ: สภากาแฟยะลา เสาร์ 2 ก.พ. 2573, 08:00 น.")
    assert "ที่ประชุมตกลงจัดตลาดนัดชุมชนทุกวันเสาร์ <ต้นเดือน>" in thai
    assert "• ติดต่อเทศบาลเรื่องพื้นที่ตลาด — สมศรี ภายใน 20 ก.พ. 2573" in thai
    english = live.emulator.last_sent(ANNE).text or ""
    assert english.startswith("Minutes of the coffee council: Yala coffee council, Sat 2 Feb 2030")
    assert "The minutes were written in Thai only." in english
    assert "ที่ประชุมตกลงจัดตลาดนัดชุมชน" in english and "Print posters" in english
    assert not any("บันทึกการประชุมสภากาแฟ" in text for text in _texts(live, CHAI))

    # The owner with the bot is reminded a day before the item is due (09:00 in Yala).
    async with scene.db.session() as session:
        rows = (await session.exec(select(CouncilActionItem))).all()
    mine = next(row for row in rows if row.owner_telegram_user_id == SOMSRI)
    assert mine.due_at == datetime(2030, 2, 20, 2, 0, tzinfo=UTC)
    assert all(row.owner_telegram_user_id is None for row in rows if row is not mine)
    engine = services_from_app(live.app).engine
    assert engine is not None
    frozen.set(mine.due_at - timedelta(days=1, minutes=1))
    assert (await engine.sweep_now()).enqueued == 0
    frozen.set(mine.due_at - timedelta(days=1) + timedelta(minutes=1))
    assert (await engine.sweep_now()).enqueued == 1
    await _deliver(live)
    reminder = live.emulator.last_sent(SOMSRI).text or ""
    assert "ติดต่อเทศบาลเรื่องพื้นที่ตลาด" in reminder and reminder != thai

    # The facilitator closes the item from the meeting's screen: it is done, reminders stop.
    await live.send(facilitator, "/minutes")
    await live.press(facilitator, _starting("Sat 2 Feb 2030"))
    await live.press(facilitator, "✓ ติดต่อเทศบาลเรื่องพื้นที่ตลาด")
    screen = live.emulator.last_sent(FACILITATOR)
    assert "✓ ติดต่อเทศบาลเรื่องพื้นที่ตลาด" not in screen.button_texts
    assert "(done)" in (screen.text or "")
    async with scene.db.session() as session:
        closed = await session.get(CouncilActionItem, mine.id)
        assert closed is not None and closed.status is ActionStatus.done
        event = await reminders.get_event(
            council.ACTION_EVENT_KIND, council.action_ref(mine.id or 0), session=session
        )
        assert event is not None and event.cancelled_at is not None


async def test_minutes_go_to_yes_answers_when_nobody_checked_in(
    live: LiveBot, frozen: ManualClock
) -> None:
    scene = await _scene(live)
    facilitator = scene.users[FACILITATOR]
    await _rsvp(scene, scene.feb, SOMSRI, RsvpAnswer.yes)
    await _rsvp(scene, scene.feb, ANNE, RsvpAnswer.maybe)
    await _rsvp(scene, scene.feb, CHAI, RsvpAnswer.yes)
    async with scene.db.session() as session:  # Chai withdrew his consent since
        await citizens.set_consent(CHAI, Purpose.coffee_council, False, session=session)
    frozen.set(FEB + timedelta(hours=3))
    await live.send(facilitator, "/minutes")
    await live.press(facilitator, _starting("Sat 2 Feb 2030"))
    await live.press(facilitator, "📝 Record minutes")
    wizard = live.emulator.last_sent(FACILITATOR)
    query = await live.press_data(facilitator, wizard, "v1:cadm:send")  # not at this step
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    await live.press(facilitator, "Cancel")
    assert _texts(live, FACILITATOR)[-1] == EN["cadm.minutes_cancelled"]
    query = await live.press_data(facilitator, wizard, "v1:cadm:skip")  # the wizard is gone
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    await live.press(facilitator, "‹ The meeting")
    await live.press(facilitator, "📝 Record minutes")
    await live.send(facilitator, "สรุปการประชุม")
    await live.send(facilitator, "Summary of the meeting")
    await live.press(facilitator, "Send the minutes")
    await _deliver(live)
    assert "สรุปการประชุม" in (live.emulator.last_sent(SOMSRI).text or "")
    assert "Summary of the meeting" not in (live.emulator.last_sent(SOMSRI).text or "")
    assert not any("Summary of the meeting" in text for text in _texts(live, ANNE)), "maybe"
    assert not any("สรุปการประชุม" in text for text in _texts(live, CHAI)), "no consent now"
    assert "(recipients: 1)" in _texts(live, FACILITATOR)[-1]


# --- who may ------------------------------------------------------------------------------------


async def test_citizens_are_refused_and_forged_buttons_expire(
    live: LiveBot, frozen: ManualClock
) -> None:
    scene = await _scene(live)
    somsri = scene.users[SOMSRI]
    for command in ("/attendance", "/minutes"):
        [refused] = await live.send(somsri, command)
        assert refused.text == TH["guard.refused"]

    # A facilitator of another series sees nothing of this one, and cannot act on it.
    await person(live, 8300, "en", role=Role.facilitator, name="Other")
    other = live.emulator.users[8300]
    [empty] = await live.send(other, "/minutes")
    assert empty.text == EN["cadm.no_meetings"]
    frozen.set(FEB + timedelta(hours=3))
    async with scene.db.session() as session:
        item = await council.add_action_item(
            scene.feb.id, what="x", owner_name="y", due_on=date(2030, 2, 20),
            by=FACILITATOR, session=session,
        )  # fmt: skip
    for data in (
        f"v1:cadm:mt:{scene.feb.id}",
        f"v1:cadm:done:{scene.feb.id}:{item.id}",
        f"v1:cadm:mn:{scene.feb.id}",
        f"v1:cadm:mp:{scene.feb.id}:{SOMSRI}",
        f"v1:cadm:qr:{scene.feb.id}",
        "v1:cadm:tg:AAAAAAAAAAAA:0",
        "v1:cadm:send",
        "v1:cadm:nothing",
    ):
        query = await live.press_data(other, empty, data)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"], data
    # The series' own facilitator with data naming an item of another meeting: expired too.
    facilitator = scene.users[FACILITATOR]
    [listing] = await live.send(facilitator, "/minutes")
    query = await live.press_data(facilitator, listing, f"v1:cadm:done:{scene.mar.id}:{item.id}")
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
    async with scene.db.session() as session:
        row = await session.get(CouncilActionItem, item.id)
        assert row is not None and row.status is ActionStatus.open
    # A citizen's forged consent button changes nothing either.
    [mine] = await live.send(somsri, "/minutes")
    query = await live.press_data(somsri, mine, "v1:cadmci:ok:x:y")
    assert query.answer is not None and query.answer.get("text") == TH["common.expired"]


async def test_at_most_twelve_topics_go_to_the_vote(live: LiveBot, frozen: ManualClock) -> None:
    scene = await _scene(live)
    facilitator = scene.users[FACILITATOR]
    frozen.set(datetime(2030, 1, 25, 3, 0, tzinfo=UTC))
    async with scene.db.session() as session:
        for number in range(1, 11):
            await surveys.add_free_text(
                SOMSRI, f"หัวข้อที่ {number}", "th", survey_id=None, session=session
            )
    await _rsvp(scene, scene.feb, ANNE, RsvpAnswer.yes)
    async with scene.db.session() as session:
        for number in range(1, 4):
            await council.suggest(scene.feb.id, ANNE, f"Topic {number}", "en", session=session)
    frozen.set(FEB - timedelta(days=2))
    assert (await _jobs(live).run()).offered == 2
    offer = live.emulator.last_sent(FACILITATOR)
    marks = [label[0] for label in offer.button_texts[:13]]
    assert marks == ["☑"] * 12 + ["☐"], "the first twelve come ticked"
    query = await live.press(facilitator, _starting("☐ 13."))
    assert query.answer is not None and query.answer.get("text") == EN["cadm.too_many"].format(
        max=12
    )
    await live.press(facilitator, _starting("☑ 1."))
    await live.press(facilitator, _starting("☐ 13."))
    await live.press(facilitator, "Open the vote")
    await _deliver(live)
    [poll] = _polls(live, ANNE)
    options = [o["text"] for o in poll.extra["poll"]["options"]]
    assert len(options) == 12 and options[-1] == "Topic 3" and "หัวข้อที่ 1" not in options
