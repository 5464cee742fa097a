"""`/schedule` (facilitators): one wizard that schedules an event, step by step.

The first step chooses the kind of event from `KINDS` (only the human library for now; the
coffee council will add its own kind, with its own steps such as a monthly rule). A kind names
its steps in order; each step is a small function that draws its screen (`_PROMPTS`), and
some also take typed text (`_TYPED`). A button names an action (`_ACTIONS`), accepted only at
the steps it belongs to, only on the wizard's current message and only while the draft lives:
forged or stale data cannot skip a step, and gets "expired". The draft lives in the
conversation (memory, like /poll and /broadcast); nothing is written until "Confirm".

Library event: date (a month calendar, or typed d/m/yyyy with a Buddhist Era or Western year,
echoed back for confirmation) → time (buttons or typed HH:MM, in the city's time zone, stored
as UTC, never in the past) → place (text) → an optional map location → the books present →
loan length → readers per loan → slots per book (each button shows when the last loan ends) →
summary with the computed loan times → `storage.library.create_event`.
"""

from __future__ import annotations

import logging
import time as monotonic_time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, TypeAlias

from babel.dates import get_day_names, get_month_names
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.date_input import parse_date, parse_time
from bot.i18n.catalog import Raw
from bot.i18n.dates import buddhist_year, format_time
from bot.services import AnyApplication, services_of
from handlers import calendar_keyboard as calendar
from handlers import callback_data as cb
from handlers.guard import allows, requires
from handlers.people import Person, load_person
from handlers.replies import answer_expired, edit, t
from storage import clock, library
from storage.enums import Role
from storage.errors import BookRetired, UnknownBook
from storage.models import LibraryEvent

logger = logging.getLogger(__name__)

FLOW: Final = "sched"
DRAFT_KEY: Final = "schedule_draft"
# Its own handler group (one handler runs per group): /poll waits for text in -4, /broadcast
# in -3, /needs in -2, /books in -7, /library in -10; the fallback answers in 0. The handlers
# also match only while a wizard waits, so even a shared group would hold no one up.
TEXT_INPUT_GROUP: Final = -8
DRAFT_MINUTES: Final = 60  # after this, the wizard's buttons expire and typed text passes by
MAX_DAYS_AHEAD: Final = 730
LOAN_CHOICES: Final = (15, 20, 30, 45, 60)
DEFAULT_LOAN: Final = 30
READER_CHOICES: Final = (1, 2, 3)
DEFAULT_READERS: Final = 1
SLOT_CHOICES: Final = tuple(range(1, 9))
SLOTS_PER_ROW: Final = 2
LABEL_CHARS: Final = 40
CHECKED, UNCHECKED, CHOSEN = "☑", "☐", "✓"
FACILITATORS: Final = frozenset({Role.facilitator, Role.admin})

# Step names. DATE_OK is the echo of a typed date, a sub-step of DATE.
KIND, DATE, DATE_OK, TIME, PLACE, LOCATION = "kind", "date", "date_ok", "time", "place", "location"
BOOKS, LOAN, READERS, SLOTS, CONFIRM = "books", "loan", "readers", "slots", "confirm"


@dataclass
class ScheduleDraft:
    """An event being scheduled; memory only until it is confirmed."""

    kind: str = ""
    step: str = KIND
    message_id: int | None = None  # the message whose buttons are live
    shown_month: tuple[int, int] | None = None
    typed_day: date | None = None  # typed, waiting for "Confirm"
    day: date | None = None
    start: time | None = None
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    book_ids: list[int] = field(default_factory=list)
    loan_minutes: int = DEFAULT_LOAN
    readers_per_loan: int = DEFAULT_READERS
    slots_per_book: int = 0
    since: float = field(default_factory=monotonic_time.monotonic)


@dataclass(frozen=True)
class Turn:
    """One update the wizard handles: the update, who sent it, and their draft."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    person: Person
    draft: ScheduleDraft

    @property
    def lang(self) -> str:
        """The facilitator's language."""
        return self.person.language

    @property
    def query(self) -> CallbackQuery:
        """The pressed button (only for button actions)."""
        assert self.update.callback_query is not None
        return self.update.callback_query

    def t(self, key: str, /, **values: object) -> str:
        """Catalog text in the facilitator's language."""
        return t(self.context, self.lang, key, **values)

    def button(self, key: str, action: str, *args: object) -> InlineKeyboardButton:
        """A wizard button labelled with catalog text."""
        return InlineKeyboardButton(self.t(key), callback_data=cb.encode(FLOW, action, *args))

    async def say(self, key: str, /, **values: object) -> None:
        """Reply with catalog text (after typed input)."""
        chat = self.update.effective_chat
        assert chat is not None
        await self.context.bot.send_message(chat.id, self.t(key, **values))

    async def expired(self) -> None:
        """Answer a forged or stale press; nothing changes."""
        await answer_expired(self.query, self.context, self.lang)


