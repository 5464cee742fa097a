"""Which library events a facilitator manages: upcoming ones and those of the last days.

A small query for the facilitators' `/events` list that `storage.library` does not offer
(its `upcoming_events` leaves out events that have ended, whose feedback is still of interest).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlmodel import col, select

from storage.checks import require_aware
from storage.database import AsyncSession
from storage.library import (
    BREAK_MINUTES,
    LOAN_MINUTES,
    SLOTS_PER_BOOK,
    EventView,
    event_ends_at,
    event_view,
)
from storage.models import LibraryEvent, LibraryEventFacilitator

__all__ = ["RECENT_DAYS", "managed_events"]

RECENT_DAYS: Final = 7
LIST_LIMIT: Final = 20
# The longest an event can last, so that the start bounds the query.
_LONGEST_EVENT: Final = timedelta(minutes=SLOTS_PER_BOOK[1] * (LOAN_MINUTES[1] + BREAK_MINUTES[1]))


async def managed_events(
    *,
    now: datetime,
    facilitator_id: int | None,
    recent_days: int = RECENT_DAYS,
    limit: int = LIST_LIMIT,
    session: AsyncSession,
) -> list[EventView]:
    """Events not cancelled that end after `now - recent_days` days, at most `limit`.

    `facilitator_id`: only the events this person facilitates (None: every event, for admins).
    Upcoming events come first, soonest first; then the ones that ended, latest first.
    """
    moment = require_aware("now", now)
    since = moment - timedelta(days=recent_days)
    statement = select(LibraryEvent).where(
        col(LibraryEvent.cancelled_at).is_(None),
        col(LibraryEvent.starts_at) > since - _LONGEST_EVENT,
    )
    if facilitator_id is not None:
        statement = statement.join(
            LibraryEventFacilitator,
            col(LibraryEventFacilitator.event_id) == col(LibraryEvent.id),
        ).where(col(LibraryEventFacilitator.telegram_user_id) == facilitator_id)
    rows = [e for e in (await session.exec(statement)).all() if event_ends_at(e) > since]
    upcoming = sorted((e for e in rows if event_ends_at(e) > moment), key=_soonest)
    ended = sorted((e for e in rows if event_ends_at(e) <= moment), key=_soonest, reverse=True)
    views: list[EventView] = []
    for event in [*upcoming, *ended][:limit]:
        assert event.id is not None
        view = await event_view(event.id, session=session)
        if view is not None:
            views.append(view)
    return views


def _soonest(event: LibraryEvent) -> tuple[datetime, int]:
    return event.starts_at, event.id or 0
