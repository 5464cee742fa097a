"""`/mydata` (everything stored about the person, as a JSON file) and `/forget` (erase it).

`/forget` asks first. Its buttons carry only a button-state key (`v1:forget:<yes|no>:<key>`)
that `storage.button_states` gives back to the same person within CONFIRM_TTL; anything else
(forged, someone else's, old, already used) gets the polite "expired" answer and changes
nothing. The person's language is read before erasure, since erasure deletes it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot import outage
from bot.i18n.dates import format_date
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.library import tell_promoted
from handlers.menus import set_chat_menu
from handlers.people import Person, load_person
from handlers.replies import answer_expired, edit, reply, t
from storage import button_states, clock
from storage.enums import Role
from storage.personal_data import erase_person, export_person

FLOW: Final = "forget"
CONFIRM_TTL: Final = timedelta(minutes=15)
_YES, _NO = "yes", "no"


def register(app: AnyApplication) -> None:
    """Add /mydata, /forget and the confirmation buttons."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("mydata", _on_mydata, filters=private))
    app.add_handler(CommandHandler("forget", _on_forget, filters=private))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))


def holds_anything(export: dict[str, Any]) -> bool:
    """Whether an export found any row about the person or any row they acted on."""
    return bool(export["acted_on"]) or any(export["tables"].values())


async def _export(context: ContextTypes.DEFAULT_TYPE, person: Person) -> dict[str, Any]:
    async with services_of(context).db.session(readonly=True) as session:
        return await export_person(person.telegram_user_id, session=session)


async def _on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the person's data as mydata-<date>.json (UTF-8, Thai kept readable)."""
    person = await load_person(update, context)
    lang = person.language
    export = await _export(context, person)
    if not person.registered and not holds_anything(export):
        await reply(update, context, lang, "mydata.nothing")
        return
    today = clock.now().astimezone(services_of(context).settings.tz).date()
    document = json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")
    await context.bot.send_document(
        person.telegram_user_id,
        document=document,
        filename=f"mydata-{today.isoformat()}.json",
        caption=t(context, lang, "mydata.caption", date=format_date(today, lang)),
    )


async def _on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what erasure does and ask to confirm."""
    person = await load_person(update, context)
    lang = person.language
    if not person.registered and not holds_anything(await _export(context, person)):
        await reply(update, context, lang, "forget.nothing")
        return
    async with services_of(context).db.session() as session:
        key = await button_states.stash(
            FLOW, {}, owner_telegram_id=person.telegram_user_id, ttl=CONFIRM_TTL, session=session
        )
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t(context, lang, f"forget.button.{action}"),
                                  callback_data=cb.encode(FLOW, action, key))]
            for action in (_YES, _NO)
        ]
    )  # fmt: skip
    await reply(update, context, lang, "forget.confirm", markup=markup)


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Erase (yes) or leave everything as it is (no), once, for the person who asked."""
    query = update.callback_query
    assert query is not None
    person = await load_person(update, context)
    lang: str = person.language
    data = cb.decode(query.data)
    key = data.arg() if data is not None else None
    if data is None or data.action not in (_YES, _NO) or key is None:
        await answer_expired(query, context, lang)
        return
    services = services_of(context)
    erasure = None
    async with services.db.session() as session:
        state = await button_states.fetch(
            key, flow=FLOW, owner_telegram_id=person.telegram_user_id, session=session
        )
        # Deleting the state claims the answer: of two quick presses only one goes on.
        claimed = state is not None and await button_states.discard(key, session=session)
        if claimed and data.action == _YES:
            erasure = await erase_person(person.telegram_user_id, session=session)
    if not claimed:
        await answer_expired(query, context, lang)
        return
    await query.answer()
    if erasure is None:
        await edit(query, t(context, lang, "forget.kept"))
        return
    lang = erasure.language or lang
    # Updates spooled during a database outage are theirs too (bot/outage.py).
    outage.forget_person(context, person.telegram_user_id)
    if context.user_data is not None:
        context.user_data.clear()  # drafts and a chosen language are theirs too
    await edit(query, t(context, lang, "forget.done"))
    await set_chat_menu(context.bot, person.telegram_user_id, Role.citizen, lang, services.catalogs)
    for promotion in erasure.promotions:
        await tell_promoted(context, promotion)
