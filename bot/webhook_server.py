"""Webhook mode's HTTP side: Telegram POSTs updates here; a supervisor GETs /healthz.

The bot's own aiohttp server (not PTB's tornado one) so that the same port answers health
checks. A POST is accepted only with the secret set by setWebhook, compared in constant time;
its update is parsed and put on the Application's update queue, and 200 says "received" (the
update is handled afterwards, as PTB's own webhook server does). While the bot stops, new POSTs
get 503: Telegram keeps those updates and delivers them to the next start.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from typing import Any

from aiohttp import web
from telegram import Update

from bot.services import SERVICES_KEY, AnyApplication
from storage.database import Database

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# Telegram's updates are a few kilobytes; a megabyte is generous and bounds a hostile body.
MAX_BODY_BYTES = 1024 * 1024
# A health probe answers within this, whatever the database does.
HEALTH_DB_TIMEOUT = 2.0
# Requests in hand get this long to finish once the server closes (the update is queued by then).
CLOSE_GRACE_SECONDS = 1.0


class WebhookServer:
    """Serves the webhook path and /healthz for one Application."""

    def __init__(
        self,
        app: AnyApplication,
        *,
        secret: str,
        path: str,
        database: Database,
        listen: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        if path == HEALTH_PATH:
            raise ValueError(f"the webhook path cannot be {HEALTH_PATH}")
        self.app = app
        self.path = path
        self.database = database
        self.listen = listen
        self.port = port
        self.accepting = False
        self.received = 0
        self._secret = secret.encode()
        self._last_update_at: float | None = None
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        """The aiohttp application (also for aiohttp's test client)."""
        web_app = web.Application(client_max_size=MAX_BODY_BYTES)
        web_app.router.add_post(self.path, self._on_update)
        web_app.router.add_get(HEALTH_PATH, self._on_health)
        return web_app

    async def start(self) -> None:
        """Listen; afterwards `port` is the real one (port 0 picks a free port)."""
        self._runner = web.AppRunner(
            self.web_app(), access_log=None, shutdown_timeout=CLOSE_GRACE_SECONDS
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        for address in self._runner.addresses:
            self.port = int(address[1])
            break
        self.accepting = True

    def stop_accepting(self) -> None:
        """From now on updates are refused with 503 (Telegram keeps them for the next start)."""
        self.accepting = False

    async def close(self) -> None:
        """Stop listening; requests in hand get CLOSE_GRACE_SECONDS to finish."""
        self.accepting = False
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            logger.warning("webhook request refused: wrong or missing secret token")
            return web.Response(status=403, text="forbidden")
        if not self.accepting:
            return web.Response(status=503, text="stopping", headers={"Retry-After": "5"})
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=400, text="body too large")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return web.Response(status=400, text="not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception:  # a shape PTB cannot read: say so rather than have it retried forever
            logger.warning("webhook body is not an update PTB can read", exc_info=True)
            return web.Response(status=400, text="not an update")
        await self.app.update_queue.put(update)
        self.received += 1
        self._last_update_at = time.monotonic()
        return web.Response(status=200)

    async def _on_health(self, request: web.Request) -> web.Response:
        report = await self.health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def health(self) -> dict[str, Any]:
        """What /healthz answers: ok only while accepting, with a reachable database and the
        dispatcher and job scheduler running."""
        db_ok = await _database_reachable(self.database)
        scheduler = self._scheduler_running()
        age = None
        if self._last_update_at is not None:
            age = round(time.monotonic() - self._last_update_at, 1)
        return {
            "ok": db_ok and scheduler and self.accepting,
            "database": db_ok,
            "scheduler": scheduler,
            "accepting": self.accepting,
            "last_update_age_seconds": age,
        }

    def _scheduler_running(self) -> bool:
        job_queue = self.app.job_queue
        jobs_running = job_queue is not None and job_queue.scheduler.running
        services = self.app.bot_data.get(SERVICES_KEY)
        dispatcher = getattr(services, "dispatcher", None)
        return jobs_running and dispatcher is not None and bool(dispatcher.running)


async def _database_reachable(database: Database) -> bool:
    try:
        async with asyncio.timeout(HEALTH_DB_TIMEOUT):
            if await database.ping():
                return True
            error: object = "unavailable"
    except Exception as failure:  # a supervisor needs an answer, whatever went wrong
        error = failure
    logger.warning("health check: the database is unreachable: %s", error)
    return False