Screen: TypeAlias = tuple[str, InlineKeyboardMarkup]
Prompt = Callable[[Turn], Awaitable[Screen]]
Typed = Callable[[Turn, str], Awaitable[None]]
Pressed = Callable[[Turn, tuple[str, ...]], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    """A kind of event the wizard schedules: its button, its steps after this one, and how it
    is summed up and created. `unavailable` gives a catalog key saying why it cannot be
    scheduled now (None: it can); `create` stores the event and returns the "done" text."""

    key: str
    label_key: str
    steps: tuple[str, ...]
    unavailable: Callable[[ContextTypes.DEFAULT_TYPE], Awaitable[str | None]]
    summary: Callable[[Turn], Awaitable[str]]
    create: Callable[[Turn], Awaitable[str]]


class StepAgain(Exception):
    """Raised by `Kind.create`: something changed meanwhile; redo `step`, saying why (`key`)."""

    def __init__(self, step: str, key: str) -> None:
        super().__init__(step)
        self.step = step
        self.key = key


def register(app: AnyApplication) -> None:
    """Add /schedule, its buttons, and the typed text and location it waits for."""
    app.add_handler(CommandHandler("schedule", _on_schedule, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    text = private & filters.TEXT
    # Text and locations are claimed only while this person's wizard waits for them (the
    # filters read the draft), so other flows and the fallback see everything else. Any
    # command drops a waiting draft and goes on to its own handler.
    typed, located = _Waiting(app, frozenset(_TYPED)), _Waiting(app, frozenset({LOCATION}))
    anything = _Waiting(app, None)
    app.add_handler(MessageHandler(text & ~filters.COMMAND & typed, _on_text), TEXT_INPUT_GROUP)
    app.add_handler(
        MessageHandler(text & filters.COMMAND & anything, _on_command), TEXT_INPUT_GROUP
    )
    app.add_handler(
        MessageHandler(private & filters.LOCATION & located, _on_location), TEXT_INPUT_GROUP
    )


class _Waiting(filters.MessageFilter):
    """A message from someone whose wizard is at one of `steps` (None: at any step)."""

    def __init__(self, app: AnyApplication, steps: frozenset[str] | None) -> None:
        super().__init__(name=f"schedule_waiting({sorted(steps or ())})")
        self._app = app
        self._steps = steps

    def filter(self, message: Message) -> bool:
        user = message.from_user
        data = self._app.user_data.get(user.id) if user is not None else None
        draft = data.get(DRAFT_KEY) if data is not None else None
        return isinstance(draft, ScheduleDraft) and (
            self._steps is None or draft.step in self._steps
        )


# --- the draft --------------------------------------------------------------------------------


def _draft(context: ContextTypes.DEFAULT_TYPE) -> ScheduleDraft | None:
    """The wizard in progress, unless missing or too old (then it is dropped)."""
    draft = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    if not isinstance(draft, ScheduleDraft):
        return None
    if monotonic_time.monotonic() - draft.since > DRAFT_MINUTES * 60:
        _drop_draft(context)
        return None
    return draft


def _keep_draft(context: ContextTypes.DEFAULT_TYPE, draft: ScheduleDraft) -> None:
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = draft


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)


def _kind_of(draft: ScheduleDraft) -> Kind:
    kind = next((kind for kind in KINDS if kind.key == draft.kind), None)
    assert kind is not None, "the kind is chosen before any other step"
    return kind


def _advance(draft: ScheduleDraft) -> None:
    """On to the kind's step after the current one (the date's echo counts as the date)."""
    steps = _kind_of(draft).steps
    current = DATE if draft.step == DATE_OK else draft.step
    draft.step = steps[steps.index(current) + 1]


async def _show(turn: Turn) -> None:
    """Draw the current step: over the pressed message, or as a new message after typing."""
    text, markup = await _PROMPTS[turn.draft.step](turn)
    turn.draft.since = monotonic_time.monotonic()
    if turn.update.callback_query is not None:
        await edit(turn.update.callback_query, text, markup)
        return
    chat = turn.update.effective_chat
    assert chat is not None
    message = await turn.context.bot.send_message(chat.id, text, reply_markup=markup)
    turn.draft.message_id = message.message_id


async def _next(turn: Turn) -> None:
    """The step is done: answer the press (if any) and show the next step."""
    _advance(turn.draft)
    if turn.update.callback_query is not None:
        await turn.query.answer()
    await _show(turn)


# --- entry, buttons, typed input --------------------------------------------------------------


@requires(Role.facilitator)
async def _on_schedule(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Start a new wizard: which kind of event."""
    draft = ScheduleDraft()
    _keep_draft(context, draft)
    await _show(Turn(update, context, person, draft))


@requires(Role.facilitator)
async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Every wizard button: accepted only at its own step, on the wizard's live message."""
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    if data is not None and data.action == calendar.NOOP:
        await query.answer()  # a label: month name, weekday, a day that cannot be chosen
        return
    draft = _draft(context)
    action = _ACTIONS.get(data.action) if data is not None else None
    if (
        data is None
        or action is None
        or draft is None
        or (action[0] and draft.step not in action[0])  # an empty set: at every step
        or query.message is None
        or query.message.message_id != draft.message_id
    ):
        await answer_expired(query, context, person.language)
        return
    await action[1](Turn(update, context, person, draft), data.args)


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command ends the wizard's waiting for text; the command itself is handled as usual."""
    _drop_draft(context)


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed input at a step that takes it; anything else passes by."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or draft.step not in _TYPED or message is None or message.text is None:
        return  # not ours: other flows and the fallback answer
    person = await load_person(update, context)
    if not allows(person, FACILITATORS):
        _drop_draft(context)
        return
    await _TYPED[draft.step](Turn(update, context, person, draft), message.text.strip())
    raise ApplicationHandlerStop


async def _on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The place on the map, at the location step; anything else passes by."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or draft.step != LOCATION or message is None or message.location is None:
        return
    person = await load_person(update, context)
    if not allows(person, FACILITATORS):
        _drop_draft(context)
        return
    draft.latitude = message.location.latitude
    draft.longitude = message.location.longitude
    await _next(Turn(update, context, person, draft))
    raise ApplicationHandlerStop


def _cancel_row(turn: Turn) -> list[InlineKeyboardButton]:
    return [turn.button("button.cancel", "stop")]


def _with_cancel(turn: Turn, markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([*markup.inline_keyboard, _cancel_row(turn)])


async def _press_stop(turn: Turn, args: tuple[str, ...]) -> None:
    """Cancel: nothing was stored, nothing is."""
    _drop_draft(turn.context)
    await turn.query.answer()
    await edit(turn.query, turn.t("schedule.cancelled"))


# --- dates and times --------------------------------------------------------------------------


def _today(context: ContextTypes.DEFAULT_TYPE) -> date:
    """Today in the city."""
    return clock.now().astimezone(services_of(context).settings.tz).date()


def _last_day(today: date) -> date:
    return today + timedelta(days=MAX_DAYS_AHEAD)


def long_date(context: ContextTypes.DEFAULT_TYPE, lang: str, day: date) -> str:
    """ "วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569" / "Saturday 5 December 2026"."""
    locale = "th" if lang == "th" else "en"
    return t(
        context,
        lang,
        "schedule.long_date",
        weekday=str(get_day_names("wide", locale=locale)[day.weekday()]),
        day=day.day,
        month=str(get_month_names("wide", locale=locale)[day.month]),
        year=buddhist_year(day.year) if lang == "th" else day.year,
    )


def _long_date(turn: Turn, day: date) -> Raw:
    return Raw(long_date(turn.context, turn.lang, day))


def _starts_at(context: ContextTypes.DEFAULT_TYPE, day: date, start: time) -> datetime:
    """The city's local day and time as a UTC moment."""
    local = datetime.combine(day, start, tzinfo=services_of(context).settings.tz)
    return local.astimezone(UTC)


def _local_time(context: ContextTypes.DEFAULT_TYPE, moment: datetime) -> time:
    return moment.astimezone(services_of(context).settings.tz).time()


def _date_example(turn: Turn) -> str:
    """A week from today as the facilitator would type it (Buddhist Era in Thai)."""
    day = _today(turn.context) + timedelta(days=7)
    year = buddhist_year(day.year) if turn.lang == "th" else day.year
    return f"{day.day}/{day.month}/{year}"


# --- step: kind -------------------------------------------------------------------------------


async def _ask_kind(turn: Turn) -> Screen:
    rows = [[turn.button(kind.label_key, "kind", kind.key)] for kind in KINDS]
    return turn.t("schedule.ask_kind"), InlineKeyboardMarkup([*rows, _cancel_row(turn)])


async def _press_kind(turn: Turn, args: tuple[str, ...]) -> None:
    kind = next((k for k in KINDS if args == (k.key,)), None)
    if kind is None:
        await turn.expired()
        return
    reason = await kind.unavailable(turn.context)
    await turn.query.answer()
    if reason is not None:
        _drop_draft(turn.context)
        await edit(turn.query, turn.t(reason))
        return
    turn.draft.kind = kind.key
    turn.draft.step = kind.steps[0]
    await _show(turn)


# --- step: date -------------------------------------------------------------------------------


async def _ask_date(turn: Turn) -> Screen:
    today = _today(turn.context)
    year, month = turn.draft.shown_month or (today.year, today.month)
    markup = calendar.month_keyboard(
        FLOW,
        year,
        month,
        language=turn.lang,
        today=today,
        first_allowed=today,
        last_allowed=_last_day(today),
    )
    return turn.t("schedule.ask_date", example=_date_example(turn)), _with_cancel(turn, markup)


async def _press_month(turn: Turn, args: tuple[str, ...]) -> None:
    """Turn the calendar to another month (one a day can be chosen from)."""
    month = calendar.decode_month(args)
    today = _today(turn.context)
    last = _last_day(today)
    if month is None or not (today.year, today.month) <= month <= (last.year, last.month):
        await turn.expired()
        return
    turn.draft.shown_month = (month.year, month.month)
    await turn.query.answer()
    await _show(turn)


async def _press_day(turn: Turn, args: tuple[str, ...]) -> None:
    """A day from the calendar: on to the time."""
    today = _today(turn.context)
    day = calendar.decode_day(args, first_allowed=today, last_allowed=_last_day(today))
    if day is None:
        await turn.expired()
        return
    turn.draft.day = day
    await _next(turn)


async def _type_date(turn: Turn, text: str) -> None:
    """A typed date, echoed back for confirmation (at the echo, a new date replaces it)."""
    today = _today(turn.context)
    day = parse_date(text, today=today)
    if day is None:
        await turn.say("schedule.date_unreadable", example=_date_example(turn))
    elif day < today:
        await turn.say("schedule.date_past", date=_long_date(turn, day))
    elif day > _last_day(today):
        await turn.say("schedule.date_too_far", days=MAX_DAYS_AHEAD)
    else:
        turn.draft.typed_day = day
        turn.draft.step = DATE_OK
        await _show(turn)


async def _ask_date_ok(turn: Turn) -> Screen:
    assert turn.draft.typed_day is not None
    markup = InlineKeyboardMarkup(
        [
            [turn.button("button.confirm", "dok"), turn.button("schedule.button_reenter", "dre")],
            _cancel_row(turn),
        ]
    )
    return turn.t("schedule.date_echo", date=_long_date(turn, turn.draft.typed_day)), markup


async def _press_date_ok(turn: Turn, args: tuple[str, ...]) -> None:
    """The echoed date is right: on to the time (unless the day passed meanwhile)."""
    day = turn.draft.typed_day
    if day is None or day < _today(turn.context):
        await turn.expired()
        return
    turn.draft.day, turn.draft.typed_day = day, None
    await _next(turn)


async def _press_date_again(turn: Turn, args: tuple[str, ...]) -> None:
    """Back to the calendar, to choose or type the date again."""
    turn.draft.typed_day = None
    turn.draft.step = DATE
    await turn.query.answer()
    await _show(turn)


# --- step: time -------------------------------------------------------------------------------


async def _ask_time(turn: Turn) -> Screen:
    assert turn.draft.day is not None
    text = turn.t("schedule.ask_time", date=_long_date(turn, turn.draft.day))
    return text, _with_cancel(turn, calendar.time_keyboard(FLOW))


async def _take_time(turn: Turn, start: time) -> None:
    """Take the start time and go on, unless that moment has already passed."""
    assert turn.draft.day is not None
    if _starts_at(turn.context, turn.draft.day, start) <= clock.now():
        shown = format_time(start, turn.lang)
        if turn.update.callback_query is not None:
            await turn.query.answer(turn.t("schedule.time_past", time=shown), show_alert=True)
        else:
            await turn.say("schedule.time_past", time=shown)
        return
    turn.draft.start = start
    await _next(turn)


async def _press_time(turn: Turn, args: tuple[str, ...]) -> None:
    start = calendar.decode_time(args)
    if start is None:
        await turn.expired()
        return
    await _take_time(turn, start)


async def _type_time(turn: Turn, text: str) -> None:
    start = parse_time(text)
    if start is None:
        await turn.say("schedule.time_unreadable")
        return
    await _take_time(turn, start)


# --- steps: place and location ----------------------------------------------------------------


async def _ask_place(turn: Turn) -> Screen:
    text = turn.t("schedule.ask_place", limit=library.PLACE_MAX_LENGTH)
    return text, InlineKeyboardMarkup([_cancel_row(turn)])


async def _type_place(turn: Turn, text: str) -> None:
    if not text or len(text) > library.PLACE_MAX_LENGTH:
        await turn.say("schedule.place_too_long", limit=library.PLACE_MAX_LENGTH)
        return
    turn.draft.place = text
    await _next(turn)


async def _ask_location(turn: Turn) -> Screen:
    markup = InlineKeyboardMarkup([[turn.button("button.skip", "skip")], _cancel_row(turn)])
    return turn.t("schedule.ask_location"), markup


async def _type_at_location(turn: Turn, text: str) -> None:
    """Text where a map location is expected: say how to send one."""
    await turn.say("schedule.location_hint")


async def _press_skip(turn: Turn, args: tuple[str, ...]) -> None:
    """No map location."""
    turn.draft.latitude = turn.draft.longitude = None
    await _next(turn)


# --- step: books ------------------------------------------------------------------------------


async def _schedulable_books(context: ContextTypes.DEFAULT_TYPE) -> list[library.Book]:
    """Books that can be at an event: every book not retired (linked yet or not)."""
    async with services_of(context).db.session(readonly=True) as session:
        return await library.books(session=session)


def _title(book: library.Book, lang: str) -> str:
    return book.title.get(lang) or next(iter(book.title.values()), str(book.id))


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


async def _ask_books(turn: Turn) -> Screen:
    available = await _schedulable_books(turn.context)
    chosen = turn.draft.book_ids = [b.id for b in available if b.id in turn.draft.book_ids]
    rows = [
        [
            InlineKeyboardButton(
                f"{CHECKED if book.id in chosen else UNCHECKED} {_short(_title(book, turn.lang))}",
                callback_data=cb.encode(FLOW, "book", book.id),
            )
        ]
        for book in available
    ]
    rows += [[turn.button("schedule.button_next", "bdone")], _cancel_row(turn)]
    return turn.t("schedule.ask_books", count=len(chosen)), InlineKeyboardMarkup(rows)


async def _press_book(turn: Turn, args: tuple[str, ...]) -> None:
    """Select or unselect a book (only one that can still be scheduled)."""
    book_id = int(args[0]) if len(args) == 1 and args[0].isdigit() else None
    available = {b.id for b in await _schedulable_books(turn.context)}
    if book_id is None or book_id not in available:
        await turn.expired()
        return
    chosen = turn.draft.book_ids
    if book_id in chosen:
        chosen.remove(book_id)
    else:
        chosen.append(book_id)
    await turn.query.answer()
    await _show(turn)


async def _press_books_done(turn: Turn, args: tuple[str, ...]) -> None:
    available = {b.id for b in await _schedulable_books(turn.context)}
    turn.draft.book_ids = [book_id for book_id in turn.draft.book_ids if book_id in available]
    if not turn.draft.book_ids:
        await turn.query.answer(turn.t("schedule.need_a_book"), show_alert=True)
        return
    await _next(turn)


# --- steps: loan length, readers per loan, slots per book -------------------------------------


def _choice(label: str, chosen: bool, action: str, value: int) -> InlineKeyboardButton:
    """A number to choose; the default (or current) one is marked."""
    text = f"{CHOSEN} {label}" if chosen else label
    return InlineKeyboardButton(text, callback_data=cb.encode(FLOW, action, value))


async def _ask_loan(turn: Turn) -> Screen:
    row = [
        _choice(turn.t("schedule.minutes", minutes=m), m == turn.draft.loan_minutes, "loan", m)
        for m in LOAN_CHOICES
    ]
    markup = InlineKeyboardMarkup([row[:3], row[3:], _cancel_row(turn)])
    return turn.t("schedule.ask_loan", default=DEFAULT_LOAN), markup


async def _ask_readers(turn: Turn) -> Screen:
    row = [_choice(str(n), n == turn.draft.readers_per_loan, "rdr", n) for n in READER_CHOICES]
    markup = InlineKeyboardMarkup([row, _cancel_row(turn)])
    return turn.t("schedule.ask_readers", default=DEFAULT_READERS), markup


def _event_of(turn: Turn, slots: int) -> LibraryEvent:
    """The event as it would be stored (it is not): loan times follow storage's own rule."""
    draft = turn.draft
    assert draft.day is not None and draft.start is not None
    return LibraryEvent(
        starts_at=_starts_at(turn.context, draft.day, draft.start),
        place_text=draft.place,
        loan_minutes=draft.loan_minutes,
        readers_per_loan=draft.readers_per_loan,
        slots_per_book=slots,
        break_minutes=0,
        created_by=turn.person.telegram_user_id,
    )


def _ends(turn: Turn, event: LibraryEvent) -> str:
    return format_time(_local_time(turn.context, library.event_ends_at(event)), turn.lang)


async def _ask_slots(turn: Turn) -> Screen:
    assert turn.draft.start is not None
    buttons = [
        InlineKeyboardButton(
            turn.t("schedule.slots_choice", count=n, end=_ends(turn, _event_of(turn, n))),
            callback_data=cb.encode(FLOW, "slots", n),
        )
        for n in SLOT_CHOICES
    ]
    rows = [buttons[i : i + SLOTS_PER_ROW] for i in range(0, len(buttons), SLOTS_PER_ROW)]
    text = turn.t(
        "schedule.ask_slots",
        minutes=turn.draft.loan_minutes,
        start=format_time(turn.draft.start, turn.lang),
    )
    return text, InlineKeyboardMarkup([*rows, _cancel_row(turn)])


def _chooser(choices: Sequence[int], attribute: str) -> Pressed:
    """A press that takes one of the offered numbers (nothing else), then goes on."""

    async def press(turn: Turn, args: tuple[str, ...]) -> None:
        value = int(args[0]) if len(args) == 1 and args[0].isdigit() else None
        if value is None or value not in choices:
            await turn.expired()
            return
        setattr(turn.draft, attribute, value)
        await _next(turn)

    return press


# --- step: confirm ----------------------------------------------------------------------------


async def _ask_confirm(turn: Turn) -> Screen:
    markup = InlineKeyboardMarkup(
        [[turn.button("button.confirm", "ok"), turn.button("button.cancel", "stop")]]
    )
    return await _kind_of(turn.draft).summary(turn), markup


async def _press_confirm(turn: Turn, args: tuple[str, ...]) -> None:
    """Store the event (once: the draft is dropped first, so a second press expires)."""
    _drop_draft(turn.context)
    await turn.query.answer()
    try:
        done = await _kind_of(turn.draft).create(turn)
    except StepAgain as again:
        turn.draft.step = again.step
        _keep_draft(turn.context, turn.draft)
        text, markup = await _PROMPTS[again.step](turn)
        await edit(turn.query, turn.t(again.key) + "\n\n" + text, markup)
        return
    await edit(turn.query, done)


# --- the human-library kind -------------------------------------------------------------------


async def _library_unavailable(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    return None if await _schedulable_books(context) else "schedule.no_books"


def slot_ranges(context: ContextTypes.DEFAULT_TYPE, event: LibraryEvent) -> str:
    """ "09:00–09:30, 09:30–10:00, …" in the city's time."""
    ranges = []
    for index in range(event.slots_per_book):
        start, end = library.slot_times(event, index)
        ranges.append(f"{_local_time(context, start):%H:%M}–{_local_time(context, end):%H:%M}")
    return ", ".join(ranges)


async def _library_summary(turn: Turn) -> str:
    draft = turn.draft
    assert draft.day is not None and draft.start is not None
    event = _event_of(turn, draft.slots_per_book)
    titles = {b.id: _title(b, turn.lang) for b in await _schedulable_books(turn.context)}
    location = "schedule.location_given" if draft.latitude is not None else "schedule.location_none"
    return turn.t(
        "schedule.summary",
        date=_long_date(turn, draft.day),
        start=format_time(draft.start, turn.lang),
        end=_ends(turn, event),
        place=draft.place,
        location=Raw(turn.t(location)),
        books="\n".join(f"• {titles.get(book_id, book_id)}" for book_id in draft.book_ids),
        loan=draft.loan_minutes,
        readers=draft.readers_per_loan,
        slots=draft.slots_per_book,
        times=slot_ranges(turn.context, event),
    )


async def _library_create(turn: Turn) -> str:
    draft = turn.draft
    assert draft.day is not None and draft.start is not None
    starts_at = _starts_at(turn.context, draft.day, draft.start)
    if starts_at <= clock.now():
        raise StepAgain(TIME, "schedule.time_passed_meanwhile")
    try:
        async with services_of(turn.context).db.session() as session:
            event = await library.create_event(
                starts_at=starts_at,
                place_text=draft.place,
                latitude=draft.latitude,
                longitude=draft.longitude,
                loan_minutes=draft.loan_minutes,
                readers_per_loan=draft.readers_per_loan,
                slots_per_book=draft.slots_per_book,
                break_minutes=0,
                book_ids=draft.book_ids,
                created_by=turn.person.telegram_user_id,
                session=session,
            )
    except (UnknownBook, BookRetired) as error:
        raise StepAgain(BOOKS, "schedule.book_gone") from error
    except ValueError as error:  # the start passed between the check and the write
        raise StepAgain(TIME, "schedule.time_passed_meanwhile") from error
    logger.info("library event %s scheduled", event.id)
    return turn.t("schedule.done", id=event.id, date=_long_date(turn, draft.day))


LIBRARY: Final = Kind(
    key="library",
    label_key="schedule.kind_library",
    steps=(DATE, TIME, PLACE, LOCATION, BOOKS, LOAN, READERS, SLOTS, CONFIRM),
    unavailable=_library_unavailable,
    summary=_library_summary,
    create=_library_create,
)
# The kinds offered on the first step, in this order. The coffee council adds its own here.
KINDS: tuple[Kind, ...] = (LIBRARY,)

_PROMPTS: dict[str, Prompt] = {
    KIND: _ask_kind,
    DATE: _ask_date,
    DATE_OK: _ask_date_ok,
    TIME: _ask_time,
    PLACE: _ask_place,
    LOCATION: _ask_location,
    BOOKS: _ask_books,
    LOAN: _ask_loan,
    READERS: _ask_readers,
    SLOTS: _ask_slots,
    CONFIRM: _ask_confirm,
}
# The steps that take typed text (at the location step: to say how to send a location).
_TYPED: dict[str, Typed] = {
    DATE: _type_date,
    DATE_OK: _type_date,
    TIME: _type_time,
    PLACE: _type_place,
    LOCATION: _type_at_location,
}
# A button's action → (the steps where it is accepted, empty for every step; what it does).
_ACTIONS: dict[str, tuple[frozenset[str], Pressed]] = {
    "stop": (frozenset(), _press_stop),
    "kind": (frozenset({KIND}), _press_kind),
    calendar.MONTH: (frozenset({DATE}), _press_month),
    calendar.DAY: (frozenset({DATE}), _press_day),
    "dok": (frozenset({DATE_OK}), _press_date_ok),
    "dre": (frozenset({DATE_OK}), _press_date_again),
    calendar.TIME: (frozenset({TIME}), _press_time),
    "skip": (frozenset({LOCATION}), _press_skip),
    "book": (frozenset({BOOKS}), _press_book),
    "bdone": (frozenset({BOOKS}), _press_books_done),
    "loan": (frozenset({LOAN}), _chooser(LOAN_CHOICES, "loan_minutes")),
    "rdr": (frozenset({READERS}), _chooser(READER_CHOICES, "readers_per_loan")),
    "slots": (frozenset({SLOTS}), _chooser(SLOT_CHOICES, "slots_per_book")),
    "ok": (frozenset({CONFIRM}), _press_confirm),
}
