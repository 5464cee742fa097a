"""The coffee council (สภากาแฟ): recurring meetings, RSVPs, the agenda, check-in, minutes and
action items, and the citizen's list of sessions.

A council is a `series` (a monthly RRULE, or a one-off) whose occurrences are computed by
`storage.recurrence` and materialised as `council_meetings` rows ahead of time, so people can
RSVP to them. One occurrence can be moved or cancelled (a `series_exceptions` row); the
materialised meeting follows. Every meeting is also a `scheduled_events` row (kind "council",
ref "meeting:<id>") whose attendees are the people who answered yes or maybe, so the reminder
planner reminds them without new code; an action item with an owner is one too (kind
"council_action"), reminding its owner before the due date.

Check-in codes rotate: a code is an HMAC of the meeting id and the current time window, made
with a server secret, and is accepted during its window and the next one only.

Concurrency: changes to a series' occurrences lock the series row, and changes to a meeting
lock its row (RSVPs take a share lock, so they run side by side but not during a move or a
cancellation); a person's RSVP is one upserted row, so the last answer committed wins. SQLite
sessions are serialised anyway (BEGIN IMMEDIATE). Roles are checked by handlers, not here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, col, select

from storage import audit, clock, library, reminders, sql
from storage.checks import require_aware as _aware
from storage.citizens import has_consent
from storage.database import AsyncSession
from storage.enums import (
    LANGUAGES,
    ActionStatus,
    AgendaSource,
    MeetingStatus,
    Purpose,
    RsvpAnswer,
    SeriesKind,
)
from storage.errors import (
    ConsentRequired,
    CouncilRefused,
    NotRegistered,
    UnknownActionItem,
    UnknownMeeting,
    UnknownSeries,
    UnsupportedLanguage,
)
from storage.models import (
    Citizen,
    CouncilActionItem,
    CouncilAgendaItem,
    CouncilAgendaPoll,
    CouncilAgendaVote,
    CouncilAttendance,
    CouncilFacilitator,
    CouncilMeeting,
    CouncilMinutes,
    CouncilRsvp,
    CouncilSuggestion,
    FreeTextNeed,
    LibraryEvent,
    NeedCategory,
    ScheduledEvent,
    Series,
    SeriesException,
    SurveyAnswer,
    SurveyOption,
)
from storage.recurrence import (
    DEFAULT_TIMEZONE,
    Change,
    MonthlyRule,
    Occurrence,
    apply_changes,
    check_timezone,
    is_occurrence,
    next_occurrence,
    parse_rrule,
    to_utc,
)
from storage.surveys import FREE_TEXT_LANGUAGES

__all__ = [
    "ACTION_EVENT_KIND",
    "AGENDA_LABEL_MAX_LENGTH",
    "CHECKIN_LEAD",
    "CHECKIN_WINDOW_MINUTES",
    "DEFAULT_DURATION_MINUTES",
    "DUE_LOCAL_TIME",
    "MATERIALIZE_AHEAD",
    "MAX_AGENDA_ITEMS",
    "MAX_SUGGESTIONS",
    "MEETING_EVENT_KIND",
    "MINUTES_MAX_LENGTH",
    "SUGGESTION_MAX_LENGTH",
    "ActionItem",
    "AgendaInput",
    "AgendaItem",
    "AgendaPoll",
    "Attendance",
    "Candidate",
    "CheckInResult",
    "Meeting",
    "MeetingChange",
    "Minutes",
    "Person",
    "Rsvp",
    "SeriesView",
    "SessionItem",
    "Suggestion",
    "VoteStatus",
    "action_items",
    "action_items_due",
    "action_ref",
    "add_action_item",
    "add_facilitator",
    "agenda",
    "agenda_poll",
    "agenda_polls",
    "agenda_result",
    "attendance",
    "attendees_to_tell",
    "cancel_meeting",
    "cancel_occurrence",
    "cancel_series",
    "check_in",
    "checkin_code",
    "claim_shortlist",
    "close_action_item",
    "code_expires_at",
    "create_series",
    "get_meeting",
    "get_series",
    "is_facilitator",
    "list_series",
    "mark_present",
    "materialize",
    "materialize_all",
    "meeting_ref",
    "meetings_between",
    "minutes",
    "minutes_recipients",
    "move_meeting",
    "move_occurrence",
    "my_rsvp",
    "my_sessions",
    "next_meeting",
    "occurrences",
    "open_action_items",
    "open_agenda_poll_ids",
    "record_agenda_poll",
    "record_agenda_vote",
    "record_minutes",
    "rsvp",
    "rsvp_counts",
    "rsvps",
    "series_facilitators",
    "set_agenda",
    "shortlist",
    "suggest",
    "suggestions",
    "upcoming_meetings",
]

log = logging.getLogger(__name__)

MEETING_EVENT_KIND: Final = "council"
ACTION_EVENT_KIND: Final = "council_action"
TITLE_MAX_LENGTH: Final = 100
PLACE_MAX_LENGTH: Final = 200
DISPLAY_NAME_MAX_LENGTH: Final = 128
SUGGESTION_MAX_LENGTH: Final = 500
MAX_SUGGESTIONS: Final = 3  # per person and meeting
AGENDA_LABEL_MAX_LENGTH: Final = 100
MAX_AGENDA_ITEMS: Final = 12  # a Telegram poll has at most 12 options
MINUTES_MAX_LENGTH: Final = 3500  # leaves room in a 4096-character message for a heading
WHAT_MAX_LENGTH: Final = 200
OWNER_NAME_MAX_LENGTH: Final = 128
POLL_ID_MAX_LENGTH: Final = 64
DURATION_MINUTES: Final = (15, 480)
DEFAULT_DURATION_MINUTES: Final = 120
MATERIALIZE_AHEAD: Final = timedelta(days=62)  # always two monthly meetings ahead
CHECKIN_WINDOW_MINUTES: Final = 5
CHECKIN_WINDOW_RANGE: Final = (1, 60)
CHECKIN_LEAD: Final = timedelta(minutes=30)  # check-in opens this long before the start
CHECKIN_CODE_LENGTH: Final = 8
DUE_LOCAL_TIME: Final = time(9, 0)  # an action item is due at 09:00 local on its due date
SHORTLIST_DAYS: Final = 30
SHORTLIST_CATEGORIES: Final = 10
SHORTLIST_FREE_TEXTS: Final = 10

CheckInResult = Literal["ok", "already", "expired", "outside_window"]
VoteStatus = Literal["stored", "unknown_poll", "closed", "no_consent", "not_registered"]

# PostgreSQL: serialization failure, deadlock detected, lock not available.
_TRANSIENT_SQLSTATES: Final = frozenset({"40001", "40P01", "55P03"})
_ATTEMPTS: Final = 5
_ATTENDING: Final = (RsvpAnswer.yes, RsvpAnswer.maybe)
_RSVPS: Final = SQLModel.metadata.tables["council_rsvps"]
_VOTES: Final = SQLModel.metadata.tables["council_agenda_votes"]
_POLLS: Final = SQLModel.metadata.tables["council_agenda_polls"]
_ATTENDANCE: Final = SQLModel.metadata.tables["council_attendance"]
_MINUTES: Final = SQLModel.metadata.tables["council_minutes"]
_FACILITATORS: Final = SQLModel.metadata.tables["council_facilitators"]
_MEETINGS: Final = SQLModel.metadata.tables["council_meetings"]

T = TypeVar("T")


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesView:
    """A series: its rule's parts (None for a one-off), place, time zone and facilitators."""

    id: int
    kind: SeriesKind
    title: dict[str, str]
    place_text: str
    latitude: float | None
    longitude: float | None
    rule: MonthlyRule | None
    rrule: str | None
    local_time: str
    timezone: str
    first_start: datetime
    duration_minutes: int
    created_by: int
    cancelled_at: datetime | None
    facilitator_ids: tuple[int, ...]

    @property
    def recurring(self) -> bool:
        """True for a monthly rule, False for a one-off."""
        return self.rule is not None

    @property
    def cancelled(self) -> bool:
        """True once the whole series was cancelled."""
        return self.cancelled_at is not None


@dataclass(frozen=True)
class Meeting:
    """A materialised council meeting; `timezone` is its series' (for showing local times)."""

    id: int
    series_id: int
    original_start: datetime
    starts_at: datetime
    ends_at: datetime
    title: dict[str, str]
    place_text: str
    latitude: float | None
    longitude: float | None
    status: MeetingStatus
    agenda_closes_at: datetime | None
    timezone: str

    @property
    def moved(self) -> bool:
        """True when it no longer starts where the rule put it."""
        return self.starts_at != self.original_start

    @property
    def cancelled(self) -> bool:
        """True once cancelled."""
        return self.status is MeetingStatus.cancelled


@dataclass(frozen=True)
class Person:
    """Someone to tell, in their language (`answer`: their RSVP, None when not from one)."""

    telegram_user_id: int
    language: str
    answer: RsvpAnswer | None = None


@dataclass(frozen=True)
class MeetingChange:
    """What moving or cancelling an occurrence did, and whom to tell.

    `meeting` is None when the occurrence was not materialised yet; `starts_at` is the new
    start (None: cancelled); `previous_start` where it was before; `changed` False when
    nothing changed (cancelled again), and then `people` is empty.
    """

    series_id: int
    original_start: datetime
    previous_start: datetime
    starts_at: datetime | None
    meeting: Meeting | None
    people: tuple[Person, ...]
    changed: bool = True

    @property
    def cancelled(self) -> bool:
        """True when the occurrence is cancelled."""
        return self.starts_at is None


@dataclass(frozen=True)
class Rsvp:
    """A person's current answer to a meeting."""

    meeting_id: int
    telegram_user_id: int
    answer: RsvpAnswer
    language: str
    display_name: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Suggestion:
    """A suggested agenda topic (no Telegram id: facilitators see only the text)."""

    id: int
    meeting_id: int
    text: str
    language: str
    created_at: datetime


