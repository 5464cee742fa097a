"""Starting a flow's poll job: which sent polls are ours, and the job's periodic sweep."""

from __future__ import annotations

from typing import Any, Protocol

from telegram.ext import JobQueue

from bot.services import AnyApplication, Services
from schedules.dispatcher import PollSent
from storage.known_polls import KnownPolls


class PollJob(Protocol):
    """A schedules job that sends polls and wants to hear of each one sent."""

    async def on_poll_sent(self, sent: PollSent) -> None: ...

    def install(self, job_queue: JobQueue[Any], interval_seconds: float) -> None: ...


async def start_poll_job(
    app: AnyApplication, services: Services, known: KnownPolls, prefix: str, job: PollJob
) -> None:
    """Load the known poll ids, hear of polls sent with purpose `prefix`, install the job."""
    # Before any poll goes out and before polling starts: votes after a restart are ours.
    await known.try_load(services.db)

    async def on_poll_sent(sent: PollSent) -> None:
        known.add(sent.poll_id)  # before the record commits: a vote may come at once
        await job.on_poll_sent(sent)

    if services.dispatcher is not None:
        services.dispatcher.on_poll_sent(prefix, on_poll_sent)
    if app.job_queue is not None:
        job.install(app.job_queue, services.settings.reminder_sweep_seconds)
