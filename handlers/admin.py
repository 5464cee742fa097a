"""Admin commands: /invite, /grant, /revoke and /audit — each behind the one guard.

Grant and revoke ask for confirmation; the pending action waits in the database behind a
short key (button data holds only the key), and is re-checked against the presser on press.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.guard import requires
from handlers.menus import set_chat_menu
from handlers.people import Person
from handlers.replies import answer_expired, edit, reply, t
from storage import audit, button_states, citizens, invites, roles
from storage.audit import actor_for
from storage.enums import Role
from storage.errors import NotRegistered
from storage.models import AuditEntry

FLOW = "adm"
GRANTABLE = {"facilitator": Role.facilitator, "officer": Role.officer}
AUDIT_LINES_SHOWN = 15


def register(app: AnyApplication) -> None:
    """Add the admin commands and their confirmation buttons."""
    app.add_handler(CommandHandler("invite", _on_invite))
    app.add_handler(CommandHandler("grant", _on_grant))
    app.add_handler(CommandHandler("revoke", _on_revoke))
    app.add_handler(CommandHandler("audit", _on_audit))
    app.add_handler(CallbackQueryHandler(_on_confirmation, pattern=cb.pattern(FLOW)))


def role_name(context: ContextTypes.DEFAULT_TYPE, language: str, role: Role) -> str:
    """A role as people call it, in `language`."""
    return t(context, language, f"role.{role.value}")


@requires(Role.admin)
async def _on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Make a one-time link that grants a role to whoever opens it first and signs up."""
    role = GRANTABLE.get((context.args or [""])[0].lower())
    if role is None:
        await reply(update, context, person.language, "admin.invite_usage")
        return
    services = services_of(context)
    async with services.db.session() as session:
        invite = await invites.create_invite(
            role,
            created_by=actor_for(person.telegram_user_id),
            ttl=timedelta(hours=services.settings.invite_ttl_hours),
            session=session,
        )
    link = f"https://t.me/{context.bot.username}?start=inv-{invite.code}"
    await reply(
        update,
        context,
        person.language,
        "admin.invite_created",
        role=role_name(context, person.language, role),
        link=link,
        expires=format_datetime(invite.expires_at, person.language, services.settings.tz),
    )


def _target_and_rest(update: Update, args: list[str]) -> tuple[int | None, list[str]]:
    """Whose role: the author of the replied-to message, else a numeric id as first word."""
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is not None and replied.from_user is not None and not replied.from_user.is_bot:
        return replied.from_user.id, args
    if args and args[0].isdigit():
        return int(args[0]), args[1:]
    return None, args


@requires(Role.admin)
async def _on_grant(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Ask to confirm giving a role to a person (by reply or by user id)."""
    target, rest = _target_and_rest(update, list(context.args or []))
    role = GRANTABLE.get(rest[0].lower()) if rest else None
    if target is None or role is None:
        await reply(update, context, person.language, "admin.grant_usage")
        return
    await _ask_confirmation(update, context, person, "grant", target, role)


@requires(Role.admin)
async def _on_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Ask to confirm taking a person's role away (by reply or by user id)."""
    target, _ = _target_and_rest(update, list(context.args or []))
    if target is None:
        await reply(update, context, person.language, "admin.revoke_usage")
        return
    await _ask_confirmation(update, context, person, "revoke", target, Role.citizen)


async def _ask_confirmation(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    action: str,
    target: int,
    role: Role,
) -> None:
    services = services_of(context)
    async with services.db.session() as session:
        citizen = await citizens.get_citizen(target, session=session)
        if citizen is None:
            await reply(update, context, person.language, "admin.not_registered", user=target)
            return
        key = await button_states.stash(
            FLOW,
            {"action": action, "target": target, "role": role.value},
            owner_telegram_id=person.telegram_user_id,
            session=session,
        )
    lang = person.language
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(context, lang, "button.confirm"),
                                     callback_data=cb.encode(FLOW, "ok", key)),
                InlineKeyboardButton(t(context, lang, "button.cancel"),
                                     callback_data=cb.encode(FLOW, "no", key)),
            ]
        ]
    )  # fmt: skip
    current = role_name(context, lang, Role(citizen.role))
    if action == "grant":
        await reply(update, context, lang, "admin.confirm_grant", markup=markup, user=target,
                    role=role_name(context, lang, role), current=current)  # fmt: skip
    else:
        await reply(update, context, lang, "admin.confirm_revoke", markup=markup, user=target,
                    current=current)  # fmt: skip