@dataclass(frozen=True)
class Candidate:
    """A shortlist entry: where it comes from, a proposed {th, en} label (≤ 100 characters),
    the text in its own language (None for a need category) and how many asked for it."""

    source: AgendaSource
    source_id: int | None
    label: dict[str, str]
    text: str | None
    language: str | None
    category_key: str | None
    count: int


@dataclass(frozen=True)
class AgendaInput:
    """One agenda item as the facilitator trimmed it."""

    label: Mapping[str, str]
    category_key: str | None = None
    source: AgendaSource | str = AgendaSource.manual
    source_id: int | None = None


@dataclass(frozen=True)
class AgendaItem:
    """One item of a meeting's agenda, with its votes so far."""

    id: int
    meeting_id: int
    position: int
    label: dict[str, str]
    category_key: str | None
    source: AgendaSource
    source_id: int | None
    votes: int


@dataclass(frozen=True)
class AgendaPoll:
    """An agenda poll sent to one person: option index i is agenda item `item_ids[i]`."""

    poll_id: str
    meeting_id: int
    language: str
    item_ids: tuple[int, ...]
    chat_id: int | None
    message_id: int | None


@dataclass(frozen=True)
class Attendance:
    """Someone present: by code (`checked_in_by` None) or marked by a facilitator."""

    telegram_user_id: int
    checked_in_at: datetime
    checked_in_by: int | None
    display_name: str | None
    language: str | None


@dataclass(frozen=True)
class Minutes:
    """A meeting's minutes per language ({th?, en?})."""

    meeting_id: int
    text: dict[str, str]
    recorded_by: int
    recorded_at: datetime


@dataclass(frozen=True)
class ActionItem:
    """An action item; `owner_language` is the owner's if they are a registered citizen."""

    id: int
    meeting_id: int
    series_id: int
    meeting_starts_at: datetime
    what: str
    owner_telegram_user_id: int | None
    owner_name: str
    owner_language: str | None
    due_on: date
    due_at: datetime
    status: ActionStatus
    done_at: datetime | None
    created_at: datetime

    @property
    def done(self) -> bool:
        """True once closed."""
        return self.status is ActionStatus.done


@dataclass(frozen=True)
class SessionItem:
    """One line of /mysessions: a library loan (`id` = reservation id) or a council meeting
    (`id` = meeting id). `status`: reserved/waitlisted, or the RSVP (yes/maybe)."""

    kind: Literal["library", "council"]
    id: int
    title: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    place_text: str
    latitude: float | None
    longitude: float | None
    status: str
    language: str


# --- small public helpers ------------------------------------------------------------------


def meeting_ref(meeting_id: int) -> str:
    """The `scheduled_events.ref` of a meeting: "meeting:<id>"."""
    return f"meeting:{meeting_id}"


def action_ref(item_id: int) -> str:
    """The `scheduled_events.ref` of an action item: "action:<id>"."""
    return f"action:{item_id}"


def checkin_code(
    meeting_id: int,
    at: datetime,
    secret: str | bytes,
    *,
    window_minutes: int = CHECKIN_WINDOW_MINUTES,
) -> str:
    """The check-in code of the meeting for the time window holding `at` (pure).

    8 characters of A-Z and 2-7: the base32 of HMAC-SHA256(secret, "<meeting>:<window>"), where
    the window index is the epoch seconds divided by the window length.
    """
    return _code(meeting_id, _window_index(at, window_minutes), secret)


def code_expires_at(at: datetime, *, window_minutes: int = CHECKIN_WINDOW_MINUTES) -> datetime:
    """When the window holding `at` ends (the facilitator's screen shows a new code then)."""
    seconds = _window_seconds(window_minutes)
    return datetime.fromtimestamp((_window_index(at, window_minutes) + 1) * seconds, UTC)


# --- series and occurrences ---------------------------------------------------------------


