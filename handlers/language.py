"""`/language`: switch the language of every later reply (and of the menu)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n.catalog import LANGUAGES
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.menus import set_chat_menu
from handlers.people import CHOSEN_LANGUAGE_KEY, as_language, load_person
from handlers.replies import answer_expired, edit, reply, t
from storage import citizens

FLOW = "lang"


def register(app: AnyApplication) -> None:
    """Add /language and its buttons."""
    app.add_handler(CommandHandler("language", _on_language, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_choice, pattern=cb.pattern(FLOW)))


async def _on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the two languages, each named in itself."""
    person = await load_person(update, context)
    buttons = [
        InlineKeyboardButton(
            t(context, lang, f"language.name.{lang}"), callback_data=cb.encode(FLOW, "set", lang)
        )
        for lang in LANGUAGES
    ]
    await reply(
        update, context, person.language, "language.choose", markup=InlineKeyboardMarkup([buttons])
    )


async def _on_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the choice (or keep it in the conversation before consent) and confirm."""
    query = update.callback_query
    if query is None:
        return
    person = await load_person(update, context)
    data = cb.decode(query.data)
    language = as_language(data.arg()) if data and data.action == "set" else None
    if language is None:
        await answer_expired(query, context, person.language)
        return
    services = services_of(context)
    if person.registered:
        async with services.db.session() as session:
            await citizens.set_language(person.telegram_user_id, language, session=session)
    if context.user_data is not None:
        context.user_data[CHOSEN_LANGUAGE_KEY] = language
    await set_chat_menu(
        context.bot, person.telegram_user_id, person.role, language, services.catalogs
    )
    await query.answer()
    await edit(query, t(context, language, "language.changed"))
