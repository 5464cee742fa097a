"""/council: citizens see the next coffee-council meeting, RSVP and suggest agenda topics.

Citizens who consented to the coffee council see the next meeting (its title, date and time in
their language, place, agenda and how many said yes), their own answer, and buttons: Yes /
Maybe / No (changeable until the meeting begins), "Suggest a topic" (their next text message,
within 30 minutes, is stored with its detected language), "Later meetings", and a map when the
meeting has a location. A Yes brings the meeting as an `.ics` file with a link back to the bot.
A cancelled or moved meeting says so.

Every button carries only ids (`v1:cncl:<action>:<ids>`); each press re-reads the meeting and
the presser: an unknown meeting, one that ended, or malformed data get "expired" and change
nothing. Storage owns every rule (consent, one answer per person, the suggestion limit).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime, format_time
from bot.ics import IcsEvent, calendar_file
from bot.language_detection import detect_language
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.awaiting import Awaiting, stop_waiting, waits_of
from handlers.consent_gate import ConsentGate
from handlers.deep_links import register_deep_link
from handlers.people import Person, load_person
from handlers.press import Action, Buttons, back_to, chosen, pressed, show
from handlers.replies import answer_expired, edit, reply, t
from storage import citizens, clock, council
from storage.council import Meeting, Rsvp
from storage.enums import Purpose, RsvpAnswer
from storage.errors import (
    ConsentRequired,
    CouncilRefused,
    NotRegistered,
    UnknownMeeting,
    UnsupportedLanguage,
)

FLOW: Final = "cncl"
GATE: Final = ConsentGate(Purpose.coffee_council, "council", FLOW)
DEEP_LINK: Final = "council"  # t.me/<bot>?start=council opens /council
# Only people who just pressed "Suggest a topic" match (see handlers.awaiting), so this
# early group takes their topic before the waiting text steps of older wizards.
TEXT_INPUT_GROUP: Final = -21
SUGGEST_MINUTES: Final = 30
WAITS_KEY: Final = "council_suggestion_waits"
MAX_LATER: Final = 5
# An answer travels as one letter in the button data.
_ANSWER_CODES: Final = {"y": RsvpAnswer.yes, "m": RsvpAnswer.maybe, "n": RsvpAnswer.no}
_CODE_OF: Final = {answer: code for code, answer in _ANSWER_CODES.items()}


@dataclass
class SuggestionWait:
    """Someone pressed "Suggest a topic" for this meeting (memory only)."""

    meeting_id: int
    since: float


def register(app: AnyApplication) -> None:
    """Add /council, its buttons, the typed topic and the `council` deep link."""
    waits: dict[int, SuggestionWait] = app.bot_data.setdefault(WAITS_KEY, {})
    awaiting = Awaiting(waits, SUGGEST_MINUTES, name="awaiting_council_suggestion")
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("council", _on_council, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND & awaiting, _on_topic_text),
        group=TEXT_INPUT_GROUP,
    )
    # A command means they moved on: stop waiting, and let the command run as usual.
    app.add_handler(
        MessageHandler(private & filters.COMMAND & awaiting, stop_waiting(WAITS_KEY)),
        group=TEXT_INPUT_GROUP,
    )
    register_deep_link(app, DEEP_LINK, _on_deep_link)


# --- entry: /council and the deep link -----------------------------------------------------


async def _on_council(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open the council: the next meeting, once the person is registered and consented."""
    person = await load_person(update, context)
    await _open(context, person)


async def _on_deep_link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str
) -> None:
    """`/start council` (also right after onboarding): the same as /council."""
    await _open(context, person)


