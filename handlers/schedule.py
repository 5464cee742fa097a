"""`/schedule` (facilitators): one wizard that schedules an event, step by step; and
`/councils`, where a facilitator moves or cancels one meeting of a coffee council.

The first step chooses the kind of event from `KINDS` (the human library and the coffee
council). A kind names its steps in order; each step is a small function that draws its screen
(`_PROMPTS`), and some also take typed text (`_TYPED`). A button names an action (`_ACTIONS`),
accepted only at the steps it belongs to, only on the wizard's current message and only while
the draft lives: forged or stale data cannot skip a step, and gets "expired". The draft lives in
the conversation (memory, like /poll and /broadcast); nothing is written until "Confirm".

Library event: date (a month calendar, or typed d/m/yyyy with a Buddhist Era or Western year,
echoed back for confirmation) → time (buttons or typed HH:MM, in the city's time zone, stored
as UTC, never in the past) → repeat (once, or monthly: see below) → place (text) → an optional
map location → the books present → loan length → readers per loan → slots per book (each
button shows when the last loan ends) → summary with the computed loan times →
`storage.library.create_event` (a monthly event: one event for each of the next 3 occurrences).

Coffee council: title in Thai, then in English (typed, or the default "สภากาแฟ" / "Coffee
council" from a button) → date → time → repeat → place → map location → duration → summary
with the rule in words and the next 3 meetings → `storage.council.create_series`.

Repeat: "once", or a monthly rule read off the chosen date (`repeat_rules`): on this weekday
(5 Dec 2026 is the first Saturday: "the first Saturday of each month"; the month's last such
weekday also offers "the last Saturday", and a 5th one offers only that), or on this day of
the month ("the 15th"; the 29th–31st fall on the last day of shorter months). Rules are
described in words in the facilitator's language (`describe_rule`).

Moving one meeting reuses the date and time steps as a hidden kind (`MOVE`), started from
`/councils`; moving or cancelling tells everyone who said yes or maybe, each in their language,
through the delivery log.
"""

from __future__ import annotations

import calendar as month_calendar
import logging
import time as monotonic_time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, TypeAlias
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_day_names, get_month_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.date_input import parse_date, parse_time
from bot.i18n.catalog import Catalogs, Raw
from bot.i18n.dates import buddhist_year, format_datetime, format_time
from bot.services import AnyApplication, services_of
from handlers import calendar_keyboard as calendar
from handlers import callback_data as cb
from handlers.awaiting import UserDataMatches, drop, fresh
from handlers.guard import allows, requires
from handlers.people import Person, load_person
from handlers.press import Press, Sent
from handlers.replies import answer_expired, edit, t
from storage import clock, council, deliveries, library, recurrence
from storage.audit import actor_for
from storage.enums import LANGUAGES, Role
from storage.errors import BookRetired, CouncilRefused, UnknownBook, UnknownSeries
from storage.models import LibraryEvent
from storage.recurrence import MonthlyRule, RuleKind

logger = logging.getLogger(__name__)

FLOW: Final = "sched"
COUNCILS_FLOW: Final = "schs"  # the /councils screens (the move itself is the wizard's)
DELIVERY_KIND: Final = "council"
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
PLACE_LIMIT: Final = min(library.PLACE_MAX_LENGTH, council.PLACE_MAX_LENGTH)
TITLE_LIMIT: Final = council.TITLE_MAX_LENGTH
DURATION_CHOICES: Final = (60, 90, 120, 180)
DEFAULT_DURATION: Final = council.DEFAULT_DURATION_MINUTES
UPCOMING_COUNT: Final = 3  # occurrences shown in a summary, and library events made by a rule
# How far /councils looks for occurrences: as far as a meeting can be scheduled or moved.
HORIZON: Final = timedelta(days=MAX_DAYS_AHEAD + 31)
CHECKED, UNCHECKED, CHOSEN = "☑", "☐", "✓"
FACILITATORS: Final = frozenset({Role.facilitator, Role.admin})

# Step names. DATE_OK is the echo of a typed date, a sub-step of DATE.
KIND, DATE, DATE_OK, TIME, PLACE, LOCATION = "kind", "date", "date_ok", "time", "place", "location"
BOOKS, LOAN, READERS, SLOTS, CONFIRM = "books", "loan", "readers", "slots", "confirm"
TITLE_TH, TITLE_EN, REPEAT, DURATION = "title_th", "title_en", "repeat", "duration"
# Repeat choices (see `repeat_rules`): once; monthly on the nth or the last such weekday;
# monthly on this day of the month.
ONCE, NTH, LAST, MONTH_DAY = "once", "nth", "last", "day"


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
    title_th: str = ""
    title_en: str = ""
    repeat: str = ONCE
    duration_minutes: int = DEFAULT_DURATION
    # Moving one meeting: the series, the occurrence (where the rule put it), and a heading
    # (rendered) saying which meeting is being moved.
    series_id: int | None = None
    original_start: datetime | None = None
    heading: str = ""
    since: float = field(default_factory=monotonic_time.monotonic)


