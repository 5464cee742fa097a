"""The coffee council in storage, on SQLite and PostgreSQL: series and their occurrences,
RSVPs (and their reminders), suggestions, the shortlist, the agenda and its poll, rotating
check-in codes, minutes, action items and the citizen's list of sessions."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import col, select

from storage import citizens, council, reminders
from storage.audit import all_entries
from storage.citizens import set_language
from storage.clock import ManualClock
from storage.council import AgendaInput, Candidate, Person
from storage.database import Database
from storage.enums import (
    ActionStatus,
    AgendaSource,
    MeetingStatus,
    Purpose,
    ReservationStatus,
    RsvpAnswer,
)
from storage.errors import (
    ConsentRequired,
    CouncilRefused,
    NotRegistered,
    UnknownActionItem,
    UnknownMeeting,
    UnknownSeries,
    UnsupportedLanguage,
)
from storage.models import CouncilRsvp, EventAttendee, ScheduledEvent
from storage.recurrence import Occurrence, month_day
from storage.surveys import add_free_text, record_poll_answer
from tests.storage.conftest import START
from tests.storage.council_helpers import (
    FACILITATOR,
    FEB_MEETING,
    FIRST_SATURDAY,
    MAR_MEETING,
    PLACE,
    SECRET,
    TITLE,
    answered,
    first_meeting,
    monthly_series,
    people,
)
from tests.storage.factories import ALL_GRANTED
from tests.storage.library_helpers import listed_book, new_event, reserved, with_categories
from tests.storage.survey_helpers import opened, sent_privately

NO_COUNCIL = {**ALL_GRANTED, Purpose.coffee_council: False}
APR_MEETING = datetime(2026, 4, 4, 1, 0, tzinfo=UTC)
JUN_MEETING = datetime(2026, 6, 6, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(clock: ManualClock) -> ManualClock:
    """Storage time frozen at START (Monday 5 January 2026, 08:30 in Yala)."""
    return clock


async def meeting_event(db: Database, meeting_id: int) -> ScheduledEvent | None:
    async with db.session() as session:
        return await reminders.get_event(
            council.MEETING_EVENT_KIND, council.meeting_ref(meeting_id), session=session
        )


async def attendee_ids(db: Database, meeting_id: int) -> list[int]:
    event = await meeting_event(db, meeting_id)
    assert event is not None and event.id is not None
    async with db.session() as session:
        return await reminders.attendee_ids(event.id, session=session)


# --- series and occurrences ---------------------------------------------------------------


async def test_a_monthly_series_starts_at_its_next_occurrence_and_is_materialised(
    db: Database,
) -> None:
    series = await monthly_series(db)
    assert series.rule == FIRST_SATURDAY
    assert series.rrule == "FREQ=MONTHLY;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0;BYSECOND=0"
    assert series.first_start == FEB_MEETING  # January's first Saturday has passed
    assert (series.local_time, series.timezone, series.duration_minutes) == (
        "08:00",
        "Asia/Bangkok",
        120,
    )
    assert series.facilitator_ids == (FACILITATOR,)
    assert series.recurring and not series.cancelled
    async with db.session() as session:
        meetings = await council.upcoming_meetings(START, limit=10, session=session)
        assert await council.get_series(series.id, session=session) == series
        assert await council.list_series(session=session) == [series]
        actions = [e.action for e in await all_entries(session=session)]
    # Two months ahead: February and March.
    assert [m.starts_at for m in meetings] == [FEB_MEETING, MAR_MEETING]
    feb = meetings[0]
    assert feb.ends_at == FEB_MEETING + timedelta(hours=2)
    assert (feb.title, feb.place_text, feb.latitude, feb.timezone) == (
        TITLE,
        PLACE,
        6.5411,
        "Asia/Bangkok",
    )
    assert feb.status is MeetingStatus.scheduled and not feb.moved
    event = await meeting_event(db, feb.id)
    assert event is not None and event.starts_at == FEB_MEETING and event.title == TITLE
    assert event.place == {"th": PLACE, "en": PLACE}
    assert "council.series.created" in actions


async def test_a_monthly_series_can_start_later(db: Database) -> None:
    series = await monthly_series(db, first_start=datetime(2026, 3, 1, tzinfo=UTC))
    assert series.first_start == MAR_MEETING


async def test_a_one_off_meeting(db: Database) -> None:
    when = datetime(2026, 1, 20, 3, 0, tzinfo=UTC)
    series = await monthly_series(db, rule=None, first_start=when, duration_minutes=90)
    assert series.rule is None and series.rrule is None and not series.recurring
    assert series.local_time == "10:00"
    meeting = await first_meeting(db, series)
    assert (meeting.starts_at, meeting.ends_at) == (when, when + timedelta(minutes=90))
    async with db.session() as session:
        assert (
            await council.materialize(series.id, when + timedelta(days=400), session=session) == []
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"rule": None},
        {"rule": None, "first_start": START - timedelta(minutes=1)},
        {"title": {"th": "สภากาแฟ"}},
        {"title": {"th": "ก" * 101, "en": "x"}},
        {"place_text": "  "},
        {"latitude": 6.5, "longitude": None},
        {"timezone": "Asia/Nowhere"},
        {"duration_minutes": 10},
        {"rule": "FREQ=MONTHLY;BYDAY=+1SA"},
    ],
)
async def test_invalid_series_are_refused(db: Database, changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        await monthly_series(db, **changes)


async def test_materialising_is_idempotent_and_moves_forward(
    db: Database, clock: ManualClock
) -> None:
    series = await monthly_series(db)
    async with db.session() as session:
        assert (
            await council.materialize(series.id, START + timedelta(days=62), session=session) == []
        )
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    async with db.session() as session:
        created = await council.materialize_all(datetime(2026, 5, 3, tzinfo=UTC), session=session)
        assert [m.starts_at for m in created] == [APR_MEETING, datetime(2026, 5, 2, 1, tzinfo=UTC)]
        assert (
            await council.materialize_all(datetime(2026, 5, 3, tzinfo=UTC), session=session) == []
        )
        with pytest.raises(UnknownSeries):
            await council.materialize(999, START, session=session)


async def test_next_and_upcoming_meetings_follow_the_clock(
    db: Database, clock: ManualClock
) -> None:
    await monthly_series(db)
    async with db.session() as session:
        meeting = await council.next_meeting(START, session=session)
        assert meeting is not None and meeting.starts_at == FEB_MEETING
        # During the meeting it is still the next one; once it has ended, March's is.
        during = await council.next_meeting(FEB_MEETING + timedelta(minutes=30), session=session)
        assert during is not None and during.id == meeting.id
        after = await council.next_meeting(FEB_MEETING + timedelta(hours=3), session=session)
        assert after is not None and after.starts_at == MAR_MEETING
        assert await council.next_meeting(datetime(2027, 1, 1, tzinfo=UTC), session=session) is None
        assert await council.get_meeting(meeting.id, session=session) == meeting
        assert await council.get_meeting(999, session=session) is None
        between = await council.meetings_between(
            datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), session=session
        )
        assert [m.starts_at for m in between] == [MAR_MEETING]
        with pytest.raises(ValueError):
            await council.upcoming_meetings(START, limit=0, session=session)


async def test_facilitators(db: Database) -> None:
    series = await monthly_series(db)
    async with db.session() as session:
        assert await council.add_facilitator(series.id, 8, by=FACILITATOR, session=session)
        assert not await council.add_facilitator(series.id, 8, by=FACILITATOR, session=session)
        assert await council.series_facilitators(series.id, session=session) == [FACILITATOR, 8]
        assert await council.is_facilitator(series.id, 8, session=session)
        assert not await council.is_facilitator(series.id, 9, session=session)
        with pytest.raises(UnknownSeries):
            await council.add_facilitator(999, 8, by=FACILITATOR, session=session)


async def test_moving_an_occurrence_tells_yes_and_maybe_in_their_language(db: Database) -> None:
    series = await monthly_series(db)
    await people(db, 11, 12, 13)
    async with db.session() as session:
        march = (await council.upcoming_meetings(START, session=session))[1]
    await answered(db, march, 11, RsvpAnswer.yes, "th")
    await answered(db, march, 12, RsvpAnswer.maybe, "en")
    await answered(db, march, 13, RsvpAnswer.no, "th")
    second_saturday = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)
    async with db.session() as session:
        change = await council.move_occurrence(
            series.id, MAR_MEETING, second_saturday, by=FACILITATOR, session=session
        )
    assert change.changed and not change.cancelled
    assert (change.original_start, change.previous_start, change.starts_at) == (
        MAR_MEETING,
        MAR_MEETING,
        second_saturday,
    )
    assert change.people == (Person(11, "th", RsvpAnswer.yes), Person(12, "en", RsvpAnswer.maybe))
    assert change.meeting is not None and change.meeting.moved
    assert change.meeting.ends_at == second_saturday + timedelta(hours=2)
    event = await meeting_event(db, march.id)
    assert event is not None and event.starts_at == second_saturday
    async with db.session() as session:
        found = await council.occurrences(
            series.id, start=START, end=datetime(2026, 4, 1, tzinfo=UTC), session=session
        )
        assert found == [
            Occurrence(FEB_MEETING, FEB_MEETING),
            Occurrence(MAR_MEETING, second_saturday),
        ]
        # Moved again, it is still named by where the rule put it.
        again = await council.move_meeting(
            march.id, second_saturday + timedelta(hours=1), by=FACILITATOR, session=session
        )
        assert again.previous_start == second_saturday
        actions = [e.action for e in await all_entries(session=session)]
    assert "council.occurrence.moved" in actions


async def test_an_occurrence_not_yet_materialised_can_be_moved(db: Database) -> None:
    series = await monthly_series(db)
    moved_to = datetime(2026, 6, 13, 1, 0, tzinfo=UTC)
    async with db.session() as session:
        change = await council.move_occurrence(
            series.id, JUN_MEETING, moved_to, by=FACILITATOR, session=session
        )
        assert change.meeting is None and change.people == ()
        created = await council.materialize(
            series.id, datetime(2026, 7, 1, tzinfo=UTC), session=session
        )
    assert [(m.original_start, m.starts_at) for m in created][-1] == (JUN_MEETING, moved_to)


async def test_moves_that_cannot_be(db: Database, clock: ManualClock) -> None:
    series = await monthly_series(db)
    async with db.session() as session:
        with pytest.raises(CouncilRefused) as refused:
            await council.move_occurrence(
                series.id, MAR_MEETING + timedelta(days=1), APR_MEETING, by=1, session=session
            )
        assert refused.value.reason == "not_an_occurrence"
        with pytest.raises(ValueError):
            await council.move_occurrence(series.id, MAR_MEETING, START, by=1, session=session)
        with pytest.raises(ValueError):
            await council.move_occurrence(
                series.id, MAR_MEETING, datetime(2026, 3, 14), by=1, session=session
            )
        with pytest.raises(UnknownSeries):
            await council.move_occurrence(999, MAR_MEETING, APR_MEETING, by=1, session=session)
        with pytest.raises(UnknownMeeting):
            await council.move_meeting(999, APR_MEETING, by=1, session=session)
    clock.set(FEB_MEETING + timedelta(minutes=1))
    async with db.session() as session:
        with pytest.raises(CouncilRefused) as refused:
            await council.move_occurrence(
                series.id, FEB_MEETING, APR_MEETING, by=1, session=session
            )
        assert refused.value.reason == "past"


async def test_cancelling_an_occurrence(db: Database) -> None:
    series = await monthly_series(db)
    await people(db, 11)
    march = (await _meetings(db))[1]
    await answered(db, march, 11, RsvpAnswer.yes, "en")
    async with db.session() as session:
        change = await council.cancel_occurrence(
            series.id, MAR_MEETING, by=FACILITATOR, session=session
        )
        assert change.cancelled and change.changed
        assert change.people == (Person(11, "en", RsvpAnswer.yes),)
        assert change.meeting is not None and change.meeting.cancelled
        again = await council.cancel_meeting(march.id, by=FACILITATOR, session=session)
        assert not again.changed and again.people == ()
        with pytest.raises(CouncilRefused) as refused:
            await council.move_occurrence(
                series.id, MAR_MEETING, APR_MEETING, by=FACILITATOR, session=session
            )
        assert refused.value.reason == "cancelled"
        assert [m.starts_at for m in await council.upcoming_meetings(START, session=session)] == [
            FEB_MEETING
        ]
        listed = await council.upcoming_meetings(START, include_cancelled=True, session=session)
        assert [m.status for m in listed] == [MeetingStatus.scheduled, MeetingStatus.cancelled]
        kept = await council.occurrences(
            series.id,
            start=START,
            end=datetime(2026, 4, 1, tzinfo=UTC),
            include_cancelled=True,
            session=session,
        )
        assert kept[1] == Occurrence(MAR_MEETING, MAR_MEETING, cancelled=True)
    event = await meeting_event(db, march.id)
    assert event is not None and event.cancelled_at is not None
    with pytest.raises(CouncilRefused) as refused:
        await answered(db, march, 11)
    assert refused.value.reason == "cancelled"


async def test_a_cancelled_occurrence_not_yet_materialised_is_created_cancelled(
    db: Database,
) -> None:
    series = await monthly_series(db)
    async with db.session() as session:
        await council.cancel_occurrence(series.id, JUN_MEETING, by=FACILITATOR, session=session)
        created = await council.materialize(
            series.id, datetime(2026, 7, 1, tzinfo=UTC), session=session
        )
    assert [(m.starts_at, m.status) for m in created][-1] == (JUN_MEETING, MeetingStatus.cancelled)
    assert await meeting_event(db, created[-1].id) is None


async def test_cancelling_the_series(db: Database) -> None:
    series = await monthly_series(db)
    await people(db, 11)
    march = (await _meetings(db))[1]
    await answered(db, march, 11, RsvpAnswer.maybe, "th")
    async with db.session() as session:
        changes = await council.cancel_series(series.id, by=FACILITATOR, session=session)
        assert [c.original_start for c in changes] == [FEB_MEETING, MAR_MEETING]
        assert changes[1].people == (Person(11, "th", RsvpAnswer.maybe),)
        assert await council.cancel_series(series.id, by=FACILITATOR, session=session) == []
        assert await council.upcoming_meetings(START, session=session) == []
        assert await council.list_series(session=session) == []
        assert len(await council.list_series(include_cancelled=True, session=session)) == 1
        assert (
            await council.materialize(series.id, datetime(2027, 1, 1, tzinfo=UTC), session=session)
            == []
        )
        with pytest.raises(CouncilRefused) as refused:
            await council.cancel_occurrence(series.id, JUN_MEETING, by=1, session=session)
        assert refused.value.reason == "cancelled"


# --- RSVP -----------------------------------------------------------------------------------


async def _meetings(db: Database) -> list[council.Meeting]:
    async with db.session() as session:
        return await council.upcoming_meetings(START, limit=10, session=session)


async def test_rsvp_yes_maybe_no_and_the_attendee_list(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11, 12)
    feb = (await _meetings(db))[0]
    first = await answered(db, feb, 11, RsvpAnswer.yes, "th")
    assert (first.answer, first.language, first.display_name) == (RsvpAnswer.yes, "th", "Person 11")
    await answered(db, feb, 12, RsvpAnswer.maybe, "en")
    assert await attendee_ids(db, feb.id) == [11, 12]
    async with db.session() as session:
        changed = await council.rsvp(feb.id, 11, "no", "en", session=session)
    # The name given before is kept when none is given now.
    assert (changed.answer, changed.language, changed.display_name) == (
        RsvpAnswer.no,
        "en",
        "Person 11",
    )
    assert await attendee_ids(db, feb.id) == [12]
    async with db.session() as session:
        assert [r.telegram_user_id for r in await council.rsvps(feb.id, session=session)] == [
            11,
            12,
        ]
        assert await council.rsvp_counts(feb.id, session=session) == {
            RsvpAnswer.yes: 0,
            RsvpAnswer.maybe: 1,
            RsvpAnswer.no: 1,
        }
        assert await council.attendees_to_tell(feb.id, session=session) == [
            Person(12, "en", RsvpAnswer.maybe)
        ]
        assert (await council.my_rsvp(feb.id, 11, session=session)) == changed
        assert await council.my_rsvp(feb.id, 13, session=session) is None
        rows = (await session.exec(select(CouncilRsvp))).all()
    assert len(rows) == 2
    await answered(db, feb, 11, RsvpAnswer.yes)
    assert await attendee_ids(db, feb.id) == [12, 11]


async def test_rsvp_needs_a_registered_citizen_who_consented(db: Database) -> None:
    await monthly_series(db)
    await people(db, 21, consents=NO_COUNCIL)
    feb = (await _meetings(db))[0]
    with pytest.raises(NotRegistered):
        await answered(db, feb, 20)
    with pytest.raises(ConsentRequired) as refused:
        await answered(db, feb, 21)
    assert refused.value.purpose == "coffee_council"
    await people(db, 22)
    with pytest.raises(UnsupportedLanguage):
        await answered(db, feb, 22, language="ms")
    with pytest.raises(ValueError):
        await answered(db, feb, 22, answer="perhaps")  # type: ignore[arg-type]
    async with db.session() as session:
        with pytest.raises(UnknownMeeting):
            await council.rsvp(999, 22, RsvpAnswer.yes, "th", session=session)


async def test_a_no_needs_no_consent_so_withdrawing_stays_easy(db: Database) -> None:
    await monthly_series(db)
    await people(db, 23)
    feb = (await _meetings(db))[0]
    await answered(db, feb, 23)
    async with db.session() as session:
        await citizens.set_consent(23, Purpose.coffee_council, False, session=session)
        rsvp = await council.rsvp(feb.id, 23, RsvpAnswer.no, "th", session=session)
    assert rsvp.answer is RsvpAnswer.no
    with pytest.raises(NotRegistered):
        await answered(db, feb, 24, answer=RsvpAnswer.no)


async def test_rsvp_closes_when_the_meeting_begins(db: Database, clock: ManualClock) -> None:
    await monthly_series(db)
    await people(db, 11)
    feb = (await _meetings(db))[0]
    clock.set(FEB_MEETING)
    with pytest.raises(CouncilRefused) as refused:
        await answered(db, feb, 11)
    assert refused.value.reason == "past"


async def test_yes_gets_reminders_at_the_lead_times(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11, 12)
    feb = (await _meetings(db))[0]
    await answered(db, feb, 11, RsvpAnswer.yes)
    await answered(db, feb, 12, RsvpAnswer.no)
    async with db.session() as session:
        candidates = await reminders.reminder_candidates(
            starting_after=START, starting_before=FEB_MEETING, session=session
        )
    assert [(c.kind, c.ref, c.telegram_user_id) for c in candidates] == [
        ("council", council.meeting_ref(feb.id), 11)
    ]


async def test_two_rsvps_by_the_same_person_at_once_leave_one_row(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11)
    feb = (await _meetings(db))[0]

    async def answer(choice: RsvpAnswer) -> None:
        async with db.session() as session:
            await council.rsvp(feb.id, 11, choice, "th", session=session)

    for first, second in [(RsvpAnswer.yes, RsvpAnswer.no), (RsvpAnswer.no, RsvpAnswer.maybe)] * 3:
        await asyncio.gather(answer(first), answer(second))
        async with db.session() as session:
            rows = (
                await session.exec(select(CouncilRsvp).where(col(CouncilRsvp.meeting_id) == feb.id))
            ).all()
            event = await reminders.get_event(
                "council", council.meeting_ref(feb.id), session=session
            )
            assert event is not None
            attendees = (
                await session.exec(
                    select(EventAttendee).where(col(EventAttendee.event_id) == event.id)
                )
            ).all()
        assert len(rows) == 1
        assert rows[0].answer in (first, second)  # whichever committed last
        assert [a.telegram_user_id for a in attendees] == ([11] if rows[0].answer.attending else [])


# --- suggestions and the shortlist --------------------------------------------------------


async def test_suggestions(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11)
    await people(db, 12, consents=NO_COUNCIL)
    feb = (await _meetings(db))[0]
    async with db.session() as session:
        first = await council.suggest(feb.id, 11, "  ตลาดนัดแลกเปลี่ยนหนังสือ ", "th", session=session)
        assert first.text == "ตลาดนัดแลกเปลี่ยนหนังสือ" and first.language == "th"
        await council.suggest(feb.id, 11, "Coding club for teens", "en", session=session)
        await council.suggest(feb.id, 11, "Belajar bahasa Melayu", "ms", session=session)
        with pytest.raises(CouncilRefused) as refused:
            await council.suggest(feb.id, 11, "one more", "en", session=session)
        assert refused.value.reason == "too_many"
        with pytest.raises(ValueError):
            await council.suggest(feb.id, 11, "   ", "en", session=session)
        with pytest.raises(ValueError):
            await council.suggest(feb.id, 11, "x" * 501, "en", session=session)
        with pytest.raises(UnsupportedLanguage):
            await council.suggest(feb.id, 11, "hello", "fr", session=session)
        with pytest.raises(ConsentRequired):
            await council.suggest(feb.id, 12, "hello", "en", session=session)
        with pytest.raises(NotRegistered):
            await council.suggest(feb.id, 13, "hello", "en", session=session)
        listed = await council.suggestions(feb.id, session=session)
    assert [s.language for s in listed] == ["th", "en", "ms"]
    assert not hasattr(listed[0], "telegram_user_id")


async def test_the_shortlist_puts_open_actions_first_then_needs_then_suggestions(
    db: Database, clock: ManualClock
) -> None:
    series = await monthly_series(db)
    await people(db, 11, 12, 13, 14)
    feb, march = await _meetings(db)
    view = await opened(db)
    topics = view.questions[0]  # digital (digital_skills), languages (languages), other
    answers = {11: [0, 1], 12: [1], 13: [1, 2], 14: [2]}
    for telegram_user_id, options in answers.items():
        await sent_privately(db, topics, telegram_user_id, f"p{telegram_user_id}")
        async with db.session() as session:
            outcome = await record_poll_answer(
                f"p{telegram_user_id}", telegram_user_id, options, session=session
            )
            assert outcome.status == "stored"
    async with db.session() as session:
        for telegram_user_id in (11, 12):
            await add_free_text(
                telegram_user_id, "อยากเรียนทำขนม", "th", survey_id=view.id, session=session
            )
        await add_free_text(13, "Learn to repair phones", "en", survey_id=view.id, session=session)
        done = await council.add_action_item(
            feb.id,
            what="Done already",
            owner_name="A",
            due_on=date(2026, 2, 20),
            by=1,
            session=session,
        )
        await council.close_action_item(done.id, by=1, session=session)
        item = await council.add_action_item(
            feb.id,
            what="Ask the library for a room",
            owner_name="Somchai",
            due_on=date(2026, 2, 20),
            by=1,
            session=session,
        )
        await council.add_action_item(
            march.id,
            what="Not earlier",
            owner_name="B",
            due_on=date(2026, 3, 20),
            by=1,
            session=session,
        )
        suggestion = await council.suggest(march.id, 14, "Coffee and coding", "en", session=session)
        found = await council.shortlist(march.id, START + timedelta(days=1), session=session)
    assert found == [
        Candidate(
            AgendaSource.action_item,
            item.id,
            {"th": "Ask the library for a room", "en": "Ask the library for a room"},
            "Ask the library for a room",
            None,
            None,
            1,
        ),
        Candidate(
            AgendaSource.need, None, {"th": "ภาษา", "en": "Languages"}, None, None, "languages", 3
        ),
        Candidate(
            AgendaSource.need,
            None,
            {"th": "ทักษะดิจิทัล", "en": "Digital skills"},
            None,
            None,
            "digital_skills",
            1,
        ),
        Candidate(
            AgendaSource.need,
            None,
            {"th": "อยากเรียนทำขนม", "en": "อยากเรียนทำขนม"},
            "อยากเรียนทำขนม",
            "th",
            None,
            2,
        ),
        Candidate(
            AgendaSource.need,
            None,
            {"th": "Learn to repair phones", "en": "Learn to repair phones"},
            "Learn to repair phones",
            "en",
            None,
            1,
        ),
        Candidate(
            AgendaSource.suggestion,
            suggestion.id,
            {"th": "Coffee and coding", "en": "Coffee and coding"},
            "Coffee and coding",
            "en",
            None,
            1,
        ),
    ]
    # Thirty days on, the month's needs are no longer recent; open actions still lead.
    async with db.session() as session:
        later = await council.shortlist(march.id, START + timedelta(days=31), session=session)
        assert [c.source for c in later] == [AgendaSource.action_item, AgendaSource.suggestion]
        assert [a.what for a in await council.open_action_items(series.id, session=session)] == [
            "Ask the library for a room",
            "Not earlier",
        ]
        with pytest.raises(UnknownMeeting):
            await council.shortlist(999, START, session=session)


async def test_the_shortlist_is_offered_once(db: Database) -> None:
    await monthly_series(db)
    feb = (await _meetings(db))[0]
    async with db.session() as session:
        assert await council.claim_shortlist(feb.id, session=session)
        assert not await council.claim_shortlist(feb.id, session=session)
        with pytest.raises(UnknownMeeting):
            await council.claim_shortlist(999, session=session)


# --- the agenda and its poll ----------------------------------------------------------------

LABELS = [
    {"th": "ห้องเรียนดิจิทัล", "en": "Digital classroom"},
    {"th": "ภาษามลายูถิ่น", "en": "Local Malay"},
    {"th": "ตลาดหนังสือ", "en": "Book market"},
]


async def agenda_set(db: Database, meeting_id: int, **kwargs: object) -> list[council.AgendaItem]:
    async with db.session() as session:
        return await council.set_agenda(
            meeting_id,
            [
                AgendaInput(LABELS[0], "digital_skills", AgendaSource.need),
                AgendaInput(LABELS[1], "languages", "need"),
                AgendaInput(LABELS[2], None, AgendaSource.suggestion, 5),
            ],
            by=FACILITATOR,
            session=session,
            **kwargs,  # type: ignore[arg-type]
        )


async def test_setting_and_replacing_the_agenda(db: Database) -> None:
    await with_categories(db)
    await monthly_series(db)
    feb = (await _meetings(db))[0]
    items = await agenda_set(db, feb.id)
    assert [
        (i.position, i.label, i.category_key, i.source, i.source_id, i.votes) for i in items
    ] == [
        (0, LABELS[0], "digital_skills", AgendaSource.need, None, 0),
        (1, LABELS[1], "languages", AgendaSource.need, None, 0),
        (2, LABELS[2], None, AgendaSource.suggestion, 5, 0),
    ]
    async with db.session() as session:
        meeting = await council.get_meeting(feb.id, session=session)
        assert meeting is not None and meeting.agenda_closes_at == FEB_MEETING
        replaced = await council.set_agenda(
            feb.id,
            [AgendaInput({"th": " หัวข้อ ", "en": "Topic"})],
            closes_at=FEB_MEETING - timedelta(days=1),
            by=FACILITATOR,
            session=session,
        )
        assert [(i.label, i.source) for i in replaced] == [
            ({"th": "หัวข้อ", "en": "Topic"}, AgendaSource.manual)
        ]
        assert await council.agenda(feb.id, session=session) == replaced
        meeting = await council.get_meeting(feb.id, session=session)
        assert meeting is not None and meeting.agenda_closes_at == FEB_MEETING - timedelta(days=1)


@pytest.mark.parametrize(
    ("items", "closes_at"),
    [
        ([], None),
        ([AgendaInput(LABELS[0])] * 13, None),
        ([AgendaInput({"th": "ก" * 101, "en": "x"})], None),
        ([AgendaInput({"th": "หัวข้อ"})], None),
        ([AgendaInput(LABELS[0], "no_such_category")], None),
        ([AgendaInput(LABELS[0], source="rumour")], None),
        ([AgendaInput(LABELS[0])], FEB_MEETING + timedelta(minutes=1)),
        ([AgendaInput(LABELS[0])], START - timedelta(minutes=1)),
    ],
)
async def test_invalid_agendas_are_refused(
    db: Database, items: list[AgendaInput], closes_at: datetime | None
) -> None:
    await with_categories(db)
    await monthly_series(db)
    feb = (await _meetings(db))[0]
    async with db.session() as session:
        with pytest.raises(ValueError):
            await council.set_agenda(feb.id, items, closes_at=closes_at, by=1, session=session)


async def test_agenda_poll_votes_and_result(db: Database, clock: ManualClock) -> None:
    await with_categories(db)
    await monthly_series(db)
    await people(db, 11, 12, 13)
    await people(db, 14, consents=NO_COUNCIL)
    feb = (await _meetings(db))[0]
    items = await agenda_set(db, feb.id, closes_at=FEB_MEETING - timedelta(days=1))
    async with db.session() as session:
        with pytest.raises(ValueError):
            await council.record_agenda_poll("", feb.id, "th", session=session)
        for tg, language in ((11, "th"), (12, "en"), (13, "th"), (14, "th")):
            poll = await council.record_agenda_poll(
                f"a{tg}", feb.id, language, chat_id=tg, message_id=50, session=session
            )
            assert poll.item_ids == tuple(i.id for i in items)
        again = await council.record_agenda_poll("a11", feb.id, "en", session=session)
        assert again.language == "th"  # the first record stays
        assert [p.poll_id for p in await council.agenda_polls(feb.id, session=session)] == [
            "a11",
            "a12",
            "a13",
            "a14",
        ]
        assert await council.agenda_poll("nope", session=session) is None
        vote = council.record_agenda_vote
        assert await vote("a11", 11, [2], session=session) == "stored"
        assert await vote("a12", 12, [2, 1], session=session) == "stored"
        assert await vote("a13", 13, [0, 7], session=session) == "stored"  # 7: ignored
        assert await vote("a13", 13, [1], session=session) == "stored"  # changes 0 → 1
        assert await vote("a11", 11, [], session=session) == "stored"  # retracted
        assert await vote("a11", 11, [2], session=session) == "stored"
        assert await vote("zz", 11, [0], session=session) == "unknown_poll"
        assert await vote("a14", 14, [0], session=session) == "no_consent"
        assert await vote("a14", 99, [0], session=session) == "not_registered"
        result = await council.agenda_result(feb.id, session=session)
        # Most votes first; a tie keeps the agenda's order.
        assert [(i.label["en"], i.votes) for i in result] == [
            ("Local Malay", 2),
            ("Book market", 2),
            ("Digital classroom", 0),
        ]
        with pytest.raises(CouncilRefused) as refused:
            await council.set_agenda(feb.id, [AgendaInput(LABELS[0])], by=1, session=session)
        assert refused.value.reason == "agenda_polled"
    clock.set(FEB_MEETING - timedelta(days=1))
    async with db.session() as session:
        assert await council.record_agenda_vote("a11", 11, [0], session=session) == "closed"


async def test_an_agenda_poll_needs_an_agenda(db: Database) -> None:
    await monthly_series(db)
    feb = (await _meetings(db))[0]
    async with db.session() as session:
        with pytest.raises(ValueError):
            await council.record_agenda_poll("p1", feb.id, "th", session=session)
        with pytest.raises(UnknownMeeting):
            await council.record_agenda_poll("p1", 999, "th", session=session)


async def test_no_agenda_for_a_cancelled_or_begun_meeting(db: Database, clock: ManualClock) -> None:
    series = await monthly_series(db)
    feb, march = await _meetings(db)
    async with db.session() as session:
        await council.cancel_occurrence(series.id, MAR_MEETING, by=1, session=session)
        with pytest.raises(CouncilRefused) as refused:
            await council.set_agenda(march.id, [AgendaInput(LABELS[0])], by=1, session=session)
        assert refused.value.reason == "cancelled"
    clock.set(FEB_MEETING)
    async with db.session() as session:
        with pytest.raises(CouncilRefused) as refused:
            await council.set_agenda(feb.id, [AgendaInput(LABELS[0])], by=1, session=session)
        assert refused.value.reason == "past"


# --- check-in -------------------------------------------------------------------------------


def test_check_in_codes_rotate_per_window_meeting_and_secret() -> None:
    at = FEB_MEETING
    code = council.checkin_code(1, at, SECRET)
    assert re.fullmatch(r"[A-Z2-7]{8}", code)
    assert council.checkin_code(1, at + timedelta(seconds=59), SECRET) == code
    assert council.checkin_code(1, at + timedelta(minutes=5), SECRET) != code
    assert council.checkin_code(2, at, SECRET) != code
    assert council.checkin_code(1, at, b"another secret") != code
    assert council.checkin_code(1, at, SECRET, window_minutes=10) == council.checkin_code(
        1, at + timedelta(minutes=9), SECRET, window_minutes=10
    )
    assert council.code_expires_at(at + timedelta(minutes=2)) == at + timedelta(minutes=5)
    with pytest.raises(ValueError):
        council.checkin_code(1, at, "")
    with pytest.raises(ValueError):
        council.checkin_code(1, at, SECRET, window_minutes=0)
    with pytest.raises(ValueError):
        council.checkin_code(1, datetime(2026, 2, 7, 8, 0), SECRET)


async def test_check_in_with_the_current_code_once(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11, 12)
    await people(db, 13, consents=NO_COUNCIL)
    feb = (await _meetings(db))[0]
    at = FEB_MEETING - timedelta(minutes=10)

    async def check(tg: int, code: str, when: datetime) -> str:
        async with db.session() as session:
            return await council.check_in(feb.id, tg, code, when, SECRET, session=session)

    code = council.checkin_code(feb.id, at, SECRET)
    assert await check(11, code, at) == "ok"
    assert await check(11, code, at) == "already"
    # A code scanned just as it turned is still good; older ones are not.
    assert await check(12, code.lower(), at + timedelta(minutes=5)) == "ok"
    stale = council.checkin_code(feb.id, at - timedelta(minutes=10), SECRET)
    async with db.session() as session:
        await council.check_in(feb.id, 11, stale, at, SECRET, session=session)  # already: ignored
    with pytest.raises(ConsentRequired):
        await check(13, code, at)
    with pytest.raises(NotRegistered):
        await check(14, code, at)
    await people(db, 15)
    assert await check(15, stale, at) == "expired"
    assert await check(15, "NOTACODE", at) == "expired"
    other_meeting = council.checkin_code(feb.id + 1, at, SECRET)
    assert await check(15, other_meeting, at) == "expired"
    async with db.session() as session:
        present = await council.attendance(feb.id, session=session)
        with pytest.raises(UnknownMeeting):
            await council.check_in(999, 15, code, at, SECRET, session=session)
    assert [(a.telegram_user_id, a.checked_in_by, a.language) for a in present] == [
        (11, None, "th"),
        (12, None, "th"),
    ]
    assert present[0].checked_in_at == at


async def test_check_in_only_during_the_meeting_window(db: Database) -> None:
    series = await monthly_series(db)
    await people(db, 11)
    feb, march = await _meetings(db)

    async def check(meeting_id: int, when: datetime) -> str:
        code = council.checkin_code(meeting_id, when, SECRET)
        async with db.session() as session:
            return await council.check_in(meeting_id, 11, code, when, SECRET, session=session)

    assert await check(feb.id, FEB_MEETING - timedelta(minutes=31)) == "outside_window"
    assert await check(feb.id, feb.ends_at + timedelta(seconds=1)) == "outside_window"
    assert await check(feb.id, FEB_MEETING - timedelta(minutes=30)) == "ok"
    async with db.session() as session:
        await council.cancel_occurrence(series.id, MAR_MEETING, by=1, session=session)
    assert await check(march.id, MAR_MEETING) == "outside_window"


async def test_a_facilitator_marks_people_present(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11, 12)
    await people(db, 13, consents=NO_COUNCIL)
    feb = (await _meetings(db))[0]
    await answered(db, feb, 12, RsvpAnswer.yes, "en")
    async with db.session() as session:
        assert await council.mark_present(feb.id, 12, by=FACILITATOR, session=session) == "ok"
        assert await council.mark_present(feb.id, 12, by=FACILITATOR, session=session) == "already"
        with pytest.raises(ConsentRequired):
            await council.mark_present(feb.id, 13, by=FACILITATOR, session=session)
        with pytest.raises(UnknownMeeting):
            await council.mark_present(999, 12, by=FACILITATOR, session=session)
        present = await council.attendance(feb.id, session=session)
        actions = [e.action for e in await all_entries(session=session)]
    assert [(a.telegram_user_id, a.checked_in_by, a.display_name) for a in present] == [
        (12, FACILITATOR, "Person 12")
    ]
    assert "council.marked_present" in actions


# --- minutes and action items ---------------------------------------------------------------


async def test_minutes_are_recorded_replaced_and_go_to_attendees(db: Database) -> None:
    await monthly_series(db)
    await people(db, 11)
    await people(db, 12)
    feb = (await _meetings(db))[0]
    async with db.session() as session:
        await council.mark_present(feb.id, 11, by=FACILITATOR, session=session)
        await council.mark_present(feb.id, 12, by=FACILITATOR, session=session)
        await set_language(12, "en", session=session)
        first = await council.record_minutes(
            feb.id, {"th": " สรุปการประชุม ", "en": ""}, by=FACILITATOR, session=session
        )
        assert first.text == {"th": "สรุปการประชุม"}
        second = await council.record_minutes(
            feb.id, {"th": "ฉบับแก้", "en": "Revised"}, by=8, session=session
        )
        assert await council.minutes(feb.id, session=session) == second
        assert second.recorded_by == 8
        recipients = await council.minutes_recipients(feb.id, session=session)
        assert await council.minutes(999, session=session) is None
        for bad in ({}, {"th": "  "}, {"ms": "x"}, {"th": "x" * 3501}):
            with pytest.raises(ValueError):
                await council.record_minutes(feb.id, bad, by=1, session=session)
        with pytest.raises(UnknownMeeting):
            await council.record_minutes(999, {"th": "x"}, by=1, session=session)
    assert recipients == [Person(11, "th"), Person(12, "en")]


async def test_action_items_remind_their_owner_and_close(db: Database) -> None:
    series = await monthly_series(db)
    await people(db, 11)
    feb = (await _meetings(db))[0]
    async with db.session() as session:
        item = await council.add_action_item(
            feb.id,
            what=" Book the library room ",
            owner_name="Khun Aminah",
            owner_telegram_user_id=11,
            due_on=date(2026, 2, 20),
            by=FACILITATOR,
            session=session,
        )
        plain = await council.add_action_item(
            feb.id,
            what="Print posters",
            owner_name="District office",
            due_on=date(2026, 3, 1),
            by=FACILITATOR,
            session=session,
        )
    assert (item.what, item.owner_name, item.owner_language, item.status) == (
        "Book the library room",
        "Khun Aminah",
        "th",
        ActionStatus.open,
    )
    assert item.due_at == datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # 09:00 in Yala
    assert (item.series_id, item.meeting_starts_at) == (series.id, FEB_MEETING)
    assert plain.owner_language is None
    async with db.session() as session:
        event = await reminders.get_event(
            council.ACTION_EVENT_KIND, council.action_ref(item.id), session=session
        )
        assert event is not None and event.starts_at == item.due_at
        assert await reminders.attendee_ids(event.id or 0, session=session) == [11]
        assert (
            await reminders.get_event(
                council.ACTION_EVENT_KIND, council.action_ref(plain.id), session=session
            )
            is None
        )
        due_soon = await council.action_items_due(
            datetime(2026, 2, 19, tzinfo=UTC), datetime(2026, 2, 21, tzinfo=UTC), session=session
        )
        assert [d.id for d in due_soon] == [item.id]
        assert [a.id for a in await council.action_items(feb.id, session=session)] == [
            item.id,
            plain.id,
        ]
        closed = await council.close_action_item(item.id, by=FACILITATOR, session=session)
        assert closed.done and closed.done_at == START
        assert await council.close_action_item(item.id, by=FACILITATOR, session=session) == closed
        event = await reminders.get_event(
            council.ACTION_EVENT_KIND, council.action_ref(item.id), session=session
        )
        assert event is not None and event.cancelled_at is not None
        assert [a.id for a in await council.open_action_items(series.id, session=session)] == [
            plain.id
        ]
        with pytest.raises(UnknownActionItem):
            await council.close_action_item(999, by=1, session=session)
        for what, owner, due in (
            ("", "x", date(2026, 3, 1)),
            ("x" * 201, "x", date(2026, 3, 1)),
            ("x", " ", date(2026, 3, 1)),
            ("x", "x", date(2026, 1, 4)),
        ):
            with pytest.raises(ValueError):
                await council.add_action_item(
                    feb.id, what=what, owner_name=owner, due_on=due, by=1, session=session
                )
        with pytest.raises(UnknownMeeting):
            await council.add_action_item(
                999, what="x", owner_name="x", due_on=date(2026, 3, 1), by=1, session=session
            )


# --- /mysessions ------------------------------------------------------------------------------


async def test_my_sessions_lists_loans_and_council_rsvps_in_time_order(db: Database) -> None:
    await with_categories(db)
    await monthly_series(db)
    await people(db, 11, 12)
    feb, march = await _meetings(db)
    await answered(db, feb, 11, RsvpAnswer.maybe, "en")
    await answered(db, march, 11, RsvpAnswer.no, "en")
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=1)
    loan = await reserved(db, event, book, 11, language="en")
    await reserved(db, event, book, 12)
    async with db.session() as session:
        mine = await council.my_sessions(11, now=START, session=session)
    assert [(s.kind, s.id, s.status, s.language) for s in mine] == [
        ("library", loan.id, ReservationStatus.reserved.value, "en"),
        ("council", feb.id, RsvpAnswer.maybe.value, "en"),
    ]
    assert mine[0].starts_at == event.starts_at and mine[0].title == book.title
    assert (mine[1].starts_at, mine[1].ends_at, mine[1].title, mine[1].place_text) == (
        FEB_MEETING,
        FEB_MEETING + timedelta(hours=2),
        TITLE,
        PLACE,
    )
    async with db.session() as session:
        theirs = await council.my_sessions(12, now=START, session=session)
        assert [(s.kind, s.status) for s in theirs] == [("library", "waitlisted")]
        assert theirs[0].starts_at == event.starts_at
        assert theirs[0].ends_at == event.starts_at + timedelta(minutes=30)
        # After February's meeting has ended, it is no longer listed.
        later = await council.my_sessions(11, now=FEB_MEETING + timedelta(hours=3), session=session)
        assert later == []


async def test_one_off_rule_from_the_31st(db: Database) -> None:
    series = await monthly_series(db, rule=month_day(31, time(9, 0)))
    meetings = await _meetings(db)
    assert series.first_start == datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
    assert [m.starts_at for m in meetings] == [
        datetime(2026, 1, 31, 2, 0, tzinfo=UTC),
        datetime(2026, 2, 28, 2, 0, tzinfo=UTC),
    ]
