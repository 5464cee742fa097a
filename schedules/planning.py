"""When reminders fire: lead times before an event, moved out of the city's quiet hours.

Pure functions of time. Event times and fire times are aware UTC datetimes; quiet hours are
local wall-clock times, judged in the city's zone. Lead times are elapsed time: a 24 h lead
across a DST change is 24 real hours, not "the same wall-clock time yesterday".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DEFAULT_LEADS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))

_QUIET_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) of local wall-clock time in which reminders are not sent.

    The window may wrap midnight (21:00–07:00). start == end means no quiet hours.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are wall-clock times: pass times without tzinfo")

    @property
    def empty(self) -> bool:
        """True when there are no quiet hours at all."""
        return self.start == self.end

    def contains(self, local: datetime) -> bool:
        """Whether local's wall-clock time is in the window (start included, end excluded)."""
        clock = local.time()
        if self.start < self.end:
            return self.start <= clock < self.end
        if self.start > self.end:  # wraps midnight
            return clock >= self.start or clock < self.end
        return False

    def end_after(self, local: datetime) -> datetime:
        """The moment the quiet period containing `local` ends, aware, in local's zone.

        If the end's wall-clock time is skipped that night (a DST jump), the period ends at
        the jump. Raises ValueError for a naive `local` or one outside quiet hours.
        """
        zone = local.tzinfo
        if zone is None:
            raise ValueError("end_after needs an aware datetime")
        if not self.contains(local):
            raise ValueError(f"{local.isoformat()} is not in quiet hours {self}")
        day = local.date()
        if local.time() >= self.end:  # the evening side of a window that wraps midnight
            day += timedelta(days=1)
        return _first_reading(day, self.end, zone, after=local)


def parse_quiet_hours(text: str) -> QuietHours:
    """Parse "21:00-07:00" (an en dash "21:00–07:00" works too) into QuietHours."""
    match = _QUIET_HOURS.fullmatch(text)
    if match is None:
        raise ValueError(f"quiet hours must look like 21:00-07:00 (HH:MM-HH:MM), got {text!r}")
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    return QuietHours(_time_of_day(start_h, start_m, text), _time_of_day(end_h, end_m, text))


def reminder_time(
    starts_at: datetime, lead: timedelta, *, quiet: QuietHours, tz: tzinfo
) -> datetime | None:
    """The UTC moment a reminder `lead` before an event starting at `starts_at` should fire.

    That is `starts_at - lead`, moved to the end of the quiet period (judged in `tz`) when it
    falls inside one. If the end of quiet hours is at or after the event start, the original
    time is kept: a reminder during quiet hours is better than one after the event has begun.
    A time already in the past is returned as is (the caller decides); None if lead <= 0.
    """
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be an aware datetime")
    if lead <= timedelta(0):
        return None
    start = starts_at.astimezone(UTC)
    fire = start - lead
    local = fire.astimezone(tz)
    if not quiet.contains(local):
        return fire
    moved = quiet.end_after(local).astimezone(UTC)
    return moved if moved < start else fire


def due_reminders(
    starts_at: datetime, leads: Iterable[timedelta], *, quiet: QuietHours, tz: tzinfo
) -> list[tuple[timedelta, datetime]]:
    """Each lead with its UTC fire time (see reminder_time), sorted by fire time.

    Leads without a fire time (<= 0) are skipped. When several leads fire at the same moment
    (e.g. all pushed to the end of quiet hours), only the shortest is kept: it is the most
    relevant, and one message at a time is enough.
    """
    chosen: dict[datetime, timedelta] = {}
    for lead in leads:
        fire = reminder_time(starts_at, lead, quiet=quiet, tz=tz)
        if fire is not None and (fire not in chosen or lead < chosen[fire]):
            chosen[fire] = lead
    return sorted(((lead, fire) for fire, lead in chosen.items()), key=lambda pair: pair[1])


def _time_of_day(hour: int, minute: int, text: str) -> time:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"{hour:02d}:{minute:02d} is not a time of day (00:00-23:59) in {text!r}")
    return time(hour, minute)


def _first_reading(day: date, wall: time, zone: tzinfo, *, after: datetime) -> datetime:
    """The first instant after `after` at which the zone's clock reads `wall` on `day`.

    A repeated wall time (clocks going back) has two instants: the first one after `after`
    wins. A skipped one (clocks going forward) is read at the jump itself.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if second < first:  # skipped: fold=0 used the offset before the jump, fold=1 the one after
        return _offset_change(second, first, zone).astimezone(zone)
    return (first if first > after.astimezone(UTC) else second).astimezone(zone)


def _offset_change(low: datetime, high: datetime, zone: tzinfo) -> datetime:
    """The first whole UTC second in (low, high] whose UTC offset in `zone` differs from low's."""
    before = low.astimezone(zone).utcoffset()
    lo, hi = math.floor(low.timestamp()), math.ceil(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