@dataclass(frozen=True)
class Turn(Sent):
    """One update the wizard handles: the update, who sent it, and their draft."""

    draft: ScheduleDraft

    def button(self, key: str, action: str, *args: object) -> InlineKeyboardButton:
        """A wizard button labelled with catalog text."""
        return InlineKeyboardButton(self.t(key), callback_data=cb.encode(FLOW, action, *args))

    async def say(self, key: str, /, **values: object) -> None:
        """Reply with catalog text (after typed input)."""
        chat = self.update.effective_chat
        assert chat is not None
        await self.context.bot.send_message(chat.id, self.t(key, **values))


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
    """Add /schedule and /councils, their buttons, and the typed text and location the wizard
    waits for."""
    app.add_handler(CommandHandler("schedule", _on_schedule, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    app.add_handler(CommandHandler("councils", _on_councils, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_councils_button, pattern=cb.pattern(COUNCILS_FLOW)))
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    text = private & filters.TEXT
    # Text and locations are claimed only while this person's wizard waits for them (the
    # filters read the draft), so other flows and the fallback see everything else. Any
    # command drops a waiting draft and goes on to its own handler.
    typed, located = _waiting(app, frozenset(_TYPED)), _waiting(app, frozenset({LOCATION}))
    anything = _waiting(app, None)
    app.add_handler(MessageHandler(text & ~filters.COMMAND & typed, _on_text), TEXT_INPUT_GROUP)
    app.add_handler(
        MessageHandler(text & filters.COMMAND & anything, _on_command), TEXT_INPUT_GROUP
    )
    app.add_handler(
        MessageHandler(private & filters.LOCATION & located, _on_location), TEXT_INPUT_GROUP
    )


def _waiting(app: AnyApplication, steps: frozenset[str] | None) -> UserDataMatches:
    """A message from someone whose wizard is at one of `steps` (None: at any step)."""

    def test(data: Mapping[Any, Any]) -> bool:
        draft = data.get(DRAFT_KEY)
        return isinstance(draft, ScheduleDraft) and (steps is None or draft.step in steps)

    return UserDataMatches(app, test, name=f"schedule_waiting({sorted(steps or ())})")


# --- the draft --------------------------------------------------------------------------------


def _draft(context: ContextTypes.DEFAULT_TYPE) -> ScheduleDraft | None:
    """The wizard in progress, unless missing or too old (then it is dropped)."""
    return fresh(context, DRAFT_KEY, ScheduleDraft, DRAFT_MINUTES)


def _keep_draft(context: ContextTypes.DEFAULT_TYPE, draft: ScheduleDraft) -> None:
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = draft


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    drop(context, DRAFT_KEY)


def _kind_of(draft: ScheduleDraft) -> Kind:
    kind = next((kind for kind in (*KINDS, MOVE) if kind.key == draft.kind), None)
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
    key = "schedule.move_stopped" if turn.draft.kind == MOVE.key else "schedule.cancelled"
    await edit(turn.query, turn.t(key))


# --- dates and times --------------------------------------------------------------------------


def _today(context: ContextTypes.DEFAULT_TYPE) -> date:
    """Today in the city."""
    return local_today(services_of(context).settings.tz)


def _last_day(today: date) -> date:
    return today + timedelta(days=MAX_DAYS_AHEAD)


def _locale(lang: str) -> str:
    return "th" if lang == "th" else "en"


def long_date_text(catalogs: Catalogs, lang: str, day: date) -> str:
    """ "วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569" / "Saturday 5 December 2026"."""
    locale = _locale(lang)
    return catalogs.text(
        lang,
        "schedule.long_date",
        weekday=str(get_day_names("wide", locale=locale)[day.weekday()]),
        day=day.day,
        month=str(get_month_names("wide", locale=locale)[day.month]),
        year=buddhist_year(day.year) if lang == "th" else day.year,
    )


def long_date(context: ContextTypes.DEFAULT_TYPE, lang: str, day: date) -> str:
    """ "วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569" / "Saturday 5 December 2026"."""
    return long_date_text(services_of(context).catalogs, lang, day)


def when_text(catalogs: Catalogs, lang: str, moment: datetime, tz: ZoneInfo) -> str:
    """A UTC moment as a local date and time: "วันเสาร์ที่ 5 ธันวาคม พ.ศ. 2569 เวลา 08:00 น."
    / "Saturday 5 December 2026, 08:00"."""
    local = moment.astimezone(tz)
    return catalogs.text(
        lang,
        "schedule.date_time",
        date=Raw(long_date_text(catalogs, lang, local.date())),
        time=format_time(local.time(), lang),
    )


def _long_date(turn: Turn, day: date) -> Raw:
    return Raw(long_date(turn.context, turn.lang, day))


def _starts_at(context: ContextTypes.DEFAULT_TYPE, day: date, start: time) -> datetime:
    """The city's local day and time as a UTC moment."""
    local = datetime.combine(day, start, tzinfo=services_of(context).settings.tz)
    return local.astimezone(UTC)


def _local_time(context: ContextTypes.DEFAULT_TYPE, moment: datetime) -> time:
    return moment.astimezone(services_of(context).settings.tz).time()


def local_today(tz: ZoneInfo) -> date:
    """Today in the city (storage's clock, so tests can travel in time)."""
    return clock.now().astimezone(tz).date()


def _date_example(turn: Turn) -> str:
    return calendar.date_example(turn.lang, _today(turn.context))


# --- repeat: monthly rules read off a date, and told in words ---------------------------------


def repeat_rules(day: date, at: time) -> dict[str, MonthlyRule | None]:
    """The repeat choices a first meeting on `day` at `at` offers, in button order.

    Once (None); monthly on this weekday — its nth (1st–4th) and, when it is the month's last
    such weekday, the last (a 5th one is offered only as the last: most months have no 5th);
    monthly on this day of the month (29–31: the last day of shorter months).
    """
    choices: dict[str, MonthlyRule | None] = {ONCE: None}
    nth = (day.day - 1) // 7 + 1
    if nth <= 4:
        choices[NTH] = recurrence.nth_weekday(nth, day.weekday(), at)
    if day.day + 7 > month_calendar.monthrange(day.year, day.month)[1]:
        choices[LAST] = recurrence.nth_weekday(-1, day.weekday(), at)
    choices[MONTH_DAY] = recurrence.month_day(day.day, at)
    return choices


def _nth_words(catalogs: Catalogs, lang: str, n: int) -> Raw:
    return Raw(catalogs.text(lang, "schedule.nth.last" if n == -1 else f"schedule.nth.{n}"))


def _weekday_name(lang: str, weekday: int) -> str:
    return str(get_day_names("wide", locale=_locale(lang))[weekday])


def day_ordinal(catalogs: Catalogs, lang: str, day: int) -> Raw:
    """ "15th", "31st" in English; "15" in Thai (Babel's ordinal rules pick the catalog form)."""
    form = Locale.parse(_locale(lang)).ordinal_form(day)
    return Raw(catalogs.text(lang, f"schedule.day_ordinal.{form}", day=day))


def describe_rule(catalogs: Catalogs, lang: str, rule: MonthlyRule) -> str:
    """A monthly rule in words: "the first Saturday of each month at 08:00" /
    "ทุกวันเสาร์แรกของเดือน เวลา 08:00 น."."""
    at = format_time(rule.at, lang)
    if rule.kind is RuleKind.nth_weekday:
        assert rule.n is not None and rule.weekday is not None
        return catalogs.text(
            lang,
            "schedule.rule.nth_weekday",
            nth=_nth_words(catalogs, lang, rule.n),
            weekday=_weekday_name(lang, rule.weekday),
            time=at,
        )
    assert rule.day is not None
    key = "schedule.rule.month_day_last" if rule.day > 28 else "schedule.rule.month_day"
    return catalogs.text(lang, key, day=day_ordinal(catalogs, lang, rule.day), time=at)


def describe_repeat(
    catalogs: Catalogs, lang: str, rule: MonthlyRule | None, first: datetime, tz: ZoneInfo
) -> str:
    """The rule in words; for a one-off (no rule), "once, on <date> at <time>" of `first`."""
    if rule is not None:
        return describe_rule(catalogs, lang, rule)
    local = first.astimezone(tz)
    return catalogs.text(
        lang,
        "schedule.rule.once",
        date=Raw(long_date_text(catalogs, lang, local.date())),
        time=format_time(local.time(), lang),
    )


def repeat_label(catalogs: Catalogs, lang: str, rule: MonthlyRule | None) -> str:
    """The short button label of a repeat choice."""
    if rule is None:
        return catalogs.text(lang, "schedule.button_once")
    if rule.kind is RuleKind.nth_weekday:
        assert rule.n is not None and rule.weekday is not None
        return catalogs.text(
            lang,
            "schedule.button_monthly_weekday",
            nth=_nth_words(catalogs, lang, rule.n),
            weekday=_weekday_name(lang, rule.weekday),
        )
    assert rule.day is not None
    return catalogs.text(
        lang, "schedule.button_monthly_day", day=day_ordinal(catalogs, lang, rule.day)
    )


def upcoming_starts(
    rule: MonthlyRule | None, first: datetime, timezone: str, *, count: int = UPCOMING_COUNT
) -> list[datetime]:
    """The first `count` starts from `first` on (UTC): a one-off's only one, or the rule's."""
    if rule is None:
        return [first]
    # Both monthly shapes recur every month, so `count` occurrences fit in 32 days each.
    end = first + timedelta(days=32 * count)
    found = recurrence.occurrences(rule, first=first, timezone=timezone, start=first, end=end)
    return found[:count]


def _bullets(lines: Sequence[str]) -> Raw:
    return Raw("\n".join(f"• {line}" for line in lines))


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


# --- steps: the council's title ----------------------------------------------------------------


def _default_title(turn: Turn, lang: str) -> str:
    """ "สภากาแฟ" / "Coffee council": the catalog's name for the meeting in `lang`."""
    return services_of(turn.context).catalogs.text(lang, "schedule.council_default_title")


def _title_prompt(lang_of_title: str) -> Prompt:
    async def ask(turn: Turn) -> Screen:
        default = _default_title(turn, lang_of_title)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        turn.t("schedule.button_default_title", title=default),
                        callback_data=cb.encode(FLOW, "deft"),
                    )
                ],
                _cancel_row(turn),
            ]
        )
        text = turn.t(f"schedule.ask_title_{lang_of_title}", limit=TITLE_LIMIT, default=default)
        return text, markup

    return ask


