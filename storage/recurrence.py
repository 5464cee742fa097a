"""Monthly recurrence rules (RFC 5545 RRULE, computed with python-dateutil), and exceptions.

Two shapes only, which is what a community meeting needs: the nth weekday of the month ("first
Saturday, 08:00"; n = 1..4 or -1 for the last) and a day of the month ("the 15th, 09:00").
Occurrences are local wall-clock times in the series' time zone, converted to UTC, so a meeting
at 08:00 stays at 08:00 locally whatever the zone's offset does.

"The 31st" means the last day in months without a 31st: day d > 28 is stored as
`BYMONTHDAY=28,…,d;BYSETPOS=-1` (the latest of those days that exists), because a plain
`BYMONTHDAY=31` would skip February, April, June, September and November altogether.

Everything here is pure: no database, no clock. `storage.council` stores the rule text and the
exceptions (moved or cancelled occurrences) and calls these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as _rrule

__all__ = [
    "DEFAULT_TIMEZONE",
    "FRIDAY",
    "MONDAY",
    "SATURDAY",
    "SUNDAY",
    "THURSDAY",
    "TUESDAY",
    "WEDNESDAY",
    "Change",
    "MonthlyRule",
    "Occurrence",
    "RuleKind",
    "apply_changes",
    "check_timezone",
    "first_start",
    "is_occurrence",
    "month_day",
    "next_occurrence",
    "nth_weekday",
    "occurrences",
    "parse_rrule",
    "to_utc",
]

DEFAULT_TIMEZONE: Final = "Asia/Bangkok"
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
NTH_VALUES: Final = (1, 2, 3, 4, -1)
_DAY_CODES: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Local times can be an offset away from UTC and a DST shift away from each other: widen every
# local search window by this much, then filter exactly in UTC.
_MARGIN: Final = timedelta(days=2)
# How far `next_occurrence` looks ahead (a monthly rule always has one within two months).
_LOOKAHEAD: Final = timedelta(days=400)


class RuleKind(StrEnum):
    """Which monthly shape a rule has."""

    nth_weekday = "nth_weekday"
    month_day = "month_day"


@dataclass(frozen=True)
class MonthlyRule:
    """A monthly rule's parts (for handlers to describe it); `to_rrule()` gives its RRULE text.

    `weekday` is Python's (Monday 0 … Sunday 6); `n` is 1..4 or -1 (last); `day` is 1..31,
    where 29–31 fall on the last day of shorter months. `at` is the local start, to the minute.
    """

    kind: RuleKind
    at: time
    weekday: int | None = None
    n: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        _check_time(self.at)
        if self.kind is RuleKind.nth_weekday:
            if self.weekday not in range(7) or isinstance(self.weekday, bool):
                raise ValueError(f"weekday is 0 (Monday) to 6 (Sunday), not {self.weekday!r}")
            if self.n not in NTH_VALUES or isinstance(self.n, bool):
                raise ValueError(f"n is one of {NTH_VALUES} (-1: the last), not {self.n!r}")
            if self.day is not None:
                raise ValueError("an nth-weekday rule has no day of the month")
        elif self.kind is RuleKind.month_day:
            if isinstance(self.day, bool) or self.day not in range(1, 32):
                raise ValueError(f"day is 1 to 31, not {self.day!r}")
            if self.weekday is not None or self.n is not None:
                raise ValueError("a month-day rule has no weekday")
        else:  # pragma: no cover - StrEnum guards this
            raise ValueError(f"unknown rule kind {self.kind!r}")

    @property
    def local_time(self) -> str:
        """The local start as "HH:MM"."""
        return f"{self.at.hour:02d}:{self.at.minute:02d}"

    def to_rrule(self) -> str:
        """The RRULE text (without the "RRULE:" prefix), e.g. FREQ=MONTHLY;BYDAY=+1SA;…."""
        if self.kind is RuleKind.nth_weekday:
            assert self.n is not None and self.weekday is not None
            days = f"BYDAY={self.n:+d}{_DAY_CODES[self.weekday]}"
        else:
            assert self.day is not None
            if self.day > 28:
                listed = ",".join(str(d) for d in range(28, self.day + 1))
                days = f"BYMONTHDAY={listed};BYSETPOS=-1"
            else:
                days = f"BYMONTHDAY={self.day}"
        return f"FREQ=MONTHLY;{days};BYHOUR={self.at.hour};BYMINUTE={self.at.minute};BYSECOND=0"


@dataclass(frozen=True)
class Change:
    """An exception to a rule: the occurrence at `original_start` moved to `new_start`, or
    cancelled (`new_start` None)."""

    original_start: datetime
    new_start: datetime | None

    @property
    def cancelled(self) -> bool:
        """True when the occurrence is cancelled."""
        return self.new_start is None


@dataclass(frozen=True)
class Occurrence:
    """One occurrence after exceptions: where the rule put it, and where it is now (UTC)."""

    original_start: datetime
    starts_at: datetime
    cancelled: bool = False

    @property
    def moved(self) -> bool:
        """True when it was moved from where the rule put it."""
        return self.starts_at != self.original_start


def nth_weekday(n: int, weekday: int, at: time) -> MonthlyRule:
    """The nth (1..4, or -1 = last) `weekday` (Monday 0) of every month, at local time `at`."""
    return MonthlyRule(RuleKind.nth_weekday, at=at, weekday=weekday, n=n)


def month_day(day: int, at: time) -> MonthlyRule:
    """Day `day` (1..31; 29–31: the last day of shorter months) of every month, at `at`."""
    return MonthlyRule(RuleKind.month_day, at=at, day=day)


def parse_rrule(text: str) -> MonthlyRule:
    """Read an RRULE of one of the two monthly shapes; ValueError for anything else.

    Accepts what `to_rrule` writes, an optional "RRULE:" prefix, `BYDAY=SA;BYSETPOS=1` for
    `BYDAY=+1SA`, a plain `BYMONTHDAY=d`, and `BYMONTHDAY=-1` (the last day: read as 31).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("an RRULE is required")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts: dict[str, str] = {}
    for item in body.split(";"):
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or not key or not value.strip() or key in parts:
            raise ValueError(f"not an RRULE part: {item!r}")
        parts[key] = value.strip().upper()
    if parts.pop("FREQ", None) != "MONTHLY":
        raise ValueError("only FREQ=MONTHLY rules are supported")
    if parts.pop("INTERVAL", "1") != "1":
        raise ValueError("only monthly rules (INTERVAL=1) are supported")
    if parts.pop("WKST", "MO") not in _DAY_CODES:
        raise ValueError("WKST must be a weekday")
    at = time(
        _int_part(parts.pop("BYHOUR", None), "BYHOUR", range(24)),
        _int_part(parts.pop("BYMINUTE", None), "BYMINUTE", range(60)),
    )
    if parts.pop("BYSECOND", "0") != "0":
        raise ValueError("BYSECOND must be 0")
    setpos = parts.pop("BYSETPOS", None)
    byday = parts.pop("BYDAY", None)
    bymonthday = parts.pop("BYMONTHDAY", None)
    if parts:
        raise ValueError(f"unsupported RRULE parts: {sorted(parts)}")
    if byday is not None and bymonthday is None:
        return _parse_byday(byday, setpos, at)
    if bymonthday is not None and byday is None:
        return month_day(_parse_monthday(bymonthday, setpos), at)
    raise ValueError("a monthly rule needs exactly one of BYDAY or BYMONTHDAY")


