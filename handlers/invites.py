"""Invite links (`/start inv-<code>`): the first person to open one and sign up gets its role."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import AnyApplication, services_of
from handlers.admin import role_name
from handlers.deep_links import register_deep_link
from handlers.menus import set_chat_menu
from handlers.people import Person
from handlers.replies import reply
from storage import invites
from storage.audit import actor_for
from storage.enums import Role
from storage.errors import InviteExpired, InviteUnknown, InviteUsed, StorageError

logger = logging.getLogger(__name__)

PREFIX = "inv-"
ANONYMOUS = "anonymous"  # someone who never consented: nothing that identifies them is kept


def register(app: AnyApplication) -> None:
    """Route `inv-` links."""
    register_deep_link(app, PREFIX, _on_invite_link, on_abandon=_on_abandoned)


async def _on_invite_link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str
) -> None:
    """Redeem the invite for a registered person and tell them their new role."""
    code = payload.removeprefix(PREFIX)
    services = services_of(context)
    refusal: tuple[str, str] | None = None
    async with services.db.session() as session:
        try:
            invite = await invites.redeem_invite(code, person.telegram_user_id, session=session)
        except InviteUnknown:
            refusal = ("unknown", "invite.invalid")
        except InviteExpired:
            refusal = ("expired", "invite.expired")
        except InviteUsed:
            refusal = ("used", "invite.used")
    if refusal is not None:
        reason, key = refusal
        async with services.db.session() as session:
            await invites.record_invite_refusal(
                code, reason, actor=actor_for(person.telegram_user_id), session=session
            )
        await reply(update, context, person.language, key)
        return
    role = Role(invite.role)
    await set_chat_menu(
        context.bot, person.telegram_user_id, role, person.language, services.catalogs
    )
    await reply(
        update, context, person.language, "invite.accepted",
        role=role_name(context, person.language, role),
    )  # fmt: skip


async def _on_abandoned(context: ContextTypes.DEFAULT_TYPE, payload: str, reason: str) -> None:
    """The opener did not sign up: the invite stays unused; the log says so, anonymously."""
    services = services_of(context)
    try:
        async with services.db.session() as session:
            await invites.record_invite_refusal(
                payload.removeprefix(PREFIX), reason, actor=ANONYMOUS, session=session
            )
    except StorageError:
        logger.warning("could not record an abandoned invite", exc_info=True)