def _set_title(draft: ScheduleDraft, title: str) -> None:
    if draft.step == TITLE_TH:
        draft.title_th = title
    else:
        draft.title_en = title


async def _type_title(turn: Turn, text: str) -> None:
    if not text or len(text) > TITLE_LIMIT:
        await turn.say("schedule.title_too_long", limit=TITLE_LIMIT)
        return
    _set_title(turn.draft, text)
    await _next(turn)


async def _press_default_title(turn: Turn, args: tuple[str, ...]) -> None:
    """The default name in the language this step asks for."""
    _set_title(turn.draft, _default_title(turn, "th" if turn.draft.step == TITLE_TH else "en"))
    await _next(turn)


# --- step: date -------------------------------------------------------------------------------


def _headed(turn: Turn, text: str) -> str:
    """A prompt under the draft's heading (when moving a meeting: which one)."""
    return f"{turn.draft.heading}\n\n{text}" if turn.draft.heading else text


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
    text = _headed(turn, turn.t("schedule.ask_date", example=_date_example(turn)))
    return text, _with_cancel(turn, markup)


async def _press_month(turn: Turn, args: tuple[str, ...]) -> None:
    """Turn the calendar to another month (one a day can be chosen from)."""
    today = _today(turn.context)
    month = calendar.decode_month_within(args, today, _last_day(today))
    if month is None:
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
    text = _headed(turn, turn.t("schedule.ask_time", date=_long_date(turn, turn.draft.day)))
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


