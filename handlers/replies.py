"""Small helpers to answer in the person's language; handlers pass keys, never text."""

from __future__ import annotations

import html
import re
import weakref
from collections import OrderedDict

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.services import services_of

EXPIRED_KEY = "common.expired"
_TAG = re.compile(r"<[^>]*>")
ECHO_CHARS = 60  # enough to recognise what one typed
SHOWN_MEMORY = 10_000  # messages whose last edit is remembered, per bot
_SHOWN: dict[int, OrderedDict[tuple[int, int], tuple[str, str | None]]] = {}


def t(context: ContextTypes.DEFAULT_TYPE, language: str, key: str, /, **values: object) -> str:
    """Catalog text for `key` in `language`."""
    return services_of(context).catalogs.text(language, key, **values)


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """A person's own text, cut short for quoting back (whole, it could pass Telegram's 4096)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    """Replace a button message's text; an identical edit (a double tap) is skipped, since
    Telegram refuses it ("message is not modified")."""
    message = query.message
    key = (message.chat.id, message.message_id) if message is not None else None
    shown = _shown_by(query.get_bot())
    wanted = (text, markup.to_json() if markup is not None else None)
    if key is not None and shown.get(key) == wanted:
        return
    if key not in shown and _shows_already(query, text, markup):
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        # PTB capitalises Telegram's description ("Message is not modified: ...").
        if "message is not modified" not in error.message.lower():
            raise
    if key is not None:
        shown[key] = wanted
        shown.move_to_end(key)
        if len(shown) > SHOWN_MEMORY:
            shown.popitem(last=False)


def _shown_by(bot: object) -> OrderedDict[tuple[int, int], tuple[str, str | None]]:
    """What `bot` last put in each message it edited (a double tap arrives with the message
    as it was before the first tap's edit, so the tapped message cannot tell)."""
    shown = _SHOWN.get(id(bot))
    if shown is None:
        shown = _SHOWN[id(bot)] = OrderedDict()
        weakref.finalize(bot, _SHOWN.pop, id(bot), None)  # ids are reused once it is gone
    return shown


def _shows_already(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether the tapped message already shows `text` (as plain text) and `markup`."""
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return False
    shown = html.unescape(_TAG.sub("", text))
    return shown.strip() == message.text.strip() and markup == message.reply_markup


async def answer_expired(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, language: str
) -> None:
    """The short answer for forged, stale or foreign button data; changes nothing."""
    await query.answer(t(context, language, EXPIRED_KEY), show_alert=False)