async def create_series(
    *,
    title: Mapping[str, str],
    place_text: str,
    latitude: float | None = None,
    longitude: float | None = None,
    rule: MonthlyRule | None,
    first_start: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    duration_minutes: int = DEFAULT_DURATION_MINUTES,
    created_by: int,
    materialize_until: datetime | None = None,
    session: AsyncSession,
) -> SeriesView:
    """Create a council series (monthly `rule`, or a one-off when `rule` is None).

    One-off: `first_start` is the meeting's start, in the future. Monthly: occurrences from
    `first_start` on (default: now); the first occurrence is stored as the series' first start.
    The creator becomes a facilitator and meetings are materialised up to `materialize_until`
    (default now + 62 days). ValueError for invalid input. Audited "council.series.created".
    """
    checked_title = _checked_bilingual("title", title, TITLE_MAX_LENGTH)
    place = _checked_place(place_text)
    lat, lon = _checked_location(latitude, longitude)
    zone = check_timezone(timezone)
    _check_range("duration_minutes", duration_minutes, DURATION_MINUTES)
    now = clock.now()
    if rule is None:
        if first_start is None:
            raise ValueError("a one-off meeting needs its start")
        first = _aware("first_start", first_start).astimezone(UTC)
        if first <= now:
            raise ValueError("a meeting must start in the future")
        local_time = first.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    else:
        if not isinstance(rule, MonthlyRule):
            raise ValueError("rule must be a MonthlyRule (see storage.recurrence)")
        since = now if first_start is None else _aware("first_start", first_start)
        since = max(since.astimezone(UTC), now)
        found = next_occurrence(
            rule, first=since, timezone=zone, after=since - timedelta(microseconds=1)
        )
        if found is None:  # pragma: no cover - a monthly rule always recurs
            raise ValueError("the rule has no occurrence")
        first = found
        local_time = rule.local_time
    series = Series(
        kind=SeriesKind.council,
        title=checked_title,
        place_text=place,
        latitude=lat,
        longitude=lon,
        rrule=None if rule is None else rule.to_rrule(),
        local_time=local_time,
        timezone=zone,
        first_start=first,
        duration_minutes=duration_minutes,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(series)
    await session.flush()
    series_id = _id(series)
    session.add(
        CouncilFacilitator(series_id=series_id, telegram_user_id=created_by, created_at=now)
    )
    await session.flush()
    await audit.record(
        "council.series.created",
        actor=audit.actor_for(created_by),
        target=_series_target(series_id),
        detail={"rrule": series.rrule, "first_start": first.isoformat(), "timezone": zone},
        session=session,
    )
    until = now + MATERIALIZE_AHEAD if materialize_until is None else materialize_until
    await materialize(series_id, until, session=session)
    return await _series_view(series, session)


async def get_series(series_id: int, *, session: AsyncSession) -> SeriesView | None:
    """The series (cancelled or not), or None."""
    series = await session.get(Series, series_id)
    return None if series is None else await _series_view(series, session)


async def list_series(
    *, include_cancelled: bool = False, session: AsyncSession
) -> list[SeriesView]:
    """Council series in the order they were made."""
    statement = (
        select(Series).where(col(Series.kind) == SeriesKind.council).order_by(col(Series.id))
    )
    if not include_cancelled:
        statement = statement.where(col(Series.cancelled_at).is_(None))
    return [await _series_view(s, session) for s in (await session.exec(statement)).all()]


async def cancel_series(series_id: int, *, by: int, session: AsyncSession) -> list[MeetingChange]:
    """Cancel the series: no more meetings; its upcoming ones are cancelled.

    Returns one change per meeting cancelled, with the people to tell; again: [].
    UnknownSeries. Audited "council.series.cancelled".
    """
    series = await _lock_series(series_id, session)
    if series.cancelled_at is not None:
        return []
    now = clock.now()
    series.cancelled_at = now
    series.updated_at = now
    session.add(series)
    statement = (
        select(CouncilMeeting)
        .where(
            col(CouncilMeeting.series_id) == series_id,
            col(CouncilMeeting.status) == MeetingStatus.scheduled,
            col(CouncilMeeting.ends_at) > now,
        )
        .order_by(col(CouncilMeeting.starts_at), col(CouncilMeeting.id))
        .with_for_update()
    )
    changes: list[MeetingChange] = []
    for meeting in (await session.exec(statement)).all():
        previous = meeting.starts_at
        await _cancel_meeting_row(meeting, now, session)
        changes.append(
            MeetingChange(
                series_id=series_id,
                original_start=meeting.original_start,
                previous_start=previous,
                starts_at=None,
                meeting=_meeting_view(meeting, series.timezone),
                people=tuple(await attendees_to_tell(_id(meeting), session=session)),
            )
        )
    await session.flush()
    await audit.record(
        "council.series.cancelled",
        actor=audit.actor_for(by),
        target=_series_target(series_id),
        detail={"meetings": len(changes)},
        session=session,
    )
    return changes


async def add_facilitator(
    series_id: int, telegram_user_id: int, *, by: int, session: AsyncSession
) -> bool:
    """Make this person a facilitator of the series; False if they already were.

    UnknownSeries. Audited "council.facilitator_added" when it changes.
    """
    await _require_series(series_id, session)
    statement = sql.insert_ignoring_conflicts(
        session, _FACILITATORS, ["series_id", "telegram_user_id"]
    ).values(series_id=series_id, telegram_user_id=telegram_user_id, created_at=clock.now())
    added = (await session.exec(statement)).rowcount == 1
    if added:
        await audit.record(
            "council.facilitator_added",
            actor=audit.actor_for(by),
            target=_series_target(series_id),
            detail={"facilitator": audit.actor_for(telegram_user_id)},
            session=session,
        )
    return added


async def series_facilitators(series_id: int, *, session: AsyncSession) -> list[int]:
    """Telegram ids of the series' facilitators, in the order they were added."""
    statement = (
        select(col(CouncilFacilitator.telegram_user_id))
        .where(col(CouncilFacilitator.series_id) == series_id)
        .order_by(col(CouncilFacilitator.id))
    )
    return list((await session.exec(statement)).all())


async def is_facilitator(series_id: int, telegram_user_id: int, *, session: AsyncSession) -> bool:
    """True if this person facilitates the series."""
    return telegram_user_id in await series_facilitators(series_id, session=session)


async def occurrences(
    series_id: int,
    *,
    start: datetime,
    end: datetime,
    include_cancelled: bool = False,
    session: AsyncSession,
) -> list[Occurrence]:
    """The series' occurrences in [start, end) with its exceptions applied (UnknownSeries)."""
    series = await _require_series(series_id, session)
    return apply_changes(
        _rule_of(series),
        first=series.first_start,
        timezone=series.timezone,
        start=start,
        end=end,
        changes=await _changes_of(series_id, session),
        include_cancelled=include_cancelled,
    )


async def materialize(series_id: int, until: datetime, *, session: AsyncSession) -> list[Meeting]:
    """Create the meetings (and their scheduled events) of occurrences ending after now and
    starting before `until`. Idempotent: returns only the meetings it created.

    A cancelled occurrence is created cancelled; a cancelled series gets nothing. UnknownSeries.
    """
    limit = _aware("until", until)
    series = await _lock_series(series_id, session)
    if series.cancelled_at is not None:
        return []
    now = clock.now()
    duration = timedelta(minutes=series.duration_minutes)
    found = apply_changes(
        _rule_of(series),
        first=series.first_start,
        timezone=series.timezone,
        start=now - duration + timedelta(microseconds=1),
        end=limit,
        changes=await _changes_of(series_id, session),
        include_cancelled=True,
    )
    created: list[Meeting] = []
    for occurrence in found:
        status = MeetingStatus.cancelled if occurrence.cancelled else MeetingStatus.scheduled
        statement = sql.insert_ignoring_conflicts(
            session, _MEETINGS, ["series_id", "original_start"]
        ).values(
            series_id=series_id,
            original_start=occurrence.original_start,
            starts_at=occurrence.starts_at,
            ends_at=occurrence.starts_at + duration,
            title=dict(series.title),
            place_text=series.place_text,
            latitude=series.latitude,
            longitude=series.longitude,
            status=status,
            created_at=now,
            updated_at=now,
        )
        if (await session.exec(statement)).rowcount != 1:
            continue
        meeting = (
            await session.exec(
                select(CouncilMeeting).where(
                    col(CouncilMeeting.series_id) == series_id,
                    col(CouncilMeeting.original_start) == occurrence.original_start,
                )
            )
        ).one()
        if status is MeetingStatus.scheduled:
            await _meeting_event(meeting, session)
        created.append(_meeting_view(meeting, series.timezone))
    return created


async def materialize_all(until: datetime, *, session: AsyncSession) -> list[Meeting]:
    """`materialize` every council series not cancelled (a daily job); the meetings created."""
    statement = (
        select(col(Series.id))
        .where(col(Series.kind) == SeriesKind.council, col(Series.cancelled_at).is_(None))
        .order_by(col(Series.id))
    )
    created: list[Meeting] = []
    for series_id in (await session.exec(statement)).all():
        assert series_id is not None
        created.extend(await materialize(series_id, until, session=session))
    return created


async def move_occurrence(
    series_id: int,
    original_start: datetime,
    new_start: datetime,
    *,
    by: int,
    session: AsyncSession,
) -> MeetingChange:
    """Move one occurrence (named by where the rule put it) to `new_start`.

    Its meeting, if materialised, moves too (and its reminders: the old ones are dropped).
    Returns the people to tell: yes and maybe RSVPs, with their language. UnknownSeries;
    CouncilRefused: cancelled (series or occurrence), not_an_occurrence, past (it began);
    ValueError for a new start that is not in the future. Audited "council.occurrence.moved".
    """
    original = _aware("original_start", original_start).astimezone(UTC)
    target = _aware("new_start", new_start).astimezone(UTC)
    series, exception = await _occurrence_for_change(series_id, original, session)
    now = clock.now()
    if exception is not None and exception.cancelled:
        raise CouncilRefused("cancelled")
    previous = original if exception is None or exception.new_start is None else exception.new_start
    if previous <= now:
        raise CouncilRefused("past")
    if target <= now:
        raise ValueError("a meeting can only be moved to a time in the future")
    await _save_exception(series_id, original, target, False, by, exception, now, session)
    meeting = await _meeting_at(series_id, original, session)
    people: tuple[Person, ...] = ()
    if meeting is not None:
        meeting.starts_at = target
        meeting.ends_at = target + timedelta(minutes=series.duration_minutes)
        meeting.updated_at = now
        session.add(meeting)
        await session.flush()
        if meeting.status is MeetingStatus.scheduled:
            await _meeting_event(meeting, session)
        people = tuple(await attendees_to_tell(_id(meeting), session=session))
    await audit.record(
        "council.occurrence.moved",
        actor=audit.actor_for(by),
        target=_series_target(series_id),
        detail={
            "original_start": original.isoformat(),
            "from": previous.isoformat(),
            "to": target.isoformat(),
        },
        session=session,
    )
    return MeetingChange(
        series_id=series_id,
        original_start=original,
        previous_start=previous,
        starts_at=target,
        meeting=None if meeting is None else _meeting_view(meeting, series.timezone),
        people=people,
    )


async def cancel_occurrence(
    series_id: int, original_start: datetime, *, by: int, session: AsyncSession
) -> MeetingChange:
    """Cancel one occurrence (named by where the rule put it); its meeting is cancelled.

    Returns the people to tell (yes and maybe); cancelling again changes nothing
    (`changed` False, nobody to tell). UnknownSeries; CouncilRefused: cancelled (the series),
    not_an_occurrence, past. Audited "council.occurrence.cancelled".
    """
    original = _aware("original_start", original_start).astimezone(UTC)
    series, exception = await _occurrence_for_change(series_id, original, session)
    now = clock.now()
    previous = original if exception is None or exception.new_start is None else exception.new_start
    meeting = await _meeting_at(series_id, original, session)
    view = None if meeting is None else _meeting_view(meeting, series.timezone)
    if exception is not None and exception.cancelled:
        return MeetingChange(series_id, original, previous, None, view, (), changed=False)
    if previous <= now:
        raise CouncilRefused("past")
    await _save_exception(series_id, original, None, True, by, exception, now, session)
    people: tuple[Person, ...] = ()
    if meeting is not None:
        await _cancel_meeting_row(meeting, now, session)
        await session.flush()
        view = _meeting_view(meeting, series.timezone)
        people = tuple(await attendees_to_tell(_id(meeting), session=session))
    await audit.record(
        "council.occurrence.cancelled",
        actor=audit.actor_for(by),
        target=_series_target(series_id),
        detail={"original_start": original.isoformat(), "start": previous.isoformat()},
        session=session,
    )
    return MeetingChange(series_id, original, previous, None, view, people)


async def move_meeting(
    meeting_id: int, new_start: datetime, *, by: int, session: AsyncSession
) -> MeetingChange:
    """`move_occurrence` for a materialised meeting. UnknownMeeting, and what that raises."""
    meeting = await _require_meeting(meeting_id, session)
    return await move_occurrence(
        meeting.series_id, meeting.original_start, new_start, by=by, session=session
    )


async def cancel_meeting(meeting_id: int, *, by: int, session: AsyncSession) -> MeetingChange:
    """`cancel_occurrence` for a materialised meeting. UnknownMeeting, and what that raises."""
    meeting = await _require_meeting(meeting_id, session)
    return await cancel_occurrence(
        meeting.series_id, meeting.original_start, by=by, session=session
    )


# --- meetings -------------------------------------------------------------------------------


async def get_meeting(meeting_id: int, *, session: AsyncSession) -> Meeting | None:
    """The meeting (cancelled or not), or None."""
    meeting = await session.get(CouncilMeeting, meeting_id)
    return None if meeting is None else (await _meeting_views([meeting], session))[0]


async def next_meeting(now: datetime, *, session: AsyncSession) -> Meeting | None:
    """The soonest scheduled meeting that has not ended at `now`, or None."""
    found = await upcoming_meetings(now, limit=1, session=session)
    return found[0] if found else None


async def upcoming_meetings(
    now: datetime,
    *,
    limit: int = 5,
    include_cancelled: bool = False,
    session: AsyncSession,
) -> list[Meeting]:
    """Meetings that have not ended at `now`, soonest first (scheduled only, unless asked)."""
    moment = _aware("now", now)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    statement = (
        select(CouncilMeeting)
        .where(col(CouncilMeeting.ends_at) > moment)
        .order_by(col(CouncilMeeting.starts_at), col(CouncilMeeting.id))
        .limit(limit)
    )
    if not include_cancelled:
        statement = statement.where(col(CouncilMeeting.status) == MeetingStatus.scheduled)
    return await _meeting_views(list((await session.exec(statement)).all()), session)


async def meetings_between(
    start: datetime, end: datetime, *, session: AsyncSession
) -> list[Meeting]:
    """Scheduled meetings starting in [start, end), soonest first (for jobs)."""
    statement = (
        select(CouncilMeeting)
        .where(
            col(CouncilMeeting.status) == MeetingStatus.scheduled,
            col(CouncilMeeting.starts_at) >= _aware("start", start),
            col(CouncilMeeting.starts_at) < _aware("end", end),
        )
        .order_by(col(CouncilMeeting.starts_at), col(CouncilMeeting.id))
    )
    return await _meeting_views(list((await session.exec(statement)).all()), session)


async def claim_shortlist(meeting_id: int, *, session: AsyncSession) -> bool:
    """Note that the facilitators were offered the shortlist; False if already noted.

    UnknownMeeting.
    """
    claim = (
        update(CouncilMeeting)
        .where(
            col(CouncilMeeting.id) == meeting_id,
            col(CouncilMeeting.shortlist_offered_at).is_(None),
        )
        .values(shortlist_offered_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if (await session.exec(claim)).rowcount == 1:
        return True
    await _require_meeting(meeting_id, session)
    return False


# --- RSVP -----------------------------------------------------------------------------------


async def rsvp(
    meeting_id: int,
    telegram_user_id: int,
    answer: RsvpAnswer | str,
    language: str,
    *,
    display_name: str | None = None,
    session: AsyncSession,
) -> Rsvp:
    """Answer yes, maybe or no to a meeting (changeable: one row per person, last wins).

    Yes and maybe make the person an attendee of the meeting's scheduled event (reminders);
    no removes them. UnknownMeeting, NotRegistered, ConsentRequired (coffee_council; not for
    no),
    UnsupportedLanguage (th or en), ValueError (answer), CouncilRefused: cancelled, past.
    Audited "council.rsvp".
    """
    choice = RsvpAnswer(answer)
    person_language = _checked_language(language)
    name = _checked_display_name(display_name)

    async def attempt() -> None:
        meeting = await _lock_meeting(meeting_id, session, share=True)
        if choice.attending:
            await _require_consent(telegram_user_id, session)
        else:
            # Saying no must stay possible after consent is withdrawn (PDPA: withdrawing is
            # as easy as giving), so only yes and maybe need it.
            await _require_registered(telegram_user_id, session)
        _refuse_unless_open(meeting)
        now = clock.now()
        updated = ["answer", "language", "updated_at"] + (["display_name"] if name else [])
        statement = sql.upsert(session, _RSVPS, ["meeting_id", "telegram_user_id"], updated).values(
            meeting_id=meeting_id,
            telegram_user_id=telegram_user_id,
            answer=choice,
            language=person_language,
            display_name=name,
            created_at=now,
            updated_at=now,
        )
        await session.exec(statement)
        event = await _meeting_event(meeting, session)
        if choice.attending:
            await reminders.add_attendee(_id(event), telegram_user_id, session=session)
        else:
            await reminders.remove_attendee(_id(event), telegram_user_id, session=session)
        await audit.record(
            "council.rsvp",
            actor=audit.actor_for(telegram_user_id),
            target=_meeting_target(meeting_id),
            detail={"answer": choice.value},
            session=session,
        )

    await _retrying(session, attempt)
    found = await my_rsvp(meeting_id, telegram_user_id, session=session)
    assert found is not None
    return found


async def my_rsvp(meeting_id: int, telegram_user_id: int, *, session: AsyncSession) -> Rsvp | None:
    """This person's current answer to the meeting, or None."""
    statement = (
        select(CouncilRsvp)
        .where(
            col(CouncilRsvp.meeting_id) == meeting_id,
            col(CouncilRsvp.telegram_user_id) == telegram_user_id,
        )
        .execution_options(populate_existing=True)
    )
    row = (await session.exec(statement)).first()
    return None if row is None else _rsvp_view(row)


async def rsvps(meeting_id: int, *, session: AsyncSession) -> list[Rsvp]:
    """Every answer to the meeting (yes, maybe and no), oldest first."""
    statement = (
        select(CouncilRsvp)
        .where(col(CouncilRsvp.meeting_id) == meeting_id)
        .order_by(col(CouncilRsvp.created_at), col(CouncilRsvp.id))
        .execution_options(populate_existing=True)
    )
    return [_rsvp_view(row) for row in (await session.exec(statement)).all()]


async def rsvp_counts(meeting_id: int, *, session: AsyncSession) -> dict[RsvpAnswer, int]:
    """How many answered yes, maybe and no (every answer present, zero when none)."""
    statement = (
        select(col(CouncilRsvp.answer), func.count())
        .where(col(CouncilRsvp.meeting_id) == meeting_id)
        .group_by(col(CouncilRsvp.answer))
    )
    counts = {answer: 0 for answer in RsvpAnswer}
    for answer, count in (await session.exec(statement)).all():
        counts[RsvpAnswer(answer)] = count
    return counts


async def attendees_to_tell(meeting_id: int, *, session: AsyncSession) -> list[Person]:
    """The people who answered yes or maybe, with the language they answered in, oldest first."""
    statement = (
        select(CouncilRsvp)
        .where(
            col(CouncilRsvp.meeting_id) == meeting_id,
            col(CouncilRsvp.answer).in_(_ATTENDING),
        )
        .order_by(col(CouncilRsvp.created_at), col(CouncilRsvp.id))
        .execution_options(populate_existing=True)
    )
    return [
        Person(row.telegram_user_id, row.language, row.answer)
        for row in (await session.exec(statement)).all()
    ]


async def withdraw_rsvps(telegram_user_id: int, *, now: datetime, session: AsyncSession) -> int:
    """Remove the person's answers to meetings not yet begun (consent to the council withdrawn).

    They stop being attendees (their waiting reminders are dropped) and head counts no longer
    include them. Answers to past meetings stay (attendance history). Returns how many were
    removed; audited "council.rsvp.withdrawn" per meeting.
    """
    moment = _aware("now", now)
    statement = (
        select(CouncilRsvp, CouncilMeeting)
        .join(CouncilMeeting, col(CouncilMeeting.id) == col(CouncilRsvp.meeting_id))
        .where(
            col(CouncilRsvp.telegram_user_id) == telegram_user_id,
            col(CouncilMeeting.starts_at) > moment,
        )
        .order_by(col(CouncilMeeting.starts_at))
    )
    removed = 0
    for row, meeting in (await session.exec(statement)).all():
        meeting_id = _id(meeting)
        await session.delete(row)
        event = await reminders.get_event(
            MEETING_EVENT_KIND, meeting_ref(meeting_id), session=session
        )
        if event is not None:
            await reminders.remove_attendee(_id(event), telegram_user_id, session=session)
        await audit.record(
            "council.rsvp.withdrawn",
            actor=audit.actor_for(telegram_user_id),
            target=_meeting_target(meeting_id),
            detail={"answer": row.answer.value},
            session=session,
        )
        removed += 1
    await session.flush()
    return removed


# --- agenda ---------------------------------------------------------------------------------


async def suggest(
    meeting_id: int,
    telegram_user_id: int,
    text: str,
    language: str,
    *,
    session: AsyncSession,
) -> Suggestion:
    """Suggest an agenda topic (≤ 500 characters after trimming; detected language).

    UnknownMeeting, NotRegistered, ConsentRequired, UnsupportedLanguage (th, en, ms, und),
    ValueError (blank or long), CouncilRefused: cancelled, past, too_many (3 per person and
    meeting). Audited "council.suggested" (without the text).
    """
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned:
        raise ValueError("a suggestion cannot be blank")
    if len(cleaned) > SUGGESTION_MAX_LENGTH:
        raise ValueError(f"a suggestion is at most {SUGGESTION_MAX_LENGTH} characters")
    if language not in FREE_TEXT_LANGUAGES:
        raise UnsupportedLanguage(f"languages are {FREE_TEXT_LANGUAGES}, not {language!r}")
    meeting = await _lock_meeting(meeting_id, session, share=True)
    # The person's row serialises their suggestions, so the limit holds under concurrency.
    if not await _lock_citizen(telegram_user_id, session):
        raise NotRegistered(telegram_user_id)
    await _require_consent(telegram_user_id, session)
    _refuse_unless_open(meeting)
    statement = select(func.count()).where(
        col(CouncilSuggestion.meeting_id) == meeting_id,
        col(CouncilSuggestion.telegram_user_id) == telegram_user_id,
    )
    if (await session.exec(statement)).one() >= MAX_SUGGESTIONS:
        raise CouncilRefused("too_many")
    row = CouncilSuggestion(
        meeting_id=meeting_id,
        telegram_user_id=telegram_user_id,
        text=cleaned,
        language=language,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    await audit.record(
        "council.suggested",
        actor=audit.actor_for(telegram_user_id),
        target=_meeting_target(meeting_id),
        detail={"suggestion_id": _id(row), "language": language},
        session=session,
    )
    return _suggestion_view(row)


async def suggestions(meeting_id: int, *, session: AsyncSession) -> list[Suggestion]:
    """The meeting's suggestions, oldest first (no Telegram ids)."""
    statement = (
        select(CouncilSuggestion)
        .where(col(CouncilSuggestion.meeting_id) == meeting_id)
        .order_by(col(CouncilSuggestion.created_at), col(CouncilSuggestion.id))
    )
    return [_suggestion_view(row) for row in (await session.exec(statement)).all()]


async def shortlist(
    meeting_id: int, now: datetime, *, days: int = SHORTLIST_DAYS, session: AsyncSession
) -> list[Candidate]:
    """Agenda candidates for the facilitator to trim, in this order:

    1. open action items of the series' earlier meetings, oldest due first;
    2. learning needs of the last `days` days: need categories by how many survey answers chose
       one of their options (most first, top 10), then free-text needs grouped by identical
       text (most first, top 10);
    3. this meeting's suggestions, oldest first.
    UnknownMeeting.
    """
    moment = _aware("now", now)
    meeting = await _require_meeting(meeting_id, session)
    candidates: list[Candidate] = []
    earlier = (
        select(CouncilActionItem)
        .join(CouncilMeeting, col(CouncilMeeting.id) == col(CouncilActionItem.meeting_id))
        .where(
            col(CouncilMeeting.series_id) == meeting.series_id,
            col(CouncilMeeting.original_start) < meeting.original_start,
            col(CouncilActionItem.status) == ActionStatus.open,
        )
        .order_by(col(CouncilActionItem.due_at), col(CouncilActionItem.id))
    )
    for item in (await session.exec(earlier)).all():
        candidates.append(
            Candidate(
                source=AgendaSource.action_item,
                source_id=_id(item),
                label=_same_label(item.what),
                text=item.what,
                language=None,
                category_key=None,
                count=1,
            )
        )
    since = moment - timedelta(days=days)
    candidates.extend(await _category_needs(since, session))
    candidates.extend(await _free_text_needs(since, session))
    for suggestion in await suggestions(meeting_id, session=session):
        candidates.append(
            Candidate(
                source=AgendaSource.suggestion,
                source_id=suggestion.id,
                label=_same_label(suggestion.text),
                text=suggestion.text,
                language=suggestion.language,
                category_key=None,
                count=1,
            )
        )
    return candidates


async def set_agenda(
    meeting_id: int,
    items: Sequence[AgendaInput],
    *,
    closes_at: datetime | None = None,
    by: int,
    session: AsyncSession,
) -> list[AgendaItem]:
    """Set (replace) the meeting's agenda: 1–12 items with th and en labels ≤ 100 characters.

    `closes_at` (default: the meeting's start) is when votes stop counting: in the future and
    not after the start. UnknownMeeting; ValueError (items, unknown need category, closes_at);
    CouncilRefused: cancelled, past, agenda_polled. Audited "council.agenda.set".
    """
    if isinstance(items, str | bytes) or not 1 <= len(items) <= MAX_AGENDA_ITEMS:
        raise ValueError(f"an agenda has 1 to {MAX_AGENDA_ITEMS} items")
    checked = [
        (
            _checked_bilingual("label", item.label, AGENDA_LABEL_MAX_LENGTH),
            item.category_key,
            AgendaSource(item.source),
            item.source_id,
        )
        for item in items
    ]
    keys = sorted({key for _, key, _, _ in checked if key is not None})
    if keys:
        known = set(
            (
                await session.exec(
                    select(col(NeedCategory.key)).where(col(NeedCategory.key).in_(keys))
                )
            ).all()
        )
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise ValueError(f"unknown need categories: {unknown}")
    meeting = await _lock_meeting(meeting_id, session)
    _refuse_unless_open(meeting)
    polled = select(col(CouncilAgendaPoll.id)).where(
        col(CouncilAgendaPoll.meeting_id) == meeting_id
    )
    if (await session.exec(polled)).first() is not None:
        raise CouncilRefused("agenda_polled")
    now = clock.now()
    closing = meeting.starts_at if closes_at is None else _aware("closes_at", closes_at)
    if not now < closing <= meeting.starts_at:
        raise ValueError("votes must close in the future and no later than the meeting's start")
    await session.exec(
        delete(CouncilAgendaItem).where(col(CouncilAgendaItem.meeting_id) == meeting_id)
    )
    rows = [
        CouncilAgendaItem(
            meeting_id=meeting_id,
            position=position,
            label=label,
            category_key=key,
            source=source,
            source_id=source_id,
            votes=0,
            created_at=now,
        )
        for position, (label, key, source, source_id) in enumerate(checked)
    ]
    session.add_all(rows)
    meeting.agenda_closes_at = closing.astimezone(UTC)
    meeting.updated_at = now
    session.add(meeting)
    await session.flush()
    await audit.record(
        "council.agenda.set",
        actor=audit.actor_for(by),
        target=_meeting_target(meeting_id),
        detail={"items": len(rows), "closes_at": closing.isoformat()},
        session=session,
    )
    return [_item_view(row) for row in rows]


async def agenda(meeting_id: int, *, session: AsyncSession) -> list[AgendaItem]:
    """The meeting's agenda by position (empty until set)."""
    statement = (
        select(CouncilAgendaItem)
        .where(col(CouncilAgendaItem.meeting_id) == meeting_id)
        .order_by(col(CouncilAgendaItem.position))
        .execution_options(populate_existing=True)
    )
    return [_item_view(row) for row in (await session.exec(statement)).all()]


async def agenda_result(meeting_id: int, *, session: AsyncSession) -> list[AgendaItem]:
    """The agenda ordered by the vote: most votes first, then by position."""
    items = await agenda(meeting_id, session=session)
    return sorted(items, key=lambda item: (-item.votes, item.position))


async def record_agenda_poll(
    poll_id: str,
    meeting_id: int,
    language: str,
    *,
    chat_id: int | None = None,
    message_id: int | None = None,
    session: AsyncSession,
) -> AgendaPoll:
    """Remember that agenda poll `poll_id` (options = the agenda by position) is for the meeting.

    Idempotent (the first record stays). From then on the agenda cannot change. UnknownMeeting;
    ValueError for a bad poll id or an agenda not set; UnsupportedLanguage (th or en).
    """
    if not isinstance(poll_id, str) or not 1 <= len(poll_id) <= POLL_ID_MAX_LENGTH:
        raise ValueError(f"a poll id has 1–{POLL_ID_MAX_LENGTH} characters")
    poll_language = _checked_language(language)
    await _require_meeting(meeting_id, session)
    items = await agenda(meeting_id, session=session)
    if not items:
        raise ValueError("set the agenda before sending its poll")
    statement = sql.insert_ignoring_conflicts(session, _POLLS, ["poll_id"]).values(
        poll_id=poll_id,
        meeting_id=meeting_id,
        language=poll_language,
        item_ids=[item.id for item in items],
        chat_id=chat_id,
        message_id=message_id,
        created_at=clock.now(),
    )
    await session.exec(statement)
    found = await agenda_poll(poll_id, session=session)
    assert found is not None
    return found


async def agenda_poll(poll_id: str, *, session: AsyncSession) -> AgendaPoll | None:
    """The agenda poll with this Telegram poll id, or None."""
    statement = select(CouncilAgendaPoll).where(col(CouncilAgendaPoll.poll_id) == poll_id)
    row = (await session.exec(statement)).first()
    return None if row is None else _poll_view(row)


async def agenda_polls(meeting_id: int, *, session: AsyncSession) -> list[AgendaPoll]:
    """Every agenda poll sent for the meeting (to stop them at `agenda_closes_at`)."""
    statement = (
        select(CouncilAgendaPoll)
        .where(col(CouncilAgendaPoll.meeting_id) == meeting_id)
        .order_by(col(CouncilAgendaPoll.id))
    )
    return [_poll_view(row) for row in (await session.exec(statement)).all()]


async def open_agenda_poll_ids(*, session: AsyncSession) -> list[str]:
    """The poll ids of agenda polls whose meeting is neither cancelled nor over: the ones
    that may still get votes (`storage.known_polls`)."""
    statement = (
        select(col(CouncilAgendaPoll.poll_id))
        .join(CouncilMeeting, col(CouncilMeeting.id) == col(CouncilAgendaPoll.meeting_id))
        .where(
            col(CouncilMeeting.status) != MeetingStatus.cancelled,
            col(CouncilMeeting.ends_at) > clock.now(),
        )
    )
    return list((await session.exec(statement)).all())


async def record_agenda_vote(
    poll_id: str,
    telegram_user_id: int,
    option_ids: Sequence[int],
    *,
    session: AsyncSession,
) -> VoteStatus:
    """Store a person's agenda vote (option indexes of the poll; [] retracts it).

    The vote replaces their earlier one; indexes out of range are ignored. "unknown_poll",
    "closed" (after `agenda_closes_at`, or the meeting cancelled), "not_registered",
    "no_consent" store nothing.
    """
    poll = (
        await session.exec(
            select(CouncilAgendaPoll).where(col(CouncilAgendaPoll.poll_id) == poll_id)
        )
    ).first()
    if poll is None:
        return "unknown_poll"
    meeting = await session.get(CouncilMeeting, poll.meeting_id)
    now = clock.now()
    if (
        meeting is None
        or meeting.status is MeetingStatus.cancelled
        or (meeting.agenda_closes_at is not None and now >= meeting.agenda_closes_at)
    ):
        return "closed"
    # The voter's row serialises their votes, so two quick changes cannot both add.
    if not await _lock_citizen(telegram_user_id, session):
        return "not_registered"
    if not await has_consent(telegram_user_id, Purpose.coffee_council, session=session):
        return "no_consent"
    item_ids = list(poll.item_ids)
    chosen = {
        item_ids[index]
        for index in option_ids
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(item_ids)
    }
    existing_statement = select(col(CouncilAgendaVote.item_id)).where(
        col(CouncilAgendaVote.meeting_id) == poll.meeting_id,
        col(CouncilAgendaVote.telegram_user_id) == telegram_user_id,
    )
    existing = set((await session.exec(existing_statement)).all())
    for item_id in sorted(existing - chosen):
        removed = await session.exec(
            delete(CouncilAgendaVote).where(
                col(CouncilAgendaVote.item_id) == item_id,
                col(CouncilAgendaVote.telegram_user_id) == telegram_user_id,
            )
        )
        if removed.rowcount:
            await _add_votes(item_id, -removed.rowcount, session)
    for item_id in sorted(chosen - existing):
        added = await session.exec(
            sql.insert_ignoring_conflicts(session, _VOTES, ["item_id", "telegram_user_id"]).values(
                meeting_id=poll.meeting_id,
                item_id=item_id,
                telegram_user_id=telegram_user_id,
                created_at=now,
            )
        )
        if added.rowcount:
            await _add_votes(item_id, added.rowcount, session)
    return "stored"


# --- check-in -------------------------------------------------------------------------------


async def check_in(
    meeting_id: int,
    telegram_user_id: int,
    code: str,
    at: datetime,
    secret: str | bytes,
    *,
    window_minutes: int = CHECKIN_WINDOW_MINUTES,
    session: AsyncSession,
) -> CheckInResult:
    """Check a person in with the code they scanned, at `at`.

    In this order: "outside_window" (before start − 30 min, after the end, or cancelled),
    "already" (checked in before; nothing changes), "expired" (not the code of `at`'s window
    nor of the one before: a forwarded old code, or garbage), then NotRegistered /
    ConsentRequired, else "ok". UnknownMeeting. Audited "council.checked_in".
    """
    moment = _aware("at", at).astimezone(UTC)
    meeting = await _require_meeting(meeting_id, session)
    if meeting.status is MeetingStatus.cancelled or not (
        meeting.starts_at - CHECKIN_LEAD <= moment <= meeting.ends_at
    ):
        return "outside_window"
    if await _is_present(meeting_id, telegram_user_id, session):
        return "already"
    if not _code_is_valid(meeting_id, code, moment, secret, window_minutes):
        return "expired"
    await _require_consent(telegram_user_id, session)
    return await _present(meeting_id, telegram_user_id, moment, None, session)


async def mark_present(
    meeting_id: int, telegram_user_id: int, *, by: int, session: AsyncSession
) -> CheckInResult:
    """A facilitator marks someone present: "ok", or "already" (nothing changes).

    UnknownMeeting, NotRegistered, ConsentRequired, CouncilRefused("cancelled"). Audited
    "council.marked_present".
    """
    meeting = await _require_meeting(meeting_id, session)
    if meeting.status is MeetingStatus.cancelled:
        raise CouncilRefused("cancelled")
    if await _is_present(meeting_id, telegram_user_id, session):
        return "already"
    await _require_consent(telegram_user_id, session)
    return await _present(meeting_id, telegram_user_id, clock.now(), by, session)


async def attendance(meeting_id: int, *, session: AsyncSession) -> list[Attendance]:
    """Who is present, in check-in order, with their RSVP name and current language."""
    statement = (
        select(CouncilAttendance, col(CouncilRsvp.display_name), col(Citizen.language))
        .outerjoin(
            CouncilRsvp,
            (col(CouncilRsvp.meeting_id) == col(CouncilAttendance.meeting_id))
            & (col(CouncilRsvp.telegram_user_id) == col(CouncilAttendance.telegram_user_id)),
        )
        .outerjoin(
            Citizen, col(Citizen.telegram_user_id) == col(CouncilAttendance.telegram_user_id)
        )
        .where(col(CouncilAttendance.meeting_id) == meeting_id)
        .order_by(col(CouncilAttendance.checked_in_at), col(CouncilAttendance.id))
    )
    return [
        Attendance(
            telegram_user_id=row.telegram_user_id,
            checked_in_at=row.checked_in_at,
            checked_in_by=row.checked_in_by,
            display_name=name,
            language=language,
        )
        for row, name, language in (await session.exec(statement)).all()
    ]


# --- minutes and action items ---------------------------------------------------------------


async def record_minutes(
    meeting_id: int, text: Mapping[str, str], *, by: int, session: AsyncSession
) -> Minutes:
    """Record (or replace) the minutes: th and/or en, each ≤ 3500 characters after trimming.

    UnknownMeeting; ValueError. Audited "council.minutes.recorded" (without the text).
    """
    if not isinstance(text, Mapping):
        raise ValueError("minutes map th and/or en to text")
    unknown = set(text) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"minutes languages are {LANGUAGES}, not {sorted(unknown)}")
    checked: dict[str, str] = {}
    for language in LANGUAGES:
        value = text.get(language)
        if value is None:
            continue
        cleaned = value.strip() if isinstance(value, str) else ""
        if not cleaned:
            continue
        if len(cleaned) > MINUTES_MAX_LENGTH:
            raise ValueError(f"the {language} minutes are longer than {MINUTES_MAX_LENGTH}")
        checked[language] = cleaned
    if not checked:
        raise ValueError("minutes need text in Thai or English")
    await _require_meeting(meeting_id, session)
    now = clock.now()
    statement = sql.upsert(
        session, _MINUTES, ["meeting_id"], ["text", "recorded_by", "recorded_at", "updated_at"]
    ).values(meeting_id=meeting_id, text=checked, recorded_by=by, recorded_at=now, updated_at=now)
    await session.exec(statement)
    await audit.record(
        "council.minutes.recorded",
        actor=audit.actor_for(by),
        target=_meeting_target(meeting_id),
        detail={"languages": sorted(checked)},
        session=session,
    )
    found = await minutes(meeting_id, session=session)
    assert found is not None
    return found


async def minutes(meeting_id: int, *, session: AsyncSession) -> Minutes | None:
    """The meeting's minutes, or None."""
    statement = (
        select(CouncilMinutes)
        .where(col(CouncilMinutes.meeting_id) == meeting_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.exec(statement)).first()
    if row is None:
        return None
    return Minutes(
        meeting_id=row.meeting_id,
        text=dict(row.text),
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def minutes_recipients(meeting_id: int, *, session: AsyncSession) -> list[Person]:
    """The people checked in who are still reachable citizens, in their current language."""
    statement = (
        select(col(CouncilAttendance.telegram_user_id), col(Citizen.language))
        .join(Citizen, col(Citizen.telegram_user_id) == col(CouncilAttendance.telegram_user_id))
        .where(
            col(CouncilAttendance.meeting_id) == meeting_id,
            col(Citizen.reachable).is_(True),
        )
        .order_by(col(CouncilAttendance.checked_in_at), col(CouncilAttendance.id))
    )
    return [Person(tg, language) for tg, language in (await session.exec(statement)).all()]


async def add_action_item(
    meeting_id: int,
    *,
    what: str,
    owner_name: str,
    owner_telegram_user_id: int | None = None,
    due_on: date,
    by: int,
    session: AsyncSession,
) -> ActionItem:
    """Add an action item (what ≤ 200, owner name ≤ 128, due on a local date not yet past).

    It is due at 09:00 local on `due_on`; an owner with a Telegram id is reminded before then
    (a scheduled event with the owner attending). UnknownMeeting; ValueError. Audited
    "council.action.added".
    """
    cleaned = _checked_text("what", what, WHAT_MAX_LENGTH)
    owner = _checked_text("owner_name", owner_name, OWNER_NAME_MAX_LENGTH)
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise ValueError("due_on is a date")
    meeting = await _require_meeting(meeting_id, session)
    series = await _require_series(meeting.series_id, session)
    now = clock.now()
    if due_on < now.astimezone(ZoneInfo(series.timezone)).date():
        raise ValueError("an action item cannot be due in the past")
    row = CouncilActionItem(
        meeting_id=meeting_id,
        what=cleaned,
        owner_telegram_user_id=owner_telegram_user_id,
        owner_name=owner,
        due_on=due_on,
        due_at=to_utc(datetime.combine(due_on, DUE_LOCAL_TIME), series.timezone),
        status=ActionStatus.open,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    if owner_telegram_user_id is not None:
        event = await reminders.upsert_event(
            ACTION_EVENT_KIND,
            action_ref(_id(row)),
            title=_same_label(cleaned, WHAT_MAX_LENGTH),
            starts_at=row.due_at,
            session=session,
        )
        await reminders.add_attendee(_id(event), owner_telegram_user_id, session=session)
    await audit.record(
        "council.action.added",
        actor=audit.actor_for(by),
        target=_action_target(_id(row)),
        detail={"meeting_id": meeting_id, "due_on": due_on.isoformat()},
        session=session,
    )
    return (await _action_views([row], session))[0]


async def close_action_item(item_id: int, *, by: int, session: AsyncSession) -> ActionItem:
    """Mark the action item done (its reminders stop); again: unchanged. UnknownActionItem.

    Audited "council.action.done".
    """
    row = await session.get(CouncilActionItem, item_id)
    if row is None:
        raise UnknownActionItem(item_id)
    if row.status is ActionStatus.open:
        now = clock.now()
        row.status = ActionStatus.done
        row.done_at = now
        row.updated_at = now
        session.add(row)
        await session.flush()
        await reminders.cancel_event(ACTION_EVENT_KIND, action_ref(item_id), session=session)
        await audit.record(
            "council.action.done",
            actor=audit.actor_for(by),
            target=_action_target(item_id),
            session=session,
        )
    return (await _action_views([row], session))[0]


async def action_items(meeting_id: int, *, session: AsyncSession) -> list[ActionItem]:
    """The action items agreed at this meeting, in the order they were added."""
    statement = (
        select(CouncilActionItem)
        .where(col(CouncilActionItem.meeting_id) == meeting_id)
        .order_by(col(CouncilActionItem.id))
    )
    return await _action_views(list((await session.exec(statement)).all()), session)


async def open_action_items(series_id: int, *, session: AsyncSession) -> list[ActionItem]:
    """Open action items from any meeting of the series, oldest due first."""
    statement = (
        select(CouncilActionItem)
        .join(CouncilMeeting, col(CouncilMeeting.id) == col(CouncilActionItem.meeting_id))
        .where(
            col(CouncilMeeting.series_id) == series_id,
            col(CouncilActionItem.status) == ActionStatus.open,
        )
        .order_by(col(CouncilActionItem.due_at), col(CouncilActionItem.id))
    )
    return await _action_views(list((await session.exec(statement)).all()), session)


async def action_items_due(
    start: datetime, end: datetime, *, session: AsyncSession
) -> list[ActionItem]:
    """Open action items (any series) due in [start, end), soonest first."""
    statement = (
        select(CouncilActionItem)
        .where(
            col(CouncilActionItem.status) == ActionStatus.open,
            col(CouncilActionItem.due_at) >= _aware("start", start),
            col(CouncilActionItem.due_at) < _aware("end", end),
        )
        .order_by(col(CouncilActionItem.due_at), col(CouncilActionItem.id))
    )
    return await _action_views(list((await session.exec(statement)).all()), session)


# --- the citizen's sessions ---------------------------------------------------------------


async def my_sessions(
    telegram_user_id: int, *, now: datetime, session: AsyncSession
) -> list[SessionItem]:
    """Upcoming library loans (reserved and waitlisted) and council meetings answered yes or
    maybe (scheduled, not ended), soonest first."""
    moment = _aware("now", now)
    items: list[SessionItem] = []
    for loan in await library.my_loans(telegram_user_id, now=moment, session=session):
        starts_at, ends_at = loan.starts_at, loan.ends_at
        if starts_at is None or ends_at is None:  # waitlisted: the event's times
            event = await session.get(LibraryEvent, loan.event_id)
            assert event is not None
            starts_at, ends_at = loan.event_starts_at, library.event_ends_at(event)
        items.append(
            SessionItem(
                kind="library",
                id=loan.id,
                title=dict(loan.book_title),
                starts_at=starts_at,
                ends_at=ends_at,
                place_text=loan.place_text,
                latitude=loan.latitude,
                longitude=loan.longitude,
                status=loan.status.value,
                language=loan.language,
            )
        )
    statement = (
        select(CouncilRsvp, CouncilMeeting)
        .join(CouncilMeeting, col(CouncilMeeting.id) == col(CouncilRsvp.meeting_id))
        .where(
            col(CouncilRsvp.telegram_user_id) == telegram_user_id,
            col(CouncilRsvp.answer).in_(_ATTENDING),
            col(CouncilMeeting.status) == MeetingStatus.scheduled,
            col(CouncilMeeting.ends_at) > moment,
        )
    )
    for answer, meeting in (await session.exec(statement)).all():
        items.append(
            SessionItem(
                kind="council",
                id=_id(meeting),
                title=dict(meeting.title),
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                place_text=meeting.place_text,
                latitude=meeting.latitude,
                longitude=meeting.longitude,
                status=answer.answer.value,
                language=answer.language,
            )
        )
    return sorted(items, key=lambda item: (item.starts_at, item.kind, item.id))


# --- internals: series ----------------------------------------------------------------------


async def _require_series(series_id: int, session: AsyncSession) -> Series:
    series = await session.get(Series, series_id)
    if series is None:
        raise UnknownSeries(series_id)
    return series


async def _lock_series(series_id: int, session: AsyncSession) -> Series:
    """The series row, locked: every change to its occurrences takes this lock first."""
    statement = (
        select(Series)
        .where(col(Series.id) == series_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    series = (await session.exec(statement)).first()
    if series is None:
        raise UnknownSeries(series_id)
    return series


def _rule_of(series: Series) -> MonthlyRule | None:
    return None if series.rrule is None else parse_rrule(series.rrule)


async def _changes_of(series_id: int, session: AsyncSession) -> list[Change]:
    statement = select(SeriesException).where(col(SeriesException.series_id) == series_id)
    return [
        Change(row.original_start, None if row.cancelled else row.new_start)
        for row in (await session.exec(statement)).all()
    ]


async def _occurrence_for_change(
    series_id: int, original: datetime, session: AsyncSession
) -> tuple[Series, SeriesException | None]:
    """Lock the series and check that `original` is one of its occurrences."""
    series = await _lock_series(series_id, session)
    if series.cancelled_at is not None:
        raise CouncilRefused("cancelled")
    if not is_occurrence(
        _rule_of(series), first=series.first_start, timezone=series.timezone, when=original
    ):
        raise CouncilRefused("not_an_occurrence")
    statement = (
        select(SeriesException)
        .where(
            col(SeriesException.series_id) == series_id,
            col(SeriesException.original_start) == original,
        )
        .execution_options(populate_existing=True)
    )
    return series, (await session.exec(statement)).first()


async def _save_exception(
    series_id: int,
    original: datetime,
    new_start: datetime | None,
    cancelled: bool,
    by: int,
    existing: SeriesException | None,
    now: datetime,
    session: AsyncSession,
) -> None:
    row = existing or SeriesException(
        series_id=series_id, original_start=original, created_by=by, created_at=now
    )
    row.new_start = new_start
    row.cancelled = cancelled
    row.updated_at = now
    session.add(row)
    await session.flush()


async def _series_view(series: Series, session: AsyncSession) -> SeriesView:
    series_id = _id(series)
    return SeriesView(
        id=series_id,
        kind=series.kind,
        title=dict(series.title),
        place_text=series.place_text,
        latitude=series.latitude,
        longitude=series.longitude,
        rule=_rule_of(series),
        rrule=series.rrule,
        local_time=series.local_time,
        timezone=series.timezone,
        first_start=series.first_start,
        duration_minutes=series.duration_minutes,
        created_by=series.created_by,
        cancelled_at=series.cancelled_at,
        facilitator_ids=tuple(await series_facilitators(series_id, session=session)),
    )


# --- internals: meetings --------------------------------------------------------------------


async def _require_meeting(meeting_id: int, session: AsyncSession) -> CouncilMeeting:
    meeting = await session.get(CouncilMeeting, meeting_id)
    if meeting is None:
        raise UnknownMeeting(meeting_id)
    return meeting


async def _lock_meeting(
    meeting_id: int, session: AsyncSession, *, share: bool = False
) -> CouncilMeeting:
    """The meeting row as committed now, locked. `share` (FOR SHARE): RSVPs run side by side
    but wait for, and hold up, a move or a cancellation."""
    statement = (
        select(CouncilMeeting)
        .where(col(CouncilMeeting.id) == meeting_id)
        .with_for_update(read=share)
        .execution_options(populate_existing=True)
    )
    meeting = (await session.exec(statement)).first()
    if meeting is None:
        raise UnknownMeeting(meeting_id)
    return meeting


async def _meeting_at(
    series_id: int, original: datetime, session: AsyncSession
) -> CouncilMeeting | None:
    statement = (
        select(CouncilMeeting)
        .where(
            col(CouncilMeeting.series_id) == series_id,
            col(CouncilMeeting.original_start) == original,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


def _refuse_unless_open(meeting: CouncilMeeting) -> None:
    if meeting.status is MeetingStatus.cancelled:
        raise CouncilRefused("cancelled")
    if meeting.starts_at <= clock.now():
        raise CouncilRefused("past")


async def _meeting_event(meeting: CouncilMeeting, session: AsyncSession) -> ScheduledEvent:
    """The meeting's scheduled event, created or brought in line with the meeting."""
    return await reminders.upsert_event(
        MEETING_EVENT_KIND,
        meeting_ref(_id(meeting)),
        title=dict(meeting.title),
        place={language: meeting.place_text for language in LANGUAGES},
        starts_at=meeting.starts_at,
        session=session,
    )


async def _cancel_meeting_row(
    meeting: CouncilMeeting, now: datetime, session: AsyncSession
) -> None:
    meeting.status = MeetingStatus.cancelled
    meeting.updated_at = now
    session.add(meeting)
    await reminders.cancel_event(MEETING_EVENT_KIND, meeting_ref(_id(meeting)), session=session)


def _meeting_view(meeting: CouncilMeeting, timezone: str) -> Meeting:
    return Meeting(
        id=_id(meeting),
        series_id=meeting.series_id,
        original_start=meeting.original_start,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        title=dict(meeting.title),
        place_text=meeting.place_text,
        latitude=meeting.latitude,
        longitude=meeting.longitude,
        status=meeting.status,
        agenda_closes_at=meeting.agenda_closes_at,
        timezone=timezone,
    )


async def _meeting_views(
    meetings: Sequence[CouncilMeeting], session: AsyncSession
) -> list[Meeting]:
    if not meetings:
        return []
    ids = sorted({m.series_id for m in meetings})
    statement = select(col(Series.id), col(Series.timezone)).where(col(Series.id).in_(ids))
    zones = dict((await session.exec(statement)).all())
    return [_meeting_view(m, zones[m.series_id]) for m in meetings]


# --- internals: people, agenda, check-in ----------------------------------------------------


async def _require_consent(telegram_user_id: int, session: AsyncSession) -> None:
    if not await has_consent(telegram_user_id, Purpose.coffee_council, session=session):
        statement = select(col(Citizen.id)).where(col(Citizen.telegram_user_id) == telegram_user_id)
        if (await session.exec(statement)).first() is None:
            raise NotRegistered(telegram_user_id)
        raise ConsentRequired(telegram_user_id, purpose=Purpose.coffee_council.value)


async def _require_registered(telegram_user_id: int, session: AsyncSession) -> None:
    statement = select(col(Citizen.id)).where(col(Citizen.telegram_user_id) == telegram_user_id)
    if (await session.exec(statement)).first() is None:
        raise NotRegistered(telegram_user_id)


async def _lock_citizen(telegram_user_id: int, session: AsyncSession) -> bool:
    """Lock the person's citizens row (FOR NO KEY UPDATE); False if they are not registered."""
    statement = (
        select(col(Citizen.id))
        .where(col(Citizen.telegram_user_id) == telegram_user_id)
        .with_for_update(key_share=True)
    )
    return (await session.exec(statement)).first() is not None


def _rsvp_view(row: CouncilRsvp) -> Rsvp:
    return Rsvp(
        meeting_id=row.meeting_id,
        telegram_user_id=row.telegram_user_id,
        answer=row.answer,
        language=row.language,
        display_name=row.display_name,
        updated_at=row.updated_at,
    )


def _suggestion_view(row: CouncilSuggestion) -> Suggestion:
    return Suggestion(
        id=_id(row),
        meeting_id=row.meeting_id,
        text=row.text,
        language=row.language,
        created_at=row.created_at,
    )


def _item_view(row: CouncilAgendaItem) -> AgendaItem:
    return AgendaItem(
        id=_id(row),
        meeting_id=row.meeting_id,
        position=row.position,
        label=dict(row.label),
        category_key=row.category_key,
        source=row.source,
        source_id=row.source_id,
        votes=row.votes,
    )


def _poll_view(row: CouncilAgendaPoll) -> AgendaPoll:
    return AgendaPoll(
        poll_id=row.poll_id,
        meeting_id=row.meeting_id,
        language=row.language,
        item_ids=tuple(int(i) for i in row.item_ids),
        chat_id=row.chat_id,
        message_id=row.message_id,
    )


async def _add_votes(item_id: int, delta: int, session: AsyncSession) -> None:
    # An atomic increment, not read-then-write: concurrent voters never lose a count.
    await session.exec(
        update(CouncilAgendaItem)
        .where(col(CouncilAgendaItem.id) == item_id)
        .values(votes=col(CouncilAgendaItem.votes) + delta)
        .execution_options(synchronize_session=False)
    )


async def _category_needs(since: datetime, session: AsyncSession) -> list[Candidate]:
    """Need categories by how many recent survey answers chose one of their options."""
    # GROUP BY the stored key list: one row per distinct combination, few even with many
    # answers; a combination counts once for each category among its options.
    statement = (
        select(col(SurveyAnswer.question_id), col(SurveyAnswer.option_keys), func.count())
        .where(col(SurveyAnswer.updated_at) >= since)
        .group_by(col(SurveyAnswer.question_id), col(SurveyAnswer.option_keys))
    )
    combinations = (await session.exec(statement)).all()
    if not combinations:
        return []
    question_ids = sorted({question_id for question_id, _, _ in combinations})
    options = (
        await session.exec(
            select(
                col(SurveyOption.question_id), col(SurveyOption.key), col(SurveyOption.category_key)
            ).where(
                col(SurveyOption.question_id).in_(question_ids),
                col(SurveyOption.category_key).is_not(None),
            )
        )
    ).all()
    category_of = {(question_id, key): category for question_id, key, category in options}
    counts: dict[str, int] = defaultdict(int)
    for question_id, keys, count in combinations:
        for category in {category_of.get((question_id, key)) for key in keys or ()}:
            if category is not None:
                counts[category] += count
    if not counts:
        return []
    names = {
        category.key: dict(category.name)
        for category in (
            await session.exec(select(NeedCategory).where(col(NeedCategory.key).in_(list(counts))))
        ).all()
    }
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:SHORTLIST_CATEGORIES]
    return [
        Candidate(
            source=AgendaSource.need,
            source_id=None,
            label=_bilingual_label(names.get(key, {}), key),
            text=None,
            language=None,
            category_key=key,
            count=count,
        )
        for key, count in ranked
    ]


async def _free_text_needs(since: datetime, session: AsyncSession) -> list[Candidate]:
    """Recent free-text needs, identical texts grouped, most asked first."""
    latest = func.max(col(FreeTextNeed.created_at))
    count = func.count()
    statement = (
        select(col(FreeTextNeed.text), col(FreeTextNeed.language), count, latest)
        .where(col(FreeTextNeed.created_at) >= since, col(FreeTextNeed.text) != "")
        .group_by(col(FreeTextNeed.text), col(FreeTextNeed.language))
        .order_by(count.desc(), latest.desc(), col(FreeTextNeed.text))
        .limit(SHORTLIST_FREE_TEXTS)
    )
    return [
        Candidate(
            source=AgendaSource.need,
            source_id=None,
            label=_same_label(text),
            text=text,
            language=language,
            category_key=None,
            count=int(asked),
        )
        for text, language, asked, _ in (await session.exec(statement)).all()
    ]


def _window_seconds(window_minutes: int) -> int:
    low, high = CHECKIN_WINDOW_RANGE
    if isinstance(window_minutes, bool) or not isinstance(window_minutes, int):
        raise ValueError("window_minutes must be an integer")
    if not low <= window_minutes <= high:
        raise ValueError(f"window_minutes must be {low} to {high}")
    return window_minutes * 60


def _window_index(at: datetime, window_minutes: int) -> int:
    seconds = _window_seconds(window_minutes)
    return int(_aware("at", at).timestamp()) // seconds


def _code(meeting_id: int, window: int, secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("a check-in secret is required")
    digest = hmac.new(key, f"{meeting_id}:{window}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CHECKIN_CODE_LENGTH]


def _code_is_valid(
    meeting_id: int, code: str, at: datetime, secret: str | bytes, window_minutes: int
) -> bool:
    """The code of `at`'s window or of the one before it (scanned just as the code turned)."""
    if not isinstance(code, str):
        return False
    given = code.strip().upper().encode()
    window = _window_index(at, window_minutes)
    return any(
        hmac.compare_digest(given, _code(meeting_id, index, secret).encode())
        for index in (window, window - 1)
    )


async def _is_present(meeting_id: int, telegram_user_id: int, session: AsyncSession) -> bool:
    statement = select(col(CouncilAttendance.id)).where(
        col(CouncilAttendance.meeting_id) == meeting_id,
        col(CouncilAttendance.telegram_user_id) == telegram_user_id,
    )
    return (await session.exec(statement)).first() is not None


async def _present(
    meeting_id: int,
    telegram_user_id: int,
    at: datetime,
    by: int | None,
    session: AsyncSession,
) -> CheckInResult:
    statement = sql.insert_ignoring_conflicts(
        session, _ATTENDANCE, ["meeting_id", "telegram_user_id"]
    ).values(
        meeting_id=meeting_id,
        telegram_user_id=telegram_user_id,
        checked_in_at=at,
        checked_in_by=by,
    )
    if (await session.exec(statement)).rowcount != 1:
        return "already"  # a concurrent check-in won
    await audit.record(
        "council.checked_in" if by is None else "council.marked_present",
        actor=audit.actor_for(telegram_user_id if by is None else by),
        target=_meeting_target(meeting_id),
        detail=None if by is None else {"person": audit.actor_for(telegram_user_id)},
        session=session,
    )
    return "ok"


async def _action_views(
    rows: Sequence[CouncilActionItem], session: AsyncSession
) -> list[ActionItem]:
    if not rows:
        return []
    meetings = {
        _id(m): m
        for m in (
            await session.exec(
                select(CouncilMeeting).where(
                    col(CouncilMeeting.id).in_(sorted({r.meeting_id for r in rows}))
                )
            )
        ).all()
    }
    owners = sorted({r.owner_telegram_user_id for r in rows if r.owner_telegram_user_id})
    languages: dict[int, str] = {}
    if owners:
        statement = select(col(Citizen.telegram_user_id), col(Citizen.language)).where(
            col(Citizen.telegram_user_id).in_(owners)
        )
        languages = dict((await session.exec(statement)).all())
    return [
        ActionItem(
            id=_id(row),
            meeting_id=row.meeting_id,
            series_id=meetings[row.meeting_id].series_id,
            meeting_starts_at=meetings[row.meeting_id].starts_at,
            what=row.what,
            owner_telegram_user_id=row.owner_telegram_user_id,
            owner_name=row.owner_name,
            owner_language=(
                None
                if row.owner_telegram_user_id is None
                else languages.get(row.owner_telegram_user_id)
            ),
            due_on=row.due_on,
            due_at=row.due_at,
            status=row.status,
            done_at=row.done_at,
            created_at=row.created_at,
        )
        for row in rows
    ]


# --- internals: checks, retries, names ------------------------------------------------------


async def _retrying(session: AsyncSession, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in a savepoint; retry it on a transient lock or serialisation error."""
    attempt = 0
    while True:
        attempt += 1
        try:
            async with session.begin_nested():
                return await work()
        except DBAPIError as exc:
            sqlstate = getattr(exc.orig, "sqlstate", None)
            if attempt >= _ATTEMPTS or sqlstate not in _TRANSIENT_SQLSTATES:
                raise
            log.info("council: transient database error (%s), retrying", sqlstate)
        # Jittered back-off so that colliding transactions do not collide again.
        await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)


def _checked_bilingual(name: str, texts: Mapping[str, str], max_length: int) -> dict[str, str]:
    if not isinstance(texts, Mapping):
        raise ValueError(f"{name} maps th and en to text")
    unknown = set(texts) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"{name} languages are {LANGUAGES}, not {sorted(unknown)}")
    checked: dict[str, str] = {}
    for language in LANGUAGES:
        value = texts.get(language)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"the {language} {name} is required")
        value = value.strip()
        if len(value) > max_length:
            raise ValueError(f"the {language} {name} is longer than {max_length} characters")
        checked[language] = value
    return checked


def _checked_text(name: str, value: str, max_length: int) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise ValueError(f"{name} is required")
    if len(cleaned) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    return cleaned


def _checked_place(place_text: str) -> str:
    return _checked_text("place_text", place_text, PLACE_MAX_LENGTH)


def _checked_location(
    latitude: float | None, longitude: float | None
) -> tuple[float | None, float | None]:
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        raise ValueError("give both latitude and longitude, or neither")
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError("latitude is -90..90 and longitude -180..180")
    return float(latitude), float(longitude)


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be {low} to {high}, not {value!r}")


def _checked_language(language: str) -> str:
    if language not in LANGUAGES:
        raise UnsupportedLanguage(f"languages are {LANGUAGES}, not {language!r}")
    return language


def _checked_display_name(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = name.strip() if isinstance(name, str) else ""
    # As Telegram gave it: first and last names may together exceed the column; keep the start.
    return cleaned[:DISPLAY_NAME_MAX_LENGTH] or None


def _same_label(text: str, max_length: int = AGENDA_LABEL_MAX_LENGTH) -> dict[str, str]:
    """A proposed label: the text in both languages, cut to fit (the facilitator edits it)."""
    cut = text if len(text) <= max_length else text[: max_length - 1].rstrip() + "…"
    return {language: cut for language in LANGUAGES}


def _bilingual_label(name: Mapping[str, str], fallback: str) -> dict[str, str]:
    label: dict[str, str] = {}
    for language in LANGUAGES:
        text = name.get(language) or name.get("en") or fallback
        label[language] = text[:AGENDA_LABEL_MAX_LENGTH]
    return label


def _id(row: object) -> int:
    value = getattr(row, "id", None)
    assert isinstance(value, int), "the row has not been flushed"
    return value


def _series_target(series_id: int) -> str:
    return f"council_series:{series_id}"


def _meeting_target(meeting_id: int) -> str:
    return f"council_meeting:{meeting_id}"


def _action_target(item_id: int) -> str:
    return f"council_action:{item_id}"