# --- step: repeat -----------------------------------------------------------------------------


def _repeat_choices(draft: ScheduleDraft) -> dict[str, MonthlyRule | None]:
    assert draft.day is not None and draft.start is not None
    return repeat_rules(draft.day, draft.start)


def _rule(draft: ScheduleDraft) -> MonthlyRule | None:
    """The chosen rule (None: once)."""
    return _repeat_choices(draft).get(draft.repeat)


async def _ask_repeat(turn: Turn) -> Screen:
    assert turn.draft.day is not None and turn.draft.start is not None
    catalogs = services_of(turn.context).catalogs
    choices = _repeat_choices(turn.draft)
    first = _starts_at(turn.context, turn.draft.day, turn.draft.start)
    tz = services_of(turn.context).settings.tz
    lines = [describe_repeat(catalogs, turn.lang, rule, first, tz) for rule in choices.values()]
    rows = [
        [
            InlineKeyboardButton(
                repeat_label(catalogs, turn.lang, rule), callback_data=cb.encode(FLOW, "rep", key)
            )
        ]
        for key, rule in choices.items()
    ]
    text = turn.t("schedule.ask_repeat", choices=_bullets(lines))
    return text, InlineKeyboardMarkup([*rows, _cancel_row(turn)])


async def _press_repeat(turn: Turn, args: tuple[str, ...]) -> None:
    """Once, or one of the monthly rules this date offers (nothing else)."""
    if len(args) != 1 or args[0] not in _repeat_choices(turn.draft):
        await turn.expired()
        return
    turn.draft.repeat = args[0]
    await _next(turn)


# --- steps: place and location ----------------------------------------------------------------


async def _ask_place(turn: Turn) -> Screen:
    text = turn.t("schedule.ask_place", limit=PLACE_LIMIT)
    return text, InlineKeyboardMarkup([_cancel_row(turn)])


async def _type_place(turn: Turn, text: str) -> None:
    if not text or len(text) > PLACE_LIMIT:
        await turn.say("schedule.place_too_long", limit=PLACE_LIMIT)
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


async def _ask_duration(turn: Turn) -> Screen:
    row = [
        _choice(turn.t("schedule.minutes", minutes=m), m == turn.draft.duration_minutes, "dur", m)
        for m in DURATION_CHOICES
    ]
    markup = InlineKeyboardMarkup([row, _cancel_row(turn)])
    return turn.t("schedule.ask_duration", default=DEFAULT_DURATION), markup


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


# --- what every kind shares: the first start, the rule's dates ---------------------------------


def _first_start(turn: Turn) -> datetime:
    """The first occurrence (UTC): the chosen day and time, which the chosen rule (read off that
    very date) starts on."""
    draft = turn.draft
    assert draft.day is not None and draft.start is not None
    rule = _rule(draft)
    if rule is None:
        return _starts_at(turn.context, draft.day, draft.start)
    zone = services_of(turn.context).settings.timezone
    return recurrence.first_start(rule, on_or_after=draft.day, timezone=zone)


def _when(turn: Turn, moment: datetime) -> Raw:
    """A moment as the city's local date and time, in the facilitator's language."""
    services = services_of(turn.context)
    return Raw(when_text(services.catalogs, turn.lang, moment, services.settings.tz))


def _upcoming(turn: Turn) -> list[datetime]:
    """The starts the draft would give: the one-off's, or the rule's next `UPCOMING_COUNT`."""
    zone = services_of(turn.context).settings.timezone
    return upcoming_starts(_rule(turn.draft), _first_start(turn), zone)


def _repeat_words(turn: Turn) -> Raw:
    services = services_of(turn.context)
    words = describe_repeat(
        services.catalogs, turn.lang, _rule(turn.draft), _first_start(turn), services.settings.tz
    )
    return Raw(words)


def _location_words(turn: Turn) -> Raw:
    given = turn.draft.latitude is not None
    return Raw(turn.t("schedule.location_given" if given else "schedule.location_none"))