def check_timezone(name: str) -> str:
    """The IANA zone name if it is known (e.g. "Asia/Bangkok"); ValueError otherwise."""
    _zone(name)
    return name


def to_utc(local: datetime, timezone: str) -> datetime:
    """A naive local wall-clock time in `timezone` as an aware UTC instant.

    A time in a spring-forward gap gets the offset from before the gap; an ambiguous one (the
    repeated hour in autumn) its first instance (fold=0).
    """
    if local.tzinfo is not None:
        raise ValueError("to_utc takes a naive local time")
    return local.replace(tzinfo=_zone(timezone), fold=0).astimezone(UTC)


def first_start(rule: MonthlyRule, *, on_or_after: date, timezone: str) -> datetime:
    """The rule's first occurrence on or after the local date `on_or_after` (UTC).

    Use it as a series' first start ("from this month on").
    """
    start = datetime.combine(on_or_after, time(0, 0))
    found = _rule_for(rule, start).after(start, inc=True)
    if found is None:  # pragma: no cover - a monthly rule always recurs
        raise ValueError("the rule has no occurrence")
    return to_utc(found, timezone)


def occurrences(
    rule: MonthlyRule | None,
    *,
    first: datetime,
    timezone: str,
    start: datetime,
    end: datetime,
) -> list[datetime]:
    """Occurrences in [start, end), as aware UTC datetimes, soonest first.

    `first` is the first start (DTSTART): occurrences of the rule at or after it; with
    `rule=None` (a one-off) `first` is the only occurrence. Exceptions are not applied here.
    """
    first = _aware("first", first).astimezone(UTC)
    start = _aware("start", start).astimezone(UTC)
    end = _aware("end", end).astimezone(UTC)
    if end <= start:
        return []
    if rule is None:
        return [first] if start <= first < end else []
    zone = _zone(timezone)
    local_first = first.astimezone(zone).replace(tzinfo=None)
    local_start = max(start.astimezone(zone).replace(tzinfo=None) - _MARGIN, local_first)
    local_end = end.astimezone(zone).replace(tzinfo=None) + _MARGIN
    if local_end < local_start:
        return []
    found = _rule_for(rule, local_first).between(local_start, local_end, inc=True)
    instants = (to_utc(moment, timezone) for moment in found)
    return [moment for moment in instants if start <= moment < end and moment >= first]


def is_occurrence(
    rule: MonthlyRule | None, *, first: datetime, timezone: str, when: datetime
) -> bool:
    """True if the rule (or the one-off) has an occurrence exactly at `when`."""
    moment = _aware("when", when).astimezone(UTC)
    found = occurrences(
        rule, first=first, timezone=timezone, start=moment, end=moment + timedelta(seconds=1)
    )
    return found == [moment]