async def _open(context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    await GATE.open(context, person, _next_page)


# --- buttons --------------------------------------------------------------------------------


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every /council button; whatever the data names is re-checked before anything changes."""
    person = await load_person(update, context)
    found = await chosen(update, context, person, _ACTIONS)
    if found is None:
        return
    (action, for_consenting), args = found
    query = pressed(update)
    if not person.registered:
        await answer_expired(query, context, person.language)
        return
    if for_consenting and await GATE.withdrawn(query, context, person):  # since it was sent
        return
    await action(update, context, person, args)


_button: Final = Buttons(FLOW, "council.button.")


def _meeting_id(args: tuple[str, ...]) -> int | None:
    """The one meeting id the data carries, or None (forged data)."""
    if not args or not args[0].isdigit() or len(args[0]) > 12:
        return None
    return int(args[0])


async def _give_consent(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Consent to the coffee council, then show the next meeting."""
    query = pressed(update)
    async with services_of(context).db.session() as session:
        await citizens.set_consent(
            person.telegram_user_id, Purpose.coffee_council, True, session=session
        )
    await show(query, t(context, person.language, "council.consent_thanks"))
    text, markup = await _next_page(context, person)
    await context.bot.send_message(person.telegram_user_id, text, reply_markup=markup)


# --- the meeting page -----------------------------------------------------------------------


def title_in(texts: dict[str, str], lang: str) -> str:
    """A {th, en} text in the person's language (the other one if it is missing)."""
    return texts.get(lang) or next(iter(texts.values()), "")


def when_in(moment: datetime, lang: str, timezone: str) -> str:
    """A stored UTC moment as the person reads it, in the meeting's local time."""
    return format_datetime(moment, lang, ZoneInfo(timezone))


async def _live_meeting(context: ContextTypes.DEFAULT_TYPE, meeting_id: int) -> Meeting | None:
    """The meeting if it exists and has not ended (a cancelled one is returned, to say so)."""
    async with services_of(context).db.session(readonly=True) as session:
        meeting = await council.get_meeting(meeting_id, session=session)
    if meeting is None or meeting.ends_at <= clock.now():
        return None
    return meeting


async def _next_page(
    context: ContextTypes.DEFAULT_TYPE, person: Person
) -> tuple[str, InlineKeyboardMarkup]:
    """The next scheduled meeting, preceded by any cancelled one that would have come first."""
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        upcoming = await council.upcoming_meetings(
            clock.now(), limit=MAX_LATER, include_cancelled=True, session=session
        )
    following = next((m for m in upcoming if not m.cancelled), None)
    notices = [
        t(context, lang, "council.cancelled_notice", title=title_in(m.title, lang),
          when=when_in(m.starts_at, lang, m.timezone))
        for m in upcoming
        if m.cancelled and (following is None or m.starts_at <= following.starts_at)
    ]  # fmt: skip
    if following is None:
        text = "\n\n".join([*notices, t(context, lang, "council.no_meeting")])
        return text, InlineKeyboardMarkup([[_button(context, lang, "later", "later")]])
    text, markup = await _meeting_page(context, person, following)
    return "\n\n".join([*notices, text]), markup


async def _meeting_page(
    context: ContextTypes.DEFAULT_TYPE, person: Person, meeting: Meeting
) -> tuple[str, InlineKeyboardMarkup]:
    """A meeting: when, where, agenda, how many come, the person's answer and the buttons."""
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        mine = await council.my_rsvp(meeting.id, person.telegram_user_id, session=session)
        counts = await council.rsvp_counts(meeting.id, session=session)
        items = await council.agenda(meeting.id, session=session)
    notes: list[str] = []
    if meeting.cancelled:
        notes.append(t(context, lang, "council.cancelled_note"))
    elif meeting.moved:
        original = when_in(meeting.original_start, lang, meeting.timezone)
        notes.append(t(context, lang, "council.moved_note", original=original))
    open_for_answers = not meeting.cancelled and meeting.starts_at > clock.now()
    if not meeting.cancelled and not open_for_answers:
        notes.append(t(context, lang, "council.started_note"))
    agenda = ""
    if items:
        lines = [
            t(context, lang, "council.agenda_item", number=item.position + 1,
              label=title_in(item.label, lang))
            for item in items
        ]  # fmt: skip
        agenda = t(context, lang, "council.agenda", items=Raw("\n".join(lines)))
    answer = (
        t(context, lang, "council.your_answer.none")
        if mine is None
        else t(context, lang, f"council.your_answer.{mine.answer.value}")
    )
    text = t(
        context, lang, "council.meeting",
        title=title_in(meeting.title, lang),
        when=when_in(meeting.starts_at, lang, meeting.timezone),
        until=format_time(meeting.ends_at.astimezone(ZoneInfo(meeting.timezone)).time(), lang),
        place=meeting.place_text, notes=Raw("".join(notes)), agenda=Raw(agenda),
        yes=counts[RsvpAnswer.yes],
        answer=Raw(answer if open_for_answers else ""),
    )  # fmt: skip
    rows: list[list[InlineKeyboardButton]] = []
    if open_for_answers:
        rows.append([_answer_button(context, lang, meeting.id, a, mine) for a in RsvpAnswer])
        rows.append([_button(context, lang, "suggest", "sg", meeting.id)])
    last = [_button(context, lang, "later", "later")]
    if meeting.latitude is not None and meeting.longitude is not None and not meeting.cancelled:
        last.insert(0, _button(context, lang, "map", "map", meeting.id))
    rows.append(last)
    return text, InlineKeyboardMarkup(rows)


def _answer_button(
    context: ContextTypes.DEFAULT_TYPE,
    lang: str,
    meeting_id: int,
    answer: RsvpAnswer,
    mine: Rsvp | None,
) -> InlineKeyboardButton:
    """Yes / Maybe / No; the person's current answer is marked."""
    key = f"{answer.value}_chosen" if mine is not None and mine.answer is answer else answer.value
    return _button(context, lang, key, "r", meeting_id, _CODE_OF[answer])


async def _show_meeting(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """A meeting's page (`m:<meeting>`), from the list of later meetings."""
    query = pressed(update)
    meeting_id = _meeting_id(args) if len(args) == 1 else None
    meeting = await _live_meeting(context, meeting_id) if meeting_id is not None else None
    if meeting is None:
        await answer_expired(query, context, person.language)
        return
    text, markup = await _meeting_page(context, person, meeting)
    await show(query, text, markup)


async def _show_later(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The next few meetings (cancelled and moved ones say so), each a button."""
    query = pressed(update)
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        meetings = await council.upcoming_meetings(
            clock.now(), limit=MAX_LATER, include_cancelled=True, session=session
        )
        answers = {
            m.id: await council.my_rsvp(m.id, person.telegram_user_id, session=session)
            for m in meetings
        }
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for meeting in meetings:
        when = when_in(meeting.starts_at, lang, meeting.timezone)
        lines.append(_later_line(context, lang, meeting, answers.get(meeting.id)))
        if not meeting.cancelled:
            rows.append(
                [InlineKeyboardButton(when, callback_data=cb.encode(FLOW, "m", meeting.id))]
            )
    rows.append([_button(context, lang, "back", "next")])
    text = (
        t(context, lang, "council.later", meetings=Raw("\n\n".join(lines)))
        if lines
        else t(context, lang, "council.no_later")
    )
    await show(query, text, InlineKeyboardMarkup(rows))


def _later_line(
    context: ContextTypes.DEFAULT_TYPE, lang: str, meeting: Meeting, mine: Rsvp | None
) -> str:
    if meeting.cancelled:
        state = t(context, lang, "council.later_cancelled")
    elif meeting.moved:
        state = t(context, lang, "council.later_moved",
                  original=when_in(meeting.original_start, lang, meeting.timezone))  # fmt: skip
    else:
        state = ""
    if mine is not None and not meeting.cancelled:
        state += t(context, lang, "council.later_answer",
                   answer=t(context, lang, f"council.answer.{mine.answer.value}"))  # fmt: skip
    return t(
        context, lang, "council.later_line",
        when=when_in(meeting.starts_at, lang, meeting.timezone),
        title=title_in(meeting.title, lang), place=meeting.place_text, state=Raw(state),
    )  # fmt: skip


async def _send_map(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The meeting's place on a map, only when the person asks for it."""
    query = pressed(update)
    meeting_id = _meeting_id(args) if len(args) == 1 else None
    meeting = await _live_meeting(context, meeting_id) if meeting_id is not None else None
    if meeting is None or meeting.latitude is None or meeting.longitude is None:
        await answer_expired(query, context, person.language)
        return
    await query.answer()
    await context.bot.send_location(
        person.telegram_user_id, latitude=meeting.latitude, longitude=meeting.longitude
    )


# --- RSVP -----------------------------------------------------------------------------------


async def _rsvp(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Answer yes, maybe or no (`r:<meeting>:<y|m|n>`); a new Yes brings the .ics file."""
    query = pressed(update)
    lang = person.language
    meeting_id = _meeting_id(args) if len(args) == 2 else None
    answer = _ANSWER_CODES.get(args[1]) if len(args) == 2 else None
    meeting = await _live_meeting(context, meeting_id) if meeting_id is not None else None
    if meeting is None or answer is None:
        await answer_expired(query, context, lang)
        return
    try:
        async with services_of(context).db.session() as session:
            before = await council.my_rsvp(meeting.id, person.telegram_user_id, session=session)
            await council.rsvp(
                meeting.id, person.telegram_user_id, answer, lang,
                display_name=query.from_user.full_name, session=session,
            )  # fmt: skip
    except CouncilRefused as refusal:
        await _refused(query, context, person, meeting.id, refusal.reason)
        return
    except ConsentRequired:
        await query.answer()
        await GATE.ask(context, person)
        return
    except (UnknownMeeting, NotRegistered, UnsupportedLanguage):
        await answer_expired(query, context, lang)
        return
    await query.answer(t(context, lang, f"council.saved.{answer.value}"))
    fresh = await _live_meeting(context, meeting.id) or meeting
    text, markup = await _meeting_page(context, person, fresh)
    await edit(query, text, markup)
    if answer is RsvpAnswer.yes and (before is None or before.answer is not RsvpAnswer.yes):
        await send_meeting_calendar(context, fresh, person.telegram_user_id, lang)


async def _refused(
    query: CallbackQuery,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    meeting_id: int,
    reason: str,
) -> None:
    """Say why (cancelled, begun) and show the meeting as it is now; nothing changed."""
    lang = person.language
    await query.answer(_refusal_text(context, lang, reason), show_alert=True)
    meeting = await _live_meeting(context, meeting_id)
    if meeting is not None:
        text, markup = await _meeting_page(context, person, meeting)
        await edit(query, text, markup)


def _refusal_text(context: ContextTypes.DEFAULT_TYPE, lang: str, reason: str) -> str:
    if reason == "too_many":
        return t(context, lang, "council.refused.too_many", limit=council.MAX_SUGGESTIONS)
    if reason in ("cancelled", "past"):
        return t(context, lang, f"council.refused.{reason}")
    return t(context, lang, "council.refused.other")


# --- the calendar file ----------------------------------------------------------------------


def council_link(bot: Bot) -> str:
    """The link back to the bot that opens /council."""
    return f"https://t.me/{bot.username}?start={DEEP_LINK}"


def meeting_calendar(context: ContextTypes.DEFAULT_TYPE, meeting: Meeting, lang: str) -> bytes:
    """The meeting as an `.ics` file: its local times, place, map point and a link back."""
    link = council_link(context.bot)
    title = title_in(meeting.title, lang)
    # Calendar text is plain, not HTML: undo the catalog's escaping.
    summary = html.unescape(t(context, lang, "council.ics_title", title=title))
    description = html.unescape(t(context, lang, "council.ics_description", title=title, link=link))
    event = IcsEvent(
        uid=f"council-meeting-{meeting.id}@learncity",
        title=summary,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        place=meeting.place_text,
        latitude=meeting.latitude,
        longitude=meeting.longitude,
        description=description,
        url=link,
    )
    return calendar_file([event], timezone=meeting.timezone)


async def send_meeting_calendar(
    context: ContextTypes.DEFAULT_TYPE, meeting: Meeting, chat_id: int, lang: str
) -> None:
    """Send the meeting's `.ics` file (after a Yes, or from /mysessions)."""
    await context.bot.send_document(
        chat_id,
        document=meeting_calendar(context, meeting, lang),
        filename=f"coffee-council-{meeting.id}.ics",
        caption=t(context, lang, "council.ics_caption"),
    )


# --- suggesting a topic ---------------------------------------------------------------------


def _waits(context: ContextTypes.DEFAULT_TYPE) -> dict[int, SuggestionWait]:
    return waits_of(context, WAITS_KEY)


async def _ask_topic(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """ "Suggest a topic": their next text message (within 30 minutes) is the topic."""
    query = pressed(update)
    lang = person.language
    meeting_id = _meeting_id(args) if len(args) == 1 else None
    meeting = await _live_meeting(context, meeting_id) if meeting_id is not None else None
    if meeting is None:
        await answer_expired(query, context, lang)
        return
    if meeting.cancelled or meeting.starts_at <= clock.now():
        await _refused(query, context, person, meeting.id,
                       "cancelled" if meeting.cancelled else "past")  # fmt: skip
        return
    _waits(context)[person.telegram_user_id] = SuggestionWait(meeting.id, time.monotonic())
    await query.answer()
    text = t(
        context, lang, "council.suggest_prompt",
        when=when_in(meeting.starts_at, lang, meeting.timezone),
        max=council.SUGGESTION_MAX_LENGTH, limit=council.MAX_SUGGESTIONS,
        minutes=SUGGEST_MINUTES,
    )  # fmt: skip
    markup = InlineKeyboardMarkup([[_button(context, lang, "suggest_cancel", "sgx")]])
    await context.bot.send_message(person.telegram_user_id, text, reply_markup=markup)


async def _cancel_topic(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """They changed their mind: stop waiting for a topic."""
    query = pressed(update)
    if _waits(context).pop(person.telegram_user_id, None) is None:
        await answer_expired(query, context, person.language)
        return
    await show(query, t(context, person.language, "council.suggest_cancelled"))


async def _on_topic_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The topic: stored with its detected language; a limit is explained plainly."""
    message = update.effective_message
    user = update.effective_user
    waits = _waits(context)
    wait = waits.get(user.id) if user is not None else None
    if wait is None or message is None or not message.text or user is None:
        return
    person = await load_person(update, context)
    lang = person.language
    text = message.text.strip()
    if len(text) > council.SUGGESTION_MAX_LENGTH:
        # Keep waiting: a shorter version is the natural next message.
        await reply(update, context, lang, "council.suggest_too_long",
                    length=len(text), max=council.SUGGESTION_MAX_LENGTH)  # fmt: skip
        raise ApplicationHandlerStop
    waits.pop(user.id, None)
    try:
        async with services_of(context).db.session() as session:
            meeting = await council.get_meeting(wait.meeting_id, session=session)
            await council.suggest(
                wait.meeting_id, user.id, text, detect_language(text), session=session
            )
    except CouncilRefused as refusal:
        await context.bot.send_message(user.id, _refusal_text(context, lang, refusal.reason))
        raise ApplicationHandlerStop from None
    except ConsentRequired:
        await GATE.ask(context, person)
        raise ApplicationHandlerStop from None
    except NotRegistered:
        await reply(update, context, lang, "council.unregistered")
        raise ApplicationHandlerStop from None
    except UnknownMeeting:
        await reply(update, context, lang, "council.refused.cancelled")
        raise ApplicationHandlerStop from None
    assert meeting is not None
    await reply(update, context, lang, "council.suggested",
                when=when_in(meeting.starts_at, lang, meeting.timezone))  # fmt: skip
    raise ApplicationHandlerStop


# action → (callback, only for people who consented to the coffee council)
_ACTIONS: dict[str, tuple[Action, bool]] = {
    "consent": (_give_consent, False),
    "next": (back_to(_next_page), True),
    "later": (_show_later, True),
    "m": (_show_meeting, True),
    "map": (_send_map, True),
    "r": (_rsvp, True),
    "sg": (_ask_topic, True),
    "sgx": (_cancel_topic, False),
}
