"""After a human-library loan: a native 1–5 rating poll for the reader, through the dispatcher.

A repeating job (same interval as the reminder sweep) finds loans that ended and were not yet
asked (`loans_needing_feedback`), and for each one marks it asked and queues a `poll` message
in the same transaction, so a reader is asked once even if two sweeps overlap or the process
dies between the two. The dispatcher sends the poll in the reader's language; its poll-sent
hook (`FeedbackAsker.on_poll_sent`, registered by `handlers.library`) stores the poll id, so
the vote, which arrives by poll id only, finds its loan.

A reader who has since withdrawn consent to the human library, or who asked to be forgotten,
is marked asked and not sent anything.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from telegram.ext import CallbackContext, JobQueue

from bot.i18n.catalog import LANGUAGES, Catalogs
from schedules.dispatcher import Dispatcher, PollSent
from schedules.engine import JOB_KWARGS
from storage import citizens, clock, deliveries, library
from storage.database import Database
from storage.deliveries import POLL_QUESTION_MAX_LENGTH, PollContent
from storage.enums import Purpose

logger = logging.getLogger(__name__)

FEEDBACK_KEY: Final = "library_feedback"  # bot_data key of the running FeedbackAsker
FEEDBACK_JOB: Final = "library-feedback"
PURPOSE_PREFIX: Final = "library-feedback:"
SYSTEM: Final = "system"
RATINGS: Final = (1, 2, 3, 4, 5)


def feedback_purpose(reservation_id: int) -> str:
    """The delivery-log purpose of one loan's rating poll: "library-feedback:<id>"."""
    return f"{PURPOSE_PREFIX}{reservation_id}"


def reservation_of(purpose: str) -> int | None:
    """The reservation id in a feedback poll's purpose, or None for any other purpose."""
    if not purpose.startswith(PURPOSE_PREFIX):
        return None
    rest = purpose.removeprefix(PURPOSE_PREFIX)
    return int(rest) if rest.isdigit() else None


def poll_content(catalogs: Catalogs, title: Mapping[str, str]) -> dict[str, PollContent]:
    """The rating poll in every language: the question names the book; options 1 to 5.

    Poll questions and options are plain text (not HTML), so the catalog's escaping is undone.
    """
    content: dict[str, PollContent] = {}
    for language in LANGUAGES:
        book = title.get(language) or next(iter(title.values()), "")
        question = html.unescape(catalogs.text(language, "library.feedback_question", title=book))
        options = [
            html.unescape(catalogs.text(language, f"library.feedback_option_{rating}"))
            for rating in RATINGS
        ]
        content[language] = PollContent(
            question=question[:POLL_QUESTION_MAX_LENGTH],
            options=options,
            is_anonymous=False,  # the vote must name its voter to reach the right loan
            allows_multiple_answers=False,
        )
    return content


@dataclass(frozen=True)
class FeedbackRun:
    """What one run did: polls queued, and loans marked asked without a poll."""

    asked: int = 0
    skipped: int = 0


async def ask_for_feedback(
    db: Database, catalogs: Catalogs, *, now: datetime | None = None
) -> FeedbackRun:
    """Queue a rating poll for every loan that ended by `now` and was not asked yet."""
    moment = now or clock.now()
    async with db.session(readonly=True) as session:
        due = await library.loans_needing_feedback(now=moment, session=session)
    asked = skipped = 0
    for loan in due:
        async with db.session() as session:
            # Claimed and queued in one transaction: asked once, whatever overlaps or dies.
            if not await library.mark_feedback_asked(loan.reservation_id, session=session):
                continue
            reader = await citizens.get_citizen(loan.telegram_user_id, session=session)
            consents = reader is not None and await citizens.has_consent(
                loan.telegram_user_id, Purpose.human_library, session=session
            )
            if reader is None or not consents:
                skipped += 1
                continue
            await deliveries.enqueue(
                feedback_purpose(loan.reservation_id),
                deliveries.POLL_KIND,
                poll_content(catalogs, loan.book_title),
                [deliveries.citizen_recipient(loan.telegram_user_id, reader.language)],
                created_by=SYSTEM,
                audience=f"library_event:{loan.event_id}",
                session=session,
            )
            asked += 1
    if asked or skipped:
        logger.info("library feedback: %d polls queued, %d readers not asked", asked, skipped)
    return FeedbackRun(asked=asked, skipped=skipped)


class FeedbackAsker:
    """The feedback job and poll hook of a running bot; stored in `bot_data[FEEDBACK_KEY]`."""

    def __init__(self, db: Database, catalogs: Catalogs, dispatcher: Dispatcher | None) -> None:
        self.db = db
        self.catalogs = catalogs
        self.dispatcher = dispatcher
        self.last_run: FeedbackRun | None = None

    def install(self, job_queue: JobQueue[Any], interval_seconds: float) -> None:
        """Add the repeating job (first run at once: loans that ended while the bot was down)."""
        job_queue.run_repeating(
            _on_feedback_job,
            interval=interval_seconds,
            first=0,
            name=FEEDBACK_JOB,
            job_kwargs=JOB_KWARGS,
        )

    async def run(self, *, now: datetime | None = None) -> FeedbackRun:
        """Queue the due rating polls and wake the dispatcher to send them."""
        result = await ask_for_feedback(self.db, self.catalogs, now=now)
        self.last_run = result
        if result.asked and self.dispatcher is not None:
            self.dispatcher.wake()
        return result

    async def on_poll_sent(self, sent: PollSent) -> None:
        """Dispatcher hook: remember which loan the sent poll asks about."""
        reservation_id = reservation_of(sent.purpose)
        if reservation_id is None:
            logger.warning("a feedback poll with an unexpected purpose: %s", sent.purpose)
            return
        async with self.db.session() as session:
            await library.record_feedback_poll(sent.poll_id, reservation_id, session=session)


async def _on_feedback_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Module-level job callback: find the asker and run it."""
    asker = context.application.bot_data.get(FEEDBACK_KEY)
    if isinstance(asker, FeedbackAsker):
        await asker.run()