@requires(Role.admin)
async def _on_confirmation(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person
) -> None:
    """Carry out (or cancel) a confirmed grant or revoke, after re-checking everything."""
    query = update.callback_query
    data = cb.decode(query.data if query else None)
    if query is None or data is None or data.action not in ("ok", "no") or data.arg() is None:
        if query is not None:
            await answer_expired(query, context, person.language)
        return
    services = services_of(context)
    key = str(data.arg())
    async with services.db.session() as session:
        pending = await button_states.fetch(
            key, flow=FLOW, owner_telegram_id=person.telegram_user_id, session=session
        )
        if pending is None:
            await answer_expired(query, context, person.language)
            return
        await button_states.discard(key, session=session)
        if data.action == "no":
            await query.answer()
            await edit(query, t(context, person.language, "admin.cancelled"))
            return
        target = int(str(pending["target"]))
        actor = actor_for(person.telegram_user_id)
        try:
            if pending["action"] == "grant":
                citizen = await roles.grant_role(
                    target, Role(str(pending["role"])), actor=actor, session=session
                )
            else:
                citizen = await roles.revoke_role(target, actor=actor, session=session)
        except NotRegistered:
            await answer_expired(query, context, person.language)
            return
    await query.answer()
    new_role = Role(citizen.role)
    key_done = "admin.granted" if pending["action"] == "grant" else "admin.revoked"
    await edit(query, t(context, person.language, key_done, user=target,
                        role=role_name(context, person.language, new_role)))  # fmt: skip
    await _tell_target(context, target, citizen.language, new_role)


async def _tell_target(
    context: ContextTypes.DEFAULT_TYPE, target: int, language: str, role: Role
) -> None:
    """The person hears of their new role, and their menu follows it."""
    services = services_of(context)
    await set_chat_menu(context.bot, target, role, language, services.catalogs)
    try:
        await context.bot.send_message(
            target, t(context, language, "role.changed", role=role_name(context, language, role))
        )
    except Forbidden:
        pass  # they blocked the bot or never opened it; the role holds all the same


@requires(Role.admin)
async def _on_audit(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """The newest audit entries in the chat, and the whole log as a CSV file."""
    services = services_of(context)
    lang, tz = person.language, services.settings.tz
    async with services.db.session() as session:
        entries = await audit.all_entries(session=session)
        await audit.record(
            "audit.exported", actor=actor_for(person.telegram_user_id),
            detail={"entries": len(entries)}, session=session,
        )  # fmt: skip
    if not entries:
        await reply(update, context, lang, "admin.audit_empty")
        return
    lines = [
        t(context, lang, "admin.audit_line", at=format_datetime(e.at, lang, tz), actor=e.actor,
          action=e.action, target=e.target or "—")
        for e in entries[-AUDIT_LINES_SHOWN:]
    ]  # fmt: skip
    await reply(update, context, lang, "admin.audit_recent", count=len(entries),
                lines=Raw("\n".join(lines)))  # fmt: skip
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_document(
        chat.id,
        document=_audit_csv(entries),
        filename=f"audit-{datetime.now(tz):%Y%m%d-%H%M}.csv",
        caption=t(context, lang, "admin.audit_file_caption", count=len(entries)),
    )


def _audit_csv(entries: list[AuditEntry]) -> bytes:
    """UTF-8 with a BOM, so Excel opens Thai text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at_utc", "actor", "action", "target", "detail"])
    for e in entries:
        writer.writerow([e.at.isoformat(), e.actor, e.action, e.target or "", e.detail or ""])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
