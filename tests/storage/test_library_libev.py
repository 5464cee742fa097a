"""The facilitators' own look-up: the library events they manage, upcoming and recent."""

from __future__ import annotations

from datetime import timedelta

from storage import library
from storage.clock import ManualClock
from storage.database import Database
from storage.library_libev import managed_events
from tests.storage.conftest import START
from tests.storage.library_helpers import FACILITATOR, listed_book, new_event, with_categories

OTHER = 8


async def _managed(db: Database, facilitator_id: int | None) -> list[int]:
    async with db.session() as session:
        views = await managed_events(
            now=START + timedelta(days=30), facilitator_id=facilitator_id, session=session
        )
    return [view.id for view in views]


async def test_upcoming_first_then_the_last_seven_days_newest_first(
    db: Database, clock: ManualClock
) -> None:
    await with_categories(db)
    book = await listed_book(db)
    ids = {}
    # Events of the creator: long ago, 6 days before "now", 1 day before, and 2 and 5 days after.
    for name, days in (("old", 20), ("recent", 24), ("yesterday", 29), ("soon", 32), ("later", 35)):
        event = await new_event(db, [book.id], starts_at=START + timedelta(days=days))
        assert event.id is not None
        ids[name] = event.id
    cancelled = await new_event(db, [book.id], starts_at=START + timedelta(days=33))
    theirs = await new_event(db, [book.id], starts_at=START + timedelta(days=31), created_by=OTHER)
    assert cancelled.id is not None and theirs.id is not None
    async with db.session() as session:
        await library.cancel_event(cancelled.id, by=FACILITATOR, session=session)

    expected = [ids["soon"], ids["later"], ids["yesterday"], ids["recent"]]
    assert await _managed(db, FACILITATOR) == expected
    assert await _managed(db, OTHER) == [theirs.id]
    assert await _managed(db, None) == [theirs.id, *expected], "an admin sees every event"

    async with db.session() as session:
        await library.add_facilitator(ids["later"], OTHER, by=FACILITATOR, session=session)
    assert await _managed(db, OTHER) == [theirs.id, ids["later"]]


async def test_an_event_counts_as_recent_until_seven_days_after_its_end(
    db: Database, clock: ManualClock
) -> None:
    await with_categories(db)
    book = await listed_book(db)
    event = await new_event(db, [book.id], starts_at=START + timedelta(days=1), slots_per_book=4)
    end = START + timedelta(days=1, hours=2)  # four 30-minute loans
    async with db.session() as session:
        just_in = await managed_events(
            now=end + timedelta(days=7) - timedelta(minutes=1),
            facilitator_id=FACILITATOR,
            session=session,
        )
        gone = await managed_events(
            now=end + timedelta(days=7), facilitator_id=FACILITATOR, session=session
        )
    assert [v.id for v in just_in] == [event.id] and gone == []


async def test_the_list_is_limited(db: Database, clock: ManualClock) -> None:
    await with_categories(db)
    book = await listed_book(db)
    for day in range(1, 5):
        await new_event(db, [book.id], starts_at=START + timedelta(days=day))
    async with db.session() as session:
        views = await managed_events(
            now=START, facilitator_id=FACILITATOR, limit=2, session=session
        )
    assert [v.starts_at for v in views] == [START + timedelta(days=1), START + timedelta(days=2)]
