"""/privacy end to end: one button per purpose withdraws it or gives it again, and a withdrawal
stops what rests on it (a planned reminder is not sent; a reservation is released and the
waitlisted reader promoted and told).

Storage time is frozen at Tue 1 Dec 2026, 10:00 in Yala; the library event is Sat 5 Dec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot, sqlite_url
from bot.services import services_from_app
from schedules.retention import DAILY_JOB
from storage import citizens, council, library, reminders
from storage.clock import ManualClock
from storage.enums import Purpose, ReservationStatus, RsvpAnswer
from tests.e2e.citizen_council_helpers import DEC_MEETING, meetings, monthly_council
from tests.e2e.library_helpers import EN, TH, frozen_clock, person, problems, stage, texts
from tests.e2e.library_people import reserve, until

ANNE, BEE = 8301, 8302


def _button(catalog: dict[str, str], key: str, purpose: Purpose) -> str:
    return catalog[key].format(purpose=catalog[f"purpose.{purpose.value}.name"])


@pytest.fixture
async def clock() -> AsyncIterator[ManualClock]:
    async with frozen_clock() as manual:
        yield manual


@pytest.fixture
async def live(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LiveBot]:
    bot = LiveBot(
        database_url=sqlite_url(tmp_path / "privacy.db"),
        in_process=True,
        settings_overrides={"quiet_hours": "00:00-00:00", "retention_days": 400},
    )
    async with bot:
        yield bot
        await bot.settle()
        assert problems(bot) == []


async def test_the_notice_states_the_retention_period_and_offers_a_button_per_purpose(
    live: LiveBot,
) -> None:
    assert live.app.job_queue is not None
    assert live.app.job_queue.get_jobs_by_name(DAILY_JOB), "the retention job runs daily"
    anne = await person(live, ANNE, "Anne", "en")
    [notice] = await live.send(anne, "/privacy")
    assert "anonymised after 400 days" in (notice.text or "")
    assert notice.button_texts == [
        _button(EN, "privacy.button_withdraw", purpose) for purpose in Purpose
    ]
    # Forged data names no purpose: it expires and changes nothing.
    query = await live.press_data(anne, notice, "v1:privacy:set:everything:0")
    assert query.answer is not None and query.answer.get("text") == EN["common.expired"]


async def test_withdrawn_reminders_are_not_sent_and_giving_again_is_one_press(
    live: LiveBot, clock: ManualClock
) -> None:
    assert live.db is not None
    anne = await person(live, ANNE, "Anne", "en")
    bee = await person(live, BEE, "บี", "th")
    async with live.db.session() as session:
        event = await reminders.upsert_event(
            "test", "e1", title={"th": "ปั้นดินเผา", "en": "Pottery evening"},
            starts_at=clock() + timedelta(hours=2), session=session,
        )  # fmt: skip
        assert event.id is not None
        for who in (anne.id, bee.id):
            await reminders.set_lead_minutes(who, [60], session=session)
            await reminders.add_attendee(event.id, who, session=session)

    await live.send(anne, "/privacy")
    await live.press(anne, _button(EN, "privacy.button_withdraw", Purpose.reminders))
    told = texts(live, anne.id)[-1]
    assert "Your consent to “Reminders and news” has been withdrawn" in told
    assert "No more reminders or announcements will be sent to you" in told
    assert live.emulator.last_sent(anne.id).text is not None

    clock.advance(minutes=70)  # the 60-minute reminder is due now
    engine = services_from_app(live.app).engine
    assert engine is not None
    await engine.sweep_now()
    await until(live, lambda: any("ปั้นดินเผา" in t for t in texts(live, bee.id)))
    assert not any("Pottery evening" in t for t in texts(live, anne.id))

    # Giving it again: one press on the same notice, and the button turns back.
    await live.press(anne, _button(EN, "privacy.button_give", Purpose.reminders))
    async with live.db.session() as session:
        assert await citizens.has_consent(anne.id, Purpose.reminders, session=session)
    assert any(t.startswith("Thank you. You have agreed to") for t in texts(live, anne.id))
    notice = [m for m in live.emulator.sent_to(anne.id) if m.buttons][-1]
    assert _button(EN, "privacy.button_withdraw", Purpose.reminders) in notice.button_texts


async def test_withdrawing_the_library_releases_the_seat_to_the_waitlisted_reader(
    live: LiveBot,
) -> None:
    scene = await stage(live, slots=1)
    somsri = await person(live, ANNE, "สมศรี", "th")
    bee = await person(live, BEE, "Bee", "en")
    loan = await reserve(live, scene.event_id, scene.book.id, somsri.id, "สมศรี", "th")
    queued = await reserve(live, scene.event_id, scene.book.id, bee.id, "Bee", "en")
    assert loan.reserved and queued.waitlisted

    await live.send(somsri, "/privacy")
    await live.press(somsri, _button(TH, "privacy.button_withdraw", Purpose.human_library))
    # Bookings would end: asked once more; "keep" changes nothing.
    asked = texts(live, somsri.id)[-1]
    assert "ท่านมีการจองห้องสมุดมนุษย์ที่จะมาถึง 1 รายการ" in asked
    await live.press(somsri, TH["privacy.button_keep"])
    async with scene.db.session() as session:
        assert await citizens.has_consent(somsri.id, Purpose.human_library, session=session)
    await live.press(somsri, _button(TH, "privacy.button_withdraw", Purpose.human_library))
    await live.press(somsri, TH["privacy.button_confirm"])

    assert "ยกเลิกการจองที่จะมาถึงแล้ว 1 รายการ" in texts(live, somsri.id)[-1]
    async with scene.db.session() as session:
        mine = await library.get_reservation(loan.id, session=session)
        theirs = await library.get_reservation(queued.id, session=session)
        assert not await citizens.has_consent(somsri.id, Purpose.human_library, session=session)
    assert mine is not None and mine.status is ReservationStatus.cancelled
    assert theirs is not None and theirs.reserved
    assert any("A place freed up" in t for t in texts(live, bee.id))

    # Given again, the library opens to them as before.
    await live.press(somsri, _button(TH, "privacy.button_give", Purpose.human_library))
    async with scene.db.session() as session:
        assert await citizens.has_consent(somsri.id, Purpose.human_library, session=session)


async def test_withdrawing_the_council_removes_the_answer_from_the_head_count(
    live: LiveBot,
) -> None:
    assert live.db is not None
    anne = await person(live, ANNE, "Anne", "en")
    await monthly_council(live.db)
    meeting = next(m for m in await meetings(live.db) if m.starts_at == DEC_MEETING)
    async with live.db.session() as session:
        await council.rsvp(meeting.id, anne.id, RsvpAnswer.yes, "en", session=session)

    await live.send(anne, "/privacy")
    await live.press(anne, _button(EN, "privacy.button_withdraw", Purpose.coffee_council))
    assert "You have answered 1 upcoming coffee council meeting" in texts(live, anne.id)[-1]
    await live.press(anne, EN["privacy.button_confirm"])

    assert "Your answers to 1 upcoming meeting(s) have been removed" in texts(live, anne.id)[-1]
    async with live.db.session() as session:
        counts = await council.rsvp_counts(meeting.id, session=session)
        assert await council.my_rsvp(meeting.id, anne.id, session=session) is None
    assert counts[RsvpAnswer.yes] == 0
