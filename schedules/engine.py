"""The time engine in a running bot: the dispatcher plus the reminder jobs on PTB's JobQueue.

Jobs are module-level callbacks rebuilt from the database at every start (no pickled job
store). A repeating sweep is the safety net; after each sweep a one-off job is set for the
next reminder's exact time. Misfire grace is set deliberately: a job that runs late (the
machine was busy or asleep) still runs, instead of APScheduler's 1 s default silently
dropping it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram.ext import CallbackContext, JobQueue

from bot.i18n.catalog import Catalogs
from schedules.dispatcher import Dispatcher
from schedules.reminders import ReminderPolicy, SweepResult, sweep
from storage.database import Database

logger = logging.getLogger(__name__)

ENGINE_KEY = "time_engine"
SWEEP_JOB = "reminders-sweep"
NEXT_JOB = "reminders-next"
JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


class TimeEngine:
    """Holds what the reminder jobs need; stored in `bot_data[ENGINE_KEY]`."""

    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        catalogs: Catalogs,
        policy: ReminderPolicy,
        *,
        sweep_interval_seconds: float,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.catalogs = catalogs
        self.policy = policy
        self.sweep_interval_seconds = sweep_interval_seconds
        self.last_sweep: SweepResult | None = None

    def install(self, job_queue: JobQueue[Any]) -> None:
        """Add the repeating sweep; its first run (at once) plans the next exact job."""
        job_queue.run_repeating(
            _on_sweep_job,
            interval=self.sweep_interval_seconds,
            first=0,
            name=SWEEP_JOB,
            job_kwargs=JOB_KWARGS,
        )

    async def sweep_now(self, job_queue: JobQueue[Any] | None = None) -> SweepResult:
        """Queue due reminders, wake the dispatcher, and set the job for the next one."""
        result = await sweep(self.db, self.catalogs, self.policy)
        self.last_sweep = result
        if result.enqueued:
            self.dispatcher.wake()
        if job_queue is not None:
            self._plan_next(job_queue, result.next_fire_at)
        return result

    def _plan_next(self, job_queue: JobQueue[Any], at: datetime | None) -> None:
        for job in job_queue.get_jobs_by_name(NEXT_JOB):
            job.schedule_removal()
        if at is not None:
            job_queue.run_once(_on_sweep_job, when=at, name=NEXT_JOB, job_kwargs=JOB_KWARGS)


async def _on_sweep_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Module-level job callback: find the engine and sweep."""
    engine = context.application.bot_data.get(ENGINE_KEY)
    if isinstance(engine, TimeEngine):
        await engine.sweep_now(context.job_queue)
