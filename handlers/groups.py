"""Groups the bot is added to: registered when a facilitator (or admin) adds it.

Later flows send polls and announcements to registered groups only. Removal unregisters.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ChatMemberHandler, ContextTypes

from bot.services import AnyApplication, services_of
from handlers.guard import allows
from handlers.people import language_from_telegram, load_person
from handlers.replies import t
from storage import groups
from storage.audit import actor_for
from storage.enums import Role

PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR}
MAY_ADD = frozenset({Role.facilitator})


def register(app: AnyApplication) -> None:
    """Watch the bot's own membership in groups."""
    app.add_handler(ChatMemberHandler(_on_membership, ChatMemberHandler.MY_CHAT_MEMBER))


async def _on_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Register on being added by a facilitator; unregister on removal."""
    change = update.my_chat_member
    if change is None or change.chat.type not in ("group", "supergroup"):
        return
    services = services_of(context)
    was_in = change.old_chat_member.status in PRESENT
    is_in = change.new_chat_member.status in PRESENT
    actor = actor_for(change.from_user.id)
    if was_in and not is_in:
        async with services.db.session() as session:
            await groups.unregister_group(change.chat.id, actor=actor, session=session)
        return
    if is_in and not was_in:
        person = await load_person(update, context)
        language = (
            person.language
            if person.registered
            else language_from_telegram(change.from_user, services.settings.default_language)
        )
        if not allows(person, MAY_ADD):
            await context.bot.send_message(
                change.chat.id, t(context, language, "group.not_registered")
            )
            return
        async with services.db.session() as session:
            await groups.register_group(
                change.chat.id, change.chat.title or "", added_by=actor, session=session
            )
        await context.bot.send_message(change.chat.id, t(context, language, "group.registered"))
