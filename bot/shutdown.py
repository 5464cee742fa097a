"""Graceful shutdown within a bound, for both polling and webhook mode.

Order: stop taking updates (the updater stops polling; the webhook server answers 503), then
at once let the updates in hand finish (Application.stop) and let the dispatcher finish the
sends it has in flight while it gives back claims it has not sent (they stay pending in the
delivery log, as do sends waiting on a retry); then close the server, the dispatcher's Bot
and the scheduler.

The bound: everything above gets SHUTDOWN_TIMEOUT_SECONDS less a short grace. Past it, what is
left is cancelled, including sends in flight: those rows stay `sending` and are sent again on
the next start (the one duplicate the log cannot rule out, at most DISPATCH_CONCURRENCY).
A stop that needed the cancel is reported as not clean, and `learncity run` exits with 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

from bot.services import SERVICES_KEY, AnyApplication, Services
from storage.database import Database

logger = logging.getLogger(__name__)

# Kept back from the bound for cancelling and closing whatever overran it.
MAX_FORCE_GRACE = 1.0


class Intake:
    """Where updates come from (polling or webhook): started, stopped, closed."""

    async def start(self, app: AnyApplication, db: Database) -> None:
        """Begin taking updates."""

    async def stop(self) -> None:
        """Take no more updates (those in hand are still handled)."""

    async def close(self) -> None:
        """Release what start() opened."""


def force_grace(timeout: float) -> float:
    """The part of `timeout` kept for the forced close."""
    return min(MAX_FORCE_GRACE, timeout / 5)


async def shut_down(app: AnyApplication, intake: Intake, *, timeout: float) -> bool:
    """Stop `app` as described above; True if it stopped cleanly within `timeout` seconds."""
    grace = force_grace(timeout)
    clean = True
    try:
        async with asyncio.timeout(timeout - grace):
            await intake.stop()
            await asyncio.gather(*_stops(app, timeout - grace))
            await intake.close()
            if app.post_shutdown is not None:
                with contextlib.suppress(RuntimeError):  # post_init never ran
                    await app.post_shutdown(app)
    except TimeoutError:
        clean = False
        logger.error(
            "shutdown took longer than %.1f s: cancelling what is left (sends in flight are "
            "sent again on the next start)",
            timeout,
        )
        try:
            async with asyncio.timeout(grace):
                await _force_close(app, intake)
        except TimeoutError:
            logger.error("the forced close overran too; exiting anyway")
    with contextlib.suppress(RuntimeError):
        await app.shutdown()
    return clean


def _stops(app: AnyApplication, timeout: float) -> list[Awaitable[None]]:
    """Application.stop (updates in hand, jobs) and the dispatcher's stop, run together."""
    stops: list[Awaitable[None]] = []
    if app.running:
        stops.append(app.stop())
    services = _services(app)
    if services is not None and services.dispatcher is not None:
        stops.append(services.dispatcher.stop(timeout))
    return stops


async def _force_close(app: AnyApplication, intake: Intake) -> None:
    services = _services(app)
    if services is not None and services.dispatcher is not None:
        await services.dispatcher.stop(0)  # cancels the sends still in flight
        await services.dispatcher.bot.shutdown()
    if services is not None and services.answers is not None:
        # Survey answers already acknowledged to people: worth the rest of the grace.
        await services.answers.close()
    if app.job_queue is not None and app.job_queue.scheduler.running:
        app.job_queue.scheduler.shutdown(wait=False)
    await intake.close()


def _services(app: AnyApplication) -> Services | None:
    services = app.bot_data.get(SERVICES_KEY)
    return services if isinstance(services, Services) else None
