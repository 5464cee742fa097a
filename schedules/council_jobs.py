"""Coffee-council time jobs: meetings ahead, the agenda shortlist, the vote and its close.

One repeating job (the reminder sweep's interval), run by `CouncilJobs.run`:

1. materialises every series' meetings `MATERIALIZE_AHEAD` ahead (idempotent; at most hourly),
   so a monthly council always has its next meetings to RSVP to;
2. `AGENDA_LEAD_DAYS` before a meeting, offers its facilitators the agenda shortlist, once
   (`storage.council.claim_shortlist` marks it; the offer itself, with its buttons, is the
   handlers' `offer` callback: schedules know nothing of buttons);
3. while a meeting's vote is open, queues its agenda poll for people who said yes or maybe
   since the vote opened (the delivery log adds only recipients it does not have yet);
4. once a vote's closing time has passed, stops its polls (stopPoll) and tells the
   facilitators the agenda ordered by votes.

Why stopPoll and not `close_date`: a native poll closes by itself only within Telegram's
`close_date`/`open_period` limit (600 s for most of the Bot API's life; more in recent
versions, but never reliably for days), while the vote runs from the offer until 2 hours
before the meeting. So the polls are sent without a closing time, storage refuses votes
after `agenda_closes_at` (`record_agenda_vote` answers "closed"), and this job stops the
polls then, so people see the vote is over. After each run a one-off job is set for the next
closing time, so a poll is stopped on time rather than up to a sweep interval late.

A vote is "opened" by `open_vote` (agenda + poll messages in one transaction); its outbox
message "council-agenda:<meeting>" is the mark that the vote is open, and
"council-agenda-closed:<meeting>" (the facilitators' result notice) the mark that it was
closed: both survive restarts, so a poll is stopped once and the result told once.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackContext, JobQueue

from bot.i18n.catalog import LANGUAGES, Catalogs, Raw
from bot.i18n.dates import format_datetime
from schedules.dispatcher import Dispatcher, PollSent
from schedules.engine import JOB_KWARGS
from storage import audit, citizens, clock, council, deliveries
from storage.council import AgendaInput, AgendaItem, Meeting
from storage.database import AsyncSession, Database
from storage.deliveries import POLL_QUESTION_MAX_LENGTH, PollContent
from storage.errors import CouncilRefused, UnknownMeeting

logger = logging.getLogger(__name__)

COUNCIL_JOBS_KEY: Final = "council_jobs"  # bot_data key of the running CouncilJobs
SWEEP_JOB: Final = "council-sweep"
NEXT_JOB: Final = "council-next"
AGENDA_LEAD_DAYS: Final = 3
VOTE_CLOSES_BEFORE: Final = timedelta(hours=2)
# How long after a meeting's start a vote that was not closed (the bot was down) still is.
CLOSE_LOOKBACK: Final = timedelta(days=1)
# Meetings are materialised two months ahead: once an hour keeps that (a write transaction).
MATERIALIZE_EVERY: Final = timedelta(hours=1)
AGENDA_PREFIX: Final = "council-agenda:"
CLOSED_PREFIX: Final = "council-agenda-closed:"
MINUTES_PREFIX: Final = "council-minutes:"
NOTICE_KIND: Final = "council"
SYSTEM: Final = "system"
MIN_POLL_ITEMS: Final = 2  # a poll of one option asks nothing

OfferShortlist = Callable[[Meeting], Awaitable[int]]


def agenda_purpose(meeting_id: int) -> str:
    """The delivery-log purpose of a meeting's agenda polls: "council-agenda:<id>"."""
    return f"{AGENDA_PREFIX}{meeting_id}"


def closed_purpose(meeting_id: int) -> str:
    """The purpose of the facilitators' notice that the vote closed."""
    return f"{CLOSED_PREFIX}{meeting_id}"


def minutes_purpose(meeting_id: int, part: str = "") -> str:
    """The purpose of a meeting's minutes ("council-minutes:<id>", or "…:<id>:<part>")."""
    return f"{MINUTES_PREFIX}{meeting_id}" + (f":{part}" if part else "")


