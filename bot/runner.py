"""`learncity run`: long polling or a webhook against Telegram (or any Bot API server) until a
signal, then a graceful shutdown within SHUTDOWN_TIMEOUT_SECONDS (bot/shutdown.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import urllib.parse

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import build_application
from bot.services import AnyApplication
from bot.settings import ConfigurationError, Settings
from bot.shutdown import Intake, shut_down
from bot.webhook_server import HEALTH_PATH, WebhookServer
from storage import migrate
from storage.database import Database

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start; the message is one line for the operator."""


async def prepare_database(db: Database) -> None:
    """Create the tables in an empty database; refuse one that is behind the code."""
    state = await migrate.status(db)
    if state == "empty":
        logger.info("empty database: creating tables")
        await migrate.upgrade(db)
    elif state != "at_head":
        raise StartupError(
            f"The database is not at the latest migration ({state}): run `learncity db upgrade`."
        )


async def run_polling(settings: Settings) -> int:
    """Long polling until SIGINT/SIGTERM; the exit code (0 clean, 1 stop forced by the bound).
    Raises StartupError with a clear line if it cannot start."""
    return await _serve(settings, _Polling())


async def run_webhook(settings: Settings) -> int:
    """Webhook mode until SIGINT/SIGTERM: our own server behind WEBHOOK_URL (see
    bot/webhook_server.py). Raises ConfigurationError for a missing setting."""
    url, secret = webhook_settings(settings)
    return await _serve(settings, _Webhook(settings, url, secret))


def webhook_settings(settings: Settings) -> tuple[str, str]:
    """WEBHOOK_URL and WEBHOOK_SECRET, or a ConfigurationError naming the one missing."""
    if not settings.webhook_url:
        raise ConfigurationError(
            "Configuration error: WEBHOOK_URL: is not set (the HTTPS address Telegram calls)."
        )
    if settings.webhook_secret is None:
        raise ConfigurationError(
            "Configuration error: WEBHOOK_SECRET: is not set "
            "(1-256 characters of A-Z, a-z, 0-9, _ and -)."
        )
    if webhook_path(settings.webhook_url) == HEALTH_PATH:
        raise ConfigurationError(
            f"Configuration error: WEBHOOK_URL: its path cannot be {HEALTH_PATH}."
        )
    return settings.webhook_url, settings.webhook_secret.get_secret_value()


def webhook_path(url: str) -> str:
    """The path Telegram POSTs to (a reverse proxy passes it through unchanged)."""
    return urllib.parse.urlsplit(url).path or "/"


class _Polling(Intake):
    """Updates by getUpdates (PTB's Updater)."""

    def __init__(self) -> None:
        self._app: AnyApplication | None = None

    async def start(self, app: AnyApplication, db: Database) -> None:
        self._app = app
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        logger.info("polling for updates; press Ctrl+C to stop")

    async def stop(self) -> None:
        # Ends the long poll and confirms the updates already fetched (they are handled).
        if self._app is not None and self._app.updater is not None and self._app.updater.running:
            await self._app.updater.stop()


class _Webhook(Intake):
    """Updates POSTed by Telegram to our WebhookServer."""

    def __init__(self, settings: Settings, url: str, secret: str) -> None:
        self.settings = settings
        self.url = url
        self.secret = secret
        self.server: WebhookServer | None = None

    async def start(self, app: AnyApplication, db: Database) -> None:
        listen, port = self.settings.webhook_listen, self.settings.webhook_port
        server = WebhookServer(
            app, secret=self.secret, path=webhook_path(self.url), database=db,
            listen=listen, port=port,
        )  # fmt: skip
        try:
            await server.start()
        except OSError as exc:
            raise StartupError(f"Cannot listen on {listen}:{port}: {exc}") from None
        self.server = server
        # Listening first, so the first delivery finds us; Telegram keeps updates while we
        # are down, so none is dropped.
        await app.bot.set_webhook(
            self.url,
            secret_token=self.secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        logger.info("webhook set; listening on %s:%d%s", listen, server.port, server.path)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop_accepting()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


async def _serve(settings: Settings, intake: Intake) -> int:
    """Open the database and the bot, start `intake`, wait for a signal, shut down."""
    if settings.telegram_bot_token is None:
        raise StartupError(
            "Configuration error: TELEGRAM_BOT_TOKEN: is not set (get one from @BotFather)."
        )
    db = Database(settings.database_url)
    clean = True
    try:
        try:
            await prepare_database(db)
        except OSError as exc:
            raise StartupError(f"Cannot open the database {db.url_for_display}: {exc}") from None
        app = build_application(settings, database=db)
        try:
            await _initialize(app)
        except InvalidToken:
            raise StartupError(
                "Telegram refused the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN."
            ) from None
        except NetworkError as exc:
            raise StartupError(
                f"Cannot reach the Bot API at {settings.telegram_api_base_url}: {exc.message}"
            ) from None
        stop_signal = _stop_signal()
        try:
            if app.post_init:
                await app.post_init(app)
            await app.start()
            await intake.start(app, db)
            await stop_signal.wait()
            logger.info("stopping (within %g s)", settings.shutdown_timeout_seconds)
        except TelegramError as exc:
            raise StartupError(f"The Bot API refused a start-up call: {exc.message}") from None
        finally:
            clean = await shut_down(app, intake, timeout=settings.shutdown_timeout_seconds)
    finally:
        await db.dispose()
    logger.info("stopped" if clean else "stopped after cancelling what overran the bound")
    return 0 if clean else 1


async def _initialize(app: AnyApplication) -> None:
    """`app.initialize()`, closing the HTTP sessions it opened when it fails (getMe refused)."""
    try:
        await app.initialize()
    except BaseException:
        # Bot.shutdown() does nothing for a bot whose initialize() failed, so its requests
        # (getUpdates' and the others') are closed here: aiohttp warns about open sessions.
        for request in getattr(app.bot, "_request", ()):
            await request.shutdown()
        raise


def _stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (a second signal changes nothing: the bound holds)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
