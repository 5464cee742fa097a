"""`/broadcast` (facilitators): audience → Thai text → English text → preview with the number
of recipients → confirm. The send itself goes through the dispatcher, which reports back.

The two texts wait in the conversation until the preview; then the whole draft is stashed in
the database behind a short key, which is all the Send button carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.guard import requires
from handlers.people import Person, load_person
from handlers.replies import answer_expired, edit, reply, t
from schedules.announcements import broadcast_content, queue_broadcast
from storage import audit, button_states, deliveries, groups
from storage.audit import actor_for
from storage.deliveries import Recipient
from storage.enums import Role
from storage.models import ChatGroup

FLOW = "bc"
DRAFT_KEY = "broadcast"
ALL = "all"
# A group gets both languages in one message, so each text must fit half of Telegram's 4096.
MAX_TEXT = 2000


@dataclass
class BroadcastDraft:
    """A broadcast being written; memory only until the preview."""

    audience: str
    step: str = "th"
    thai: str = ""


def register(app: AnyApplication) -> None:
    """Add /broadcast, its buttons, and the text it waits for."""
    app.add_handler(CommandHandler("broadcast", _on_broadcast, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    # Its own group (one handler runs per group; /needs waits for text in group -2): sees
    # private text before the fallback in group 0, and steps aside (returns without stopping)
    # when no broadcast is waiting for text.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            _on_text,
        ),
        group=-3,
    )


async def _audiences(context: ContextTypes.DEFAULT_TYPE) -> tuple[int, list[ChatGroup]]:
    async with services_of(context).db.session() as session:
        count = await deliveries.count_broadcast_recipients(session=session)
        active = await groups.active_groups(session=session)
    return count, active


@requires(Role.facilitator)
async def _on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Ask who the announcement is for."""
    lang = person.language
    count, active = await _audiences(context)
    rows = [[InlineKeyboardButton(t(context, lang, "broadcast.audience_all", count=count),
                                  callback_data=cb.encode(FLOW, "aud", ALL))]]  # fmt: skip
    rows += [
        [InlineKeyboardButton(group.title[:40] or str(group.telegram_chat_id),
                              callback_data=cb.encode(FLOW, "aud", group.telegram_chat_id))]
        for group in active
    ]  # fmt: skip
    rows.append([InlineKeyboardButton(t(context, lang, "button.cancel"),
                                      callback_data=cb.encode(FLOW, "stop"))])  # fmt: skip
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    await reply(
        update, context, lang, "broadcast.choose_audience", markup=InlineKeyboardMarkup(rows)
    )


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The Thai, then the English text of a broadcast being written."""
    draft = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    message = update.effective_message
    if not isinstance(draft, BroadcastDraft) or message is None or message.text is None:
        return  # not ours: the fallback in group 0 answers
    person = await load_person(update, context)
    text = message.text.strip()
    if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:  # Telegram counts UTF-16 units
        await reply(update, context, person.language, "broadcast.too_long", limit=MAX_TEXT)
        raise ApplicationHandlerStop
    if draft.step == "th":
        draft.thai, draft.step = text, "en"
        await reply(update, context, person.language, "broadcast.ask_en")
        raise ApplicationHandlerStop
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    await _preview(update, context, person, draft.audience, draft.thai, text)
    raise ApplicationHandlerStop


async def _recipients(context: ContextTypes.DEFAULT_TYPE, audience: str) -> list[Recipient] | None:
    """Who gets it, read now; None if the audience no longer exists (a group removed)."""
    async with services_of(context).db.session() as session:
        if audience == ALL:
            return await deliveries.broadcast_recipients(session=session)
        group = await groups.get_group(int(audience), session=session)
    if group is None or not group.active:
        return None
    return [deliveries.group_recipient(group.telegram_chat_id)]


async def _preview(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    audience: str,
    thai: str,
    english: str,
) -> None:
    recipients = await _recipients(context, audience)
    if recipients is None:
        await reply(update, context, person.language, "broadcast.audience_gone")
        return
    async with services_of(context).db.session() as session:
        key = await button_states.stash(
            FLOW,
            {"audience": audience, "th": thai, "en": english},
            owner_telegram_id=person.telegram_user_id,
            session=session,
        )
    lang = person.language
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(context, lang, "broadcast.send", count=len(recipients)),
                               callback_data=cb.encode(FLOW, "send", key)),
          InlineKeyboardButton(t(context, lang, "button.cancel"),
                               callback_data=cb.encode(FLOW, "cancel", key))]]
    )  # fmt: skip
    await reply(update, context, lang, "broadcast.preview", markup=markup, thai=thai,
                english=english, count=len(recipients))  # fmt: skip


@requires(Role.facilitator)
async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Audience choice, send and cancel — each re-checked against the database."""
    query = update.callback_query
    data = cb.decode(query.data if query else None)
    if query is None or data is None:
        return
    lang = person.language
    if data.action == "stop":
        await query.answer()
        await edit(query, t(context, lang, "broadcast.cancelled"))
        return
    if data.action == "aud" and data.arg() is not None:
        audience = str(data.arg())
        if audience != ALL and await _recipients(context, audience) is None:
            await answer_expired(query, context, lang)
            return
        if context.user_data is not None:
            context.user_data[DRAFT_KEY] = BroadcastDraft(audience=audience)
        await query.answer()
        await edit(query, t(context, lang, "broadcast.ask_th"))
        return
    if data.action in ("send", "cancel") and data.arg() is not None:
        await _send_or_cancel(update, context, person, data.action, str(data.arg()))
        return
    await answer_expired(query, context, lang)


async def _send_or_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, action: str, key: str
) -> None:
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    async with services.db.session() as session:
        draft = await button_states.fetch(
            key, flow=FLOW, owner_telegram_id=person.telegram_user_id, session=session
        )
        if draft is not None:
            await button_states.discard(key, session=session)
    if draft is None:
        await answer_expired(query, context, person.language)
        return
    await query.answer()
    if action == "cancel":
        await edit(query, t(context, person.language, "broadcast.cancelled"))
        return
    audience = str(draft["audience"])
    recipients = await _recipients(context, audience)
    if recipients is None:
        await edit(query, t(context, person.language, "broadcast.audience_gone"))
        return
    actor = actor_for(person.telegram_user_id)
    message = await queue_broadcast(
        services.db,
        f"broadcast:{key}",
        broadcast_content(str(draft["th"]), str(draft["en"])),
        recipients,
        created_by=actor,
        audience="citizens:reminders" if audience == ALL else f"group:{audience}",
        report_to_chat_id=person.telegram_user_id,
    )
    async with services.db.session() as session:
        await audit.record(
            "broadcast.queued", actor=actor, target=f"outbox:{message.id}",
            detail={"recipients": len(recipients), "audience": audience}, session=session,
        )  # fmt: skip
    if services.dispatcher is not None:
        services.dispatcher.wake()
    await edit(query, t(context, person.language, "broadcast.queued", count=len(recipients)))