def meeting_of(purpose: str, prefix: str = AGENDA_PREFIX) -> int | None:
    """The meeting id in a purpose made by this module, or None."""
    if not purpose.startswith(prefix):
        return None
    rest = purpose.removeprefix(prefix)
    return int(rest) if rest.isdigit() else None


def vote_closes_at(meeting: Meeting, now: datetime) -> datetime | None:
    """When the vote closes: 2 hours before the start, or at the start if that is already
    past; None once the meeting has begun."""
    if meeting.starts_at <= now:
        return None
    closing = meeting.starts_at - VOTE_CLOSES_BEFORE
    return closing if closing > now else meeting.starts_at


def local_when(meeting: Meeting, language: str) -> str:
    """The meeting's start in its series' time zone, in `language`."""
    return format_datetime(meeting.starts_at, language, ZoneInfo(meeting.timezone))


def label_of(texts: Mapping[str, str], language: str) -> str:
    """A bilingual text in `language`, else in whichever language it has."""
    return texts.get(language) or next(iter(texts.values()), "")


def poll_content(
    catalogs: Catalogs, meeting: Meeting, items: Sequence[AgendaItem]
) -> dict[str, PollContent]:
    """The agenda poll in each language: the items by position, several answers allowed.

    Poll text is plain (not HTML), so the catalog's escaping is undone; labels are ≤ 100
    characters, Telegram's limit for an option.
    """
    content: dict[str, PollContent] = {}
    for language in LANGUAGES:
        question = catalogs.text(
            language,
            "cadm.poll_question",
            title=label_of(meeting.title, language),
            when=local_when(meeting, language),
        )
        content[language] = PollContent(
            question=html.unescape(question)[:POLL_QUESTION_MAX_LENGTH],
            options=[label_of(item.label, language) for item in items],
            is_anonymous=False,  # a vote must name its voter: one vote per citizen, with consent
            allows_multiple_answers=True,
        )
    return content


@dataclass(frozen=True)
class OpenedVote:
    """What opening a vote did: the agenda, how many people get a poll, when it closes."""

    items: list[AgendaItem]
    recipients: int
    closes_at: datetime


class VoteAlreadyOpen(Exception):
    """The meeting's vote was opened before (by another facilitator, or a double tap)."""


async def open_vote(
    db: Database,
    catalogs: Catalogs,
    meeting_id: int,
    items: Sequence[AgendaInput],
    *,
    by: int,
    dispatcher: Dispatcher | None = None,
) -> OpenedVote:
    """Set the agenda and queue a poll for everyone who said yes or maybe, in one transaction.

    Raises VoteAlreadyOpen; ValueError (fewer than 2 or more than 12 items, bad labels);
    UnknownMeeting; CouncilRefused (cancelled, past, agenda_polled).
    """
    if len(items) < MIN_POLL_ITEMS:
        raise ValueError(f"a vote needs at least {MIN_POLL_ITEMS} items")
    async with db.session() as session:
        meeting = await council.get_meeting(meeting_id, session=session)
        if meeting is None:
            raise UnknownMeeting(meeting_id)
        closes_at = vote_closes_at(meeting, clock.now())
        if closes_at is None:
            raise CouncilRefused("past")
        # set_agenda locks the meeting, so a second opening waits here and then sees the mark.
        agenda = await council.set_agenda(
            meeting_id, items, closes_at=closes_at, by=by, session=session
        )
        if await deliveries.get_message(agenda_purpose(meeting_id), session=session):
            raise VoteAlreadyOpen(meeting_id)
        people = await council.attendees_to_tell(meeting_id, session=session)
        await deliveries.enqueue(
            agenda_purpose(meeting_id),
            deliveries.POLL_KIND,
            poll_content(catalogs, meeting, agenda),
            [deliveries.citizen_recipient(p.telegram_user_id, p.language) for p in people],
            created_by=audit.actor_for(by),
            audience=f"council_meeting:{meeting_id}",
            session=session,
        )
    if people and dispatcher is not None:
        dispatcher.wake()
    return OpenedVote(agenda, len(people), closes_at)


async def vote_opened(meeting_id: int, *, session: AsyncSession) -> bool:
    """True once the meeting's vote was opened (its agenda can no longer change)."""
    return await deliveries.get_message(agenda_purpose(meeting_id), session=session) is not None


