"""Reader-side look-ups the /library flow needs beyond `storage.library`.

Kept apart from `storage.library` (owned with the data model) so the readers' flow can add
queries without touching it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from storage.database import AsyncSession
from storage.models import LibraryFeedbackPoll, LibraryReservation

__all__ = ["FeedbackPoll", "feedback_poll", "feedback_poll_ids"]


@dataclass(frozen=True)
class FeedbackPoll:
    """A rating poll sent after a loan: whose loan it asks about, and what is stored so far."""

    poll_id: str
    reservation_id: int
    telegram_user_id: int
    language: str
    rating: int | None
    has_text: bool


async def feedback_poll(poll_id: str, *, session: AsyncSession) -> FeedbackPoll | None:
    """The feedback poll with this Telegram poll id, or None when it is not one of ours."""
    if not poll_id:
        return None
    statement = (
        select(LibraryFeedbackPoll, LibraryReservation)
        .join(
            LibraryReservation,
            col(LibraryReservation.id) == col(LibraryFeedbackPoll.reservation_id),
        )
        .where(col(LibraryFeedbackPoll.poll_id) == poll_id)
    )
    found = (await session.exec(statement)).first()
    if found is None:
        return None
    poll, reservation = found
    assert reservation.id is not None
    return FeedbackPoll(
        poll_id=poll.poll_id,
        reservation_id=reservation.id,
        telegram_user_id=reservation.telegram_user_id,
        language=reservation.language,
        rating=reservation.feedback_rating,
        has_text=reservation.feedback_text is not None,
    )


async def feedback_poll_ids(*, session: AsyncSession) -> list[str]:
    """Every rating poll's id: a reader may change their rating at any time, and there are
    few (one per loan), so all are kept in memory (`storage.known_polls`)."""
    return list((await session.exec(select(col(LibraryFeedbackPoll.poll_id)))).all())