async def _always_available(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    return None


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
    text = turn.t(
        "schedule.summary",
        date=_long_date(turn, draft.day),
        start=format_time(draft.start, turn.lang),
        end=_ends(turn, event),
        repeat=_repeat_words(turn),
        place=draft.place,
        location=_location_words(turn),
        books="\n".join(f"• {titles.get(book_id, book_id)}" for book_id in draft.book_ids),
        loan=draft.loan_minutes,
        readers=draft.readers_per_loan,
        slots=draft.slots_per_book,
        times=slot_ranges(turn.context, event),
    )
    if _rule(draft) is None:
        return text
    starts = _upcoming(turn)
    dates = _bullets([_when(turn, start).html for start in starts])
    return text + "\n\n" + turn.t("schedule.summary_events", count=len(starts), dates=dates)


async def _library_create(turn: Turn) -> str:
    """One event, or one for each of the rule's next occurrences (all or none are stored).

    A monthly rule is not stored as a series: storage's series are the coffee council's
    (`storage.council.create_series` makes council meetings), so the library gets its events.
    """
    draft = turn.draft
    assert draft.day is not None and draft.start is not None
    rule = _rule(draft)
    first = _first_start(turn)
    if first <= clock.now():
        raise StepAgain(TIME, "schedule.time_passed_meanwhile")
    starts = _upcoming(turn)
    try:
        async with services_of(turn.context).db.session() as session:
            events = [
                await library.create_event(
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
                for starts_at in starts
            ]
    except (UnknownBook, BookRetired) as error:
        raise StepAgain(BOOKS, "schedule.book_gone") from error
    except ValueError as error:  # the start passed between the check and the write
        raise StepAgain(TIME, "schedule.time_passed_meanwhile") from error
    logger.info("library events %s scheduled", [event.id for event in events])
    if rule is None:
        return turn.t("schedule.done", id=events[0].id, date=_long_date(turn, draft.day))
    lines = [
        turn.t("schedule.done_event_line", id=event.id, when=_when(turn, event.starts_at))
        for event in events
    ]
    return turn.t(
        "schedule.done_monthly",
        count=len(events),
        repeat=_repeat_words(turn),
        events=_bullets(lines),
    )


# --- the coffee-council kind ------------------------------------------------------------------


async def _council_summary(turn: Turn) -> str:
    draft = turn.draft
    assert draft.start is not None
    first = _first_start(turn)
    end = first + timedelta(minutes=draft.duration_minutes)
    return turn.t(
        "schedule.council_summary",
        title_th=draft.title_th,
        title_en=draft.title_en,
        repeat=_repeat_words(turn),
        start=format_time(draft.start, turn.lang),
        end=format_time(_local_time(turn.context, end), turn.lang),
        minutes=draft.duration_minutes,
        place=draft.place,
        location=_location_words(turn),
        dates=_bullets([_when(turn, start).html for start in _upcoming(turn)]),
    )


async def _council_create(turn: Turn) -> str:
    draft = turn.draft
    first = _first_start(turn)
    if first <= clock.now():
        raise StepAgain(TIME, "schedule.time_passed_meanwhile")
    services = services_of(turn.context)
    try:
        async with services.db.session() as session:
            series = await council.create_series(
                title={"th": draft.title_th, "en": draft.title_en},
                place_text=draft.place,
                latitude=draft.latitude,
                longitude=draft.longitude,
                rule=_rule(draft),
                first_start=first,
                timezone=services.settings.timezone,
                duration_minutes=draft.duration_minutes,
                created_by=turn.person.telegram_user_id,
                session=session,
            )
    except ValueError as error:  # the start passed between the check and the write
        raise StepAgain(TIME, "schedule.time_passed_meanwhile") from error
    logger.info("council series %s scheduled", series.id)
    return turn.t(
        "schedule.council_done",
        id=series.id,
        repeat=_repeat_words(turn),
        when=_when(turn, series.first_start),
    )


# --- moving one meeting of a council (a hidden kind, started from /councils) ------------------


async def _move_summary(turn: Turn) -> str:
    assert turn.draft.day is not None and turn.draft.start is not None
    new_start = _starts_at(turn.context, turn.draft.day, turn.draft.start)
    return _headed(turn, turn.t("schedule.move_summary", when=_when(turn, new_start)))


async def _move_create(turn: Turn) -> str:
    """Move the occurrence; everyone who said yes or maybe is told in their language."""
    draft = turn.draft
    assert draft.day is not None and draft.start is not None
    assert draft.series_id is not None and draft.original_start is not None
    new_start = _starts_at(turn.context, draft.day, draft.start)
    if new_start <= clock.now():
        raise StepAgain(TIME, "schedule.time_passed_meanwhile")
    series = await _managed_series(turn.context, turn.person, draft.series_id)
    if series is None:
        return turn.t("schedule.council_gone")
    try:
        async with services_of(turn.context).db.session() as session:
            change = await council.move_occurrence(
                series.id,
                draft.original_start,
                new_start,
                by=turn.person.telegram_user_id,
                session=session,
            )
    except UnknownSeries:
        return turn.t("schedule.council_gone")
    except CouncilRefused as refusal:
        return turn.t(_refusal_key(refusal))
    except ValueError as error:  # the new start passed between the check and the write
        raise StepAgain(TIME, "schedule.time_passed_meanwhile") from error
    told = await _tell_change(turn.context, turn.person.telegram_user_id, series, change)
    logger.info("council series %s: an occurrence moved, %d told", series.id, told)
    return turn.t("schedule.move_done", when=_when(turn, new_start), count=told)


def _refusal_key(refusal: CouncilRefused) -> str:
    """Why storage would not move or cancel the occurrence, in words."""
    known = {"cancelled", "past", "not_an_occurrence"}
    return (
        f"schedule.refused.{refusal.reason}" if refusal.reason in known else "schedule.council_gone"
    )


async def _tell_change(
    context: ContextTypes.DEFAULT_TYPE,
    by: int,
    series: council.SeriesView,
    change: council.MeetingChange,
) -> int:
    """Queue the news of a moved or cancelled meeting for everyone who said yes or maybe, each
    in their language with dates in their language, once; return how many people."""
    if not change.changed or not change.people:
        return 0
    services = services_of(context)
    catalogs = services.catalogs
    tz = ZoneInfo(series.timezone)
    place = change.meeting.place_text if change.meeting is not None else series.place_text

    def notice(lang: str) -> str:
        title = _title_in(series.title, lang)
        before = Raw(when_text(catalogs, lang, change.previous_start, tz))
        if change.starts_at is None:
            key = "schedule.council_cancelled_notice"
            return catalogs.text(lang, key, title=title, when=before, place=place)
        after = Raw(when_text(catalogs, lang, change.starts_at, tz))
        key = "schedule.council_moved_notice"
        return catalogs.text(lang, key, title=title, old=before, new=after, place=place)

    original = int(change.original_start.timestamp())
    if change.starts_at is None:  # an occurrence is cancelled once: this purpose is unique
        purpose = f"council-cancel:{series.id}:{original}"
    else:  # it may move more than once (even back and forth): the moment of the move tells
        moved_to, moved_at = int(change.starts_at.timestamp()), int(clock.now().timestamp())
        purpose = f"council-move:{series.id}:{original}:{moved_to}:{moved_at}"
    recipients = [
        deliveries.citizen_recipient(person.telegram_user_id, person.language)
        for person in change.people
    ]
    async with services.db.session() as session:
        await deliveries.enqueue(
            purpose,
            DELIVERY_KIND,
            {language: notice(language) for language in LANGUAGES},
            recipients,
            created_by=actor_for(by),
            audience=f"council-series:{series.id}",
            session=session,
        )
    if services.dispatcher is not None:
        services.dispatcher.wake()
    return len({person.telegram_user_id for person in change.people})


LIBRARY: Final = Kind(
    key="library",
    label_key="schedule.kind_library",
    steps=(DATE, TIME, REPEAT, PLACE, LOCATION, BOOKS, LOAN, READERS, SLOTS, CONFIRM),
    unavailable=_library_unavailable,
    summary=_library_summary,
    create=_library_create,
)
COUNCIL: Final = Kind(
    key="council",
    label_key="schedule.kind_council",
    steps=(TITLE_TH, TITLE_EN, DATE, TIME, REPEAT, PLACE, LOCATION, DURATION, CONFIRM),
    unavailable=_always_available,
    summary=_council_summary,
    create=_council_create,
)
# The kinds offered on the first step, in this order.
KINDS: tuple[Kind, ...] = (LIBRARY, COUNCIL)
# Not offered on the first step: /councils starts it for one occurrence ("kind:move" expires).
MOVE: Final = Kind(
    key="move",
    label_key="schedule.kind_move",
    steps=(DATE, TIME, CONFIRM),
    unavailable=_always_available,
    summary=_move_summary,
    create=_move_create,
)


# --- /councils: a facilitator's councils; one meeting moved or cancelled ----------------------


class CouncilPress(Press):
    """One press of a /councils button: who pressed it and the data's arguments."""

    flow = COUNCILS_FLOW

    def when(self, moment: datetime, series: council.SeriesView) -> Raw:
        """A moment as the series' local date and time, in the presser's language."""
        catalogs = services_of(self.context).catalogs
        return Raw(when_text(catalogs, self.lang, moment, ZoneInfo(series.timezone)))


CouncilAction = Callable[[CouncilPress], Awaitable[None]]
MAX_COUNCILS: Final = 12  # listed at most, so the list fits in one message


def _title_in(titles: Mapping[str, str], lang: str) -> str:
    return titles.get(lang) or next(iter(titles.values()), "")


def _may_manage(person: Person, series: council.SeriesView) -> bool:
    """A series' own facilitators manage it; an admin manages every one."""
    return person.telegram_user_id in series.facilitator_ids or person.role is Role.admin


async def _managed_series(
    context: ContextTypes.DEFAULT_TYPE, person: Person, series_id: int | None
) -> council.SeriesView | None:
    """The council series, if it is not cancelled and this person may manage it."""
    if series_id is None:
        return None
    async with services_of(context).db.session(readonly=True) as session:
        series = await council.get_series(series_id, session=session)
    if series is None or series.cancelled or series.kind != "council":
        return None
    return series if _may_manage(person, series) else None


async def _occurrences_ahead(
    context: ContextTypes.DEFAULT_TYPE, series_id: int
) -> list[recurrence.Occurrence]:
    """The series' occurrences from now on (cancelled ones too), soonest first."""
    now = clock.now()
    async with services_of(context).db.session(readonly=True) as session:
        return await council.occurrences(
            series_id, start=now, end=now + HORIZON, include_cancelled=True, session=session
        )


def _next_few(found: Sequence[recurrence.Occurrence]) -> list[recurrence.Occurrence]:
    """The next `UPCOMING_COUNT` meetings that take place, and the cancelled ones among them."""
    shown: list[recurrence.Occurrence] = []
    taking_place = 0
    for occurrence in found:
        if taking_place == UPCOMING_COUNT:
            break
        shown.append(occurrence)
        taking_place += not occurrence.cancelled
    return shown


@requires(Role.facilitator)
async def _on_councils(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """The coffee councils this person facilitates (an admin: all), with their next meeting."""
    text, markup = await _councils_screen(context, person)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _councils_screen(
    context: ContextTypes.DEFAULT_TYPE, person: Person
) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = person.language
    catalogs = services_of(context).catalogs
    async with services_of(context).db.session(readonly=True) as session:
        every = await council.list_series(session=session)
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for series in (s for s in every if _may_manage(person, s)):
        ahead = [o for o in await _occurrences_ahead(context, series.id) if not o.cancelled]
        if not ahead:  # a one-off that is over or cancelled: nothing left to change
            continue
        number = len(rows) + 1
        title = _title_in(series.title, lang)
        tz = ZoneInfo(series.timezone)
        lines.append(
            t(
                context,
                lang,
                "schedule.councils_line",
                number=number,
                title=title,
                repeat=Raw(describe_repeat(catalogs, lang, series.rule, ahead[0].starts_at, tz)),
                next=Raw(when_text(catalogs, lang, ahead[0].starts_at, tz)),
            )
        )
        label = _short(f"{number}. {title}")
        rows.append(
            [InlineKeyboardButton(label, callback_data=cb.encode(COUNCILS_FLOW, "ser", series.id))]
        )
        if len(rows) == MAX_COUNCILS:
            break
    if not rows:
        return t(context, lang, "schedule.councils_none"), None
    text = t(context, lang, "schedule.councils_list", councils=Raw("\n\n".join(lines)))
    return text, InlineKeyboardMarkup(rows)


async def _show_list(press: CouncilPress) -> None:
    """Back to the list of councils."""
    text, markup = await _councils_screen(press.context, press.person)
    await press.show(text, markup)


async def _show_series(press: CouncilPress) -> None:
    """A council: its rule, place and next meetings; a button per meeting to change it."""
    ids = press.ids(1)
    series = await _managed_series(press.context, press.person, ids[0] if ids else None)
    if series is None:
        await press.expired()
        return
    catalogs = services_of(press.context).catalogs
    tz = ZoneInfo(series.timezone)
    shown = _next_few(await _occurrences_ahead(press.context, series.id))
    # A one-off is described by when it takes place now (it may have been moved).
    first = next((o.starts_at for o in shown if not o.cancelled), series.first_start)
    lines = []
    rows = []
    for occurrence in shown:
        when = press.when(occurrence.starts_at, series)
        if occurrence.cancelled:
            lines.append(press.t("schedule.occurrence_cancelled", when=when))
            continue
        if occurrence.moved:
            original = press.when(occurrence.original_start, series)
            lines.append(press.t("schedule.occurrence_moved", when=when, original=original))
        else:
            lines.append(when.html)
        label = format_datetime(occurrence.starts_at, press.lang, tz)
        data = cb.encode(COUNCILS_FLOW, "occ", series.id, _epoch(occurrence.original_start))
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    rows.append([press.button("schedule.button_all_councils", "list")])
    text = press.t(
        "schedule.series_card",
        id=series.id,
        title=_title_in(series.title, press.lang),
        repeat=Raw(describe_repeat(catalogs, press.lang, series.rule, first, tz)),
        place=series.place_text,
        minutes=series.duration_minutes,
        meetings=_bullets(lines),
    )
    await press.show(text, InlineKeyboardMarkup(rows))


def _epoch(moment: datetime) -> int:
    """An occurrence in button data: where the rule put it, in seconds since 1970 (UTC)."""
    return int(moment.timestamp())


async def _occurrence(
    press: CouncilPress,
) -> tuple[council.SeriesView, recurrence.Occurrence] | None:
    """The series and the upcoming, not cancelled occurrence the data (series id, original
    start) names, if the presser manages the series."""
    ids = press.ids(2)
    if ids is None:
        return None
    series = await _managed_series(press.context, press.person, ids[0])
    if series is None:
        return None
    found = await _occurrences_ahead(press.context, series.id)
    occurrence = next(
        (o for o in found if not o.cancelled and _epoch(o.original_start) == ids[1]), None
    )
    return None if occurrence is None else (series, occurrence)


async def _show_occurrence(press: CouncilPress) -> None:
    """One meeting: move it or cancel it."""
    found = await _occurrence(press)
    if found is None:
        await press.expired()
        return
    series, occurrence = found
    epoch = _epoch(occurrence.original_start)
    moved = (
        press.t("schedule.occurrence_was", original=press.when(occurrence.original_start, series))
        if occurrence.moved
        else ""
    )
    text = press.t(
        "schedule.occurrence_card",
        title=_title_in(series.title, press.lang),
        when=press.when(occurrence.starts_at, series),
        moved=Raw(moved),
        place=series.place_text,
    )
    markup = InlineKeyboardMarkup(
        [
            [press.button("schedule.button_move", "mv", series.id, epoch)],
            [press.button("schedule.button_cancel_meeting", "cx", series.id, epoch)],
            [press.button("schedule.button_back", "ser", series.id)],
        ]
    )
    await press.show(text, markup)


async def _start_move(press: CouncilPress) -> None:
    """Move: the wizard's date and time steps, then a confirmation (`MOVE`)."""
    found = await _occurrence(press)
    message = press.query.message
    if found is None or message is None:
        await press.expired()
        return
    series, occurrence = found
    heading = press.t(
        "schedule.move_heading",
        title=_title_in(series.title, press.lang),
        when=press.when(occurrence.starts_at, series),
    )
    draft = ScheduleDraft(
        kind=MOVE.key,
        step=MOVE.steps[0],
        message_id=message.message_id,
        series_id=series.id,
        original_start=occurrence.original_start,
        heading=heading,
    )
    _keep_draft(press.context, draft)
    await press.query.answer()
    await _show(Turn(press.update, press.context, press.person, draft))


async def _ask_cancel(press: CouncilPress) -> None:
    """Make sure: everyone who said yes or maybe will be told."""
    found = await _occurrence(press)
    if found is None:
        await press.expired()
        return
    series, occurrence = found
    epoch = _epoch(occurrence.original_start)
    text = press.t(
        "schedule.cancel_confirm",
        title=_title_in(series.title, press.lang),
        when=press.when(occurrence.starts_at, series),
    )
    markup = InlineKeyboardMarkup(
        [
            [press.button("schedule.button_yes_cancel", "cxy", series.id, epoch)],
            [press.button("schedule.button_back", "occ", series.id, epoch)],
        ]
    )
    await press.show(text, markup)


async def _cancel(press: CouncilPress) -> None:
    """Cancel the one meeting; everyone who said yes or maybe is told in their language."""
    found = await _occurrence(press)
    if found is None:
        await press.expired()
        return
    series, occurrence = found
    back = InlineKeyboardMarkup([[press.button("schedule.button_back", "ser", series.id)]])
    try:
        async with services_of(press.context).db.session() as session:
            change = await council.cancel_occurrence(
                series.id,
                occurrence.original_start,
                by=press.person.telegram_user_id,
                session=session,
            )
    except UnknownSeries:
        await press.show(press.t("schedule.council_gone"), None)
        return
    except CouncilRefused as refusal:
        await press.show(press.t(_refusal_key(refusal)), back)
        return
    told = await _tell_change(press.context, press.person.telegram_user_id, series, change)
    logger.info("council series %s: an occurrence cancelled, %d told", series.id, told)
    when = press.when(occurrence.starts_at, series)
    await press.show(press.t("schedule.cancel_done", when=when, count=told), back)


@requires(Role.facilitator)
async def _on_councils_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person
) -> None:
    """Every /councils button; whatever the data names is re-checked against the database."""
    await CouncilPress.dispatch(update, context, person, _COUNCIL_ACTIONS)


_COUNCIL_ACTIONS: dict[str, CouncilAction] = {
    "list": _show_list,
    "ser": _show_series,
    "occ": _show_occurrence,
    "mv": _start_move,
    "cx": _ask_cancel,
    "cxy": _cancel,
}

_PROMPTS: dict[str, Prompt] = {
    KIND: _ask_kind,
    TITLE_TH: _title_prompt("th"),
    TITLE_EN: _title_prompt("en"),
    DATE: _ask_date,
    DATE_OK: _ask_date_ok,
    TIME: _ask_time,
    REPEAT: _ask_repeat,
    PLACE: _ask_place,
    LOCATION: _ask_location,
    BOOKS: _ask_books,
    LOAN: _ask_loan,
    READERS: _ask_readers,
    SLOTS: _ask_slots,
    DURATION: _ask_duration,
    CONFIRM: _ask_confirm,
}
# The steps that take typed text (at the location step: to say how to send a location).
_TYPED: dict[str, Typed] = {
    TITLE_TH: _type_title,
    TITLE_EN: _type_title,
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
    "deft": (frozenset({TITLE_TH, TITLE_EN}), _press_default_title),
    calendar.MONTH: (frozenset({DATE}), _press_month),
    calendar.DAY: (frozenset({DATE}), _press_day),
    "dok": (frozenset({DATE_OK}), _press_date_ok),
    "dre": (frozenset({DATE_OK}), _press_date_again),
    calendar.TIME: (frozenset({TIME}), _press_time),
    "rep": (frozenset({REPEAT}), _press_repeat),
    "skip": (frozenset({LOCATION}), _press_skip),
    "book": (frozenset({BOOKS}), _press_book),
    "bdone": (frozenset({BOOKS}), _press_books_done),
    "loan": (frozenset({LOAN}), _chooser(LOAN_CHOICES, "loan_minutes")),
    "rdr": (frozenset({READERS}), _chooser(READER_CHOICES, "readers_per_loan")),
    "slots": (frozenset({SLOTS}), _chooser(SLOT_CHOICES, "slots_per_book")),
    "dur": (frozenset({DURATION}), _chooser(DURATION_CHOICES, "duration_minutes")),
    "ok": (frozenset({CONFIRM}), _press_confirm),
}