@dataclass
class CouncilRun:
    """What one run did."""

    materialized: int = 0
    offered: int = 0
    late_polls: int = 0
    closed: int = 0
    polls_stopped: int = 0
    next_close_at: datetime | None = None


class CouncilJobs:
    """The council job and poll hook of a running bot; stored in `bot_data[COUNCIL_JOBS_KEY]`."""

    def __init__(
        self,
        db: Database,
        catalogs: Catalogs,
        bot: Bot,
        *,
        dispatcher: Dispatcher | None = None,
        offer: OfferShortlist | None = None,
        default_language: str = "th",
    ) -> None:
        self.db = db
        self.catalogs = catalogs
        self.bot = bot
        self.dispatcher = dispatcher
        self.offer = offer
        self.default_language = default_language
        self.last_run: CouncilRun | None = None
        self._lock = asyncio.Lock()  # the repeating job and the exact one never overlap
        self._materialized_at: datetime | None = None

    def install(self, job_queue: JobQueue[Any], interval_seconds: float) -> None:
        """Add the repeating job (first run at once: what fell due while the bot was down)."""
        job_queue.run_repeating(
            _on_council_job,
            interval=interval_seconds,
            first=0,
            name=SWEEP_JOB,
            job_kwargs=JOB_KWARGS,
        )

    async def run(
        self, *, now: datetime | None = None, job_queue: JobQueue[Any] | None = None
    ) -> CouncilRun:
        """One pass over the meetings ahead (and of the last day); see the module doc."""
        async with self._lock:
            result = await self._run(now or clock.now())
        self.last_run = result
        if job_queue is not None:
            self._plan_next(job_queue, result.next_close_at)
        return result

    async def _run(self, now: datetime) -> CouncilRun:
        result = CouncilRun()
        due = self._materialized_at is None or now - self._materialized_at >= MATERIALIZE_EVERY
        try:
            if due:
                async with self.db.session() as session:
                    ahead = now + council.MATERIALIZE_AHEAD
                    created = await council.materialize_all(ahead, session=session)
                result.materialized = len(created)
                self._materialized_at = now
        except Exception:  # the meetings already there still get their shortlist and close
            logger.exception("council meetings could not be materialised")
        async with self.db.session(readonly=True) as session:
            meetings = await council.meetings_between(
                now - CLOSE_LOOKBACK, now + council.MATERIALIZE_AHEAD, session=session
            )
        for meeting in meetings:
            try:
                await self._meeting(meeting, now, result)
            except Exception:  # one meeting's trouble must not hold up the others
                logger.exception("the council job failed for a meeting")
        if result.offered or result.closed or result.late_polls:
            logger.info(
                "council: %d shortlists offered, %d polls queued late, %d votes closed",
                result.offered,
                result.late_polls,
                result.closed,
            )
        return result

    async def _meeting(self, meeting: Meeting, now: datetime, result: CouncilRun) -> None:
        """Offer its shortlist, queue its poll for late attendees, or close its vote."""
        closes = meeting.agenda_closes_at
        if now < meeting.starts_at <= now + timedelta(days=AGENDA_LEAD_DAYS):
            result.offered += await self._offer(meeting)
        if closes is not None and closes <= now:
            stopped = await self._close(meeting)
            if stopped is not None:
                result.closed += 1
                result.polls_stopped += stopped
        elif closes is not None:
            result.late_polls += await self._late_polls(meeting)
            if result.next_close_at is None or closes < result.next_close_at:
                result.next_close_at = closes

    async def _offer(self, meeting: Meeting) -> int:
        """Offer the shortlist once; the claim is committed first (at most once)."""
        async with self.db.session() as session:
            if not await council.claim_shortlist(meeting.id, session=session):
                return 0
        if self.offer is None:
            return 0
        try:
            return await self.offer(meeting)
        except TelegramError:
            logger.warning("could not offer the agenda shortlist", exc_info=True)
            return 0

    async def _late_polls(self, meeting: Meeting) -> int:
        """Queue the open vote's poll for yes/maybe people who do not have it yet."""
        async with self.db.session() as session:
            message = await deliveries.get_message(agenda_purpose(meeting.id), session=session)
            if message is None:
                return 0
            people = await council.attendees_to_tell(meeting.id, session=session)
            before = await _recipient_count(message.id, session)
            await deliveries.enqueue(
                message.purpose,
                deliveries.POLL_KIND,
                message.content,
                [deliveries.citizen_recipient(p.telegram_user_id, p.language) for p in people],
                created_by=SYSTEM,
                audience=message.audience,
                session=session,
            )
            added = await _recipient_count(message.id, session) - before
        if added and self.dispatcher is not None:
            self.dispatcher.wake()
        return added

    async def _close(self, meeting: Meeting) -> int | None:
        """Stop the meeting's polls and tell its facilitators the result, once: how many
        polls were stopped, or None when the vote was closed before."""
        async with self.db.session(readonly=True) as session:
            if await deliveries.get_message(closed_purpose(meeting.id), session=session):
                return None
            polls = await council.agenda_polls(meeting.id, session=session)
        stopped = 0
        for poll in polls:
            if poll.chat_id is None or poll.message_id is None:
                continue
            try:
                await self.bot.stop_poll(poll.chat_id, poll.message_id)
                stopped += 1
            except (BadRequest, Forbidden) as error:
                # Already closed (a run cut short before its mark), deleted, or blocked.
                logger.info("an agenda poll could not be stopped: %s", error.message)
            except TelegramError:
                logger.warning("an agenda poll could not be stopped", exc_info=True)
        await self._tell_result(meeting)
        return stopped

    async def _tell_result(self, meeting: Meeting) -> None:
        """The agenda ordered by votes, to each facilitator in their language (the mark)."""
        async with self.db.session() as session:
            items = await council.agenda_result(meeting.id, session=session)
            facilitators = await council.series_facilitators(meeting.series_id, session=session)
            recipients = []
            for facilitator in facilitators:
                person = await citizens.get_citizen(facilitator, session=session)
                language = person.language if person is not None else self.default_language
                recipients.append(deliveries.citizen_recipient(facilitator, language))
            await deliveries.enqueue(
                closed_purpose(meeting.id),
                NOTICE_KIND,
                {lang: self.result_text(meeting, items, lang) for lang in LANGUAGES},
                recipients,
                created_by=SYSTEM,
                audience=f"council_meeting:{meeting.id}",
                session=session,
            )
        if recipients and self.dispatcher is not None:
            self.dispatcher.wake()

    def result_text(self, meeting: Meeting, items: Sequence[AgendaItem], language: str) -> str:
        """ "The vote is closed" with the agenda ordered by votes."""
        lines = [
            self.catalogs.text(
                language,
                "cadm.result_line",
                number=index,
                label=label_of(item.label, language),
                votes=item.votes,
            )
            for index, item in enumerate(items, start=1)
        ]
        return self.catalogs.text(
            language,
            "cadm.vote_closed_notice",
            title=label_of(meeting.title, language),
            when=local_when(meeting, language),
            items=Raw("\n".join(lines)),
        )

    def _plan_next(self, job_queue: JobQueue[Any], at: datetime | None) -> None:
        for job in job_queue.get_jobs_by_name(NEXT_JOB):
            job.schedule_removal()
        if at is not None:
            job_queue.run_once(_on_council_job, when=at, name=NEXT_JOB, job_kwargs=JOB_KWARGS)

    async def on_poll_sent(self, sent: PollSent) -> None:
        """Dispatcher hook: remember which meeting a sent agenda poll is for."""
        meeting_id = meeting_of(sent.purpose)
        if meeting_id is None:
            logger.warning("an agenda poll with an unexpected purpose: %s", sent.purpose)
            return
        async with self.db.session() as session:
            await council.record_agenda_poll(
                sent.poll_id,
                meeting_id,
                sent.language,
                chat_id=sent.chat_id,
                message_id=sent.telegram_message_id,
                session=session,
            )


async def _recipient_count(message_id: int | None, session: AsyncSession) -> int:
    assert message_id is not None
    return (await deliveries.report(message_id, session=session)).total


async def _on_council_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Module-level job callback: find the council jobs and run them."""
    jobs = context.application.bot_data.get(COUNCIL_JOBS_KEY)
    if isinstance(jobs, CouncilJobs):
        await jobs.run(job_queue=context.job_queue)
