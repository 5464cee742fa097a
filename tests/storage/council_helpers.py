"""Builders for coffee-council tests: a monthly series, its first meeting and citizens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from storage import council
from storage.council import Meeting, SeriesView
from storage.database import Database
from storage.enums import Purpose, RsvpAnswer
from storage.recurrence import SATURDAY, nth_weekday
from tests.storage.factories import ALL_GRANTED, registered

FACILITATOR = 7
SECRET = "test-secret"
FIRST_SATURDAY = nth_weekday(1, SATURDAY, time(8, 0))
# START is Monday 5 January 2026, 08:30 in Yala: the first meeting is Saturday 7 February.
FEB_MEETING = datetime(2026, 2, 7, 1, 0, tzinfo=UTC)  # 08:00 in Yala
MAR_MEETING = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
TITLE = {"th": "สภากาแฟยะลา", "en": "Yala coffee council"}
PLACE = "ร้านกาแฟหน้าเทศบาลนครยะลา"


async def monthly_series(db: Database, **changes: Any) -> SeriesView:
    """A first-Saturday 08:00 council in Yala, created in its own session."""
    fields: dict[str, Any] = {
        "title": TITLE,
        "place_text": PLACE,
        "latitude": 6.5411,
        "longitude": 101.2804,
        "rule": FIRST_SATURDAY,
        "created_by": FACILITATOR,
    }
    fields.update(changes)
    async with db.session() as session:
        return await council.create_series(session=session, **fields)


async def first_meeting(db: Database, series: SeriesView) -> Meeting:
    """The series' soonest scheduled meeting."""
    async with db.session() as session:
        found = await council.upcoming_meetings(
            datetime(2000, 1, 1, tzinfo=UTC), limit=50, session=session
        )
    return next(m for m in found if m.series_id == series.id)


async def people(
    db: Database, *telegram_user_ids: int, consents: Mapping[Purpose, bool] = ALL_GRANTED
) -> None:
    """Register these citizens (every consent unless told otherwise)."""
    for telegram_user_id in telegram_user_ids:
        await registered(db, telegram_user_id, consents)


async def answered(
    db: Database,
    meeting: Meeting,
    telegram_user_id: int,
    answer: RsvpAnswer = RsvpAnswer.yes,
    language: str = "th",
) -> council.Rsvp:
    """RSVP in its own session."""
    async with db.session() as session:
        return await council.rsvp(
            meeting.id,
            telegram_user_id,
            answer,
            language,
            display_name=f"Person {telegram_user_id}",
            session=session,
        )
