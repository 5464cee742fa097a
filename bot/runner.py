"""`learncity run`: long polling against Telegram (or any Bot API server) until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import build_application
from bot.services import AnyApplication
from bot.settings import Settings
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


async def run_polling(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM. Raises StartupError with a clear line if it cannot start."""
    if settings.telegram_bot_token is None:
        raise StartupError(
            "Configuration error: TELEGRAM_BOT_TOKEN: is not set (get one from @BotFather)."
        )
    db = Database(settings.database_url)
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
        try:
            if app.post_init:
                await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            logger.info("polling for updates; press Ctrl+C to stop")
            await _wait_for_stop_signal()
            logger.info("stopping")
        except TelegramError as exc:
            raise StartupError(f"The Bot API refused a start-up call: {exc.message}") from None
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            if app.post_shutdown:
                with contextlib.suppress(RuntimeError):
                    await app.post_shutdown(app)
            await app.shutdown()
    finally:
        await db.dispose()


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


async def _wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
