"""Reminders, planned from the database each time: events, attendees, their lead times.

Nothing about a reminder is stored until it is due: a sweep reads the events ahead (and the
recent past), works out each attendee's fire times (lead times, quiet hours) and queues the
due ones in the delivery log, whose unique key makes each reminder go out once. An event
moved or a lead time changed after "planning" is simply read afresh at the next sweep. A
reminder that became due while the bot was down is sent if its event is still ahead, and
recorded as dropped if not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n.catalog import LANGUAGES, Catalogs
from bot.i18n.dates import format_datetime
from schedules.planning import QuietHours, due_reminders
from storage import clock, deliveries, reminders
from storage.database import Database
from storage.deliveries import Recipient
from storage.reminders import ReminderCandidate

logger = logging.getLogger(__name__)

KIND = "reminder"
SYSTEM = "system"


@dataclass(frozen=True)
class ReminderPolicy:
    """The city's rules for reminders."""

    quiet: QuietHours
    tz: ZoneInfo
    # How far back a sweep looks for reminders it missed (to log them as dropped).
    lookback: timedelta = timedelta(days=2)
    # How far ahead events are read: more than the longest lead time people can choose.
    horizon: timedelta = timedelta(days=3)


@dataclass
class SweepResult:
    """What one sweep queued, dropped, and when the next reminder falls due."""

    enqueued: int = 0
    dropped: int = 0
    next_fire_at: datetime | None = None
    purposes: set[str] = field(default_factory=set)


def reminder_purpose(candidate: ReminderCandidate, lead: timedelta) -> str:
    """The delivery-log purpose of one reminder: event, its start (so a moved event gets new
    reminders) and the lead time."""
    minutes = int(lead.total_seconds() // 60)
    return f"{KIND}:{candidate.event_id}:{int(candidate.starts_at.timestamp())}:{minutes}"


def render(candidate: ReminderCandidate, catalogs: Catalogs, tz: ZoneInfo) -> dict[str, str]:
    """The reminder text in every language."""
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        title = candidate.title.get(language) or next(iter(candidate.title.values()), "")
        place = (candidate.place or {}).get(language) if candidate.place else None
        text = catalogs.text(
            language,
            "reminder.text",
            title=title,
            when=format_datetime(candidate.starts_at, language, tz),
        )
        if place:
            text += "\n" + catalogs.text(language, "reminder.place", place=place)
        texts[language] = text + "\n\n" + catalogs.text(language, "reminder.footer")
    return texts


async def sweep(
    db: Database, catalogs: Catalogs, policy: ReminderPolicy, *, now: datetime | None = None
) -> SweepResult:
    """Queue every reminder that is due by `now`; report when the next one falls due."""
    now = now or clock.now()
    async with db.session() as session:
        candidates = await reminders.reminder_candidates(
            starting_after=now - policy.lookback,
            starting_before=now + policy.horizon,
            session=session,
        )
    result = SweepResult()
    batches: dict[tuple[str, str], tuple[dict[str, str], list[Recipient]]] = {}
    for candidate in candidates:
        leads = (timedelta(minutes=m) for m in candidate.lead_minutes)
        for purpose, status, fire_at in _decide(candidate, leads, policy, now):
            if status == "later":
                if result.next_fire_at is None or fire_at < result.next_fire_at:
                    result.next_fire_at = fire_at
                continue
            content, recipients = batches.setdefault(
                (purpose, status), (render(candidate, catalogs, policy.tz), [])
            )
            recipients.append(
                deliveries.citizen_recipient(candidate.telegram_user_id, candidate.language)
            )
    for (purpose, status), (content, recipients) in batches.items():
        async with db.session() as session:
            await deliveries.enqueue(
                purpose,
                KIND,
                content,
                recipients,
                created_by=SYSTEM,
                audience=f"event:{purpose.split(':')[1]}",
                status=status,
                session=session,
            )
        if status == "pending":
            result.enqueued += len(recipients)
            result.purposes.add(purpose)
        else:
            result.dropped += len(recipients)
    if result.dropped:
        logger.info("reminders past their event, recorded as dropped: %d", result.dropped)
    return result


def _decide(
    candidate: ReminderCandidate,
    leads: Iterable[timedelta],
    policy: ReminderPolicy,
    now: datetime,
) -> list[tuple[str, str, datetime]]:
    """(purpose, "pending" | "dropped" | "later", fire time) for each lead of one attendee.

    When several reminders for the same event are due at once (after downtime), only the one
    closest to the event is sent; the longer-lead ones are recorded as dropped.
    """
    planned = due_reminders(candidate.starts_at, leads, quiet=policy.quiet, tz=policy.tz)
    due = [(lead, at) for lead, at in planned if at <= now]
    decisions: list[tuple[str, str, datetime]] = [
        (reminder_purpose(candidate, lead), "later", at) for lead, at in planned if at > now
    ]
    if candidate.starts_at <= now:
        return decisions + [(reminder_purpose(candidate, ld), "dropped", at) for ld, at in due]
    keep = min(due, key=lambda item: item[0], default=None)
    for lead, at in due:
        status = "pending" if (lead, at) == keep else "dropped"
        decisions.append((reminder_purpose(candidate, lead), status, at))
    return decisions
