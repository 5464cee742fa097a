"""The daily retention job: free texts older than RETENTION_DAYS are anonymised.

It runs once a day at RETENTION_TIME (city time), and once a minute after start-up so a bot
that was down at that hour still catches up. The work is done in batches, one short
transaction each, until nothing older than the limit is left (see `storage.retention`).
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from telegram.ext import CallbackContext, JobQueue

from schedules.engine import JOB_KWARGS
from storage import clock, retention
from storage.database import Database
from storage.retention import Anonymised

logger = logging.getLogger(__name__)

RETENTION_KEY: Final = "retention"  # bot_data key of the running RetentionJob
DAILY_JOB: Final = "retention-daily"
CATCH_UP_JOB: Final = "retention-catch-up"
CATCH_UP_DELAY_SECONDS: Final = 60.0


def parse_time(value: str, tz: ZoneInfo) -> time:
    """ "HH:MM" as a wall-clock time in `tz` (PTB's run_daily reads the tzinfo)."""
    hours, minutes = (int(part) for part in value.split(":"))
    return time(hours, minutes, tzinfo=tz)


async def anonymise_old_texts(
    db: Database,
    retention_days: int,
    *,
    now: datetime | None = None,
    batch: int = retention.DEFAULT_BATCH,
) -> Anonymised:
    """Anonymise every free text older than `retention_days`; return the counts."""
    before = retention.cutoff(now or clock.now(), retention_days)
    done = Anonymised()
    while True:
        async with db.session() as session:
            step = await retention.anonymise_batch(before, limit=batch, session=session)
        done += step
        if step.total == 0:
            break
    if done.total:
        async with db.session() as session:
            await retention.record_run(done, retention_days, session=session)
        logger.info(
            "retention: anonymised %d needs, %d suggestions, %d feedback texts",
            done.needs,
            done.suggestions,
            done.feedback,
        )
    return done


class RetentionJob:
    """The job's settings in a running bot; stored in `bot_data[RETENTION_KEY]`."""

    def __init__(self, db: Database, retention_days: int) -> None:
        self.db = db
        self.retention_days = retention_days
        self.last_run: Anonymised | None = None

    def install(self, job_queue: JobQueue[Any], at: time) -> None:
        """Add the daily run at `at` and one catch-up run shortly after start-up."""
        job_queue.run_daily(_on_retention_job, time=at, name=DAILY_JOB, job_kwargs=JOB_KWARGS)
        job_queue.run_once(
            _on_retention_job, when=CATCH_UP_DELAY_SECONDS, name=CATCH_UP_JOB, job_kwargs=JOB_KWARGS
        )

    async def run(self, *, now: datetime | None = None) -> Anonymised:
        """Anonymise what is past the limit now."""
        self.last_run = await anonymise_old_texts(self.db, self.retention_days, now=now)
        return self.last_run


async def _on_retention_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Module-level job callback: find the job and run it."""
    job = context.application.bot_data.get(RETENTION_KEY)
    if isinstance(job, RetentionJob):
        await job.run()
