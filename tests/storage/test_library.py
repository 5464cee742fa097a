"""The human library's storage: books, links, events, slots, reservations, waitlists,
safeguarding, feedback, and the scheduled events that carry loan reminders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import audit
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import Purpose, ReservationStatus
from storage.errors import (
    BookLinkExpired,
    BookLinkUnknown,
    BookLinkUsed,
    BookRetired,
    ConsentRequired,
    LibraryAccessDenied,
    NotEventFacilitator,
    NotRegistered,
    NotYourReservation,
    ReservationRefused,
    UnknownBook,
    UnknownLibraryEvent,
    UnknownReservation,
    UnsupportedLanguage,
)
from storage.library import (
    LOAN_EVENT_KIND,
    Book,
    Reservation,
    add_facilitator,
    books,
    cancel_event,
    cancel_reservation,
    check_book_link,
    create_book,
    event_books,
    event_view,
    feedback_summary,
    get_book,
    get_reservation,
    issue_book_link,
    link_book,
    loan_ref,
    loans_needing_feedback,
    mark_feedback_asked,
    my_loans,
    record_feedback_poll,
    record_feedback_text,
    record_rating,
    reserve,
    retire_book,
    roster,
    slot_times,
    slots,
    stop_loan,
    upcoming_events,
    update_book,
    withdraw_book,
)
from storage.models import (
    AuditEntry,
    LibraryBan,
    LibraryBook,
    LibraryEvent,
    LibraryReservation,
    ScheduledEvent,
)
from storage.reminders import attendee_ids, get_event, reminder_candidates
from tests.storage.conftest import START
from tests.storage.factories import ALL_GRANTED
from tests.storage.library_helpers import (
    BLURB,
    EVENT_START,
    FACILITATOR,
    TITLE,
    book_fields,
    listed_book,
    new_book,
    new_event,
    readers,
    reserved,
    with_categories,
)

RESERVED = ReservationStatus.reserved
WAITLISTED = ReservationStatus.waitlisted


@pytest.fixture(autouse=True)
def frozen(clock: ManualClock) -> Iterator[ManualClock]:
    """Every test runs at START (five days before EVENT_START)."""
    yield clock


@pytest.fixture(autouse=True)
async def categories(db: Database) -> None:
    await with_categories(db)


async def actions(db: Database, prefix: str = "library.") -> list[AuditEntry]:
    async with db.session() as session:
        entries = await audit.all_entries(session=session)
    return [e for e in entries if e.action.startswith(prefix)]


async def loan_event(db: Database, reservation_id: int) -> ScheduledEvent | None:
    async with db.session() as session:
        return await get_event(LOAN_EVENT_KIND, loan_ref(reservation_id), session=session)


async def view_of(db: Database, reservation_id: int) -> Reservation:
    async with db.session() as session:
        view = await get_reservation(reservation_id, session=session)
    assert view is not None
    return view


async def refused(db: Database, *args: Any, **kwargs: Any) -> str:
    """The reason `reserved(...)` is refused (it must be)."""
    with pytest.raises(ReservationRefused) as caught:
        await reserved(db, *args, **kwargs)
    return caught.value.reason


async def event_and_book(
    db: Database, *, slots_per_book: int = 3, **changes: Any
) -> tuple[LibraryEvent, Book]:
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=slots_per_book, **changes)
    return event, book


def eid(event: LibraryEvent) -> int:
    assert event.id is not None
    return event.id


# --- books ---------------------------------------------------------------------------------


async def test_a_book_is_stored_normalised_with_its_categories_and_audited(db: Database) -> None:
    book = await new_book(
        db,
        title={"th": "  ชีวิตชาวประมงยะลา ", "en": "A fisher's life"},
        tags=["Fishing", "#ประมง", "fishing", "sea-life"],
        languages=["TH", "ms", "th"],
        categories=["languages", "digital_skills", "languages"],
    )
    assert book.title == TITLE
    assert book.blurb == BLURB
    assert book.tags == ("fishing", "ประมง", "sea-life")
    assert book.languages == ("th", "ms")
    assert book.categories == ("digital_skills", "languages")
    assert book.created_by == FACILITATOR
    assert book.created_at == book.updated_at == START
    assert not book.linked and not book.listed and not book.retired
    async with db.session() as session:
        assert await get_book(book.id, session=session) == book
        assert await get_book(999, session=session) is None
    [entry] = await actions(db)
    assert (entry.action, entry.actor, entry.target) == (
        "library.book.created",
        f"tg:{FACILITATOR}",
        f"library_book:{book.id}",
    )
    assert entry.detail == {
        "tags": ["fishing", "ประมง", "sea-life"],
        "categories": ["digital_skills", "languages"],
        "languages": ["th", "ms"],
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"title": {"th": "ชื่อ"}},
        {"title": {"th": "ชื่อ", "en": "  "}},
        {"title": {"th": "ชื่อ", "en": "x" * 101}},
        {"title": {"th": "ชื่อ", "en": "Name", "fr": "Nom"}},
        {"blurb": {"th": "ก" * 301, "en": "ok"}},
        {"tags": []},
        {"tags": [f"t{n}" for n in range(9)]},
        {"tags": ["two words"]},
        {"tags": ["x" * 33]},
        {"tags": ["emoji🙂"]},
        {"tags": "fishing"},
        {"languages": []},
        {"languages": ["english"]},
        {"categories": []},
        {"categories": ["no_such_category"]},
    ],
    ids=[
        "no-en-title",
        "blank-title",
        "long-title",
        "other-language",
        "long-blurb",
        "no-tags",
        "nine-tags",
        "tag-with-space",
        "long-tag",
        "emoji-tag",
        "tags-as-string",
        "no-languages",
        "bad-language",
        "no-categories",
        "unknown-category",
    ],
)
async def test_invalid_books_are_refused_and_nothing_is_stored(
    db: Database, changes: dict[str, Any]
) -> None:
    async with db.session() as session:
        with pytest.raises(ValueError):
            await create_book(session=session, **book_fields(**changes))
    async with db.session() as session:
        assert await books(include_retired=True, session=session) == []


async def test_thai_and_limit_length_values_are_accepted(db: Database) -> None:
    book = await new_book(
        db,
        title={"th": "ก" * 100, "en": "x" * 100},
        blurb={"th": "ข" * 300, "en": "y" * 300},
        tags=["สุขภาพ", "x" * 32, *[f"t{n}" for n in range(6)]],
    )
    assert len(book.tags) == 8


async def test_a_book_is_updated_field_by_field_and_each_change_is_audited(
    db: Database, clock: ManualClock
) -> None:
    book = await new_book(db)
    clock.advance(minutes=5)
    async with db.session() as session:
        same = await update_book(
            book.id, title=TITLE, tags=["fishing", "ประมง"], by=8, session=session
        )
        assert same == book
        changed = await update_book(
            book.id,
            blurb={"th": "เรื่องใหม่", "en": "New story"},
            categories=["digital_skills"],
            languages=["en"],
            by=8,
            session=session,
        )
    assert changed.blurb == {"th": "เรื่องใหม่", "en": "New story"}
    assert changed.categories == ("digital_skills",)
    assert changed.languages == ("en",)
    assert changed.title == TITLE
    assert changed.updated_at == clock()
    async with db.session() as session:
        assert await get_book(book.id, session=session) == changed
    updates = [e for e in await actions(db) if e.action == "library.book.updated"]
    assert [(e.actor, e.detail) for e in updates] == [
        ("tg:8", {"fields": ["blurb", "categories", "languages"]})
    ]
    async with db.session() as session:
        with pytest.raises(UnknownBook):
            await update_book(999, tags=["x"], by=8, session=session)
        with pytest.raises(ValueError):
            await update_book(book.id, tags=[], by=8, session=session)


async def test_books_are_listed_with_filters(db: Database) -> None:
    fisher = await listed_book(db)
    weaver = await new_book(
        db, tags=["weaving"], languages=["th"], title={"th": "ทอผ้า", "en": "Weaving"}
    )
    retired = await new_book(db, tags=["fishing"], languages=["en"])
    async with db.session() as session:
        await retire_book(retired.id, by=FACILITATOR, session=session)
    async with db.session() as session:
        assert [b.id for b in await books(session=session)] == [fisher.id, weaver.id]
        every = await books(include_retired=True, session=session)
        assert [b.id for b in every] == [fisher.id, weaver.id, retired.id]
        assert [b.id for b in await books(tag="Fishing", session=session)] == [fisher.id]
        assert [
            b.id for b in await books(tag="fishing", include_retired=True, session=session)
        ] == [
            fisher.id,
            retired.id,
        ]
        assert [b.id for b in await books(language="ms", session=session)] == [fisher.id]
        assert [b.id for b in await books(language="th", session=session)] == [
            fisher.id,
            weaver.id,
        ]
        assert [b.id for b in await books(listed_only=True, session=session)] == [fisher.id]
    assert every[2].retired and not every[2].listed


# --- link codes ----------------------------------------------------------------------------


async def test_a_link_code_is_one_time_records_consent_and_only_its_hash_is_stored(
    db: Database, clock: ManualClock
) -> None:
    book = await new_book(db)
    async with db.session() as session:
        code = await issue_book_link(book.id, by=FACILITATOR, session=session)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,20}", code)
    async with db.engine.connect() as connection:
        stored = (await connection.execute(sa.text("SELECT * FROM library_books"))).mappings().one()
    assert code not in {str(value) for value in stored.values()}
    assert stored["link_code_hash"] is not None and len(stored["link_code_hash"]) == 64

    clock.advance(minutes=10)
    async with db.session() as session:
        shown = await check_book_link(code, session=session)
    assert shown.id == book.id and not shown.linked  # checking changes nothing
    async with db.session() as session:
        linked_book = await link_book(code, 500, session=session)
    assert linked_book.telegram_user_id == 500
    assert linked_book.linked_at == linked_book.consented_at == clock()
    assert linked_book.listed
    async with db.session() as session:
        with pytest.raises(BookLinkUsed):
            await check_book_link(code, session=session)
        with pytest.raises(BookLinkUsed):
            await link_book(code, 501, session=session)
        still = await get_book(book.id, session=session)
    assert still is not None and still.telegram_user_id == 500
    logged = await actions(db, "library.book.link")
    assert [(e.action, e.actor) for e in logged] == [
        ("library.book.link_issued", f"tg:{FACILITATOR}"),
        ("library.book.linked", "tg:500"),
    ]
    assert all(code not in str(e.detail) for e in logged)


async def test_link_codes_expire_are_replaced_and_unknown_codes_are_refused(
    db: Database, clock: ManualClock
) -> None:
    book = await new_book(db)
    async with db.session() as session:
        old = await issue_book_link(
            book.id, by=FACILITATOR, ttl=timedelta(hours=1), session=session
        )
    clock.advance(hours=1)
    async with db.session() as session:
        with pytest.raises(BookLinkExpired):
            await link_book(old, 500, session=session)
        new = await issue_book_link(book.id, by=FACILITATOR, session=session)
    async with db.session() as session:
        with pytest.raises(BookLinkUnknown):
            await link_book(old, 500, session=session)  # replaced by the new one
        for garbage in ["", "x" * 21, "no spaces", "<script>", "AAAAAAAAAAAAAAAAAAAA"]:
            with pytest.raises(BookLinkUnknown):
                await check_book_link(garbage, session=session)
        with pytest.raises(ValueError):
            await issue_book_link(book.id, by=FACILITATOR, ttl=timedelta(0), session=session)
        with pytest.raises(UnknownBook):
            await issue_book_link(999, by=FACILITATOR, session=session)
    async with db.session() as session:
        await retire_book(book.id, by=FACILITATOR, session=session)
    async with db.session() as session:
        with pytest.raises(BookLinkUnknown):
            await link_book(new, 500, session=session)  # a retired book's code dies with it
        with pytest.raises(BookRetired):
            await issue_book_link(book.id, by=FACILITATOR, session=session)
        with pytest.raises(BookRetired):
            await update_book(book.id, tags=["x"], by=FACILITATOR, session=session)


# --- events and slots ----------------------------------------------------------------------


async def test_an_event_computes_its_slots_and_its_creator_facilitates_it(db: Database) -> None:
    book = await listed_book(db)
    unlinked = await new_book(db, title={"th": "ยังไม่ยินยอม", "en": "Not yet"})
    event = await new_event(
        db,
        [book.id, unlinked.id, book.id],
        slots_per_book=4,
        loan_minutes=20,
        break_minutes=10,
        readers_per_loan=2,
    )
    assert (event.loan_minutes, event.break_minutes, event.readers_per_loan) == (20, 10, 2)
    async with db.session() as session:
        book_slots = await slots(event, book.id, session=session)
        assert await slots(eid(event), book.id, session=session) == book_slots
        view = await event_view(eid(event), session=session)
        offered = await event_books(eid(event), session=session)
        everything = await event_books(eid(event), include_unlisted=True, session=session)
        with pytest.raises(UnknownBook):
            await slots(event, 999, session=session)
        with pytest.raises(UnknownLibraryEvent):
            await slots(999, book.id, session=session)
        with pytest.raises(UnknownLibraryEvent):
            await event_books(999, session=session)
        assert await event_view(999, session=session) is None
    assert [(s.index, s.starts_at, s.ends_at) for s in book_slots] == [
        (i, EVENT_START + timedelta(minutes=30 * i), EVENT_START + timedelta(minutes=30 * i + 20))
        for i in range(4)
    ]
    assert all(s.seats == 2 and s.seats_taken == 0 and s.free for s in book_slots)
    assert slot_times(event, 3) == (book_slots[3].starts_at, book_slots[3].ends_at)
    assert view is not None
    assert view.facilitator_ids == (FACILITATOR,)
    assert view.book_ids == (book.id,)  # the unlinked book is not offered to readers
    assert view.seats_free == 8
    assert view.ends_at == EVENT_START + timedelta(minutes=110)
    assert [b.book.id for b in offered] == [book.id]
    assert offered[0].free_slots == 4 and offered[0].seats_free == 8 and offered[0].waitlist == 0
    assert [(b.book.id, b.listed) for b in everything] == [(book.id, True), (unlinked.id, False)]
    [entry] = await actions(db, "library.event.")
    assert entry.target == f"library_event:{eid(event)}"


@pytest.mark.parametrize(
    "changes",
    [
        {"starts_at": START},
        {"starts_at": START - timedelta(days=1)},
        {"starts_at": datetime(2026, 1, 10, 8, 0)},
        {"place_text": "  "},
        {"place_text": "x" * 201},
        {"latitude": 6.5, "longitude": None},
        {"latitude": 91.0, "longitude": 101.0},
        {"loan_minutes": 9},
        {"loan_minutes": 121},
        {"readers_per_loan": 0},
        {"readers_per_loan": 4},
        {"slots_per_book": 0},
        {"slots_per_book": 13},
        {"break_minutes": -1},
        {"break_minutes": 61},
        {"book_ids": []},
    ],
    ids=[
        "now",
        "past",
        "naive",
        "blank-place",
        "long-place",
        "half-location",
        "bad-latitude",
        "short-loan",
        "long-loan",
        "no-readers",
        "four-readers",
        "no-slots",
        "thirteen-slots",
        "negative-break",
        "long-break",
        "no-books",
    ],
)
async def test_invalid_events_are_refused(db: Database, changes: dict[str, Any]) -> None:
    book = await listed_book(db)
    changes = dict(changes)  # the parameter is shared by both backends' runs
    book_ids = changes.pop("book_ids", [book.id])
    with pytest.raises(ValueError):
        await new_event(db, book_ids, **changes)


async def test_events_need_known_books_that_are_not_retired(db: Database) -> None:
    book = await new_book(db)
    with pytest.raises(UnknownBook):
        await new_event(db, [book.id, 999])
    async with db.session() as session:
        await retire_book(book.id, by=FACILITATOR, session=session)
    with pytest.raises(BookRetired):
        await new_event(db, [book.id])


async def test_upcoming_events_are_those_not_cancelled_and_not_over(
    db: Database, clock: ManualClock
) -> None:
    book = await listed_book(db)
    later = await new_event(db, [book.id], starts_at=EVENT_START + timedelta(days=7))
    soon = await new_event(db, [book.id])
    cancelled = await new_event(db, [book.id], starts_at=EVENT_START + timedelta(days=1))
    async with db.session() as session:
        await cancel_event(eid(cancelled), by=FACILITATOR, session=session)
        upcoming = await upcoming_events(now=clock(), session=session)
        assert [e.id for e in upcoming] == [soon.id, later.id]
        assert upcoming[0].seats_free == 3
        # During the event (second slot), it is still upcoming; after its last slot it is not.
        during = await upcoming_events(now=EVENT_START + timedelta(minutes=45), session=session)
        assert [e.id for e in during] == [soon.id, later.id]
        assert during[0].seats_free == 1  # only the third slot has not begun
        after = await upcoming_events(now=EVENT_START + timedelta(minutes=90), session=session)
        assert [e.id for e in after] == [later.id]
        with pytest.raises(ValueError):
            await upcoming_events(now=datetime(2026, 1, 5), session=session)


# --- reserving -----------------------------------------------------------------------------


async def test_first_free_gives_each_reader_the_next_slot_and_a_scheduled_loan(
    db: Database,
) -> None:
    event, book = await event_and_book(db)
    await readers(db, 1001, 1002)
    first = await reserved(db, event, book, 1001, language="en")
    second = await reserved(db, event, book, 1002)
    assert (first.status, first.slot_index, first.seat) == (RESERVED, 0, 0)
    assert (second.status, second.slot_index, second.seat) == (RESERVED, 1, 0)
    assert first.starts_at == EVENT_START
    assert first.ends_at == EVENT_START + timedelta(minutes=30)
    assert second.starts_at == EVENT_START + timedelta(minutes=30)
    assert first.book_title == TITLE and first.book_telegram_user_id == 500
    assert first.reader_name == "Reader 1001" and first.language == "en"
    assert first.place_text == "ห้องสมุดประชาชนเทศบาลนครยะลา"
    assert (first.latitude, first.longitude) == (6.5411, 101.2804)
    assert first.waitlist_position is None

    scheduled = await loan_event(db, first.id)
    assert scheduled is not None and scheduled.id is not None
    assert scheduled.starts_at == EVENT_START and scheduled.cancelled_at is None
    assert scheduled.title == TITLE
    assert scheduled.place == {"th": first.place_text, "en": first.place_text}
    async with db.session() as session:
        assert await attendee_ids(scheduled.id, session=session) == [1001]
        candidates = await reminder_candidates(
            starting_after=START, starting_before=EVENT_START + timedelta(days=1), session=session
        )
    assert [(c.ref, c.telegram_user_id) for c in candidates] == [
        (loan_ref(first.id), 1001),
        (loan_ref(second.id), 1002),
    ]
    logged = await actions(db, "library.reservation.")
    assert [(e.action, e.actor, e.detail) for e in logged] == [
        (
            "library.reservation.reserved",
            "tg:1001",
            {"event_id": event.id, "book_id": book.id, "slot": 0},
        ),
        (
            "library.reservation.reserved",
            "tg:1002",
            {"event_id": event.id, "book_id": book.id, "slot": 1},
        ),
    ]


async def test_several_readers_share_a_loan_seat_by_seat(db: Database) -> None:
    event, book = await event_and_book(db, readers_per_loan=2, slots_per_book=2)
    await readers(db, 1001, 1002, 1003)
    placed = [await reserved(db, event, book, tg) for tg in (1001, 1002, 1003)]
    assert [(r.slot_index, r.seat) for r in placed] == [(0, 0), (0, 1), (1, 0)]
    async with db.session() as session:
        [at_event] = await event_books(eid(event), session=session)
    assert [s.seats_taken for s in at_event.slots] == [2, 1]
    assert at_event.free_slots == 1 and at_event.seats_free == 1


async def test_a_named_slot_is_reserved_or_refused_when_full(db: Database) -> None:
    event, book = await event_and_book(db)
    await readers(db, 1001, 1002, 1003)
    named = await reserved(db, event, book, 1001, slot_index=2)
    assert (named.slot_index, named.seat) == (2, 0)
    assert await refused(db, event, book, 1002, slot_index=2) == "full"
    with pytest.raises(ValueError):
        await reserved(db, event, book, 1002, slot_index=3)
    with pytest.raises(ValueError):
        await reserved(db, event, book, 1002, slot_index=-1)
    first_free = await reserved(db, event, book, 1003)
    assert first_free.slot_index == 0


async def test_a_reader_cannot_hold_two_places_for_one_book(db: Database) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001, 1002)
    await reserved(db, event, book, 1001)
    assert await refused(db, event, book, 1001) == "duplicate"
    assert await refused(db, event, book, 1001, slot_index=0) == "duplicate"
    waiting = await reserved(db, event, book, 1002)
    assert waiting.status is WAITLISTED
    assert await refused(db, event, book, 1002) == "duplicate"


async def test_loans_of_one_reader_may_not_overlap(db: Database) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id, weaver.id], slots_per_book=2)
    await readers(db, 1001)
    assert (await reserved(db, event, fisher, 1001, slot_index=0)).slot_index == 0
    assert await refused(db, event, weaver, 1001, slot_index=0) == "overlap"
    assert (await reserved(db, event, weaver, 1001)).slot_index == 1  # the first free that fits


async def test_a_loan_at_another_event_at_the_same_time_overlaps_too(db: Database) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id], slots_per_book=1)
    other = await new_event(
        db, [weaver.id], slots_per_book=2, starts_at=EVENT_START + timedelta(minutes=15)
    )
    await readers(db, 1001)
    await reserved(db, event, fisher, 1001)  # 01:30–02:00
    assert await refused(db, other, weaver, 1001, slot_index=0) == "overlap"  # 01:45–02:15
    assert (await reserved(db, other, weaver, 1001)).slot_index == 1  # 02:15–02:45


async def test_the_only_free_slot_overlapping_is_refused_as_overlap(db: Database) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id, weaver.id], slots_per_book=2)
    await readers(db, 1001, 1002)
    await reserved(db, event, weaver, 1002, slot_index=1)  # weaver's slot 1 is taken
    await reserved(db, event, fisher, 1001, slot_index=0)
    assert await refused(db, event, weaver, 1001) == "overlap"  # only slot 0 is free: overlaps


async def test_reservations_are_refused_for_cancelled_retired_withdrawn_and_past(
    db: Database, clock: ManualClock
) -> None:
    await readers(db, 1001)
    event, book = await event_and_book(db)
    async with db.session() as session:
        await cancel_event(eid(event), by=FACILITATOR, session=session)
    assert await refused(db, event, book, 1001) == "cancelled"

    event, book = await event_and_book(db)
    async with db.session() as session:
        await withdraw_book(eid(event), book.id, by=FACILITATOR, session=session)
    assert await refused(db, event, book, 1001) == "withdrawn"

    unlinked = await new_book(db)
    event = await new_event(db, [unlinked.id])
    assert await refused(db, event, unlinked, 1001) == "withdrawn"  # no consent to be listed

    event, book = await event_and_book(db)
    async with db.session() as session:
        await retire_book(book.id, by=FACILITATOR, session=session)
    assert await refused(db, event, book, 1001) == "retired"

    event, book = await event_and_book(db)
    clock.set(EVENT_START + timedelta(minutes=31))  # slots 0 and 1 have begun
    assert await refused(db, event, book, 1001, slot_index=1) == "past"
    assert (await reserved(db, event, book, 1001)).slot_index == 2
    clock.set(EVENT_START + timedelta(minutes=60))
    await readers(db, 1002)
    assert await refused(db, event, book, 1002) == "past"


async def test_unknown_events_books_and_readers_are_refused(db: Database) -> None:
    event, book = await event_and_book(db)
    other = await listed_book(db, 501)
    await readers(db, 1001)
    async with db.session() as session:
        with pytest.raises(UnknownLibraryEvent):
            await reserve(
                999, book.id, 1001, reader_name="R", language="th", press_order=1, session=session
            )
        for bad_name in ("", "   "):
            with pytest.raises(ValueError):
                await reserve(
                    eid(event),
                    book.id,
                    1001,
                    reader_name=bad_name,
                    language="th",
                    press_order=1,
                    session=session,
                )
    with pytest.raises(UnknownBook):
        await reserved(db, event, other, 1001)  # not at this event
    with pytest.raises(NotRegistered):
        await reserved(db, event, book, 4040)
    no_library = {**ALL_GRANTED, Purpose.human_library: False}
    await readers(db, 1002, consents=no_library)
    with pytest.raises(ConsentRequired) as caught:
        await reserved(db, event, book, 1002)
    assert caught.value.purpose == "human_library"
    with pytest.raises(UnsupportedLanguage):
        await reserved(db, event, book, 1001, language="ms")


async def test_a_full_book_waitlists_readers_in_press_order(db: Database) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001, 1002, 1003, 1004)
    await reserved(db, event, book, 1001, press_order=10)
    late = await reserved(db, event, book, 1002, press_order=40)
    early = await reserved(db, event, book, 1003, press_order=20)
    middle = await reserved(db, event, book, 1004, press_order=30)
    assert [r.status for r in (late, early, middle)] == [WAITLISTED] * 3
    assert late.slot_index is None and late.seat is None and late.starts_at is None
    assert await loan_event(db, late.id) is None
    assert [(await view_of(db, r.id)).waitlist_position for r in (early, middle, late)] == [1, 2, 3]
    async with db.session() as session:
        [at_event] = await event_books(eid(event), session=session)
    assert at_event.waitlist == 3 and at_event.free_slots == 0
    assert [e.action for e in await actions(db, "library.reservation.")] == [
        "library.reservation.reserved",
        *["library.reservation.waitlisted"] * 3,
    ]


# --- cancelling and the waitlist ---------------------------------------------------------


async def test_a_cancelled_seat_goes_to_the_first_waitlisted_reader_by_press_order(
    db: Database,
) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001, 1002, 1003)
    holder = await reserved(db, event, book, 1001, press_order=1)
    await reserved(db, event, book, 1002, press_order=9)
    first_in_line = await reserved(db, event, book, 1003, press_order=5)
    async with db.session() as session:
        promotion = await cancel_reservation(holder.id, 1001, session=session)
    assert promotion is not None
    assert promotion.telegram_user_id == 1003 and promotion.language == "th"
    assert promotion.reservation.id == first_in_line.id
    assert (promotion.reservation.status, promotion.reservation.slot_index) == (RESERVED, 0)
    assert promotion.reservation.seat == 0
    assert (await view_of(db, holder.id)).status is ReservationStatus.cancelled
    assert (await view_of(db, holder.id)).cancelled_at == START
    # The scheduled events follow: the holder's is cancelled, the promoted reader's opened.
    old = await loan_event(db, holder.id)
    assert old is not None and old.cancelled_at == START
    new = await loan_event(db, first_in_line.id)
    assert new is not None and new.cancelled_at is None and new.id is not None
    async with db.session() as session:
        assert await attendee_ids(new.id, session=session) == [1003]
    second = await view_of(db, (await _waiting_ids(db, event))[0])
    assert second.telegram_user_id == 1002 and second.waitlist_position == 1
    logged = [e.action for e in await actions(db, "library.reservation.")]
    assert logged[-2:] == ["library.reservation.cancelled", "library.reservation.promoted"]


async def _waiting_ids(db: Database, event: LibraryEvent) -> list[int]:
    async with db.session() as session:
        lines = await roster(eid(event), facilitator_id=FACILITATOR, session=session)
    return [line.reservation_id for line in lines if line.status is WAITLISTED]


async def test_promotion_skips_readers_it_would_overlap_and_barred_readers(
    db: Database,
) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id, weaver.id], slots_per_book=1)
    await readers(db, 1001, 1002, 1003, 1004)
    holder = await reserved(db, event, fisher, 1001, press_order=1)
    # 1002 waits first but reads the weaver at the same time; 1003 waits next but is barred.
    await reserved(db, event, weaver, 1002, press_order=2)
    overlapping = await reserved(db, event, fisher, 1002, press_order=3)
    barred = await reserved(db, event, fisher, 1003, press_order=4)
    fitting = await reserved(db, event, fisher, 1004, press_order=5)
    assert overlapping.status is barred.status is fitting.status is WAITLISTED
    async with db.session() as session:
        # Bar 1003 from the fisher: a stop on a loan at an earlier event of the same book.
        session.add(LibraryBan(book_id=fisher.id, telegram_user_id=1003, reported_by=500))
    async with db.session() as session:
        promotion = await cancel_reservation(holder.id, 1001, session=session)
    assert promotion is not None and promotion.reservation.id == fitting.id
    assert (await view_of(db, overlapping.id)).status is WAITLISTED
    assert (await view_of(db, barred.id)).status is WAITLISTED


async def test_no_one_is_promoted_when_no_waitlisted_reader_fits(db: Database) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001)
    holder = await reserved(db, event, book, 1001)
    async with db.session() as session:
        assert await cancel_reservation(holder.id, 1001, session=session) is None
    async with db.session() as session:
        [at_event] = await event_books(eid(event), session=session)
    assert at_event.free_slots == 1


async def test_only_the_reader_cancels_and_cancelling_twice_or_a_waitlist_place_is_quiet(
    db: Database,
) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001, 1002)
    holder = await reserved(db, event, book, 1001)
    waiting = await reserved(db, event, book, 1002)
    async with db.session() as session:
        with pytest.raises(NotYourReservation):
            await cancel_reservation(holder.id, 1002, session=session)
        with pytest.raises(UnknownReservation):
            await cancel_reservation(999, 1001, session=session)
    assert (await view_of(db, holder.id)).status is RESERVED
    async with db.session() as session:
        assert await cancel_reservation(waiting.id, 1002, session=session) is None
        assert await cancel_reservation(waiting.id, 1002, session=session) is None
        assert await cancel_reservation(holder.id, 1001, session=session) is None
        assert await cancel_reservation(holder.id, 1001, session=session) is None
    assert (await view_of(db, waiting.id)).status is ReservationStatus.cancelled
    # Cancelled, the reader may reserve again.
    again = await reserved(db, event, book, 1001)
    assert again.status is RESERVED


async def test_a_cancelled_loan_that_has_begun_promotes_no_one(
    db: Database, clock: ManualClock
) -> None:
    event, book = await event_and_book(db, slots_per_book=2)
    await readers(db, 1001, 1002, 1003)
    first = await reserved(db, event, book, 1001)
    await reserved(db, event, book, 1002)
    await reserved(db, event, book, 1003)  # waitlisted
    clock.set(EVENT_START + timedelta(minutes=5))
    async with db.session() as session:
        assert await cancel_reservation(first.id, 1001, session=session) is None


# --- my loans and the roster ---------------------------------------------------------------


async def test_my_loans_lists_upcoming_reserved_and_waitlisted_places(
    db: Database, clock: ManualClock
) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id, weaver.id], slots_per_book=1)
    later = await new_event(
        db, [fisher.id], slots_per_book=2, starts_at=EVENT_START + timedelta(days=1)
    )
    cancelled = await new_event(db, [weaver.id], starts_at=EVENT_START + timedelta(days=2))
    await readers(db, 1001, 1002)
    await reserved(db, event, weaver, 1002)
    soon = await reserved(db, event, fisher, 1001)
    next_day = await reserved(db, later, fisher, 1001, slot_index=1)
    await reserved(db, cancelled, weaver, 1001)
    async with db.session() as session:
        await cancel_event(eid(cancelled), by=FACILITATOR, session=session)
    async with db.session() as session:
        mine = await my_loans(1001, now=clock(), session=session)
        assert [r.id for r in mine] == [soon.id, next_day.id]
        after_first = await my_loans(1001, now=EVENT_START + timedelta(minutes=30), session=session)
        assert [r.id for r in after_first] == [next_day.id]
        assert await my_loans(1002, now=EVENT_START + timedelta(hours=1), session=session) == []
        assert await my_loans(4040, now=clock(), session=session) == []


async def test_my_loans_shows_a_waitlist_place_until_the_event_ends(db: Database) -> None:
    event, book = await event_and_book(db, slots_per_book=2)
    await readers(db, 1001, 1002, 1003)
    await reserved(db, event, book, 1001)
    await reserved(db, event, book, 1002)
    waiting = await reserved(db, event, book, 1003)
    async with db.session() as session:
        [place] = await my_loans(1003, now=START, session=session)
        assert place.id == waiting.id and place.waitlist_position == 1
        assert await my_loans(1003, now=EVENT_START + timedelta(minutes=60), session=session) == []


async def test_the_roster_is_only_for_that_events_facilitators(db: Database) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id, weaver.id], slots_per_book=1)
    other = await new_event(
        db, [fisher.id], created_by=8, starts_at=EVENT_START + timedelta(days=1)
    )
    await readers(db, 1001, 1002, 1003)
    await reserved(db, event, weaver, 1001)
    await reserved(db, event, fisher, 1002)
    await reserved(db, event, fisher, 1003)  # waitlisted
    async with db.session() as session:
        lines = await roster(eid(event), facilitator_id=FACILITATOR, session=session)
        for outsider in (8, 1001, 500):  # another event's facilitator, a reader, a book
            with pytest.raises(NotEventFacilitator):
                await roster(eid(event), facilitator_id=outsider, session=session)
        with pytest.raises(UnknownLibraryEvent):
            await roster(999, facilitator_id=FACILITATOR, session=session)
        assert await roster(eid(other), facilitator_id=8, session=session) == []
        assert await add_facilitator(eid(event), 8, by=FACILITATOR, session=session)
        assert not await add_facilitator(eid(event), 8, by=FACILITATOR, session=session)
        assert await roster(eid(event), facilitator_id=8, session=session) == lines
    assert [(line.book_id, line.status, line.slot_index, line.reader_name) for line in lines] == [
        (fisher.id, RESERVED, 0, "Reader 1002"),
        (fisher.id, WAITLISTED, None, "Reader 1003"),
        (weaver.id, RESERVED, 0, "Reader 1001"),
    ]
    assert lines[0].starts_at == EVENT_START and lines[0].book_title == TITLE
    assert lines[1].waitlist_position == 1 and not any(line.stopped for line in lines)


# --- safeguarding --------------------------------------------------------------------------


async def test_stopping_a_loan_bars_the_reader_and_gives_the_seat_to_the_waitlist(
    db: Database,
) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    later = await new_event(db, [book.id], starts_at=EVENT_START + timedelta(days=1))
    await add_facilitator_in(db, event, 9)
    await readers(db, 1001, 1002)
    loan = await reserved(db, event, book, 1001)
    elsewhere = await reserved(db, later, book, 1001)
    waiting = await reserved(db, event, book, 1002)
    async with db.session() as session:
        report = await stop_loan(loan.id, by=500, session=session)  # by the book itself
    assert report.newly_stopped
    assert report.reservation.status is ReservationStatus.released
    assert report.reservation.stopped_at == START
    assert report.book_telegram_user_id == 500
    assert report.facilitator_ids == (FACILITATOR, 9)
    assert [r.id for r in report.released] == [elsewhere.id]
    assert [p.reservation.id for p in report.promotions] == [waiting.id]
    assert (await view_of(db, waiting.id)).status is RESERVED
    stopped_event = await loan_event(db, loan.id)
    assert stopped_event is not None and stopped_event.cancelled_at == START
    assert await refused(db, event, book, 1001) == "barred"
    assert await refused(db, later, book, 1001) == "barred"
    async with db.session() as session:
        again = await stop_loan(loan.id, by=FACILITATOR, session=session)
        lines = await roster(eid(event), facilitator_id=FACILITATOR, session=session)
    assert not again.newly_stopped and again.released == () and again.promotions == ()
    assert again.facilitator_ids == (9,)
    assert [line.reader_name for line in lines] == ["Reader 1002"]
    [entry] = await actions(db, "library.loan.")
    assert (entry.actor, entry.target) == ("tg:500", f"library_reservation:{loan.id}")


async def add_facilitator_in(db: Database, event: LibraryEvent, telegram_user_id: int) -> None:
    async with db.session() as session:
        await add_facilitator(eid(event), telegram_user_id, by=FACILITATOR, session=session)


async def test_only_the_book_or_a_facilitator_may_stop_a_loan(db: Database) -> None:
    event, book = await event_and_book(db)
    other = await new_event(db, [book.id], created_by=8, starts_at=EVENT_START + timedelta(days=1))
    await readers(db, 1001)
    loan = await reserved(db, event, book, 1001)
    async with db.session() as session:
        for outsider in (1001, 8, 501):
            with pytest.raises(LibraryAccessDenied):
                await stop_loan(loan.id, by=outsider, session=session)
        with pytest.raises(UnknownReservation):
            await stop_loan(999, by=FACILITATOR, session=session)
    assert other.id is not None
    assert (await view_of(db, loan.id)).stopped_at is None


async def test_a_loan_stopped_while_running_stays_on_record_without_feedback(
    db: Database, clock: ManualClock
) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001)
    loan = await reserved(db, event, book, 1001)
    clock.set(EVENT_START + timedelta(minutes=10))
    async with db.session() as session:
        report = await stop_loan(loan.id, by=FACILITATOR, session=session)
    assert report.reservation.status is RESERVED and report.reservation.stopped_at == clock()
    assert report.promotions == ()
    scheduled = await loan_event(db, loan.id)
    assert scheduled is not None and scheduled.cancelled_at == clock()
    async with db.session() as session:
        lines = await roster(eid(event), facilitator_id=FACILITATOR, session=session)
        due = await loans_needing_feedback(now=EVENT_START + timedelta(hours=1), session=session)
    assert [line.stopped for line in lines] == [True]
    assert due == []


# --- the library ends reservations ---------------------------------------------------------


async def test_cancelling_an_event_returns_everyone_to_tell(db: Database) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    await readers(db, 1001, 1002)
    loan = await reserved(db, event, book, 1001)
    waiting = await reserved(db, event, book, 1002)
    async with db.session() as session:
        told = await cancel_event(eid(event), by=FACILITATOR, session=session)
    assert [(r.id, r.status) for r in told] == [
        (loan.id, ReservationStatus.released),
        (waiting.id, ReservationStatus.released),
    ]
    scheduled = await loan_event(db, loan.id)
    assert scheduled is not None and scheduled.cancelled_at == START
    async with db.session() as session:
        assert await cancel_event(eid(event), by=FACILITATOR, session=session) == []
        with pytest.raises(UnknownLibraryEvent):
            await cancel_event(999, by=FACILITATOR, session=session)
        view = await event_view(eid(event), session=session)
    assert view is not None and view.cancelled


async def test_withdrawing_a_book_releases_only_its_readers_at_that_event(db: Database) -> None:
    fisher = await listed_book(db, 500)
    weaver = await listed_book(db, 501, title={"th": "ทอผ้า", "en": "Weaving"})
    event = await new_event(db, [fisher.id, weaver.id], slots_per_book=1)
    later = await new_event(db, [fisher.id], starts_at=EVENT_START + timedelta(days=1))
    await readers(db, 1001, 1002, 1003)
    fisher_loan = await reserved(db, event, fisher, 1001)
    weaver_loan = await reserved(db, event, weaver, 1002)
    later_loan = await reserved(db, later, fisher, 1003)
    async with db.session() as session:
        told = await withdraw_book(eid(event), fisher.id, by=FACILITATOR, session=session)
        assert await withdraw_book(eid(event), fisher.id, by=FACILITATOR, session=session) == []
        with pytest.raises(UnknownBook):
            await withdraw_book(eid(later), weaver.id, by=FACILITATOR, session=session)
        offered = await event_books(eid(event), session=session)
    assert [r.id for r in told] == [fisher_loan.id]
    assert [b.book.id for b in offered] == [weaver.id]
    assert (await view_of(db, weaver_loan.id)).status is RESERVED
    assert (await view_of(db, later_loan.id)).status is RESERVED


async def test_retiring_a_book_releases_its_upcoming_reservations_everywhere(
    db: Database, clock: ManualClock
) -> None:
    event, book = await event_and_book(db, slots_per_book=1)
    later = await new_event(db, [book.id], starts_at=EVENT_START + timedelta(days=1))
    await readers(db, 1001, 1002, 1003)
    past_loan = await reserved(db, event, book, 1001)
    future_loan = await reserved(db, later, book, 1002)
    waiting = await reserved(db, event, book, 1003)
    clock.set(EVENT_START + timedelta(minutes=40))  # the first event is over
    async with db.session() as session:
        told = await retire_book(book.id, by=FACILITATOR, session=session)
        assert await retire_book(book.id, by=FACILITATOR, session=session) == []
        with pytest.raises(UnknownBook):
            await retire_book(999, by=FACILITATOR, session=session)
    assert [r.id for r in told] == [future_loan.id]
    assert (await view_of(db, past_loan.id)).status is RESERVED  # history stays
    assert (await view_of(db, waiting.id)).status is WAITLISTED  # its event is over
    scheduled = await loan_event(db, future_loan.id)
    assert scheduled is not None and scheduled.cancelled_at == clock()
    async with db.session() as session:
        retired = await get_book(book.id, session=session)
        stored = await session.get(LibraryBook, book.id)
    assert retired is not None and retired.retired_at == clock() and not retired.listed
    assert stored is not None and stored.link_code_hash is None


async def test_a_new_title_retitles_the_reminders_of_upcoming_loans(db: Database) -> None:
    event, book = await event_and_book(db)
    await readers(db, 1001)
    loan = await reserved(db, event, book, 1001)
    new_title = {"th": "ชีวิตริมทะเล", "en": "Life by the sea"}
    async with db.session() as session:
        await update_book(book.id, title=new_title, by=FACILITATOR, session=session)
    scheduled = await loan_event(db, loan.id)
    assert scheduled is not None and scheduled.title == new_title
    assert (await view_of(db, loan.id)).book_title == new_title


# --- feedback ------------------------------------------------------------------------------


async def test_ended_loans_need_feedback_once(db: Database, clock: ManualClock) -> None:
    event, book = await event_and_book(db, slots_per_book=2)
    await readers(db, 1001, 1002, 1003)
    first = await reserved(db, event, book, 1001, language="en")
    second = await reserved(db, event, book, 1002)
    await reserved(db, event, book, 1003)  # waitlisted: never asked
    async with db.session() as session:
        assert (
            await loans_needing_feedback(now=EVENT_START + timedelta(minutes=29), session=session)
            == []
        )
        due = await loans_needing_feedback(now=EVENT_START + timedelta(minutes=30), session=session)
    assert [(d.reservation_id, d.telegram_user_id, d.language) for d in due] == [
        (first.id, 1001, "en")
    ]
    assert due[0].ends_at == EVENT_START + timedelta(minutes=30) and due[0].book_title == TITLE
    async with db.session() as session:
        assert await mark_feedback_asked(first.id, session=session)
        assert not await mark_feedback_asked(first.id, session=session)
        with pytest.raises(UnknownReservation):
            await mark_feedback_asked(999, session=session)
        due = await loans_needing_feedback(now=EVENT_START + timedelta(hours=1), session=session)
        assert [d.reservation_id for d in due] == [second.id]
        # Too long ago: not asked any more.
        assert (
            await loans_needing_feedback(now=EVENT_START + timedelta(days=3), session=session) == []
        )


async def test_ratings_and_texts_are_stored_for_the_reader_and_summarised(db: Database) -> None:
    event, book = await event_and_book(db, slots_per_book=3)
    await readers(db, 1001, 1002, 1003)
    loans = [await reserved(db, event, book, tg) for tg in (1001, 1002, 1003)]
    async with db.session() as session:
        for n, loan in enumerate(loans):
            await mark_feedback_asked(loan.id, session=session)
            await record_feedback_poll(f"poll-{n}", loan.id, session=session)
        await record_feedback_poll("poll-0", loans[0].id, session=session)  # again: no change
        with pytest.raises(UnknownReservation):
            await record_feedback_poll("poll-x", 999, session=session)
        with pytest.raises(ValueError):
            await record_feedback_poll("", loans[0].id, session=session)
    async with db.session() as session:
        assert await record_rating("poll-0", 1001, 5, session=session)
        assert await record_rating("poll-1", 1002, 3, session=session)
        assert await record_rating("poll-2", 1003, 2, session=session)
        assert await record_rating("poll-2", 1003, None, session=session)  # retracted
        assert await record_rating("poll-2", 1003, 4, session=session)
        assert not await record_rating("poll-0", 1002, 1, session=session)  # not their loan
        assert not await record_rating("no-such-poll", 1001, 1, session=session)
        for bad in (0, 6, True):
            with pytest.raises(ValueError):
                await record_rating("poll-0", 1001, bad, session=session)
        await record_feedback_text(loans[0].id, 1001, "  ได้เรียนรู้เรื่องทะเล  ", "th", session=session)
        await record_feedback_text(loans[1].id, 1002, "Learnt a lot", "en", session=session)
        await record_feedback_text(
            loans[1].id, 1002, "Learnt a lot about fishing", "en", session=session
        )
        with pytest.raises(NotYourReservation):
            await record_feedback_text(loans[2].id, 1001, "hijack", "en", session=session)
        with pytest.raises(UnknownReservation):
            await record_feedback_text(999, 1001, "x", "en", session=session)
        with pytest.raises(ValueError):
            await record_feedback_text(loans[2].id, 1003, "x" * 1001, "en", session=session)
        with pytest.raises(ValueError):
            await record_feedback_text(loans[2].id, 1003, "   ", "en", session=session)
        with pytest.raises(UnsupportedLanguage):
            await record_feedback_text(loans[2].id, 1003, "ok", "fr", session=session)
    async with db.session() as session:
        summary = await feedback_summary(eid(event), session=session)
        with pytest.raises(UnknownLibraryEvent):
            await feedback_summary(999, session=session)
    assert summary.asked == 3
    assert summary.count == 3
    assert summary.mean_rating == pytest.approx(4.0)
    assert summary.histogram == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert [(t.text, t.language, t.book_id) for t in summary.texts] == [
        ("ได้เรียนรู้เรื่องทะเล", "th", book.id),
        ("Learnt a lot about fishing", "en", book.id),
    ]
    rated = [e for e in await actions(db, "library.feedback.")]
    assert all("text" not in (e.detail or {}) for e in rated)


async def test_an_event_without_feedback_has_an_empty_summary(db: Database) -> None:
    event, _ = await event_and_book(db)
    async with db.session() as session:
        summary = await feedback_summary(eid(event), session=session)
    assert (summary.count, summary.mean_rating, summary.texts) == (0, None, ())
    assert summary.histogram == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


# --- the scheduled events follow the reservations ---------------------------------------------


async def test_every_reserved_loan_and_only_those_has_an_open_scheduled_event(
    db: Database,
) -> None:
    event, book = await event_and_book(db, slots_per_book=2)
    await readers(db, *range(1001, 1006))
    places = [await reserved(db, event, book, tg) for tg in range(1001, 1006)]
    async with db.session() as session:
        await cancel_reservation(places[0].id, 1001, session=session)
        await cancel_reservation(places[3].id, 1004, session=session)  # a waitlist place
        await stop_loan(places[1].id, by=FACILITATOR, session=session)
    async with db.session() as session:
        open_refs = set(
            (
                await session.exec(
                    select(col(ScheduledEvent.ref)).where(
                        col(ScheduledEvent.kind) == LOAN_EVENT_KIND,
                        col(ScheduledEvent.cancelled_at).is_(None),
                    )
                )
            ).all()
        )
        lines = await roster(eid(event), facilitator_id=FACILITATOR, session=session)
    reserved_ids = {line.reservation_id for line in lines if line.status is RESERVED}
    assert open_refs == {loan_ref(rid) for rid in reserved_ids}
    assert reserved_ids == {places[2].id, places[4].id}  # 1003 promoted, then 1005 promoted


async def test_the_database_itself_keeps_one_reader_per_seat_and_one_active_place(
    db: Database,
) -> None:
    event, book = await event_and_book(db, slots_per_book=2)
    await readers(db, 1001)
    place = await reserved(db, event, book, 1001)

    def row(
        telegram_user_id: int, status: ReservationStatus, slot: int | None
    ) -> LibraryReservation:
        return LibraryReservation(
            event_id=eid(event),
            book_id=book.id,
            telegram_user_id=telegram_user_id,
            reader_name="x",
            language="th",
            status=status,
            slot_index=slot,
            seat=None if slot is None else 0,
            press_order=1,
        )

    with pytest.raises(IntegrityError):  # a second reader in the same seat
        async with db.session() as session:
            session.add(row(1002, RESERVED, place.slot_index))
    with pytest.raises(IntegrityError):  # a second active place of the same reader
        async with db.session() as session:
            session.add(row(1001, WAITLISTED, None))
    async with db.session() as session:  # ended places do not count
        session.add(row(1002, ReservationStatus.cancelled, place.slot_index))
        session.add(row(1001, ReservationStatus.released, 1))
