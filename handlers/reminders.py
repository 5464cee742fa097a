"""`/reminders`: turn reminders on or off and choose how long before an event they come."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.people import Person, load_person
from handlers.replies import answer_expired, edit, reply, t
from storage import citizens, reminders
from storage.enums import Purpose
from storage.reminders import LEAD_CHOICES, ReminderPrefs

FLOW = "rem"
CHECKED, UNCHECKED = "☑", "☐"


def register(app: AnyApplication) -> None:
    """Add /reminders and its buttons."""
    app.add_handler(CommandHandler("reminders", _on_reminders, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))


async def _state(
    context: ContextTypes.DEFAULT_TYPE, person: Person
) -> tuple[bool, ReminderPrefs] | None:
    """(consents to reminders, preferences), or None for someone not signed up."""
    if not person.registered:
        return None
    async with services_of(context).db.session() as session:
        consents = await citizens.consents_of(person.telegram_user_id, session=session)
        prefs = await reminders.reminder_prefs(person.telegram_user_id, session=session)
    consent = consents.get(Purpose.reminders)
    return (consent is not None and consent.granted), prefs


def _screen(
    context: ContextTypes.DEFAULT_TYPE, person: Person, prefs: ReminderPrefs
) -> tuple[str, InlineKeyboardMarkup]:
    lang = person.language
    settings = services_of(context).settings
    start, _, end = settings.quiet_hours.replace("–", "-").partition("-")
    leads = [m for m in LEAD_CHOICES if m in prefs.lead_minutes]
    text = t(
        context, lang, "reminders.status",
        state=t(context, lang, "reminders.on" if prefs.enabled else "reminders.off"),
        leads=", ".join(t(context, lang, f"lead.{m}") for m in sorted(leads, reverse=True)),
        quiet_start=start.strip(), quiet_end=end.strip(),
    )  # fmt: skip
    toggle = "off" if prefs.enabled else "on"
    rows = [[InlineKeyboardButton(t(context, lang, f"button.reminders_{toggle}"),
                                  callback_data=cb.encode(FLOW, toggle))]]  # fmt: skip
    lead_buttons = [
        InlineKeyboardButton(
            f"{CHECKED if m in prefs.lead_minutes else UNCHECKED} {t(context, lang, f'lead.{m}')}",
            callback_data=cb.encode(FLOW, "lead", m),
        )
        for m in LEAD_CHOICES
    ]
    rows += [lead_buttons[i : i + 2] for i in range(0, len(lead_buttons), 2)]
    return text, InlineKeyboardMarkup(rows)


async def _on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the person's reminder settings with buttons to change them."""
    person = await load_person(update, context)
    state = await _state(context, person)
    if state is None:
        await reply(update, context, person.language, "reminders.unregistered")
        return
    consent, prefs = state
    if not consent:
        await reply(update, context, person.language, "reminders.no_consent")
        return
    text, markup = _screen(context, person, prefs)
    await context.bot.send_message(person.telegram_user_id, text, reply_markup=markup)


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """On/off and lead-time toggles, re-checked against the database."""
    query = update.callback_query
    if query is None:
        return
    person = await load_person(update, context)
    data = cb.decode(query.data)
    state = await _state(context, person)
    if data is None or state is None or not state[0]:
        await answer_expired(query, context, person.language)
        return
    _, prefs = state
    services = services_of(context)
    async with services.db.session() as session:
        if data.action in ("on", "off"):
            await reminders.set_reminders_enabled(
                person.telegram_user_id, data.action == "on", session=session
            )
        elif data.action == "lead" and (data.arg() or "").isdigit():
            minutes = int(data.arg() or 0)
            if minutes not in LEAD_CHOICES:
                await answer_expired(query, context, person.language)
                return
            chosen = set(prefs.lead_minutes) ^ {minutes}
            if not chosen:
                await query.answer(t(context, person.language, "reminders.need_one"))
                return
            await reminders.set_lead_minutes(
                person.telegram_user_id, sorted(chosen), session=session
            )
        else:
            await answer_expired(query, context, person.language)
            return
        prefs = await reminders.reminder_prefs(person.telegram_user_id, session=session)
    await query.answer()
    text, markup = _screen(context, person, prefs)
    await edit(query, text, markup)
