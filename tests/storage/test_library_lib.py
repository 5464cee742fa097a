"""The readers' flow's own look-up: which loan a rating poll asks about."""

from __future__ import annotations

from storage import library
from storage.clock import ManualClock
from storage.database import Database
from storage.library_lib import feedback_poll
from tests.storage.library_helpers import listed_book, new_event, readers, reserved, with_categories


async def test_a_feedback_poll_names_its_loan_and_what_is_stored(
    db: Database, clock: ManualClock
) -> None:
    await with_categories(db)
    await readers(db, 5)
    book = await listed_book(db)
    event = await new_event(db, [book.id])
    loan = await reserved(db, event, book, 5, language="en")
    async with db.session() as session:
        assert await feedback_poll("poll-9", session=session) is None
        assert await feedback_poll("", session=session) is None
        await library.record_feedback_poll("poll-9", loan.id, session=session)
    async with db.session() as session:
        found = await feedback_poll("poll-9", session=session)
    assert found is not None
    assert (found.reservation_id, found.telegram_user_id, found.language) == (loan.id, 5, "en")
    assert (found.rating, found.has_text) == (None, False)

    async with db.session() as session:
        await library.record_rating("poll-9", 5, 3, session=session)
        await library.record_feedback_text(loan.id, 5, "much", "en", session=session)
    async with db.session() as session:
        found = await feedback_poll("poll-9", session=session)
    assert found is not None and (found.rating, found.has_text) == (3, True)
