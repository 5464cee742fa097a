"""Dates and times as a facilitator types them, in Thai or English habits.

Thai habits: digits may be Thai (๐–๙), the year is usually the Buddhist Era (2569 = 2026), times
are written 9.30 and often end in "น.". Anything ambiguous is refused rather than guessed: a
two-digit year (is 69 2569 or 2069?), an impossible day (31/2), a 24th hour.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Final

from bot.i18n.dates import BUDDHIST_ERA_OFFSET

# A four-digit year at or above this is Buddhist Era: CE years that high are centuries away,
# and BE years below it (before 1857 CE) never name an event being scheduled.
BUDDHIST_ERA_FROM: Final = 2400
# Only Thai digits are translated; other scripts' digits stay unmatched by [0-9] (refused).
_THAI_DIGITS: Final = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_DATE: Final = re.compile(
    r"(?P<day>[0-9]{1,2})\s*(?P<sep>[/.\-])\s*(?P<month>[0-9]{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<year>[0-9]+))?"
)
_TIME: Final = re.compile(r"(?P<hour>[0-9]{1,2})\s*[:.]\s*(?P<minute>[0-9]{2})(?:\s*น\.?)?")
# How far ahead a date typed without its year may lie (29/2 waits for the next leap year).
_YEARLESS_LOOKAHEAD: Final = 8


def parse_date(text: str, *, today: date) -> date | None:
    """d/m/yyyy, d-m-yyyy or d.m.yyyy (Thai digits too; a year ≥ 2400 is Buddhist Era).

    Without a year (d/m), the first such date on or after `today`. None for anything else:
    two-digit years, impossible dates, mixed separators.
    """
    match = _DATE.fullmatch(_normalised(text))
    if match is None:
        return None
    day, month = int(match["day"]), int(match["month"])
    raw_year = match["year"]
    if raw_year is None:
        for year in range(today.year, today.year + _YEARLESS_LOOKAHEAD + 1):
            candidate = _date(year, month, day)
            if candidate is not None and candidate >= today:
                return candidate
        return None
    if len(raw_year) != 4:  # two-digit years are ambiguous; longer ones are typos
        return None
    year = int(raw_year)
    if year >= BUDDHIST_ERA_FROM:
        year -= BUDDHIST_ERA_OFFSET
    return _date(year, month, day)


def parse_time(text: str) -> time | None:
    """HH:MM, H:MM, HH.MM or H.MM on the 24-hour clock, Thai digits and a trailing "น." too."""
    match = _TIME.fullmatch(_normalised(text))
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _normalised(text: str) -> str:
    return text.strip().translate(_THAI_DIGITS)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
