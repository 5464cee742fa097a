"""The one error handler: log the traceback first, then tell the person plainly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import outage
from bot.services import AnyApplication, services_of
from handlers.people import language_from_telegram, load_person

logger = logging.getLogger(__name__)


def register(app: AnyApplication) -> None:
    """Install the error handler."""
    app.add_error_handler(_on_error)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with traceback; in a private chat, say something went wrong (never the details)."""
    if outage.absorb(context.error, update):
        # The database is briefly down: the update is retried or spooled (bot/outage.py), and
        # no other handler group may act on it meanwhile (e.g. the fallback's "unknown").
        raise ApplicationHandlerStop
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        services = services_of(context)
        try:
            language = (await load_person(update, context)).language
        except Exception:  # the database may be what failed; Telegram's hint will do
            language = language_from_telegram(
                update.effective_user, services.settings.default_language
            )
        text = services.catalogs.text(language, "error.generic")
        if update.callback_query is not None:
            try:  # stop the spinner; the failing handler may have answered it already
                await update.callback_query.answer()
            except TelegramError:
                logger.debug("the press was answered before the error", exc_info=True)
        if update.effective_chat.type == ChatType.PRIVATE:
            await context.bot.send_message(update.effective_chat.id, text)
    except (TelegramError, RuntimeError):
        logger.warning("could not tell the person about the error", exc_info=True)
