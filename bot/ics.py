"""iCalendar (.ics) files for loans, events and meetings, in the city's local time.

Phones import a `.ics` document sent in the chat into their calendar. Times are written in the
city's timezone (`DTSTART;TZID=Asia/Bangkok:...`) with the matching VTIMEZONE, so every
calendar app shows the local time the event was announced with, whatever the phone's own zone.
A UID is stable per event, so importing the file again updates the entry instead of adding a
second one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event

from storage import clock

PRODID: Final = "-//learncity-bot//Learning City//EN"
MEDIA_TYPE: Final = "text/calendar"


@dataclass(frozen=True)
class IcsEvent:
    """One event of a calendar file; `starts_at`/`ends_at` are timezone-aware."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    description: str = ""
    url: str | None = None

    def __post_init__(self) -> None:
        if not self.uid.strip() or any(c in self.uid for c in "\r\n"):
            raise ValueError("an event needs a one-line uid")
        if not self.title.strip():
            raise ValueError("an event needs a title")
        for name in ("starts_at", "ends_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if self.ends_at <= self.starts_at:
            raise ValueError("an event must end after it starts")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.latitude is not None and self.longitude is not None:
            if not (_finite(self.latitude) and -90 <= self.latitude <= 90):
                raise ValueError("latitude must lie in -90..90")
            if not (_finite(self.longitude) and -180 <= self.longitude <= 180):
                raise ValueError("longitude must lie in -180..180")


def calendar_file(
    events: Sequence[IcsEvent], *, timezone: str, stamp: datetime | None = None
) -> bytes:
    """The `.ics` document (METHOD:PUBLISH) for `events`, times local to `timezone`.

    `stamp` is the DTSTAMP of every event (default: the storage clock's now). Raises
    ValueError for no events, duplicate uids, an unknown timezone or a naive stamp.
    """
    if not events:
        raise ValueError("a calendar needs at least one event")
    uids = [event.uid for event in events]
    if len(set(uids)) != len(uids):
        raise ValueError("every event needs its own uid")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown timezone {timezone!r}") from error
    stamped = clock.now() if stamp is None else stamp
    if stamped.tzinfo is None or stamped.utcoffset() is None:
        raise ValueError("stamp must be timezone-aware")

    # Calendar() rather than Calendar.new(): new() adds a random calendar UID, and the same
    # events should always give the same bytes.
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for event in events:
        calendar.add_component(_event(event, zone, stamped))
    # The VTIMEZONE only has to cover the events; icalendar's default span (1970–2038) would
    # leave a far-future event without a rule.
    first = min(event.starts_at.astimezone(zone) for event in events).year
    last = max(event.ends_at.astimezone(zone) for event in events).year
    calendar.add_missing_timezones(first_date=date(first - 1, 1, 1), last_date=date(last + 2, 1, 1))
    ical: bytes = calendar.to_ical()
    return ical


def _event(event: IcsEvent, zone: ZoneInfo, stamp: datetime) -> Event:
    component = Event()
    component.add("uid", event.uid)
    component.add("dtstamp", stamp.astimezone(UTC))
    # Local times with a TZID (not UTC "Z" times): the calendar shows what was announced.
    component.add("dtstart", event.starts_at.astimezone(zone))
    component.add("dtend", event.ends_at.astimezone(zone))
    component.add("summary", event.title)
    if event.description:
        component.add("description", event.description)
    if event.place:
        component.add("location", event.place)
    if event.latitude is not None and event.longitude is not None:
        component.add("geo", (event.latitude, event.longitude))
    if event.url:
        component.add("url", event.url)
    return component


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
