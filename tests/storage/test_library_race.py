"""Readers pressing at the same moment, each in its own session and connection.

On PostgreSQL `reserve` locks the (event, book) row and the reader's citizens row FOR UPDATE;
on SQLite every session is BEGIN IMMEDIATE. Either way: no seat is given twice, nobody gets an
error, and the waitlist follows the order of the presses, not the order of arrival.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from storage import library
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import ReservationStatus
from storage.errors import ReservationRefused
from storage.library import (
    LOAN_EVENT_KIND,
    Promotion,
    Reservation,
    cancel_reservation,
    event_books,
    get_reservation,
    loan_ref,
    reserve,
)
from storage.models import LibraryReservation, ScheduledEvent
from tests.storage.library_helpers import listed_book, new_event, readers, with_categories

READERS = 50
SLOTS = 3
T = TypeVar("T")


@pytest.fixture(autouse=True)
async def setting(db: Database, clock: ManualClock) -> None:
    """Storage time frozen five days before the event; need categories in place."""
    await with_categories(db)


class Overlap:
    """Counts calls in flight at once, to show the presses really ran side by side."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await call()
        finally:
            self.now -= 1


async def press(
    db: Database, event_id: int, book_id: int, telegram_user_id: int, press_order: int
) -> Reservation:
    """One button press: its own session, so its own pooled connection and transaction."""
    async with db.session() as session:
        return await reserve(
            event_id,
            book_id,
            telegram_user_id,
            reader_name=f"Reader {telegram_user_id}",
            language="th",
            press_order=press_order,
            session=session,
        )


async def open_loan_refs(db: Database) -> set[str]:
    async with db.session() as session:
        statement = select(col(ScheduledEvent.ref)).where(
            col(ScheduledEvent.kind) == LOAN_EVENT_KIND,
            col(ScheduledEvent.cancelled_at).is_(None),
        )
        return set((await session.exec(statement)).all())


async def test_fifty_readers_pressing_first_free_at_once_fill_three_slots_and_wait_in_order(
    db: Database,
) -> None:
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=SLOTS)
    assert event.id is not None
    event_id = event.id
    reader_ids = list(range(2001, 2001 + READERS))
    await readers(db, *reader_ids)
    shuffled = list(range(READERS))
    random.Random(20260110).shuffle(shuffled)
    press_order = dict(zip(reader_ids, shuffled, strict=True))

    overlap = Overlap()

    def pressing(telegram_user_id: int) -> Callable[[], Awaitable[Reservation]]:
        return lambda: press(db, event_id, book.id, telegram_user_id, press_order[telegram_user_id])

    results = await asyncio.gather(
        *(overlap.run(pressing(tg)) for tg in reader_ids), return_exceptions=True
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert overlap.peak > 1
    places = [r for r in results if isinstance(r, Reservation)]
    seated = [r for r in places if r.status is ReservationStatus.reserved]
    waiting = [r for r in places if r.status is ReservationStatus.waitlisted]
    assert len(seated) == SLOTS
    assert len(waiting) == READERS - SLOTS
    assert sorted((r.slot_index, r.seat) for r in seated) == [(i, 0) for i in range(SLOTS)]
    assert len({r.telegram_user_id for r in places}) == READERS

    # Read back after everyone committed: the waitlist is ordered by press, 1..47.
    async with db.session() as session:
        now_waiting = [await get_reservation(r.id, session=session) for r in waiting]
        [at_event] = await event_books(event_id, session=session)
    line = sorted((r for r in now_waiting if r is not None), key=lambda r: r.waitlist_position or 0)
    assert [r.waitlist_position for r in line] == list(range(1, READERS - SLOTS + 1))
    orders = [r.press_order for r in line]
    assert orders == sorted(orders)
    assert at_event.waitlist == READERS - SLOTS
    assert at_event.free_slots == 0
    assert await open_loan_refs(db) == {loan_ref(r.id) for r in seated}


async def test_one_reader_pressing_twice_at_once_gets_one_place(db: Database) -> None:
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=SLOTS)
    assert event.id is not None
    event_id = event.id
    await readers(db, 2001)
    results = await asyncio.gather(
        *(press(db, event_id, book.id, 2001, n) for n in range(4)), return_exceptions=True
    )
    places = [r for r in results if isinstance(r, Reservation)]
    refusals = [r for r in results if isinstance(r, ReservationRefused)]
    assert len(places) == 1 and places[0].status is ReservationStatus.reserved
    assert [r.reason for r in refusals] == ["duplicate"] * 3


async def test_a_seat_freed_while_others_press_goes_to_exactly_one_reader(db: Database) -> None:
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=1)
    assert event.id is not None
    event_id = event.id
    reader_ids = list(range(2001, 2021))
    await readers(db, *reader_ids)
    holder = await press(db, event_id, book.id, reader_ids[0], 0)
    first_wave = [await press(db, event_id, book.id, tg, 100 + tg) for tg in reader_ids[1:5]]
    assert all(r.status is ReservationStatus.waitlisted for r in first_wave)

    async def cancel() -> Promotion | None:
        async with db.session() as session:
            return await cancel_reservation(holder.id, reader_ids[0], session=session)

    results = await asyncio.gather(
        cancel(),
        *(press(db, event_id, book.id, tg, 100 + tg) for tg in reader_ids[5:]),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    promotion = results[0]
    assert isinstance(promotion, Promotion)
    assert promotion.reservation.id == first_wave[0].id  # the earliest press in the waitlist
    async with db.session() as session:
        [at_event] = await event_books(event_id, session=session)
    assert [s.seats_taken for s in at_event.slots] == [1]
    assert at_event.waitlist == len(reader_ids) - 2
    assert await open_loan_refs(db) == {loan_ref(promotion.reservation.id)}


class _DriverError(Exception):
    """Stands in for a driver error carrying a PostgreSQL SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["40P01", "40001", "55P03"])
async def test_a_transient_error_is_retried_from_a_clean_savepoint(
    db: Database, monkeypatch: pytest.MonkeyPatch, sqlstate: str
) -> None:
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=SLOTS)
    assert event.id is not None
    await readers(db, 2001)
    real = library._reserve_once
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        # The first attempt writes its row, then fails: the retry must not see that row.
        nonlocal calls
        calls += 1
        row = await real(*args, **kwargs)
        if calls == 1:
            raise OperationalError("SELECT 1", None, _DriverError(sqlstate))
        return row

    monkeypatch.setattr(library, "_reserve_once", flaky)
    place = await press(db, event.id, book.id, 2001, 1)
    assert calls == 2
    assert (place.status, place.slot_index) == (ReservationStatus.reserved, 0)
    async with db.session() as session:
        rows = (await session.exec(select(LibraryReservation))).all()
    assert [(r.id, r.slot_index) for r in rows] == [(place.id, 0)]
    assert await open_loan_refs(db) == {loan_ref(place.id)}


async def test_other_database_errors_are_not_retried(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=SLOTS)
    assert event.id is not None
    await readers(db, 2001)
    calls = 0

    async def broken(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        raise OperationalError("SELECT 1", None, _DriverError("53300"))  # too many connections

    monkeypatch.setattr(library, "_reserve_once", broken)
    with pytest.raises(OperationalError):
        await press(db, event.id, book.id, 2001, 1)
    assert calls == 1
