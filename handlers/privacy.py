"""`/privacy`: the privacy notice and the person's current consents."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime
from bot.services import AnyApplication, services_of
from handlers.people import load_person
from handlers.replies import reply, t
from storage import citizens
from storage.enums import Purpose

CHECKED, UNCHECKED = "☑", "☐"


def register(app: AnyApplication) -> None:
    """Add /privacy."""
    app.add_handler(CommandHandler("privacy", _on_privacy, filters=filters.ChatType.PRIVATE))


async def _on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the notice, then what this person agreed to and when."""
    person = await load_person(update, context)
    lang = person.language
    if not person.registered:
        await reply(update, context, lang, "privacy.unregistered")
        return
    services = services_of(context)
    async with services.db.session() as session:
        consents = await citizens.consents_of(person.telegram_user_id, session=session)
    lines = []
    for purpose in Purpose:
        state = consents.get(purpose)
        granted = state is not None and state.granted
        lines.append(
            t(
                context,
                lang,
                "privacy.consent_given" if granted else "privacy.consent_not_given",
                mark=CHECKED if granted else UNCHECKED,
                purpose=t(context, lang, f"purpose.{purpose.value}.name"),
                date=format_datetime(state.decided_at, lang, services.settings.tz)
                if state and state.decided_at
                else "",
            )
        )
    await reply(update, context, lang, "privacy.registered", consents=Raw("\n".join(lines)))
