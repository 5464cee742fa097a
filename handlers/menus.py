"""Telegram's command menu: defaults per app language, and one list per chat.

Telegram picks a default list by the *app's* `language_code`, not by the language chosen in
the bot, so each person also gets a per-chat list in their chosen language and for their role,
rewritten whenever either changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n.catalog import LANGUAGES, Catalogs
from storage.enums import Role

logger = logging.getLogger(__name__)

EVERYONE = frozenset(Role)
ADMINS = frozenset({Role.admin})
FACILITATORS = frozenset({Role.facilitator, Role.admin})
OFFICERS = frozenset({Role.officer, Role.admin})


@dataclass(frozen=True)
class MenuCommand:
    """A command in the menu; its description is the catalog key `menu.<name>`."""

    name: str
    roles: frozenset[Role] = EVERYONE


# Order is the order people see. Later flows add their commands here.
MENU: tuple[MenuCommand, ...] = (
    MenuCommand("start"),
    MenuCommand("help"),
    MenuCommand("language"),
    MenuCommand("needs"),
    MenuCommand("library"),
    MenuCommand("council"),
    MenuCommand("mysessions"),
    MenuCommand("reminders"),
    MenuCommand("privacy"),
    MenuCommand("mydata"),
    MenuCommand("forget"),
    MenuCommand("broadcast", FACILITATORS),
    MenuCommand("poll", FACILITATORS),
    MenuCommand("books", FACILITATORS),
    MenuCommand("schedule", FACILITATORS),
    MenuCommand("events", FACILITATORS),
    MenuCommand("councils", FACILITATORS),
    MenuCommand("attendance", FACILITATORS),
    MenuCommand("minutes", FACILITATORS),
    MenuCommand("summary", OFFICERS),
    MenuCommand("export", OFFICERS),
    MenuCommand("invite", ADMINS),
    MenuCommand("grant", ADMINS),
    MenuCommand("revoke", ADMINS),
    MenuCommand("audit", ADMINS),
)


def commands_for(role: Role, language: str, catalogs: Catalogs) -> list[BotCommand]:
    """The menu a person with `role` sees, in `language`."""
    return [
        BotCommand(c.name, catalogs.text(language, f"menu.{c.name}"))
        for c in MENU
        if role in c.roles
    ]


async def set_default_menus(bot: Bot, catalogs: Catalogs, default_language: str) -> None:
    """Citizen menus for Thai and English apps, and a fallback in the default language."""
    for language in LANGUAGES:
        await bot.set_my_commands(
            commands_for(Role.citizen, language, catalogs),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=language,
        )
    await bot.set_my_commands(
        commands_for(Role.citizen, default_language, catalogs),
        scope=BotCommandScopeAllPrivateChats(),
    )


async def set_descriptions(bot: Bot, catalogs: Catalogs, default_language: str) -> None:
    """The texts shown in an empty chat and on the bot's profile, per app language."""
    for language in (*LANGUAGES, ""):
        text_language = language or default_language
        await bot.set_my_description(
            catalogs.text(text_language, "bot.description"), language_code=language or None
        )
        await bot.set_my_short_description(
            catalogs.text(text_language, "bot.short_description"), language_code=language or None
        )


async def set_chat_menu(
    bot: Bot, chat_id: int, role: Role, language: str, catalogs: Catalogs
) -> None:
    """This person's own menu; a failure is logged, never shown (the menu is a convenience)."""
    try:
        await bot.set_my_commands(
            commands_for(role, language, catalogs), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError:
        logger.warning("could not set the menu for a chat", exc_info=True)
