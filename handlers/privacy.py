"""`/privacy`: the privacy notice, the person's consents, and one button per purpose to
withdraw it or give it again (PDPA: withdrawing is as easy as giving).

Buttons: `v1:privacy:set:<purpose>:<0|1>` withdraws (0) or gives (1) one purpose;
withdrawing a purpose with live bookings (library reservations, council answers) asks once
more (`v1:privacy:confirm:<purpose>`, or `v1:privacy:keep`). The rules and effects live in
`storage.withdrawal`; this module only asks and tells.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime
from bot.services import AnyApplication, Services, services_of
from handlers import callback_data as cb
from handlers.library import tell_promoted
from handlers.needs import FREE_TEXT_KEY
from handlers.people import Person, load_person
from handlers.replies import answer_expired, edit, reply, t
from schedules.retention import RETENTION_KEY, RetentionJob, parse_time
from storage import citizens, withdrawal
from storage.enums import Purpose
from storage.withdrawal import Withdrawal

FLOW = "privacy"
CHECKED, UNCHECKED = "☑", "☐"
# Purposes whose withdrawal ends bookings: a second press confirms it.
_BOOKING_PURPOSES = (Purpose.human_library, Purpose.coffee_council)


def register(app: AnyApplication) -> None:
    """Add /privacy and its buttons."""
    app.add_handler(CommandHandler("privacy", _on_privacy, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))


async def on_startup(app: AnyApplication, services: Services) -> None:
    """Install the daily retention job (free texts older than RETENTION_DAYS anonymised)."""
    settings = services.settings
    job = RetentionJob(services.db, settings.retention_days)
    app.bot_data[RETENTION_KEY] = job
    if app.job_queue is not None:
        job.install(app.job_queue, parse_time(settings.retention_time, settings.tz))


async def _on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the notice, then what this person agreed to and when, with a button for each."""
    person = await load_person(update, context)
    lang = person.language
    if not person.registered:
        await reply(update, context, lang, "privacy.unregistered")
        return
    text, markup = await _notice(context, person)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _notice(
    context: ContextTypes.DEFAULT_TYPE, person: Person
) -> tuple[str, InlineKeyboardMarkup]:
    """The notice with the current consents, and one give/withdraw button per purpose."""
    services = services_of(context)
    lang = person.language
    async with services.db.session(readonly=True) as session:
        consents = await citizens.consents_of(person.telegram_user_id, session=session)
    lines, rows = [], []
    for purpose in Purpose:
        state = consents[purpose]
        name = t(context, lang, f"purpose.{purpose.value}.name")
        lines.append(
            t(
                context,
                lang,
                "privacy.consent_given" if state.granted else "privacy.consent_not_given",
                mark=CHECKED if state.granted else UNCHECKED,
                purpose=name,
                date=format_datetime(state.decided_at, lang, services.settings.tz)
                if state.decided_at
                else "",
            )
        )
        key = "privacy.button_withdraw" if state.granted else "privacy.button_give"
        data = cb.encode(FLOW, "set", purpose.name, 0 if state.granted else 1)
        rows.append([InlineKeyboardButton(t(context, lang, key, purpose=name), callback_data=data)])
    text = t(
        context,
        lang,
        "privacy.registered",
        consents=Raw("\n".join(lines)),
        retention_days=services.settings.retention_days,
    )
    return text, InlineKeyboardMarkup(rows)


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Give, withdraw (asking once more when bookings would end), or keep a consent."""
    query = update.callback_query
    if query is None:
        return
    person = await load_person(update, context)
    data = cb.decode(query.data)
    if data is None or not person.registered:
        await answer_expired(query, context, person.language)
        return
    if data.action == "keep":
        await query.answer()
        text, markup = await _notice(context, person)
        await edit(query, text, markup)
        return
    purpose = Purpose.__members__.get(data.arg(0) or "")
    if purpose is None:
        await answer_expired(query, context, person.language)
        return
    if data.action == "set" and data.arg(1) == "1":
        await _give(update, context, person, purpose)
    elif data.action == "set" and data.arg(1) == "0":
        if purpose in _BOOKING_PURPOSES and await _live_bookings(context, person, purpose):
            await _ask_to_confirm(update, context, person, purpose)
        else:
            await _withdraw(update, context, person, purpose)
    elif data.action == "confirm":
        await _withdraw(update, context, person, purpose)
    else:
        await answer_expired(query, context, person.language)


async def _live_bookings(
    context: ContextTypes.DEFAULT_TYPE, person: Person, purpose: Purpose
) -> int:
    async with services_of(context).db.session(readonly=True) as session:
        return await withdrawal.live_bookings(person.telegram_user_id, purpose, session=session)


async def _ask_to_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, purpose: Purpose
) -> None:
    """Withdrawing ends bookings: say so, and let them confirm or keep the consent."""
    query = update.callback_query
    assert query is not None
    lang = person.language
    count = await _live_bookings(context, person, purpose)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(context, lang, "privacy.button_confirm"),
                    callback_data=cb.encode(FLOW, "confirm", purpose.name),
                ),
                InlineKeyboardButton(
                    t(context, lang, "privacy.button_keep"), callback_data=cb.encode(FLOW, "keep")
                ),
            ]
        ]
    )
    await query.answer()
    text = t(
        context,
        lang,
        f"privacy.confirm_{purpose.value}",
        purpose=t(context, lang, f"purpose.{purpose.value}.name"),
        count=count,
    )
    await edit(query, text, markup)


async def _give(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, purpose: Purpose
) -> None:
    query = update.callback_query
    assert query is not None
    async with services_of(context).db.session() as session:
        await withdrawal.give(person.telegram_user_id, purpose, session=session)
    await query.answer()
    text, markup = await _notice(context, person)
    await edit(query, text, markup)
    name = t(context, person.language, f"purpose.{purpose.value}.name")
    await reply(update, context, person.language, "privacy.given", purpose=name)


async def _withdraw(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, purpose: Purpose
) -> None:
    query = update.callback_query
    assert query is not None
    async with services_of(context).db.session() as session:
        done = await withdrawal.withdraw(person.telegram_user_id, purpose, session=session)
    if purpose is Purpose.needs_survey and context.user_data is not None:
        context.user_data.pop(FREE_TEXT_KEY, None)  # no more free text is awaited
    await query.answer()
    text, markup = await _notice(context, person)
    await edit(query, text, markup)
    lang = person.language
    await reply(
        update,
        context,
        lang,
        "privacy.withdrawn",
        purpose=t(context, lang, f"purpose.{purpose.value}.name"),
        stopped=Raw(t(context, lang, f"privacy.stopped_{purpose.value}", count=_stopped(done))),
    )
    for promotion in done.promotions:
        await tell_promoted(context, promotion)


def _stopped(done: Withdrawal) -> int:
    """How many things the withdrawal stopped, of the kind its purpose has."""
    if done.purpose is Purpose.human_library:
        return len(done.reservations_cancelled)
    if done.purpose is Purpose.coffee_council:
        return done.rsvps_removed
    return done.deliveries_dropped
