"""The council job: meetings ahead, the shortlist offered once, the vote opened, late voters,
the polls stopped at the closing time and the result told once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

import pytest
from sqlmodel import col, select
from telegram import Bot
from telegram.error import BadRequest

from bot.i18n.catalog import catalogs
from schedules.council_jobs import (
    CouncilJobs,
    VoteAlreadyOpen,
    agenda_purpose,
    closed_purpose,
    meeting_of,
    open_vote,
    poll_content,
    vote_closes_at,
)
from schedules.dispatcher import PollSent
from storage import council, deliveries
from storage.clock import ManualClock, set_clock
from storage.council import AgendaInput, Meeting
from storage.database import Database
from storage.enums import RsvpAnswer
from storage.errors import CouncilRefused
from storage.models import Delivery, OutboxMessage
from storage.recurrence import SATURDAY, nth_weekday
from tests.storage.factories import ALL_GRANTED, registered

NOW = datetime(2030, 1, 7, 3, 0, tzinfo=UTC)  # Monday 10:00 in Yala
FEB = datetime(2030, 2, 2, 1, 0, tzinfo=UTC)  # first Saturday, 08:00 in Yala
FACILITATOR, THAI, ENGLISH, ABSENT = 7000, 7001, 7002, 7003
TITLE = {"th": "สภากาแฟยะลา", "en": "Yala coffee council"}
ITEMS = [
    AgendaInput(label={"th": "ตลาดนัด & ชุมชน", "en": "Market & community"}),
    AgendaInput(label={"th": "มุมอ่านหนังสือ", "en": "Reading corner"}),
]


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    manual = ManualClock(NOW)
    set_clock(manual)
    try:
        yield manual
    finally:
        set_clock(None)


@dataclass
class FakeBot:
    """Records stopPoll calls; refuses the ones listed in `refuse`."""

    stopped: list[tuple[int, int]] = field(default_factory=list)
    refuse: set[int] = field(default_factory=set)

    async def stop_poll(self, chat_id: int, message_id: int, **_: Any) -> None:
        if chat_id in self.refuse:
            raise BadRequest("Poll has already been closed")
        self.stopped.append((chat_id, message_id))


@dataclass
class Offers:
    meetings: list[int] = field(default_factory=list)

    async def __call__(self, meeting: Meeting) -> int:
        self.meetings.append(meeting.id)
        return 1


async def _council(db: Database) -> Meeting:
    """A first-Saturday council: THAI said yes, ENGLISH maybe, ABSENT no."""
    await registered(db, FACILITATOR, ALL_GRANTED, language="en")
    for user_id, language in ((THAI, "th"), (ENGLISH, "en"), (ABSENT, "th")):
        await registered(db, user_id, ALL_GRANTED, language=language)
    async with db.session() as session:
        await council.create_series(
            title=TITLE, place_text="Yala", rule=nth_weekday(1, SATURDAY, time(8, 0)),
            created_by=FACILITATOR, session=session,
        )  # fmt: skip
        meeting = await council.next_meeting(NOW, session=session)
        assert meeting is not None and meeting.starts_at == FEB
        for user_id, answer, language in (
            (THAI, RsvpAnswer.yes, "th"),
            (ENGLISH, RsvpAnswer.maybe, "en"),
            (ABSENT, RsvpAnswer.no, "th"),
        ):
            await council.rsvp(meeting.id, user_id, answer, language, session=session)
    return meeting


async def _deliveries(db: Database, purpose: str) -> list[Delivery]:
    async with db.session() as session:
        message = await deliveries.get_message(purpose, session=session)
        if message is None:
            return []
        rows = await session.exec(
            select(Delivery).where(Delivery.message_id == message.id).order_by(col(Delivery.id))
        )
        return list(rows.all())


def _jobs(db: Database, bot: FakeBot | None = None, offers: Offers | None = None) -> CouncilJobs:
    return CouncilJobs(db, catalogs(), cast(Bot, bot or FakeBot()), offer=offers)


def test_purposes_name_their_meeting() -> None:
    assert agenda_purpose(12) == "council-agenda:12" and meeting_of("council-agenda:12") == 12
    assert meeting_of("council-agenda:x") is None and meeting_of("library-feedback:3") is None
    assert meeting_of(closed_purpose(4), "council-agenda-closed:") == 4


async def test_the_vote_closes_two_hours_before_or_at_the_start(
    db: Database, clock: ManualClock
) -> None:
    meeting = await _council(db)
    assert vote_closes_at(meeting, NOW) == FEB - timedelta(hours=2)
    assert vote_closes_at(meeting, FEB - timedelta(hours=1)) == FEB, "opened late: at the start"
    assert vote_closes_at(meeting, FEB) is None


async def test_poll_content_is_plain_text_in_each_language(
    db: Database, clock: ManualClock
) -> None:
    meeting = await _council(db)
    async with db.session() as session:
        items = await council.set_agenda(meeting.id, ITEMS, by=FACILITATOR, session=session)
    content = poll_content(catalogs(), meeting, items)
    assert content["th"]["options"] == ["ตลาดนัด & ชุมชน", "มุมอ่านหนังสือ"]
    assert content["en"]["question"] == (
        "Yala coffee council, Sat 2 Feb 2030, 08:00: which topics should we discuss? (choose any)"
    )
    assert content["th"]["question"].startswith("สภากาแฟยะลา เสาร์ 2 ก.พ. 2573, 08:00 น.: ")
    assert all(not c["is_anonymous"] and c["allows_multiple_answers"] for c in content.values())


async def test_opening_the_vote_sets_the_agenda_and_queues_a_poll_per_attendee(
    db: Database, clock: ManualClock
) -> None:
    meeting = await _council(db)
    with pytest.raises(ValueError):
        await open_vote(db, catalogs(), meeting.id, ITEMS[:1], by=FACILITATOR)
    opened = await open_vote(db, catalogs(), meeting.id, ITEMS, by=FACILITATOR)
    assert (opened.recipients, opened.closes_at) == (2, FEB - timedelta(hours=2))
    assert [item.label["en"] for item in opened.items] == ["Market & community", "Reading corner"]
    rows = await _deliveries(db, agenda_purpose(meeting.id))
    assert [(d.chat_id, d.language) for d in rows] == [(THAI, "th"), (ENGLISH, "en")]
    with pytest.raises(VoteAlreadyOpen):  # and the agenda stays as it was
        await open_vote(db, catalogs(), meeting.id, ITEMS[::-1], by=FACILITATOR)
    async with db.session() as session:
        kept = await council.agenda(meeting.id, session=session)
    assert [item.label["en"] for item in kept] == ["Market & community", "Reading corner"]
    # Once a poll is recorded, storage itself refuses a new agenda.
    jobs = _jobs(db)
    await jobs.on_poll_sent(PollSent(agenda_purpose(meeting.id), THAI, "th", "p1", 55))
    with pytest.raises(CouncilRefused):
        await open_vote(db, catalogs(), meeting.id, ITEMS, by=FACILITATOR)
    clock.set(FEB + timedelta(minutes=1))
    with pytest.raises(CouncilRefused):
        await open_vote(db, catalogs(), meeting.id, ITEMS, by=FACILITATOR)


async def test_a_sent_poll_is_mapped_to_its_meeting(db: Database, clock: ManualClock) -> None:
    meeting = await _council(db)
    await open_vote(db, catalogs(), meeting.id, ITEMS, by=FACILITATOR)
    jobs = _jobs(db)
    await jobs.on_poll_sent(PollSent(agenda_purpose(meeting.id), THAI, "th", "p1", 55))
    await jobs.on_poll_sent(PollSent("council-agenda:oops", THAI, "th", "p2", 56))  # ignored
    async with db.session() as session:
        poll = await council.agenda_poll("p1", session=session)
        assert await council.agenda_poll("p2", session=session) is None
    assert poll is not None and (poll.meeting_id, poll.chat_id, poll.message_id) == (
        meeting.id,
        THAI,
        55,
    )


async def test_the_shortlist_is_offered_once_three_days_before(
    db: Database, clock: ManualClock
) -> None:
    meeting = await _council(db)
    offers = Offers()
    jobs = _jobs(db, offers=offers)
    clock.set(FEB - timedelta(days=3, minutes=1))
    assert (await jobs.run()).offered == 0
    clock.set(FEB - timedelta(days=3) + timedelta(minutes=1))
    assert (await jobs.run()).offered == 1
    assert (await jobs.run()).offered == 0
    assert offers.meetings == [meeting.id]


async def test_meetings_ahead_are_materialised_as_time_passes(
    db: Database, clock: ManualClock
) -> None:
    await _council(db)
    jobs = _jobs(db)
    assert (await jobs.run()).materialized == 0, "two months ahead at creation"
    clock.set(NOW + timedelta(days=40))
    assert (await jobs.run()).materialized == 1
    assert (await jobs.run()).materialized == 0


async def test_late_attendees_get_the_poll_and_the_vote_is_closed_once(
    db: Database, clock: ManualClock
) -> None:
    meeting = await _council(db)
    bot = FakeBot(refuse={ENGLISH})
    jobs = _jobs(db, bot)
    await open_vote(db, catalogs(), meeting.id, ITEMS, by=FACILITATOR)
    run = await jobs.run()
    assert (run.late_polls, run.next_close_at) == (0, FEB - timedelta(hours=2))

    async with db.session() as session:  # ABSENT changes their mind
        await council.rsvp(meeting.id, ABSENT, RsvpAnswer.yes, "th", session=session)
    assert (await jobs.run()).late_polls == 1
    assert (await jobs.run()).late_polls == 0
    rows = await _deliveries(db, agenda_purpose(meeting.id))
    assert [d.chat_id for d in rows] == [THAI, ENGLISH, ABSENT]

    for index, (user_id, language) in enumerate(((THAI, "th"), (ENGLISH, "en"), (ABSENT, "th"))):
        await jobs.on_poll_sent(
            PollSent(agenda_purpose(meeting.id), user_id, language, f"p{index}", 100 + index)
        )
    async with db.session() as session:
        assert await council.record_agenda_vote("p0", THAI, [1], session=session) == "stored"
        assert await council.record_agenda_vote("p2", ABSENT, [0, 1], session=session) == "stored"

    clock.set(FEB - timedelta(hours=2) - timedelta(seconds=1))
    assert (await jobs.run()).closed == 0 and bot.stopped == []
    clock.set(FEB - timedelta(hours=2))
    run = await jobs.run()
    assert (run.closed, run.polls_stopped) == (1, 2), "one poll was already closed"
    assert bot.stopped == [(THAI, 100), (ABSENT, 102)]
    assert (await jobs.run()).closed == 0, "once"
    assert bot.stopped == [(THAI, 100), (ABSENT, 102)]
    async with db.session() as session:
        assert await council.record_agenda_vote("p1", ENGLISH, [0], session=session) == "closed"
        notice = await deliveries.get_message(closed_purpose(meeting.id), session=session)
    assert notice is not None
    assert [d.chat_id for d in await _deliveries(db, closed_purpose(meeting.id))] == [FACILITATOR]
    assert notice.content["en"].index("1. Reading corner — 2 vote(s)") < notice.content["en"].index(
        "2. Market &amp; community — 1 vote(s)"
    )


async def test_outbox_holds_nothing_for_a_council_without_a_vote(
    db: Database, clock: ManualClock
) -> None:
    await _council(db)
    clock.set(FEB + timedelta(hours=1))
    run = await _jobs(db).run()
    assert (run.closed, run.late_polls, run.next_close_at) == (0, 0, None)
    async with db.session() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []
