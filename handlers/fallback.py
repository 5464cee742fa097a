"""Replies for what no flow handles: unknown commands, stray text, stickers and photos.

Registered last in group 0, so a flow's handler always wins. In private chats every message
gets a short answer; in groups the bot speaks only when addressed (a command or mention naming
it, or a reply to its message), and then points to the private chat.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.services import AnyApplication
from handlers.onboarding import DRAFT_KEY
from handlers.people import load_person
from handlers.replies import answer_expired, reply, t

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
NEW_MESSAGES = filters.UpdateType.MESSAGE


def register(app: AnyApplication) -> None:
    """Add the catch-all handlers; call after every flow's `register`."""
    # Edits of earlier messages are not acted on again: the first version was answered.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, _on_edited), group=-100)
    app.add_handler(MessageHandler(NEW_MESSAGES & PRIVATE & filters.COMMAND, _on_unknown_command))
    app.add_handler(MessageHandler(NEW_MESSAGES & PRIVATE & filters.TEXT, _on_text))
    app.add_handler(
        MessageHandler(NEW_MESSAGES & PRIVATE & ~filters.StatusUpdate.ALL, _on_non_text)
    )
    app.add_handler(MessageHandler(NEW_MESSAGES & GROUPS & ~filters.StatusUpdate.ALL, _on_group))
    # Any button no flow claims (old version, forged, retired flow): answer, change nothing.
    app.add_handler(CallbackQueryHandler(_on_unknown_button))


async def _on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ignore an edit, and stop every other group from acting on it."""
    raise ApplicationHandlerStop


async def _on_unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every press gets an answer, so no spinner hangs on the person's phone."""
    if update.callback_query is None:
        return
    person = await load_person(update, context)
    await answer_expired(update.callback_query, context, person.language)


async def _on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command no flow knows."""
    person = await load_person(update, context)
    await reply(update, context, person.language, "fallback.unknown_command")


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text outside any flow: point to the buttons or to /help."""
    person = await load_person(update, context)
    in_onboarding = context.user_data is not None and DRAFT_KEY in context.user_data
    key = "fallback.use_buttons" if in_onboarding else "fallback.text"
    await reply(update, context, person.language, key)


async def _on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, locations, files: say what the bot can read."""
    person = await load_person(update, context)
    await reply(update, context, person.language, "fallback.non_text")


def _addresses_bot(message: Message, username: str) -> bool:
    if message.reply_to_message and message.reply_to_message.from_user:
        if message.reply_to_message.from_user.username == username:
            return True
    text = (message.text or message.caption or "").lower()
    return f"@{username.lower()}" in text


async def _on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group, answer only when addressed, and then invite to a private chat."""
    message = update.effective_message
    if message is None or not _addresses_bot(message, context.bot.username):
        return
    person = await load_person(update, context)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(context, person.language, "button.open_private"),
                    url=f"https://t.me/{context.bot.username}?start=group",
                )
            ]
        ]
    )
    await reply(update, context, person.language, "group.private_only", markup=markup)
