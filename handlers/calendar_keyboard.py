"""Date and time pickers as inline keyboards, for any flow that asks for a day or an hour.

The month keyboard: a header (month and year; Buddhist Era in Thai), the weekdays from Monday,
the days, then previous/next month. Button data is `v1:<flow>:day:<yyyymmdd>`,
`v1:<flow>:month:<yyyymm>`, `v1:<flow>:time:<HHMM>` or `v1:<flow>:noop` (labels, and days
outside the allowed range). The presser can forge any of it: `decode_*` return None for
anything malformed, and the caller still checks the date against its own rules.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import MAXYEAR, MINYEAR, date, time, timedelta
from typing import Final, NamedTuple

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names, get_month_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n.dates import buddhist_year
from handlers.callback_data import encode

DAY: Final = "day"
MONTH: Final = "month"
TIME: Final = "time"
NOOP: Final = "noop"
DEFAULT_TIMES: Final = ("08:00", "09:00", "10:00", "13:00", "14:00", "16:00", "18:00")
TIMES_PER_ROW: Final = 4
# Telegram refuses a button whose text is empty or only spaces; U+2800 (braille blank) shows
# as an empty cell and is not whitespace.
BLANK: Final = "\u2800"
TODAY_MARK: Final = "•"
PREVIOUS: Final = "‹"
NEXT: Final = "›"
_DAY_ARG: Final = re.compile(r"[0-9]{8}")
_MONTH_ARG: Final = re.compile(r"[0-9]{6}")
_TIME_ARG: Final = re.compile(r"[0-9]{4}")
_TIME_TEXT: Final = re.compile(r"([0-9]{2}):([0-9]{2})")


class YearMonth(NamedTuple):
    """A month of a year, as the month keyboard shows it."""

    year: int
    month: int


def month_keyboard(
    flow: str,
    year: int,
    month: int,
    *,
    language: str,
    today: date,
    first_allowed: date | None = None,
    last_allowed: date | None = None,
) -> InlineKeyboardMarkup:
    """A month to pick a day from; days outside [first_allowed, last_allowed] are labels."""
    if not 1 <= month <= 12 or not MINYEAR <= year <= MAXYEAR:
        raise ValueError(f"no such month: {year}-{month}")
    locale = _locale(language)
    noop = encode(flow, NOOP)
    rows: list[list[InlineKeyboardButton]] = [
        [InlineKeyboardButton(month_title(year, month, language), callback_data=noop)],
        [
            InlineKeyboardButton(
                str(get_day_names("short", "stand-alone", locale)[i]), callback_data=noop
            )
            for i in range(7)  # babel counts Monday as 0, as calendar.Calendar() does
        ],
    ]
    for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdayscalendar(year, month):
        row: list[InlineKeyboardButton] = []
        for day_number in week:
            if day_number == 0:  # a day of the neighbouring month
                row.append(InlineKeyboardButton(BLANK, callback_data=noop))
                continue
            day = date(year, month, day_number)
            label = f"{TODAY_MARK}{day_number}" if day == today else str(day_number)
            if _allowed(day, first_allowed, last_allowed):
                data = encode(flow, DAY, f"{day:%Y%m%d}")
            else:
                label, data = f"({day_number})", noop
            row.append(InlineKeyboardButton(label, callback_data=data))
        rows.append(row)
    rows.append(_navigation(flow, year, month, locale, first_allowed, last_allowed))
    return InlineKeyboardMarkup(rows)


def month_title(year: int, month: int, language: str) -> str:
    """ "พฤศจิกายน 2569" in Thai (Buddhist Era), "November 2026" in English."""
    name = str(get_month_names("wide", "stand-alone", _locale(language))[month])
    shown_year = buddhist_year(year) if language == "th" else year
    return f"{name} {shown_year}"


def time_keyboard(flow: str, *, times: Sequence[str] = DEFAULT_TIMES) -> InlineKeyboardMarkup:
    """Common start times ("HH:MM", 24-hour) as buttons, `TIMES_PER_ROW` to a row."""
    buttons: list[InlineKeyboardButton] = []
    for text in times:
        match = _TIME_TEXT.fullmatch(text)
        if match is None or _time(int(match[1]), int(match[2])) is None:
            raise ValueError(f"times are HH:MM on the 24-hour clock, not {text!r}")
        buttons.append(
            InlineKeyboardButton(text, callback_data=encode(flow, TIME, match[1] + match[2]))
        )
    if not buttons:
        raise ValueError("a time keyboard needs at least one time")
    return InlineKeyboardMarkup(
        [buttons[i : i + TIMES_PER_ROW] for i in range(0, len(buttons), TIMES_PER_ROW)]
    )


def decode_day(
    args: Sequence[str], *, first_allowed: date | None = None, last_allowed: date | None = None
) -> date | None:
    """The day a `day` button names, or None if malformed or outside the allowed range."""
    if len(args) != 1 or not _DAY_ARG.fullmatch(args[0]):
        return None
    text = args[0]
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    return day if _allowed(day, first_allowed, last_allowed) else None


def decode_month(args: Sequence[str]) -> YearMonth | None:
    """The month a `month` button names, or None if malformed."""
    if len(args) != 1 or not _MONTH_ARG.fullmatch(args[0]):
        return None
    year, month = int(args[0][:4]), int(args[0][4:])
    if not 1 <= month <= 12 or not MINYEAR <= year <= MAXYEAR:
        return None
    return YearMonth(year, month)


def decode_month_within(args: Sequence[str], first: date, last: date) -> YearMonth | None:
    """The month a `month` button names, if it is one of the months from `first` to `last`."""
    month = decode_month(args)
    if month is None or not (first.year, first.month) <= month <= (last.year, last.month):
        return None
    return month


def date_example(lang: str, today: date, days: int = 7) -> str:
    """The date `days` after `today` as one would type it (Buddhist Era in Thai)."""
    day = today + timedelta(days=days)
    year = buddhist_year(day.year) if lang == "th" else day.year
    return f"{day.day}/{day.month}/{year}"


def decode_time(args: Sequence[str]) -> time | None:
    """The time a `time` button names, or None if malformed."""
    if len(args) != 1 or not _TIME_ARG.fullmatch(args[0]):
        return None
    return _time(int(args[0][:2]), int(args[0][2:]))


def _navigation(
    flow: str,
    year: int,
    month: int,
    locale: Locale,
    first_allowed: date | None,
    last_allowed: date | None,
) -> list[InlineKeyboardButton]:
    """‹ Oct | Dec ›: a side is blank when no day of that month could be picked."""
    names = get_month_names("abbreviated", "stand-alone", locale)
    buttons: list[InlineKeyboardButton] = []
    previous = _shift(year, month, -1)
    if previous is not None and (first_allowed is None or _last_day(previous) >= first_allowed):
        label = f"{PREVIOUS} {names[previous.month]}"
        buttons.append(
            InlineKeyboardButton(label, callback_data=encode(flow, MONTH, _month_arg(previous)))
        )
    else:
        buttons.append(InlineKeyboardButton(BLANK, callback_data=encode(flow, NOOP)))
    following = _shift(year, month, 1)
    if following is not None and (
        last_allowed is None or date(following.year, following.month, 1) <= last_allowed
    ):
        label = f"{names[following.month]} {NEXT}"
        buttons.append(
            InlineKeyboardButton(label, callback_data=encode(flow, MONTH, _month_arg(following)))
        )
    else:
        buttons.append(InlineKeyboardButton(BLANK, callback_data=encode(flow, NOOP)))
    return buttons


def _shift(year: int, month: int, months: int) -> YearMonth | None:
    index = year * 12 + (month - 1) + months
    shifted = YearMonth(index // 12, index % 12 + 1)
    return shifted if MINYEAR <= shifted.year <= MAXYEAR else None


def _last_day(month: YearMonth) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def _month_arg(month: YearMonth) -> str:
    return f"{month.year:04d}{month.month:02d}"


def _allowed(day: date, first_allowed: date | None, last_allowed: date | None) -> bool:
    return (first_allowed is None or day >= first_allowed) and (
        last_allowed is None or day <= last_allowed
    )


def _time(hour: int, minute: int) -> time | None:
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def _locale(language: str) -> Locale:
    """Babel's locale for a language code; English when Babel has none (names must show)."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")
