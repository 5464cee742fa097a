"""`/help`: what the bot can do, for the person's role, in their language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.i18n.catalog import Raw
from bot.services import AnyApplication
from handlers.menus import MENU
from handlers.people import Person, load_person
from handlers.replies import reply, t


def register(app: AnyApplication) -> None:
    """Add /help."""
    app.add_handler(CommandHandler("help", _on_help, filters=filters.ChatType.PRIVATE))


def help_text(context: ContextTypes.DEFAULT_TYPE, person: Person) -> str:
    """The introduction and one line per command this person may use."""
    lines = [
        t(
            context,
            person.language,
            "help.command_line",
            command=f"/{c.name}",
            description=t(context, person.language, f"menu.{c.name}"),
        )
        for c in MENU
        if person.role in c.roles
    ]
    return t(context, person.language, "help.body", commands=Raw("\n".join(lines)))


async def _on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the help text."""
    person = await load_person(update, context)
    await reply(
        update, context, person.language, "help.message", help=Raw(help_text(context, person))
    )
