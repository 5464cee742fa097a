"""Dates and times as people read them: Thai with the Buddhist Era, English with Babel."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_day_names, get_month_names

BUDDHIST_ERA_OFFSET = 543
Style = Literal["short", "long"]


def buddhist_year(year: int) -> int:
    """พ.ศ. = ค.ศ. + 543."""
    return year + BUDDHIST_ERA_OFFSET


def format_date(day: date, language: str, style: Style = "long") -> str:
    """`5 ธันวาคม 2569` / `5 ธ.ค. 2569` in Thai, `5 December 2026` / `5 Dec 2026` in English."""
    if language == "th":
        names = get_month_names("wide" if style == "long" else "abbreviated", locale="th")
        month = names[day.month]
        return f"{day.day} {month} {buddhist_year(day.year)}"
    pattern = "d MMMM y" if style == "long" else "d MMM y"
    return str(babel_format_date(day, pattern, locale="en"))


def format_time(moment: time, language: str) -> str:
    """`08:00 น.` in Thai, `08:00` in English (24-hour clock in both)."""
    text = str(babel_format_time(moment, "HH:mm", locale="en"))
    return f"{text} น." if language == "th" else text


def format_datetime(moment: datetime, language: str, tz: ZoneInfo) -> str:
    """A stored UTC moment shown in `tz`: `ส. 5 ธ.ค. 2569, 08:00 น.` / `Sat 5 Dec 2026, 08:00`."""
    local = moment.astimezone(tz)
    if language == "th":
        weekday = get_day_names("abbreviated", locale="th")[local.weekday()]
        day = format_date(local.date(), "th", "short")
        return f"{weekday} {day}, {format_time(local.time(), 'th')}"
    weekday = get_day_names("abbreviated", locale="en")[local.weekday()]
    return (
        f"{weekday} {format_date(local.date(), 'en', 'short')}, {format_time(local.time(), 'en')}"
    )
