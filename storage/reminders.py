"""Scheduled events, who attends them, and each citizen's reminder settings.

The planner (in `schedules`) asks for reminder candidates in a time window and enqueues one
delivery per (event, attendee, lead time) under `reminder_purpose(...)`, which makes every
reminder exactly-once; moving an event gives its reminders new purposes. Cancelling or moving
an event, or removing an attendee, drops reminders still waiting to be sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select

from storage import audit, clock, deliveries
from storage.checks import check_text as _check_text
from storage.checks import require_aware as _aware
from storage.database import AsyncSession
from storage.enums import LANGUAGES, Purpose
from storage.errors import NotRegistered, UnknownEvent
from storage.models import Citizen, Consent, EventAttendee, ScheduledEvent
from storage.sql import insert_ignoring_conflicts

DEFAULT_LEAD_MINUTES: Final[tuple[int, ...]] = (1440, 60)
LEAD_CHOICES: Final[tuple[int, ...]] = (15, 60, 180, 1440, 2880)
KIND_MAX_LENGTH: Final = 32
REF_MAX_LENGTH: Final = 64


@dataclass(frozen=True)
class ReminderPrefs:
    """Whether a citizen gets event reminders, and how long before (minutes, largest first)."""

    enabled: bool
    lead_minutes: tuple[int, ...]


@dataclass(frozen=True)
class ReminderCandidate:
    """One attendee of one upcoming event who may be reminded, with their lead times."""

    event_id: int
    kind: str
    ref: str
    title: dict[str, str]
    place: dict[str, str] | None
    starts_at: datetime
    telegram_user_id: int
    language: str
    lead_minutes: tuple[int, ...]


def reminder_purpose(event_id: int, starts_at: datetime, lead_minutes: int) -> str:
    """The outbox purpose of one reminder: "reminder:<event>:<start, epoch s>:<lead min>"."""
    return f"{_event_prefix(event_id)}{int(starts_at.timestamp())}:{lead_minutes}"


async def upsert_event(
    kind: str,
    ref: str,
    *,
    title: Mapping[str, str],
    starts_at: datetime,
    place: Mapping[str, str] | None = None,
    reopen: bool = False,
    session: AsyncSession,
) -> ScheduledEvent:
    """Create the event (`kind`, `ref`) or update its title, place and start.

    A cancelled event stays cancelled unless `reopen`. Moving it drops the reminders for the
    old time that are still waiting. Titles and places map "th" and/or "en" to text.
    """
    _check_text("kind", kind, KIND_MAX_LENGTH)
    _check_text("ref", ref, REF_MAX_LENGTH)
    titles = _checked_texts("title", title)
    places = None if place is None else _checked_texts("place", place)
    start = _aware("starts_at", starts_at)
    now = clock.now()
    event = await get_event(kind, ref, session=session)
    if event is None:
        event = ScheduledEvent(
            kind=kind,
            ref=ref,
            title=titles,
            place=places,
            starts_at=start,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():  # a concurrent upsert may create it first
                session.add(event)
                await session.flush()
        except IntegrityError:
            event = await get_event(kind, ref, session=session)
            if event is None:
                raise
        else:
            return event
    assert event.id is not None
    previous_start = event.starts_at
    reopened = reopen and event.cancelled_at is not None
    if reopened or event.title != titles or event.place != places or event.starts_at != start:
        event.title = titles
        event.place = places
        event.starts_at = start
        if reopened:
            event.cancelled_at = None
        event.updated_at = now
        session.add(event)
        await session.flush()
    if previous_start != start:
        old_prefix = f"{_event_prefix(event.id)}{int(previous_start.timestamp())}:"
        await deliveries.drop_pending(old_prefix, session=session)
    return event


async def cancel_event(kind: str, ref: str, *, session: AsyncSession) -> ScheduledEvent | None:
    """Cancel the event and drop its waiting reminders; None if there is no such event."""
    event = await get_event(kind, ref, session=session)
    if event is None or event.cancelled_at is not None:
        return event
    assert event.id is not None
    now = clock.now()
    event.cancelled_at = now
    event.updated_at = now
    session.add(event)
    await session.flush()
    await deliveries.drop_pending(_event_prefix(event.id), session=session)
    return event


async def get_event(kind: str, ref: str, *, session: AsyncSession) -> ScheduledEvent | None:
    """The event (`kind`, `ref`), cancelled or not, or None."""
    statement = select(ScheduledEvent).where(ScheduledEvent.kind == kind, ScheduledEvent.ref == ref)
    return (await session.exec(statement)).first()


async def add_attendee(event_id: int, telegram_user_id: int, *, session: AsyncSession) -> bool:
    """Expect this person at the event; False if they already were. UnknownEvent if none."""
    if await session.get(ScheduledEvent, event_id) is None:
        raise UnknownEvent(event_id)
    statement = insert_ignoring_conflicts(
        session, _ATTENDEES, ["event_id", "telegram_user_id"]
    ).values(event_id=event_id, telegram_user_id=telegram_user_id, added_at=clock.now())
    return (await session.exec(statement)).rowcount == 1


async def remove_attendee(event_id: int, telegram_user_id: int, *, session: AsyncSession) -> bool:
    """No longer expect this person (their waiting reminders are dropped); False if not there."""
    result = await session.exec(
        delete(EventAttendee).where(
            col(EventAttendee.event_id) == event_id,
            col(EventAttendee.telegram_user_id) == telegram_user_id,
        )
    )
    await deliveries.drop_pending(
        _event_prefix(event_id), recipient=audit.actor_for(telegram_user_id), session=session
    )
    return result.rowcount > 0


async def attendee_ids(event_id: int, *, session: AsyncSession) -> list[int]:
    """Telegram ids of the event's attendees, in the order they were added."""
    statement = (
        select(col(EventAttendee.telegram_user_id))
        .where(col(EventAttendee.event_id) == event_id)
        .order_by(col(EventAttendee.id))
    )
    return list((await session.exec(statement)).all())


