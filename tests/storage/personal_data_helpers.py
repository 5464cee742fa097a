"""Two people with data in every flow: ME (whose data is exported and erased) and OTHER.

ME also ran things as a facilitator (created events, checked OTHER in, stopped OTHER's loan),
so the export must name those rows without showing OTHER's data. The ids are long and
distinctive so that finding one in any column of any table means it was left behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select

from storage import audit, need_picks
from storage.database import AsyncSession, Database
from storage.enums import AgendaSource, PollKind, ReservationStatus, Role, RsvpAnswer, SeriesKind
from storage.library import Reservation
from storage.models import (
    ButtonState,
    ChatGroup,
    Citizen,
    CouncilActionItem,
    CouncilAgendaItem,
    CouncilAgendaPoll,
    CouncilAgendaVote,
    CouncilAttendance,
    CouncilFacilitator,
    CouncilMeeting,
    CouncilMinutes,
    CouncilRsvp,
    CouncilSuggestion,
    Delivery,
    EventAttendee,
    Invite,
    LibraryBan,
    LibraryEvent,
    LibraryEventBook,
    LibraryEventFacilitator,
    LibraryReservation,
    OutboxMessage,
    QuickPoll,
    QuickPollAnswer,
    ScheduledEvent,
    SentPoll,
    Series,
    SeriesException,
    SurveyAnswer,
    SurveyQuestion,
)
from storage.surveys import add_free_text, import_survey, parse_survey_file
from tests.storage.conftest import START
from tests.storage.factories import registered
from tests.storage.library_helpers import (
    listed_book,
    new_event,
    readers,
    reserved,
)
from tests.storage.test_summary import SURVEY

ME = 7_123_456_789
OTHER = 8_234_567_891
THIRD = 9_345_678_912  # the human book of the upcoming event
TZ = "Asia/Bangkok"
PAST = START - timedelta(days=20)
NAMES = {"th": "ชื่อ", "en": "Name"}


@dataclass(frozen=True)
class Everything:
    """What the fixture built that tests look at afterwards."""

    upcoming_loan: Reservation  # ME's seat, with OTHER waitlisted behind it


async def everything(db: Database) -> Everything:
    """Data about ME in every table that can name a person, and about OTHER beside it."""
    await registered(db, ME, district="betong", language="en")
    await readers(db, OTHER)
    async with db.session() as session:
        survey = await import_survey(parse_survey_file(SURVEY), session=session)
    my_book = await listed_book(db, ME, created_by=ME)
    their_book = await listed_book(db, THIRD)
    upcoming = await new_event(db, [their_book.id], slots_per_book=1)
    loan = await reserved(db, upcoming, their_book, ME, press_order=1)
    await reserved(db, upcoming, their_book, OTHER, press_order=2)  # waitlisted
    async with db.session() as session:
        await audit.record(
            "role.granted",
            actor=audit.actor_for(ME),
            target=audit.actor_for(OTHER),
            detail={"by": audit.actor_for(ME), "about": [audit.actor_for(OTHER)]},
            session=session,
        )
        await audit.record(
            "library.facilitator.added",
            actor=audit.actor_for(OTHER),
            detail={"facilitator": audit.actor_for(ME)},
            session=session,
        )
        await _logs(session)
        await _survey(session, survey.id)
        await add_free_text(
            ME, "I want to learn batik painting", "en", survey_id=None, session=session
        )
        await add_free_text(OTHER, "อยากเรียนทำขนม", "th", survey_id=None, session=session)
        await _library(session, my_book.id)
        await _council(session)
    async with db.session() as session:
        await need_picks.refresh(tz=TZ, session=session)
    return Everything(loan)


async def _logs(session: AsyncSession) -> None:
    expires = START + timedelta(days=3)
    session.add_all(
        [
            Invite(
                code="c-mine",
                role=Role.facilitator,
                created_by="tg:1",
                expires_at=expires,
                used_by=audit.actor_for(ME),
            ),
            Invite(
                code="c-theirs",
                role=Role.officer,
                created_by=audit.actor_for(ME),
                expires_at=expires,
                used_by=audit.actor_for(OTHER),
            ),
            ChatGroup(telegram_chat_id=-1001234, title="กลุ่ม", added_by=audit.actor_for(ME)),
            ButtonState(
                key="bs-me", flow="mydata", owner_telegram_id=ME, payload={}, expires_at=expires
            ),
            ButtonState(
                key="bs-other",
                flow="mydata",
                owner_telegram_id=OTHER,
                payload={},
                expires_at=expires,
            ),
        ]
    )
    message = OutboxMessage(
        purpose="broadcast:1",
        kind="text",
        content={"th": "ก", "en": "a"},
        audience="citizens",
        created_by=audit.actor_for(ME),
        report_to_chat_id=ME,
    )
    session.add(message)
    await session.flush()
    assert message.id is not None
    for person in (ME, OTHER):
        recipient = audit.actor_for(person)
        session.add(
            Delivery(
                message_id=message.id,
                key=f"broadcast:1|{recipient}",
                recipient=recipient,
                chat_id=person,
                language="en",
            )
        )
    event = ScheduledEvent(kind="council", ref="meeting:x", title=NAMES, starts_at=START)
    session.add(event)
    await session.flush()
    assert event.id is not None
    session.add_all([EventAttendee(event_id=event.id, telegram_user_id=p) for p in (ME, OTHER)])


async def _survey(session: AsyncSession, survey_id: int | None) -> None:
    question = (
        await session.exec(
            select(SurveyQuestion).where(
                SurveyQuestion.survey_id == survey_id, SurveyQuestion.key == "topics"
            )
        )
    ).one()
    people = dict(
        (await session.exec(select(Citizen.telegram_user_id, Citizen.id))).all()  # type: ignore[arg-type]
    )
    quick = QuickPoll(
        question=NAMES,
        options=[{"key": "a", "th": "ก", "en": "a"}],
        created_by=audit.actor_for(ME),
        audience="citizens",
    )
    session.add(quick)
    await session.flush()
    for person in (ME, OTHER):
        poll_id = "poll-me" if person == ME else "poll-other"
        session.add(
            SentPoll(
                poll_id=poll_id,
                chat_id=person,
                message_id=1,
                kind=PollKind.survey,
                question_id=question.id,
                language="en",
                option_keys=["digital", "languages", "health", "money"],
                recipient_telegram_id=person,
            )
        )
        await session.flush()
        session.add(
            SurveyAnswer(
                question_id=question.id,
                citizen_id=people[person],
                option_keys=["digital"],
                language="en",
                poll_id=poll_id,
            )
        )
        session.add(
            QuickPollAnswer(
                quick_poll_id=quick.id, citizen_id=people[person], option_keys=["a"], language="en"
            )
        )


async def _library(session: AsyncSession, my_book_id: int) -> None:
    held = LibraryEvent(starts_at=PAST, place_text="ห้องสมุด", slots_per_book=4, created_by=ME)
    session.add(held)
    await session.flush()
    assert held.id is not None
    session.add_all(
        [
            LibraryEventBook(event_id=held.id, book_id=my_book_id),
            LibraryEventFacilitator(event_id=held.id, telegram_user_id=ME),
            LibraryReservation(
                event_id=held.id,
                book_id=my_book_id,
                telegram_user_id=ME,
                reader_name="Somchai Me",
                language="en",
                status=ReservationStatus.reserved,
                slot_index=0,
                seat=0,
                press_order=1,
                feedback_rating=5,
                feedback_text="Wonderful talk",
                feedback_language="en",
            ),
            LibraryReservation(
                event_id=held.id,
                book_id=my_book_id,
                telegram_user_id=OTHER,
                reader_name="Other Reader",
                language="th",
                status=ReservationStatus.released,
                slot_index=None,
                seat=None,
                press_order=2,
                stopped_at=PAST,
                stopped_by=ME,
            ),
            LibraryBan(book_id=my_book_id, telegram_user_id=OTHER, reported_by=ME),
            LibraryBan(book_id=my_book_id, telegram_user_id=ME, reported_by=OTHER),
        ]
    )


async def _council(session: AsyncSession) -> None:
    series = Series(
        kind=SeriesKind.council,
        title=NAMES,
        place_text="ร้านกาแฟ",
        local_time="08:00",
        timezone=TZ,
        first_start=PAST,
        duration_minutes=120,
        created_by=ME,
    )
    session.add(series)
    await session.flush()
    assert series.id is not None
    past = CouncilMeeting(
        series_id=series.id,
        original_start=PAST,
        starts_at=PAST,
        ends_at=PAST + timedelta(hours=2),
        title=NAMES,
        place_text="ร้านกาแฟ",
    )
    soon = START + timedelta(days=10)
    future = CouncilMeeting(
        series_id=series.id,
        original_start=soon,
        starts_at=soon,
        ends_at=soon + timedelta(hours=2),
        title=NAMES,
        place_text="ร้านกาแฟ",
    )
    session.add_all(
        [
            past,
            future,
            SeriesException(
                series_id=series.id, original_start=soon, cancelled=False, created_by=ME
            ),
            CouncilFacilitator(series_id=series.id, telegram_user_id=ME),
        ]
    )
    await session.flush()
    assert past.id is not None and future.id is not None
    item = CouncilAgendaItem(
        meeting_id=past.id, position=0, label=NAMES, source=AgendaSource.manual
    )
    session.add(item)
    await session.flush()
    assert item.id is not None
    for meeting in (past.id, future.id):
        for person in (ME, OTHER):
            session.add(
                CouncilRsvp(
                    meeting_id=meeting,
                    telegram_user_id=person,
                    answer=RsvpAnswer.yes,
                    language="en",
                    display_name=f"Name {person}",
                )
            )
    session.add_all(
        [
            CouncilSuggestion(
                meeting_id=past.id, telegram_user_id=ME, text="More coffee", language="en"
            ),
            CouncilAgendaPoll(
                poll_id="agenda-me",
                meeting_id=past.id,
                language="en",
                item_ids=[item.id],
                chat_id=ME,
                message_id=3,
            ),
            CouncilAgendaVote(meeting_id=past.id, item_id=item.id, telegram_user_id=ME),
            CouncilAttendance(
                meeting_id=past.id, telegram_user_id=ME, checked_in_at=PAST, checked_in_by=OTHER
            ),
            CouncilAttendance(
                meeting_id=past.id, telegram_user_id=OTHER, checked_in_at=PAST, checked_in_by=ME
            ),
            CouncilMinutes(
                meeting_id=past.id, text={"en": "minutes"}, recorded_by=ME, recorded_at=PAST
            ),
            CouncilActionItem(
                meeting_id=past.id,
                what="Paint the hall",
                owner_telegram_user_id=ME,
                owner_name="Somchai",
                due_on=date(2026, 2, 1),
                due_at=START + timedelta(days=27),
                created_by=ME,
            ),
        ]
    )