def next_occurrence(
    rule: MonthlyRule | None, *, first: datetime, timezone: str, after: datetime
) -> datetime | None:
    """The first occurrence strictly after `after` (UTC), exceptions not applied; None if none."""
    moment = _aware("after", after).astimezone(UTC) + timedelta(microseconds=1)
    found = occurrences(rule, first=first, timezone=timezone, start=moment, end=moment + _LOOKAHEAD)
    return found[0] if found else None


def apply_changes(
    rule: MonthlyRule | None,
    *,
    first: datetime,
    timezone: str,
    start: datetime,
    end: datetime,
    changes: Iterable[Change],
    include_cancelled: bool = False,
) -> list[Occurrence]:
    """The occurrences in [start, end) after exceptions, by their current start.

    A moved occurrence appears where it was moved to (whatever its original start); a
    cancelled one is left out unless `include_cancelled` (then it keeps its original start).
    Changes whose `original_start` is not an occurrence are ignored.
    """
    start = _aware("start", start).astimezone(UTC)
    end = _aware("end", end).astimezone(UTC)
    by_original: dict[datetime, Change] = {}
    for given in changes:
        original = _aware("original_start", given.original_start).astimezone(UTC)
        new = None if given.new_start is None else _aware("new_start", given.new_start)
        by_original[original] = Change(original, None if new is None else new.astimezone(UTC))
    result: list[Occurrence] = []
    for original in occurrences(rule, first=first, timezone=timezone, start=start, end=end):
        change: Change | None = by_original.pop(original, None)
        if change is None:
            result.append(Occurrence(original, original))
        elif change.new_start is None:
            if include_cancelled:
                result.append(Occurrence(original, original, cancelled=True))
        elif start <= change.new_start < end:
            result.append(Occurrence(original, change.new_start))
    # Occurrences from outside the window moved into it.
    for original, change in by_original.items():
        if change.new_start is None or not start <= change.new_start < end:
            continue
        if is_occurrence(rule, first=first, timezone=timezone, when=original):
            result.append(Occurrence(original, change.new_start))
    return sorted(result, key=lambda o: (o.starts_at, o.original_start))


# --- internals --------------------------------------------------------------------------------


def _rule_for(rule: MonthlyRule, dtstart: datetime) -> _rrule.rrule:
    """The dateutil rule over naive local times, counting from `dtstart`."""
    common = {
        "dtstart": dtstart,
        "byhour": rule.at.hour,
        "byminute": rule.at.minute,
        "bysecond": 0,
    }
    if rule.kind is RuleKind.nth_weekday:
        assert rule.weekday is not None and rule.n is not None
        weekday = _rrule.weekdays[rule.weekday](rule.n)
        return _rrule.rrule(_rrule.MONTHLY, byweekday=weekday, **common)
    assert rule.day is not None
    if rule.day > 28:
        return _rrule.rrule(
            _rrule.MONTHLY, bymonthday=tuple(range(28, rule.day + 1)), bysetpos=-1, **common
        )
    return _rrule.rrule(_rrule.MONTHLY, bymonthday=rule.day, **common)


def _parse_byday(byday: str, setpos: str | None, at: time) -> MonthlyRule:
    if "," in byday:
        raise ValueError("a monthly rule has one BYDAY weekday")
    code = byday[-2:]
    if code not in _DAY_CODES:
        raise ValueError(f"not a weekday: {byday!r}")
    prefix = byday[:-2]
    if prefix and setpos is not None:
        raise ValueError("BYDAY with an ordinal takes no BYSETPOS")
    ordinal = prefix or setpos
    if ordinal is None:
        raise ValueError("which one of the month? BYDAY needs an ordinal (e.g. +1SA, -1FR)")
    n = _int_part(ordinal, "the ordinal", range(-1, 5))
    if n == 0:
        raise ValueError("the ordinal is 1..4 or -1")
    return nth_weekday(n, _DAY_CODES.index(code), at)


def _parse_monthday(bymonthday: str, setpos: str | None) -> int:
    days = [_int_part(d, "BYMONTHDAY", range(-1, 32)) for d in bymonthday.split(",")]
    if setpos is None and len(days) == 1:
        if days[0] == -1:
            return 31  # the last day of every month
        if days[0] > 0:
            return days[0]
    if setpos == "-1" and len(days) > 1 and days == list(range(28, days[-1] + 1)):
        return days[-1]
    raise ValueError(f"unsupported BYMONTHDAY={bymonthday} (BYSETPOS={setpos})")


def _int_part(value: str | None, name: str, allowed: range) -> int:
    if value is None:
        raise ValueError(f"{name} is required")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if number not in allowed:
        raise ValueError(f"{name} out of range: {number}")
    return number


def _check_time(at: time) -> None:
    if not isinstance(at, time) or at.tzinfo is not None:
        raise ValueError("a rule's time is a naive local time")
    if at.second or at.microsecond:
        raise ValueError("a rule's time is to the minute")


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError("a time zone name is required")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (e.g. Asia/Bangkok)") from None


def _aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value