async def reminder_prefs(telegram_user_id: int, *, session: AsyncSession) -> ReminderPrefs:
    """The citizen's reminder settings (defaults where none were chosen); NotRegistered."""
    return _prefs(await _require(telegram_user_id, session))


async def set_reminders_enabled(
    telegram_user_id: int, enabled: bool, *, session: AsyncSession
) -> ReminderPrefs:
    """Turn event reminders on or off; audited as "reminders.changed" when it changes."""
    citizen = await _require(telegram_user_id, session)
    if citizen.reminders_enabled != enabled:
        citizen.reminders_enabled = enabled
        await _save(citizen, {"enabled": enabled}, session)
    return _prefs(citizen)


async def set_lead_minutes(
    telegram_user_id: int, minutes: Sequence[int], *, session: AsyncSession
) -> ReminderPrefs:
    """Choose how long before events to be reminded: a non-empty subset of LEAD_CHOICES.

    Stored largest first, without repeats; ValueError for anything else. Audited as
    "reminders.changed" when it changes.
    """
    leads = _checked_leads(minutes)
    citizen = await _require(telegram_user_id, session)
    if citizen.reminder_leads != list(leads):
        citizen.reminder_leads = list(leads)
        await _save(citizen, {"lead_minutes": list(leads)}, session)
    return _prefs(citizen)


async def reminder_candidates(
    *, starting_after: datetime, starting_before: datetime, session: AsyncSession
) -> list[ReminderCandidate]:
    """Who may be reminded of events starting in (`starting_after`, `starting_before`].

    Attendees of events not cancelled, who are citizens, consent to reminders, are reachable
    and have reminders on; one row per (event, attendee), ordered by start. One query.
    """
    after = _aware("starting_after", starting_after)
    before = _aware("starting_before", starting_before)
    if before <= after:
        return []
    statement = (
        select(
            ScheduledEvent,
            col(Citizen.telegram_user_id),
            col(Citizen.language),
            col(Citizen.reminder_leads),
        )
        .join(EventAttendee, col(EventAttendee.event_id) == col(ScheduledEvent.id))
        .join(Citizen, col(Citizen.telegram_user_id) == col(EventAttendee.telegram_user_id))
        .join(Consent, col(Consent.citizen_id) == col(Citizen.id))
        .where(
            col(ScheduledEvent.cancelled_at).is_(None),
            col(ScheduledEvent.starts_at) > after,
            col(ScheduledEvent.starts_at) <= before,
            col(Consent.purpose) == Purpose.reminders,
            col(Consent.granted).is_(True),
            col(Citizen.reachable).is_(True),
            col(Citizen.reminders_enabled).is_(True),
        )
        .order_by(col(ScheduledEvent.starts_at), col(ScheduledEvent.id), col(EventAttendee.id))
    )
    candidates: list[ReminderCandidate] = []
    for event, telegram_user_id, language, leads in (await session.exec(statement)).all():
        assert event.id is not None
        candidates.append(
            ReminderCandidate(
                event_id=event.id,
                kind=event.kind,
                ref=event.ref,
                title=dict(event.title),
                place=None if event.place is None else dict(event.place),
                starts_at=event.starts_at,
                telegram_user_id=telegram_user_id,
                language=language,
                lead_minutes=_leads(leads),
            )
        )
    return candidates


_ATTENDEES: Final = SQLModel.metadata.tables["event_attendees"]


def _event_prefix(event_id: int) -> str:
    return f"reminder:{event_id}:"


def _prefs(citizen: Citizen) -> ReminderPrefs:
    return ReminderPrefs(
        enabled=citizen.reminders_enabled, lead_minutes=_leads(citizen.reminder_leads)
    )


def _leads(stored: Sequence[Any] | None) -> tuple[int, ...]:
    """Stored lead times, largest first; the defaults for NULL or nothing usable."""
    if stored is None:
        return DEFAULT_LEAD_MINUTES
    usable = sorted({m for m in stored if m in LEAD_CHOICES and not isinstance(m, bool)})
    return tuple(reversed(usable)) or DEFAULT_LEAD_MINUTES


def _checked_leads(minutes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(minutes, str | bytes):
        raise ValueError("lead minutes are a sequence of integers")
    chosen: set[int] = set()
    for m in minutes:
        if isinstance(m, bool) or not isinstance(m, int) or m not in LEAD_CHOICES:
            raise ValueError(f"lead minutes must be among {LEAD_CHOICES}, not {m!r}")
        chosen.add(m)
    if not chosen:
        raise ValueError("choose at least one lead time")
    return tuple(sorted(chosen, reverse=True))


async def _require(telegram_user_id: int, session: AsyncSession) -> Citizen:
    statement = select(Citizen).where(Citizen.telegram_user_id == telegram_user_id)
    citizen = (await session.exec(statement)).first()
    if citizen is None:
        raise NotRegistered(telegram_user_id)
    return citizen


async def _save(citizen: Citizen, detail: dict[str, object], session: AsyncSession) -> None:
    citizen.updated_at = clock.now()
    session.add(citizen)
    await session.flush()
    actor = audit.actor_for(citizen.telegram_user_id)
    await audit.record(
        "reminders.changed", actor=actor, target=actor, detail=detail, session=session
    )


def _checked_texts(name: str, texts: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for language, text in texts.items():
        if language not in LANGUAGES:
            raise ValueError(f"{name} languages are {LANGUAGES}, not {language!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {language!r} {name} is empty")
        checked[language] = text
    if not checked:
        raise ValueError(f"a {name} needs at least one language")
    return checked
