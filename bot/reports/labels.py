"""Names for what a `Summary` carries as keys, in the officer's language (plain text).

Storage hands over stable keys (age band "20-34", district code, language "th", month
"2026-11", table "needs_by_district"); every word a reader sees comes from the summary.*
catalogs here, so the chat text, the charts and the files say the same thing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import get_month_names

from bot.districts import District
from bot.i18n.catalog import Catalogs, MissingMessage
from bot.i18n.dates import buddhist_year, format_date, format_datetime
from storage.enums import AgeBand
from storage.summary import Cell, Label, Period, Summary, Suppressed, Table

HIDDEN = Suppressed.text
NO_DISTRICT_KEY = "_none"
MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
AGE_BANDS = {band.value: band.name for band in AgeBand}

# What the rows and the columns of each breakdown are: decides how a key is named.
DIMENSIONS: Mapping[str, tuple[str, str]] = {
    "needs_by_topic": ("topic", "measure"),
    "needs_by_age_band": ("topic", "age_band"),
    "needs_by_district": ("topic", "district"),
    "needs_by_language": ("topic", "language"),
    "needs_by_month": ("topic", "month"),
    "loans": ("month", "district"),
    "rsvps": ("month", "district"),
    "attendance": ("month", "district"),
}


@dataclass(frozen=True)
class Namer:
    """Turns keys into words for one officer: their language, the city's districts."""

    language: str
    catalogs: Catalogs
    districts: tuple[District, ...] = ()

    def text(self, key: str, /, **values: object) -> str:
        """A summary.* catalog message as plain text (not HTML)."""
        return html.unescape(self.catalogs.text(self.language, key, **values))

    def optional(self, key: str, fallback: str) -> str:
        """A catalog message if the catalogs have it, else `fallback`."""
        try:
            return self.text(key)
        except MissingMessage:
            return fallback

    # -- numbers ---------------------------------------------------------------------------

    @staticmethod
    def cell(cell: Cell | None) -> str:
        """`1,234`, or "<5" for a hidden cell, or "–" when there is nothing to show."""
        if cell is None:
            return "–"
        if isinstance(cell, Suppressed):
            return HIDDEN
        return f"{cell:,}"

    @staticmethod
    def share(share: float | None) -> str:
        """`42%` (one decimal under 10%), "–" when hidden or unknown."""
        if share is None:
            return "–"
        percent = share * 100
        return f"{percent:.1f}%" if 0 < percent < 10 else f"{percent:.0f}%"

    @staticmethod
    def mean(value: float | Suppressed | None) -> str:
        """A rating mean `4.3`, "<5" when hidden, "–" when there were no ratings."""
        if value is None:
            return "–"
        if isinstance(value, Suppressed):
            return HIDDEN
        return f"{value:.1f}"

    # -- keys ------------------------------------------------------------------------------

    def label(self, table_key: str, axis: int, label: Label) -> str:
        """The name of a row (`axis` 0) or column (`axis` 1) of the table `table_key`."""
        if label.name:
            return label.name.get(self.language) or next(iter(label.name.values()))
        dimension = DIMENSIONS.get(table_key, ("", ""))[axis]
        return self.key_name(label.key, dimension)

    def key_name(self, key: str, dimension: str = "") -> str:
        """Name a key of a dimension; the dimension is guessed from the key when unknown."""
        if dimension == "month" or (not dimension and MONTH_KEY.match(key)):
            return self.month(key)
        if dimension == "age_band" or (not dimension and key in AGE_BANDS):
            return self.age_band(key)
        if dimension == "district" or key == NO_DISTRICT_KEY:
            return self.district(key)
        if dimension == "language":
            return self.answer_language(key)
        if dimension == "measure":
            return self.optional(f"summary.measure.{key}", key)
        return key

    def month(self, key: str) -> str:
        """`พ.ย. 2569` / `Nov 2026` for "2026-11"."""
        match = MONTH_KEY.match(key)
        if not match:
            return key
        year, month = int(match[1]), int(match[2])
        name = get_month_names("abbreviated", locale=self.language)[month]
        return f"{name} {buddhist_year(year) if self.language == 'th' else year}"

    def month_long(self, year: int, month: int) -> str:
        """`พฤศจิกายน 2569` / `November 2026`."""
        name = get_month_names("wide", locale=self.language)[month]
        return f"{name} {buddhist_year(year) if self.language == 'th' else year}"

    def age_band(self, key: str) -> str:
        """`20–34 ปี` from the onboarding's own labels."""
        member = AGE_BANDS.get(key)
        return self.text(f"age.{member}") if member else key

    def district(self, code: str) -> str:
        """The district's name from DISTRICTS_FILE; "no district given" for `_none`."""
        if code == NO_DISTRICT_KEY:
            return self.text("summary.no_district")
        found = next((d for d in self.districts if d.code == code), None)
        return found.name(self.language) if found else code

    def answer_language(self, code: str) -> str:
        """The language an answer was written in."""
        return self.optional(f"summary.answer_language.{code}", code)

    def unesco(self, feature: str) -> str:
        """A UNESCO learning-city key feature."""
        return self.optional(f"summary.unesco.{feature}", feature)

    def sdgs(self, sdgs: tuple[int, ...] | list[int]) -> str:
        """`SDG 4, 8`."""
        return self.text("summary.sdgs", numbers=", ".join(str(n) for n in sdgs)) if sdgs else "–"

    def table_title(self, table: Table | str) -> str:
        """The breakdown's title (also its sheet's name)."""
        key = table if isinstance(table, str) else table.key
        return self.optional(f"summary.table.{key}", key)

    def unit(self, unit: str) -> str:
        """What a cell counts: people, loans, RSVPs."""
        return self.optional(f"summary.unit.{unit}", unit)

    def topic_name(self, name: Mapping[str, str], key: str) -> str:
        """A need category's name in this language."""
        return name.get(self.language) or name.get("en") or key

    # -- the period ------------------------------------------------------------------------

    def period(self, period: Period) -> str:
        """`พฤศจิกายน 2569 (1 พ.ย. 2569 – 30 พ.ย. 2569)`, `All time`, …"""
        if period.first_day is None or period.last_day is None:
            return self.text("summary.period.all")
        span = self.day_range(period.first_day, period.last_day)
        if period.kind in ("this-month", "last-month", "month"):
            name = self.month_long(period.first_day.year, period.first_day.month)
        elif period.kind == "year":
            year = period.first_day.year
            name = self.text(
                "summary.period.year", year=buddhist_year(year) if self.language == "th" else year
            )
        elif period.kind == "last-days":
            days = (period.last_day - period.first_day).days + 1
            name = self.text("summary.period.last_days", days=days)
        else:
            return span
        return f"{name} ({span})"

    def day_range(self, first: date, last: date) -> str:
        """`1 พ.ย. 2569 – 30 พ.ย. 2569`."""
        if first == last:
            return format_date(first, self.language, "short")
        start = format_date(first, self.language, "short")
        return f"{start} – {format_date(last, self.language, 'short')}"

    def generated(self, summary: Summary) -> str:
        """When the summary was made, in the period's time zone."""
        return format_datetime(summary.generated_at, self.language, ZoneInfo(summary.period.tz))
