"""Small helpers to answer in the person's language; handlers pass keys, never text."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.services import services_of

EXPIRED_KEY = "common.expired"


def t(context: ContextTypes.DEFAULT_TYPE, language: str, key: str, /, **values: object) -> str:
    """Catalog text for `key` in `language`."""
    return services_of(context).catalogs.text(language, key, **values)


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    language: str,
    key: str,
    /,
    markup: InlineKeyboardMarkup | None = None,
    **values: object,
) -> Message | None:
    """Send catalog text to the chat of this update."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(
        chat.id, t(context, language, key, **values), reply_markup=markup
    )


async def edit(
    query: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Replace a button message's text; an identical edit (a double tap) is not an error."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "message is not modified" not in error.message:
            raise


async def answer_expired(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, language: str
) -> None:
    """The short answer for forged, stale or foreign button data; changes nothing."""
    await query.answer(t(context, language, EXPIRED_KEY), show_alert=False)
