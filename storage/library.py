"""The human library: books, events, reservations, waitlists, safeguarding and feedback.

A "book" is a person with lived experience; "readers" reserve a short conversation (a loan)
with a book at a library event. Slots are computed from the event, never stored: slot *i* of
every book starts at `starts_at + i × (loan_minutes + break_minutes)`. A slot has
`readers_per_loan` seats. When no seat is free, a reader joins the book's waitlist, which is
ordered by `press_order` (the update_id of the press); a freed seat goes to the first waitlisted
reader it fits.

Concurrency: every change to the reservations of one book at one event first locks that
`library_event_books` row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite sessions are already
`BEGIN IMMEDIATE`), and a reservation also locks the reader's `citizens` row, so checks for
overlap and duplicates see every committed loan. Each such change runs in a savepoint and is
retried on a transient lock or serialisation error, so none reaches a person.

Every reserved loan is also a `scheduled_events` row (kind "library_loan", ref
"reservation:<id>") with the reader as attendee, so the reminder planner reminds readers; when
the reservation ends, that event is cancelled and its waiting reminders dropped.

Only a book that consented (by its one-time link) is offered to readers. Storage knows nothing
of Telegram beyond integer ids and poll id strings; every change is audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import func, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel, col, select

from storage import audit, clock, reminders
from storage.checks import require_aware as _aware
from storage.citizens import has_consent
from storage.database import AsyncSession
from storage.enums import LANGUAGES, Purpose, ReservationStatus
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
from storage.models import (
    Citizen,
    LibraryBan,
    LibraryBook,
    LibraryBookCategory,
    LibraryEvent,
    LibraryEventBook,
    LibraryEventFacilitator,
    LibraryFeedbackPoll,
    LibraryReservation,
    NeedCategory,
)
from storage.sql import insert_ignoring_conflicts
from storage.surveys import FREE_TEXT_LANGUAGES

__all__ = [
    "BLURB_MAX_LENGTH",
    "DEFAULT_LINK_TTL",
    "FEEDBACK_LANGUAGES",
    "FEEDBACK_MAX_AGE",
    "FEEDBACK_TEXT_MAX_LENGTH",
    "LOAN_EVENT_KIND",
    "PLACE_MAX_LENGTH",
    "READER_NAME_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "Book",
    "BookAtEvent",
    "EventView",
    "FeedbackDue",
    "FeedbackSummary",
    "FeedbackText",
    "LibraryEvent",
    "Promotion",
    "Reservation",
    "RosterLine",
    "SlotView",
    "StopReport",
    "add_facilitator",
    "books",
    "cancel_event",
    "cancel_reservation",
    "check_book_link",
    "create_book",
    "create_event",
    "event_books",
    "event_ends_at",
    "event_facilitators",
    "event_view",
    "feedback_summary",
    "get_book",
    "get_reservation",
    "is_facilitator",
    "issue_book_link",
    "link_book",
    "loan_ref",
    "loans_needing_feedback",
    "mark_feedback_asked",
    "my_loans",
    "record_feedback_poll",
    "record_feedback_text",
    "record_rating",
    "reserve",
    "retire_book",
    "roster",
    "slot_times",
    "slots",
    "stop_loan",
    "upcoming_events",
    "update_book",
    "withdraw_book",
]

log = logging.getLogger(__name__)

TITLE_MAX_LENGTH: Final = 100
BLURB_MAX_LENGTH: Final = 300
TAG_MAX_LENGTH: Final = 32
MAX_TAGS: Final = 8
MAX_BOOK_LANGUAGES: Final = 8
PLACE_MAX_LENGTH: Final = 200
READER_NAME_MAX_LENGTH: Final = 128
FEEDBACK_TEXT_MAX_LENGTH: Final = 1000
FEEDBACK_LANGUAGES: Final = FREE_TEXT_LANGUAGES
POLL_ID_MAX_LENGTH: Final = 64
LOAN_MINUTES: Final = (10, 120)
READERS_PER_LOAN: Final = (1, 3)
SLOTS_PER_BOOK: Final = (1, 12)
BREAK_MINUTES: Final = (0, 60)
DEFAULT_LINK_TTL: Final = timedelta(days=7)
LINK_CODE_MAX_LENGTH: Final = 20
FEEDBACK_MAX_AGE: Final = timedelta(days=2)
LOAN_EVENT_KIND: Final = "library_loan"

# The longest an event can last (12 slots of 120 min with 60 min breaks), to bound queries.
_LONGEST_EVENT: Final = timedelta(minutes=SLOTS_PER_BOOK[1] * (LOAN_MINUTES[1] + BREAK_MINUTES[1]))
_TAG: Final = re.compile(r"[a-z0-9\-\u0E00-\u0E7F]{1,32}")  # Thai block: letters, vowels, marks
_LANGUAGE_CODE: Final = re.compile(r"[a-z]{2,3}")
_LINK_CODE: Final = re.compile(r"[A-Za-z0-9_\-]{1,20}")
# PostgreSQL: serialization failure, deadlock detected, lock not available.
_TRANSIENT_SQLSTATES: Final = frozenset({"40001", "40P01", "55P03"})
_ATTEMPTS: Final = 5
_BANS: Final = SQLModel.metadata.tables["library_bans"]
_FEEDBACK_POLLS: Final = SQLModel.metadata.tables["library_feedback_polls"]
_RESERVED: Final = ReservationStatus.reserved
_WAITLISTED: Final = ReservationStatus.waitlisted
_ACTIVE: Final = (ReservationStatus.reserved, ReservationStatus.waitlisted)

T = TypeVar("T")


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    """A human book with its need categories; `listed` once it consented and while not retired."""

    id: int
    title: dict[str, str]
    blurb: dict[str, str]
    tags: tuple[str, ...]
    languages: tuple[str, ...]
    categories: tuple[str, ...]
    telegram_user_id: int | None
    linked_at: datetime | None
    consented_at: datetime | None
    retired_at: datetime | None
    created_by: int
    created_at: datetime
    updated_at: datetime

    @property
    def linked(self) -> bool:
        """True once the book linked its own Telegram account."""
        return self.telegram_user_id is not None

    @property
    def retired(self) -> bool:
        """True once the book was retired."""
        return self.retired_at is not None

    @property
    def listed(self) -> bool:
        """True when readers may see and reserve it: consented and not retired."""
        return self.consented_at is not None and self.retired_at is None


@dataclass(frozen=True)
class SlotView:
    """One slot of one book at an event: its time and seats (`started`: it has begun)."""

    index: int
    starts_at: datetime
    ends_at: datetime
    seats: int
    seats_taken: int
    started: bool

    @property
    def seats_free(self) -> int:
        """Seats still free (0 once the slot has begun)."""
        return 0 if self.started else max(self.seats - self.seats_taken, 0)

    @property
    def free(self) -> bool:
        """True if a reader can still reserve a seat in this slot."""
        return self.seats_free > 0


@dataclass(frozen=True)
class EventView:
    """A library event with its facilitators, the books offered to readers and free seats."""

    id: int
    starts_at: datetime
    ends_at: datetime
    place_text: str
    latitude: float | None
    longitude: float | None
    loan_minutes: int
    readers_per_loan: int
    slots_per_book: int
    break_minutes: int
    created_by: int
    cancelled_at: datetime | None
    facilitator_ids: tuple[int, ...]
    book_ids: tuple[int, ...]  # listed books, not withdrawn
    seats_free: int  # over those books, in slots not yet begun

    @property
    def cancelled(self) -> bool:
        """True once the event was cancelled."""
        return self.cancelled_at is not None


@dataclass(frozen=True)
class BookAtEvent:
    """A book at an event: its slots and waitlist (`listed`: offered to readers)."""

    event_id: int
    book: Book
    withdrawn_at: datetime | None
    slots: tuple[SlotView, ...]
    waitlist: int

    @property
    def listed(self) -> bool:
        """True if readers may reserve it: listed book, not withdrawn from the event."""
        return self.book.listed and self.withdrawn_at is None

    @property
    def free_slots(self) -> int:
        """How many slots still have a free seat."""
        return sum(1 for slot in self.slots if slot.free)

    @property
    def seats_free(self) -> int:
        """How many seats are still free, over all slots."""
        return sum(slot.seats_free for slot in self.slots)


@dataclass(frozen=True)
class Reservation:
    """A reservation with what a reader (or a book's notice, or an .ics file) needs to show.

    `starts_at`/`ends_at` are the slot's, None while waitlisted; `waitlist_position` (1-based)
    only while waitlisted.
    """

    id: int
    event_id: int
    book_id: int
    book_title: dict[str, str]
    book_telegram_user_id: int | None
    telegram_user_id: int
    reader_name: str
    language: str
    status: ReservationStatus
    slot_index: int | None
    seat: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    event_starts_at: datetime
    place_text: str
    latitude: float | None
    longitude: float | None
    press_order: int
    waitlist_position: int | None
    created_at: datetime
    cancelled_at: datetime | None
    stopped_at: datetime | None

    @property
    def reserved(self) -> bool:
        """True while it holds a seat."""
        return self.status is ReservationStatus.reserved

    @property
    def waitlisted(self) -> bool:
        """True while it waits for a seat."""
        return self.status is ReservationStatus.waitlisted


@dataclass(frozen=True)
class Promotion:
    """A waitlisted reader who got a freed seat: tell them."""

    reservation: Reservation

    @property
    def telegram_user_id(self) -> int:
        """Whom to tell."""
        return self.reservation.telegram_user_id

    @property
    def language(self) -> str:
        """In which language."""
        return self.reservation.language


@dataclass(frozen=True)
class RosterLine:
    """One reader on an event's roster: reserved ones by book, slot and seat, then the waitlist."""

    reservation_id: int
    book_id: int
    book_title: dict[str, str]
    status: ReservationStatus
    slot_index: int | None
    seat: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    waitlist_position: int | None
    reader_name: str
    stopped: bool


@dataclass(frozen=True)
class StopReport:
    """What stopping a loan did; tell `facilitator_ids` (everyone but who stopped it).

    `released`: the reader's other reservations of this book, ended by the ban; `promotions`:
    waitlisted readers who got the seats freed.
    """

    reservation: Reservation
    newly_stopped: bool
    book_telegram_user_id: int | None
    facilitator_ids: tuple[int, ...]
    released: tuple[Reservation, ...]
    promotions: tuple[Promotion, ...]


@dataclass(frozen=True)
class FeedbackDue:
    """A loan that ended and whose reader has not been asked for feedback yet."""

    reservation_id: int
    event_id: int
    book_id: int
    book_title: dict[str, str]
    telegram_user_id: int
    language: str
    ends_at: datetime


@dataclass(frozen=True)
class FeedbackText:
    """One reader's free-text feedback (no name, no id)."""

    book_id: int
    text: str
    language: str


@dataclass(frozen=True)
class FeedbackSummary:
    """An event's feedback: how many ratings, their mean and histogram (1–5), and the texts."""

    event_id: int
    asked: int
    count: int
    mean_rating: float | None
    histogram: dict[int, int]
    texts: tuple[FeedbackText, ...]


# --- small public helpers ------------------------------------------------------------------


def slot_times(event: LibraryEvent, index: int) -> tuple[datetime, datetime]:
    """When slot `index` of the event starts and ends."""
    start = event.starts_at + timedelta(minutes=index * (event.loan_minutes + event.break_minutes))
    return start, start + timedelta(minutes=event.loan_minutes)


def event_ends_at(event: LibraryEvent) -> datetime:
    """When the event's last slot ends."""
    return slot_times(event, event.slots_per_book - 1)[1]


def loan_ref(reservation_id: int) -> str:
    """The `scheduled_events.ref` of a reserved loan: "reservation:<id>"."""
    return f"reservation:{reservation_id}"


# --- books ---------------------------------------------------------------------------------


async def create_book(
    *,
    title: Mapping[str, str],
    blurb: Mapping[str, str],
    tags: Sequence[str],
    categories: Sequence[str],
    languages: Sequence[str],
    created_by: int,
    session: AsyncSession,
) -> Book:
    """Add a book (not yet linked, so not yet listed). ValueError for anything invalid.

    Title and blurb need Thai and English (≤ 100 and ≤ 300 characters); 1–8 tags, lower-cased,
    of `[a-z0-9-]` or Thai letters; ≥ 1 known need category; ≥ 1 language code. Audited as
    "library.book.created".
    """
    checked_title = _checked_bilingual("title", title, TITLE_MAX_LENGTH)
    checked_blurb = _checked_bilingual("blurb", blurb, BLURB_MAX_LENGTH)
    checked_tags = _checked_tags(tags)
    checked_languages = _checked_book_languages(languages)
    checked_categories = await _checked_categories(categories, session)
    now = clock.now()
    book = LibraryBook(
        title=checked_title,
        blurb=checked_blurb,
        tags=checked_tags,
        languages=checked_languages,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(book)
    await session.flush()
    assert book.id is not None
    for key in checked_categories:
        session.add(LibraryBookCategory(book_id=book.id, category_key=key, created_at=now))
    await session.flush()
    await audit.record(
        "library.book.created",
        actor=audit.actor_for(created_by),
        target=_book_target(book.id),
        detail={
            "tags": checked_tags,
            "categories": checked_categories,
            "languages": checked_languages,
        },
        session=session,
    )
    return _book_view(book, checked_categories)


async def update_book(
    book_id: int,
    *,
    title: Mapping[str, str] | None = None,
    blurb: Mapping[str, str] | None = None,
    tags: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    by: int,
    session: AsyncSession,
) -> Book:
    """Change what is given (same rules as `create_book`); UnknownBook, BookRetired.

    A new title also retitles the reminders of its upcoming loans. Audited as
    "library.book.updated" with the names of the fields that changed.
    """
    book = await _require_book(book_id, session)
    if book.retired_at is not None:
        raise BookRetired(book_id)
    current_categories = (await _categories_of([book_id], session)).get(book_id, [])
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = _checked_bilingual("title", title, TITLE_MAX_LENGTH)
    if blurb is not None:
        changes["blurb"] = _checked_bilingual("blurb", blurb, BLURB_MAX_LENGTH)
    if tags is not None:
        changes["tags"] = _checked_tags(tags)
    if languages is not None:
        changes["languages"] = _checked_book_languages(languages)
    new_categories = current_categories
    if categories is not None:
        new_categories = await _checked_categories(categories, session)
    changed = [name for name, value in changes.items() if getattr(book, name) != value]
    if set(new_categories) != set(current_categories):
        changed.append("categories")
    if not changed:
        return _book_view(book, current_categories)
    now = clock.now()
    for name in changed:
        if name != "categories":
            setattr(book, name, changes[name])
    book.updated_at = now
    session.add(book)
    if "categories" in changed:
        existing = (
            await session.exec(
                select(LibraryBookCategory).where(col(LibraryBookCategory.book_id) == book_id)
            )
        ).all()
        for row in existing:
            if row.category_key not in new_categories:
                await session.delete(row)
        for key in new_categories:
            if key not in current_categories:
                session.add(LibraryBookCategory(book_id=book_id, category_key=key, created_at=now))
    await session.flush()
    if "title" in changed:
        await _retitle_loans(book, session)
    await audit.record(
        "library.book.updated",
        actor=audit.actor_for(by),
        target=_book_target(book_id),
        detail={"fields": sorted(changed)},
        session=session,
    )
    return _book_view(book, new_categories)


async def retire_book(book_id: int, *, by: int, session: AsyncSession) -> list[Reservation]:
    """Retire the book: it is no longer listed, linked or schedulable. UnknownBook.

    Its upcoming reservations (reserved or waitlisted, at every event) are released; they are
    returned, the readers to tell. Retiring twice returns []. Audited as "library.book.retired".
    """
    book = await _require_book(book_id, session)
    if book.retired_at is not None:
        return []

    async def attempt() -> list[LibraryReservation]:
        # Lock every (event, this book) row, in id order like every multi-row lock here, so no
        # reservation slips in between the check and the release.
        await session.exec(
            select(LibraryEventBook)
            .where(col(LibraryEventBook.book_id) == book_id)
            .order_by(col(LibraryEventBook.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        fresh = await _fresh(LibraryBook, book_id, session)
        assert fresh is not None
        if fresh.retired_at is not None:
            return []
        now = clock.now()
        fresh.retired_at = now
        fresh.updated_at = now
        # A pending link code dies with the book.
        fresh.link_code_hash = None
        fresh.link_expires_at = None
        session.add(fresh)
        rows = await _active_rows(session, book_id=book_id)
        released = await _release(rows, now, session)
        await audit.record(
            "library.book.retired",
            actor=audit.actor_for(by),
            target=_book_target(book_id),
            detail={"released": len(released)},
            session=session,
        )
        return released

    return await _views(await _retrying(session, attempt), session)


async def issue_book_link(
    book_id: int, *, by: int, ttl: timedelta = DEFAULT_LINK_TTL, session: AsyncSession
) -> str:
    """A fresh one-time code for the book to link itself (`book-<code>` deep link).

    20 characters of `[A-Za-z0-9_-]`; only its SHA-256 is stored, and any earlier code stops
    working. UnknownBook, BookRetired; ValueError for a ttl that is not positive. Audited as
    "library.book.link_issued" (without the code).
    """
    if ttl <= timedelta(0):
        raise ValueError("a link's ttl must be positive")
    book = await _require_book(book_id, session)
    if book.retired_at is not None:
        raise BookRetired(book_id)
    code = secrets.token_urlsafe(15)  # 15 random bytes: exactly 20 URL-safe characters
    now = clock.now()
    book.link_code_hash = _hash_code(code)
    book.link_expires_at = now + ttl
    book.link_used_at = None
    book.updated_at = now
    session.add(book)
    await session.flush()
    await audit.record(
        "library.book.link_issued",
        actor=audit.actor_for(by),
        target=_book_target(book_id),
        detail={"expires_at": book.link_expires_at.isoformat()},
        session=session,
    )
    return code


async def check_book_link(code: str, *, session: AsyncSession) -> Book:
    """The book this code would link, to show it before the person agrees; changes nothing.

    Raises BookLinkUnknown, BookLinkUsed or BookLinkExpired (checked in that order).
    """
    book = await _book_by_code(code, session)
    _raise_unless_linkable(book, clock.now())
    return await _book_view_of(book, session)


async def link_book(code: str, telegram_user_id: int, *, session: AsyncSession) -> Book:
    """Use the code: link this Telegram account to the book and record its consent to be listed.

    One-time and expiring: raises what `check_book_link` raises. Race-safe: of two concurrent
    uses exactly one wins. Audited as "library.book.linked".
    """
    book = await _book_by_code(code, session)
    now = clock.now()
    _raise_unless_linkable(book, now)
    assert book.id is not None
    # A conditional UPDATE, not read-then-write: a concurrent winner makes this one match nothing.
    claim = (
        update(LibraryBook)
        .where(
            col(LibraryBook.id) == book.id,
            col(LibraryBook.link_code_hash) == book.link_code_hash,
            col(LibraryBook.link_used_at).is_(None),
            col(LibraryBook.link_expires_at) > now,
            col(LibraryBook.retired_at).is_(None),
        )
        .values(
            telegram_user_id=telegram_user_id,
            linked_at=now,
            consented_at=now,
            link_used_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = (await session.exec(claim)).rowcount == 1
    await session.refresh(book)
    if not claimed:
        _raise_unless_linkable(book, now)
        raise BookLinkUsed(book.id)  # not reached: the row exists, so it was used or expired
    await audit.record(
        "library.book.linked",
        actor=audit.actor_for(telegram_user_id),
        target=_book_target(book.id),
        detail={"consent": "listed"},
        session=session,
    )
    return await _book_view_of(book, session)


async def books(
    *,
    include_retired: bool = False,
    tag: str | None = None,
    language: str | None = None,
    listed_only: bool = False,
    session: AsyncSession,
) -> list[Book]:
    """Books in the order they were added; filtered by a tag and/or a language when given.

    `listed_only`: only books readers may see (consented, not retired).
    """
    statement = select(LibraryBook).order_by(col(LibraryBook.id))
    if not include_retired or listed_only:
        statement = statement.where(col(LibraryBook.retired_at).is_(None))
    if listed_only:
        statement = statement.where(col(LibraryBook.consented_at).is_not(None))
    rows = [b for b in (await session.exec(statement)).all() if _matches(b, tag, language)]
    categories = await _categories_of([b.id for b in rows if b.id is not None], session)
    return [_book_view(b, categories.get(_id(b), [])) for b in rows]


async def get_book(book_id: int, *, session: AsyncSession) -> Book | None:
    """The book, retired or not, or None."""
    book = await session.get(LibraryBook, book_id)
    return None if book is None else await _book_view_of(book, session)


# --- events --------------------------------------------------------------------------------


async def create_event(
    *,
    starts_at: datetime,
    place_text: str,
    latitude: float | None = None,
    longitude: float | None = None,
    loan_minutes: int = 30,
    readers_per_loan: int = 1,
    slots_per_book: int,
    break_minutes: int = 0,
    book_ids: Sequence[int],
    created_by: int,
    session: AsyncSession,
) -> LibraryEvent:
    """Schedule a library event offering these books; its creator becomes a facilitator.

    ValueError for a start that is naive or not in the future, an empty or long place, half a
    location, or loan 10–120 min, readers 1–3, slots 1–12, break 0–60 min broken; UnknownBook,
    BookRetired. Audited as "library.event.created".
    """
    start = _aware("starts_at", starts_at)
    now = clock.now()
    if start <= now:
        raise ValueError("a library event must start in the future")
    place = place_text.strip() if isinstance(place_text, str) else ""
    if not place:
        raise ValueError("place_text is required")
    if len(place) > PLACE_MAX_LENGTH:
        raise ValueError(f"place_text is longer than {PLACE_MAX_LENGTH} characters")
    lat, lon = _checked_location(latitude, longitude)
    _check_range("loan_minutes", loan_minutes, LOAN_MINUTES)
    _check_range("readers_per_loan", readers_per_loan, READERS_PER_LOAN)
    _check_range("slots_per_book", slots_per_book, SLOTS_PER_BOOK)
    _check_range("break_minutes", break_minutes, BREAK_MINUTES)
    unique_ids = list(dict.fromkeys(book_ids))
    if not unique_ids:
        raise ValueError("a library event needs at least one book")
    for book_id in unique_ids:
        book = await _require_book(book_id, session)
        if book.retired_at is not None:
            raise BookRetired(book_id)
    event = LibraryEvent(
        starts_at=start,
        place_text=place,
        latitude=lat,
        longitude=lon,
        loan_minutes=loan_minutes,
        readers_per_loan=readers_per_loan,
        slots_per_book=slots_per_book,
        break_minutes=break_minutes,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    await session.flush()
    assert event.id is not None
    for book_id in unique_ids:
        session.add(LibraryEventBook(event_id=event.id, book_id=book_id, created_at=now))
    session.add(
        LibraryEventFacilitator(event_id=event.id, telegram_user_id=created_by, created_at=now)
    )
    await session.flush()
    await audit.record(
        "library.event.created",
        actor=audit.actor_for(created_by),
        target=_event_target(event.id),
        detail={"starts_at": start.isoformat(), "books": unique_ids, "slots": slots_per_book},
        session=session,
    )
    return event


async def add_facilitator(
    event_id: int, telegram_user_id: int, *, by: int, session: AsyncSession
) -> bool:
    """Make this person a facilitator of the event; False if they already were.

    UnknownLibraryEvent. Audited as "library.event.facilitator_added" when it changes.
    """
    await _require_event(event_id, session)
    statement = insert_ignoring_conflicts(
        session, SQLModel.metadata.tables["library_event_facilitators"], _FACILITATOR_KEY
    ).values(event_id=event_id, telegram_user_id=telegram_user_id, created_at=clock.now())
    added = (await session.exec(statement)).rowcount == 1
    if added:
        await audit.record(
            "library.event.facilitator_added",
            actor=audit.actor_for(by),
            target=_event_target(event_id),
            detail={"facilitator": audit.actor_for(telegram_user_id)},
            session=session,
        )
    return added


async def event_facilitators(event_id: int, *, session: AsyncSession) -> list[int]:
    """Telegram ids of the event's facilitators, in the order they were added."""
    statement = (
        select(col(LibraryEventFacilitator.telegram_user_id))
        .where(col(LibraryEventFacilitator.event_id) == event_id)
        .order_by(col(LibraryEventFacilitator.id))
    )
    return list((await session.exec(statement)).all())


async def is_facilitator(event_id: int, telegram_user_id: int, *, session: AsyncSession) -> bool:
    """True if this person facilitates the event."""
    return telegram_user_id in await event_facilitators(event_id, session=session)


async def cancel_event(event_id: int, *, by: int, session: AsyncSession) -> list[Reservation]:
    """Cancel the event; its upcoming reservations, reserved and waitlisted, are released.

    Returns them (everyone to tell); cancelling twice returns []. UnknownLibraryEvent. Audited
    as "library.event.cancelled".
    """
    await _require_event(event_id, session)

    async def attempt() -> list[LibraryReservation]:
        # The same row locks as `reserve` takes, so no reservation is made meanwhile.
        await session.exec(
            select(LibraryEventBook)
            .where(col(LibraryEventBook.event_id) == event_id)
            .order_by(col(LibraryEventBook.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        event = await _fresh(LibraryEvent, event_id, session)
        assert event is not None
        if event.cancelled_at is not None:
            return []
        now = clock.now()
        event.cancelled_at = now
        event.updated_at = now
        session.add(event)
        released = await _release(await _active_rows(session, event_id=event_id), now, session)
        await audit.record(
            "library.event.cancelled",
            actor=audit.actor_for(by),
            target=_event_target(event_id),
            detail={"released": len(released)},
            session=session,
        )
        return released

    return await _views(await _retrying(session, attempt), session)


async def withdraw_book(
    event_id: int, book_id: int, *, by: int, session: AsyncSession
) -> list[Reservation]:
    """Withdraw a book from one event; its upcoming reservations there are released.

    Returns them (readers to tell); withdrawing twice returns []. UnknownLibraryEvent,
    UnknownBook (also when the book is not at that event). Audited as
    "library.event.book_withdrawn".
    """
    await _require_event(event_id, session)

    async def attempt() -> list[LibraryReservation]:
        link = await _lock_event_book(event_id, book_id, session)
        if link is None:
            raise UnknownBook(book_id)
        if link.withdrawn_at is not None:
            return []
        now = clock.now()
        link.withdrawn_at = now
        session.add(link)
        rows = await _active_rows(session, event_id=event_id, book_id=book_id)
        released = await _release(rows, now, session)
        await audit.record(
            "library.event.book_withdrawn",
            actor=audit.actor_for(by),
            target=_event_target(event_id),
            detail={"book_id": book_id, "released": len(released)},
            session=session,
        )
        return released

    return await _views(await _retrying(session, attempt), session)


async def upcoming_events(*, now: datetime, session: AsyncSession) -> list[EventView]:
    """Events not cancelled whose last slot has not ended at `now`, soonest first."""
    moment = _aware("now", now)
    statement = (
        select(LibraryEvent)
        .where(
            col(LibraryEvent.cancelled_at).is_(None),
            col(LibraryEvent.starts_at) > moment - _LONGEST_EVENT,
        )
        .order_by(col(LibraryEvent.starts_at), col(LibraryEvent.id))
    )
    events = [e for e in (await session.exec(statement)).all() if event_ends_at(e) > moment]
    return await _event_views(events, moment, session)


async def event_view(event_id: int, *, session: AsyncSession) -> EventView | None:
    """The event (cancelled or not) as a view, or None."""
    event = await session.get(LibraryEvent, event_id)
    if event is None:
        return None
    return (await _event_views([event], clock.now(), session))[0]


async def event_books(
    event_id: int,
    *,
    tag: str | None = None,
    language: str | None = None,
    include_unlisted: bool = False,
    session: AsyncSession,
) -> list[BookAtEvent]:
    """The books at an event with their slots, free seats and waitlist length.

    Only what readers may reserve (listed books, not withdrawn) unless `include_unlisted`
    (facilitators). Filtered by a tag and/or a language when given. UnknownLibraryEvent.
    """
    event = await _require_event(event_id, session)
    statement = (
        select(LibraryEventBook, LibraryBook)
        .join(LibraryBook, col(LibraryBook.id) == col(LibraryEventBook.book_id))
        .where(col(LibraryEventBook.event_id) == event_id)
        .order_by(col(LibraryEventBook.id))
    )
    pairs = [
        (link, book)
        for link, book in (await session.exec(statement)).all()
        if _matches(book, tag, language)
    ]
    categories = await _categories_of([_id(book) for _, book in pairs], session)
    taken = await _taken_counts([event_id], session)
    waiting = await _waitlist_counts(event_id, session)
    now = clock.now()
    result: list[BookAtEvent] = []
    for link, book in pairs:
        at_event = BookAtEvent(
            event_id=event_id,
            book=_book_view(book, categories.get(_id(book), [])),
            withdrawn_at=link.withdrawn_at,
            slots=_slot_views(event, taken.get((event_id, _id(book)), {}), now),
            waitlist=waiting.get(_id(book), 0),
        )
        if include_unlisted or at_event.listed:
            result.append(at_event)
    return result


async def slots(
    event: LibraryEvent | int, book_id: int, *, session: AsyncSession
) -> list[SlotView]:
    """The slots of a book at an event (the event or its id), with seats taken and free.

    UnknownLibraryEvent; UnknownBook when the book is not at that event.
    """
    if isinstance(event, int):
        event = await _require_event(event, session)
    event_id = _id(event)
    link = (
        await session.exec(
            select(LibraryEventBook).where(
                col(LibraryEventBook.event_id) == event_id,
                col(LibraryEventBook.book_id) == book_id,
            )
        )
    ).first()
    if link is None:
        raise UnknownBook(book_id)
    taken = await _taken_counts([event_id], session)
    return list(_slot_views(event, taken.get((event_id, book_id), {}), clock.now()))


# --- reservations --------------------------------------------------------------------------


async def reserve(
    event_id: int,
    book_id: int,
    telegram_user_id: int,
    *,
    reader_name: str,
    language: str,
    press_order: int,
    slot_index: int | None = None,
    session: AsyncSession,
) -> Reservation:
    """Reserve a seat for a registered reader who consented to the human library.

    `slot_index` None: the first free slot not yet begun that does not overlap the reader's
    other loans; when no slot is free the reader is waitlisted (by `press_order`). Raises
    UnknownLibraryEvent, UnknownBook, NotRegistered, ConsentRequired, ValueError (bad slot
    index or name), and ReservationRefused: cancelled, retired, withdrawn (also: the book has
    not consented yet), past, barred, duplicate, and for a named slot full or overlap; with no
    slot named, overlap when every free slot overlaps. Audited as "library.reservation.reserved"
    or "library.reservation.waitlisted". The reader's name is cut to 128 characters.
    """
    name = _checked_reader_name(reader_name)
    reader_language = _checked_language(language)
    if isinstance(press_order, bool) or not isinstance(press_order, int):
        raise ValueError("press_order must be an integer (the update_id)")
    if slot_index is not None and (
        isinstance(slot_index, bool) or not isinstance(slot_index, int) or slot_index < 0
    ):
        raise ValueError("slot_index must be a non-negative integer")

    async def attempt() -> LibraryReservation:
        return await _reserve_once(
            event_id,
            book_id,
            telegram_user_id,
            reader_name=name,
            language=reader_language,
            press_order=press_order,
            slot_index=slot_index,
            session=session,
        )

    row = await _retrying(session, attempt)
    return (await _views([row], session))[0]


async def cancel_reservation(
    reservation_id: int, telegram_user_id: int, *, session: AsyncSession
) -> Promotion | None:
    """The reader cancels their own reservation; a freed seat goes to the waitlist.

    The seat goes to the first waitlisted reader (by press order) whom it does not overlap and
    who is not barred; that promotion is returned, to tell them. Cancelling again returns None.
    UnknownReservation, NotYourReservation. Audited as "library.reservation.cancelled" (and
    "library.reservation.promoted").
    """
    row = await _fresh(LibraryReservation, reservation_id, session)
    if row is None:
        raise UnknownReservation(reservation_id)
    if row.telegram_user_id != telegram_user_id:
        raise NotYourReservation(reservation_id, telegram_user_id)
    event_id, book_id = row.event_id, row.book_id

    async def attempt() -> LibraryReservation | None:
        link = await _lock_event_book(event_id, book_id, session)
        current = await _fresh(LibraryReservation, reservation_id, session)
        assert current is not None and link is not None
        if not current.status.is_active:
            return None
        was_reserved = current.status is _RESERVED
        now = clock.now()
        current.status = ReservationStatus.cancelled
        current.cancelled_at = now
        current.updated_at = now
        session.add(current)
        await session.flush()
        if was_reserved:
            await _close_loan_event(current, session)
        await audit.record(
            "library.reservation.cancelled",
            actor=audit.actor_for(telegram_user_id),
            target=_reservation_target(reservation_id),
            detail={"event_id": event_id, "book_id": book_id, "was": _status_name(was_reserved)},
            session=session,
        )
        if not was_reserved:
            return None
        return await _promote_into(current, link, now, session)

    promoted = await _retrying(session, attempt)
    if promoted is None:
        return None
    return Promotion((await _views([promoted], session))[0])


async def get_reservation(reservation_id: int, *, session: AsyncSession) -> Reservation | None:
    """The reservation as a view, whatever its status, or None."""
    row = await session.get(LibraryReservation, reservation_id)
    return None if row is None else (await _views([row], session))[0]


async def my_loans(
    telegram_user_id: int, *, now: datetime, session: AsyncSession
) -> list[Reservation]:
    """The reader's upcoming reservations, reserved and waitlisted, soonest first.

    Reserved ones until their slot ends, waitlisted ones until the event ends; none at a
    cancelled event.
    """
    moment = _aware("now", now)
    statement = (
        select(LibraryReservation, LibraryEvent)
        .join(LibraryEvent, col(LibraryEvent.id) == col(LibraryReservation.event_id))
        .where(
            col(LibraryReservation.telegram_user_id) == telegram_user_id,
            col(LibraryReservation.status).in_(_ACTIVE),
            col(LibraryEvent.cancelled_at).is_(None),
            col(LibraryEvent.starts_at) > moment - _LONGEST_EVENT,
        )
    )
    rows = [
        row for row, event in (await session.exec(statement)).all() if _ends_at(row, event) > moment
    ]
    views = await _views(rows, session)
    return sorted(views, key=lambda v: (v.starts_at or v.event_starts_at, v.event_starts_at, v.id))


async def roster(event_id: int, *, facilitator_id: int, session: AsyncSession) -> list[RosterLine]:
    """Who reads which book when: reserved readers by book, slot and seat, then waitlists.

    Only for that event's facilitators (NotEventFacilitator). UnknownLibraryEvent.
    """
    await _require_event(event_id, session)
    if not await is_facilitator(event_id, facilitator_id, session=session):
        raise NotEventFacilitator("see the roster", facilitator_id)
    statement = (
        select(LibraryReservation)
        .where(
            col(LibraryReservation.event_id) == event_id,
            col(LibraryReservation.status).in_(_ACTIVE),
        )
        .order_by(col(LibraryReservation.book_id), col(LibraryReservation.id))
    )
    rows = list((await session.exec(statement)).all())
    views = await _views(rows, session)
    titles = {v.book_id: v.book_title for v in views}
    lines = [
        RosterLine(
            reservation_id=v.id,
            book_id=v.book_id,
            book_title=titles[v.book_id],
            status=v.status,
            slot_index=v.slot_index,
            seat=v.seat,
            starts_at=v.starts_at,
            ends_at=v.ends_at,
            waitlist_position=v.waitlist_position,
            reader_name=v.reader_name,
            stopped=v.stopped_at is not None,
        )
        for v in views
    ]
    return sorted(
        lines,
        key=lambda line: (
            line.book_id,
            line.status is not _RESERVED,
            line.slot_index if line.slot_index is not None else 0,
            line.seat if line.seat is not None else 0,
            line.waitlist_position or 0,
        ),
    )


async def stop_loan(reservation_id: int, *, by: int, session: AsyncSession) -> StopReport:
    """Safeguarding: stop a loan and bar the reader from that book.

    Only the linked book or a facilitator of the event may (LibraryAccessDenied). A loan not
    yet begun is released and its seat goes to the waitlist; its reminders stop. The reader's
    other upcoming reservations of this book are released too. Stopping again changes nothing.
    UnknownReservation. Audited as "library.loan.stopped".
    """
    row = await _fresh(LibraryReservation, reservation_id, session)
    if row is None:
        raise UnknownReservation(reservation_id)
    book = await _require_book(row.book_id, session)
    facilitators = await event_facilitators(row.event_id, session=session)
    if by != book.telegram_user_id and by not in facilitators:
        raise LibraryAccessDenied("stop this loan", by)
    reader = row.telegram_user_id
    event_id, book_id = row.event_id, row.book_id

    async def attempt() -> tuple[bool, list[LibraryReservation], list[LibraryReservation]]:
        # Every (event, this book) row in id order, then the reader: the ban must not race a
        # reservation of this book at another event (`reserve` checks bans under these locks).
        await session.exec(
            select(LibraryEventBook)
            .where(col(LibraryEventBook.book_id) == book_id)
            .order_by(col(LibraryEventBook.id))
            .with_for_update()
        )
        await _lock_reader(reader, session)
        link = await _lock_event_book(event_id, book_id, session)
        current = await _fresh(LibraryReservation, reservation_id, session)
        assert current is not None and link is not None
        now = clock.now()
        newly = current.stopped_at is None
        promoted: list[LibraryReservation] = []
        if newly:
            current.stopped_at = now
            current.stopped_by = by
            current.updated_at = now
            event = await _fresh(LibraryEvent, event_id, session)
            assert event is not None
            if current.status is _RESERVED and current.slot_index is not None:
                start, end = slot_times(event, current.slot_index)
                if end > now:
                    await _close_loan_event(current, session)
                if start > now:
                    current.status = ReservationStatus.released
                    session.add(current)
                    await session.flush()
                    freed = await _promote_into(current, link, now, session)
                    promoted.extend([freed] if freed is not None else [])
            elif current.status is _WAITLISTED:
                current.status = ReservationStatus.released
            session.add(current)
            await session.flush()
        ban = insert_ignoring_conflicts(session, _BANS, ["book_id", "telegram_user_id"]).values(
            book_id=book_id,
            telegram_user_id=reader,
            reservation_id=reservation_id,
            reported_by=by,
            created_at=now,
        )
        await session.exec(ban)
        # The ban covers the reader's other reservations of this book (at other events).
        others = [
            r
            for r in await _active_rows(session, book_id=book_id)
            if r.telegram_user_id == reader and r.id != reservation_id
        ]
        released: list[LibraryReservation] = []
        for other in sorted(others, key=lambda r: r.event_id):
            other_link = await _lock_event_book(other.event_id, book_id, session)
            again = await _fresh(LibraryReservation, _id(other), session)
            if other_link is None or again is None or not again.status.is_active:
                continue
            was_reserved = again.status is _RESERVED
            done = await _release([again], now, session)
            released.extend(done)
            if done and was_reserved:
                freed = await _promote_into(again, other_link, now, session)
                promoted.extend([freed] if freed is not None else [])
        if newly:
            await audit.record(
                "library.loan.stopped",
                actor=audit.actor_for(by),
                target=_reservation_target(reservation_id),
                detail={"book_id": book_id, "released": len(released)},
                session=session,
            )
        return newly, released, promoted

    newly, released, promoted = await _retrying(session, attempt)
    fresh = await _fresh(LibraryReservation, reservation_id, session)
    assert fresh is not None
    return StopReport(
        reservation=(await _views([fresh], session))[0],
        newly_stopped=newly,
        book_telegram_user_id=book.telegram_user_id,
        facilitator_ids=tuple(f for f in facilitators if f != by),
        released=tuple(await _views(released, session)),
        promotions=tuple(Promotion(v) for v in await _views(promoted, session)),
    )


# --- feedback ------------------------------------------------------------------------------


async def loans_needing_feedback(
    *, now: datetime, max_age: timedelta = FEEDBACK_MAX_AGE, session: AsyncSession
) -> list[FeedbackDue]:
    """Loans that ended (within `max_age` before `now`), were not stopped and not yet asked.

    Oldest end first. Events cancelled meanwhile are left out.
    """
    moment = _aware("now", now)
    oldest = moment - max_age
    statement = (
        select(LibraryReservation, LibraryEvent, LibraryBook)
        .join(LibraryEvent, col(LibraryEvent.id) == col(LibraryReservation.event_id))
        .join(LibraryBook, col(LibraryBook.id) == col(LibraryReservation.book_id))
        .where(
            col(LibraryReservation.status) == _RESERVED,
            col(LibraryReservation.stopped_at).is_(None),
            col(LibraryReservation.feedback_asked_at).is_(None),
            col(LibraryEvent.cancelled_at).is_(None),
            col(LibraryEvent.starts_at) <= moment,
            col(LibraryEvent.starts_at) > oldest - _LONGEST_EVENT,
        )
    )
    due: list[FeedbackDue] = []
    for row, event, book in (await session.exec(statement)).all():
        ends_at = _ends_at(row, event)
        if oldest < ends_at <= moment:
            due.append(
                FeedbackDue(
                    reservation_id=_id(row),
                    event_id=row.event_id,
                    book_id=row.book_id,
                    book_title=dict(book.title),
                    telegram_user_id=row.telegram_user_id,
                    language=row.language,
                    ends_at=ends_at,
                )
            )
    return sorted(due, key=lambda d: (d.ends_at, d.reservation_id))


async def mark_feedback_asked(reservation_id: int, *, session: AsyncSession) -> bool:
    """Note that the reader was asked; False if already noted (so only one asker sends).

    UnknownReservation.
    """
    claim = (
        update(LibraryReservation)
        .where(
            col(LibraryReservation.id) == reservation_id,
            col(LibraryReservation.feedback_asked_at).is_(None),
        )
        .values(feedback_asked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if (await session.exec(claim)).rowcount == 1:
        return True
    if await session.get(LibraryReservation, reservation_id) is None:
        raise UnknownReservation(reservation_id)
    return False


async def record_feedback_poll(poll_id: str, reservation_id: int, *, session: AsyncSession) -> None:
    """Remember that rating poll `poll_id` asks about this loan (again: nothing changes).

    UnknownReservation; ValueError for an empty or long poll id.
    """
    if not poll_id or len(poll_id) > POLL_ID_MAX_LENGTH:
        raise ValueError(f"a poll id has 1–{POLL_ID_MAX_LENGTH} characters")
    if await session.get(LibraryReservation, reservation_id) is None:
        raise UnknownReservation(reservation_id)
    statement = insert_ignoring_conflicts(session, _FEEDBACK_POLLS, ["poll_id"]).values(
        poll_id=poll_id, reservation_id=reservation_id, created_at=clock.now()
    )
    await session.exec(statement)


async def record_rating(
    poll_id: str, telegram_user_id: int, rating: int | None, *, session: AsyncSession
) -> bool:
    """Store the reader's 1–5 rating from a feedback poll (None: the vote was retracted).

    False (nothing stored) for a poll that is not a feedback poll or a voter who is not that
    loan's reader. ValueError for a rating outside 1–5. Audited as "library.feedback.rated".
    """
    if rating is not None and (isinstance(rating, bool) or rating not in range(1, 6)):
        raise ValueError("a rating is 1 to 5")
    statement = (
        select(LibraryReservation)
        .join(
            LibraryFeedbackPoll,
            col(LibraryFeedbackPoll.reservation_id) == col(LibraryReservation.id),
        )
        .where(col(LibraryFeedbackPoll.poll_id) == poll_id)
    )
    row = (await session.exec(statement)).first()
    if row is None or row.telegram_user_id != telegram_user_id:
        return False
    if row.feedback_rating != rating:
        row.feedback_rating = rating
        row.updated_at = clock.now()
        session.add(row)
        await session.flush()
        await audit.record(
            "library.feedback.rated",
            actor=audit.actor_for(telegram_user_id),
            target=_reservation_target(_id(row)),
            detail={"rating": rating},
            session=session,
        )
    return True


async def record_feedback_text(
    reservation_id: int,
    telegram_user_id: int,
    text: str,
    language: str,
    *,
    session: AsyncSession,
) -> None:
    """Store the reader's own words about the loan, with their detected language.

    Replaces earlier text. UnknownReservation, NotYourReservation; ValueError for empty or
    over 1000 characters; UnsupportedLanguage outside th, en, ms, und. Audited as
    "library.feedback.text" (without the text).
    """
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned:
        raise ValueError("feedback text is empty")
    if len(cleaned) > FEEDBACK_TEXT_MAX_LENGTH:
        raise ValueError(f"feedback text is longer than {FEEDBACK_TEXT_MAX_LENGTH} characters")
    if language not in FEEDBACK_LANGUAGES:
        raise UnsupportedLanguage(f"feedback languages are {FEEDBACK_LANGUAGES}, not {language!r}")
    row = await session.get(LibraryReservation, reservation_id)
    if row is None:
        raise UnknownReservation(reservation_id)
    if row.telegram_user_id != telegram_user_id:
        raise NotYourReservation(reservation_id, telegram_user_id)
    row.feedback_text = cleaned
    row.feedback_language = language
    row.updated_at = clock.now()
    session.add(row)
    await session.flush()
    await audit.record(
        "library.feedback.text",
        actor=audit.actor_for(telegram_user_id),
        target=_reservation_target(reservation_id),
        detail={"language": language},
        session=session,
    )


async def feedback_summary(event_id: int, *, session: AsyncSession) -> FeedbackSummary:
    """The event's feedback: ratings count, mean, histogram 1–5, and texts oldest first.

    `asked`: how many readers were asked. No names or ids. UnknownLibraryEvent.
    """
    await _require_event(event_id, session)
    statement = (
        select(LibraryReservation)
        .where(col(LibraryReservation.event_id) == event_id)
        .order_by(col(LibraryReservation.id))
    )
    rows = (await session.exec(statement)).all()
    ratings = [r.feedback_rating for r in rows if r.feedback_rating is not None]
    counts = Counter(ratings)
    return FeedbackSummary(
        event_id=event_id,
        asked=sum(1 for r in rows if r.feedback_asked_at is not None),
        count=len(ratings),
        mean_rating=sum(ratings) / len(ratings) if ratings else None,
        histogram={score: counts.get(score, 0) for score in range(1, 6)},
        texts=tuple(
            FeedbackText(book_id=r.book_id, text=r.feedback_text, language=r.feedback_language)
            for r in rows
            if r.feedback_text is not None and r.feedback_language is not None
        ),
    )


# --- reservation internals -----------------------------------------------------------------


async def _reserve_once(
    event_id: int,
    book_id: int,
    telegram_user_id: int,
    *,
    reader_name: str,
    language: str,
    press_order: int,
    slot_index: int | None,
    session: AsyncSession,
) -> LibraryReservation:
    # The (event, book) row first, then the reader: every path takes them in this order.
    link = await _lock_event_book(event_id, book_id, session)
    event = await _fresh(LibraryEvent, event_id, session)
    if event is None:
        raise UnknownLibraryEvent(event_id)
    book = await _fresh(LibraryBook, book_id, session)
    if book is None or link is None:
        raise UnknownBook(book_id)
    if not await _lock_reader(telegram_user_id, session):
        raise NotRegistered(telegram_user_id)
    if not await has_consent(telegram_user_id, Purpose.human_library, session=session):
        raise ConsentRequired(telegram_user_id, purpose=Purpose.human_library.value)

    now = clock.now()
    if event.cancelled_at is not None:
        raise ReservationRefused("cancelled")
    if book.retired_at is not None:
        raise ReservationRefused("retired")
    if link.withdrawn_at is not None or book.consented_at is None:
        raise ReservationRefused("withdrawn")
    upcoming = [i for i in range(event.slots_per_book) if slot_times(event, i)[0] > now]
    if not upcoming:
        raise ReservationRefused("past")
    if await _is_barred(book_id, telegram_user_id, session):
        raise ReservationRefused("barred")
    duplicate = select(col(LibraryReservation.id)).where(
        col(LibraryReservation.event_id) == event_id,
        col(LibraryReservation.book_id) == book_id,
        col(LibraryReservation.telegram_user_id) == telegram_user_id,
        col(LibraryReservation.status).in_(_ACTIVE),
    )
    if (await session.exec(duplicate)).first() is not None:
        raise ReservationRefused("duplicate")

    seats = await _seats_taken(event_id, book_id, session)
    loans = await _reader_loans(telegram_user_id, session)
    capacity = event.readers_per_loan

    def overlaps(index: int) -> bool:
        start, end = slot_times(event, index)
        return any(start < other_end and other_start < end for other_start, other_end in loans)

    chosen: int | None
    if slot_index is not None:
        if slot_index >= event.slots_per_book:
            raise ValueError(f"the event has {event.slots_per_book} slots, not {slot_index + 1}")
        if slot_index not in upcoming:
            raise ReservationRefused("past")
        if len(seats.get(slot_index, ())) >= capacity:
            raise ReservationRefused("full")
        if overlaps(slot_index):
            raise ReservationRefused("overlap")
        chosen = slot_index
    else:
        free = [i for i in upcoming if len(seats.get(i, ())) < capacity]
        fitting = [i for i in free if not overlaps(i)]
        if free and not fitting:
            raise ReservationRefused("overlap")
        chosen = fitting[0] if fitting else None

    row = LibraryReservation(
        event_id=event_id,
        book_id=book_id,
        telegram_user_id=telegram_user_id,
        reader_name=reader_name,
        language=language,
        status=_WAITLISTED if chosen is None else _RESERVED,
        slot_index=chosen,
        seat=None if chosen is None else _first_free_seat(seats.get(chosen, ()), capacity),
        press_order=press_order,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    if chosen is not None:
        await _open_loan_event(row, event, book, session)
    await audit.record(
        f"library.reservation.{row.status.value}",
        actor=audit.actor_for(telegram_user_id),
        target=_reservation_target(_id(row)),
        detail={"event_id": event_id, "book_id": book_id, "slot": chosen},
        session=session,
    )
    return row


async def _promote_into(
    freed: LibraryReservation, link: LibraryEventBook, now: datetime, session: AsyncSession
) -> LibraryReservation | None:
    """Give the seat `freed` held to the first waitlisted reader it fits; the caller holds the
    (event, book) lock. Nothing when the slot has begun or the book is no longer offered."""
    if freed.slot_index is None or freed.seat is None or link.withdrawn_at is not None:
        return None
    event = await _fresh(LibraryEvent, freed.event_id, session)
    book = await _fresh(LibraryBook, freed.book_id, session)
    assert event is not None and book is not None
    if event.cancelled_at is not None or book.retired_at is not None:
        return None
    start, end = slot_times(event, freed.slot_index)
    if start <= now:
        return None
    waiting = (
        await session.exec(
            select(LibraryReservation)
            .where(
                col(LibraryReservation.event_id) == freed.event_id,
                col(LibraryReservation.book_id) == freed.book_id,
                col(LibraryReservation.status) == _WAITLISTED,
            )
            .order_by(col(LibraryReservation.press_order), col(LibraryReservation.id))
            .execution_options(populate_existing=True)
        )
    ).all()
    for candidate in waiting:
        if await _is_barred(freed.book_id, candidate.telegram_user_id, session):
            continue
        # Lock the candidate like `reserve` locks a reader, so their loans cannot change now.
        await _lock_reader(candidate.telegram_user_id, session)
        loans = await _reader_loans(candidate.telegram_user_id, session)
        if any(start < other_end and other_start < end for other_start, other_end in loans):
            continue
        candidate.status = _RESERVED
        candidate.slot_index = freed.slot_index
        candidate.seat = freed.seat
        candidate.updated_at = now
        session.add(candidate)
        await session.flush()
        await _open_loan_event(candidate, event, book, session)
        await audit.record(
            "library.reservation.promoted",
            actor=audit.SYSTEM,
            target=_reservation_target(_id(candidate)),
            detail={"event_id": freed.event_id, "book_id": freed.book_id, "slot": freed.slot_index},
            session=session,
        )
        return candidate
    return None


async def _release(
    rows: Iterable[LibraryReservation], now: datetime, session: AsyncSession
) -> list[LibraryReservation]:
    """Release the upcoming ones of these active reservations (the library ends them)."""
    rows = list(rows)
    events = {
        _id(e): e
        for e in (
            await session.exec(
                select(LibraryEvent).where(
                    col(LibraryEvent.id).in_(sorted({r.event_id for r in rows}))
                )
            )
        ).all()
    }
    released: list[LibraryReservation] = []
    for row in rows:
        event = events[row.event_id]
        if not row.status.is_active or not _is_upcoming(row, event, now):
            continue
        was_reserved = row.status is _RESERVED
        row.status = ReservationStatus.released
        row.updated_at = now
        session.add(row)
        if was_reserved:
            await _close_loan_event(row, session)
        released.append(row)
    await session.flush()
    return released


async def _retrying(session: AsyncSession, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in a savepoint; retry it on a transient lock or serialisation error."""
    attempt = 0
    while True:
        attempt += 1
        try:
            async with session.begin_nested():
                return await work()
        except DBAPIError as exc:
            if attempt >= _ATTEMPTS or not _is_transient(exc):
                raise
            log.info(
                "library: transient database error (%s), retrying (attempt %d)",
                getattr(exc.orig, "sqlstate", None) or type(exc).__name__,
                attempt,
            )
        # Jittered back-off so that colliding transactions do not collide again.
        await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)


def _is_transient(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        # A unique index caught a race the row locks should have prevented; a retry re-reads
        # and either succeeds or refuses properly.
        return True
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


async def _lock_event_book(
    event_id: int, book_id: int, session: AsyncSession
) -> LibraryEventBook | None:
    statement = (
        select(LibraryEventBook)
        .where(
            col(LibraryEventBook.event_id) == event_id,
            col(LibraryEventBook.book_id) == book_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


async def _lock_reader(telegram_user_id: int, session: AsyncSession) -> bool:
    """Lock the reader's citizens row; False if they are not registered.

    FOR NO KEY UPDATE: it serialises this reader's reservations just as FOR UPDATE would, but
    does not hold up rows being inserted elsewhere that refer to the citizen (survey answers).
    """
    statement = (
        select(col(Citizen.id))
        .where(col(Citizen.telegram_user_id) == telegram_user_id)
        .with_for_update(key_share=True)
    )
    return (await session.exec(statement)).first() is not None


async def _seats_taken(event_id: int, book_id: int, session: AsyncSession) -> dict[int, set[int]]:
    statement = select(col(LibraryReservation.slot_index), col(LibraryReservation.seat)).where(
        col(LibraryReservation.event_id) == event_id,
        col(LibraryReservation.book_id) == book_id,
        col(LibraryReservation.status) == _RESERVED,
    )
    taken: dict[int, set[int]] = defaultdict(set)
    for slot, seat in (await session.exec(statement)).all():
        if slot is not None and seat is not None:
            taken[slot].add(seat)
    return taken


def _first_free_seat(taken: Iterable[int], capacity: int) -> int:
    return min(set(range(capacity)) - set(taken))


async def _reader_loans(
    telegram_user_id: int, session: AsyncSession
) -> list[tuple[datetime, datetime]]:
    """The times of the reader's reserved loans at events not cancelled (any event)."""
    statement = (
        select(col(LibraryReservation.slot_index), LibraryEvent)
        .join(LibraryEvent, col(LibraryEvent.id) == col(LibraryReservation.event_id))
        .where(
            col(LibraryReservation.telegram_user_id) == telegram_user_id,
            col(LibraryReservation.status) == _RESERVED,
            col(LibraryEvent.cancelled_at).is_(None),
        )
        .execution_options(populate_existing=True)
    )
    return [
        slot_times(event, slot)
        for slot, event in (await session.exec(statement)).all()
        if slot is not None
    ]


async def _is_barred(book_id: int, telegram_user_id: int, session: AsyncSession) -> bool:
    statement = select(col(LibraryBan.id)).where(
        col(LibraryBan.book_id) == book_id, col(LibraryBan.telegram_user_id) == telegram_user_id
    )
    return (await session.exec(statement)).first() is not None


async def _active_rows(
    session: AsyncSession, *, event_id: int | None = None, book_id: int | None = None
) -> list[LibraryReservation]:
    statement = select(LibraryReservation).where(col(LibraryReservation.status).in_(_ACTIVE))
    if event_id is not None:
        statement = statement.where(col(LibraryReservation.event_id) == event_id)
    if book_id is not None:
        statement = statement.where(col(LibraryReservation.book_id) == book_id)
    statement = statement.order_by(col(LibraryReservation.id)).execution_options(
        populate_existing=True
    )
    return list((await session.exec(statement)).all())


def _is_upcoming(row: LibraryReservation, event: LibraryEvent, now: datetime) -> bool:
    if row.status is _RESERVED and row.slot_index is not None:
        return slot_times(event, row.slot_index)[0] > now
    return event_ends_at(event) > now


def _ends_at(row: LibraryReservation, event: LibraryEvent) -> datetime:
    if row.slot_index is not None:
        return slot_times(event, row.slot_index)[1]
    return event_ends_at(event)


async def _open_loan_event(
    row: LibraryReservation, event: LibraryEvent, book: LibraryBook, session: AsyncSession
) -> None:
    """Mirror a reserved loan as a scheduled event with the reader attending (reminders)."""
    assert row.slot_index is not None
    scheduled = await reminders.upsert_event(
        LOAN_EVENT_KIND,
        loan_ref(_id(row)),
        title=dict(book.title),
        place={language: event.place_text for language in LANGUAGES},
        starts_at=slot_times(event, row.slot_index)[0],
        reopen=True,
        session=session,
    )
    await reminders.add_attendee(_id(scheduled), row.telegram_user_id, session=session)


async def _close_loan_event(row: LibraryReservation, session: AsyncSession) -> None:
    await reminders.cancel_event(LOAN_EVENT_KIND, loan_ref(_id(row)), session=session)


async def _retitle_loans(book: LibraryBook, session: AsyncSession) -> None:
    statement = (
        select(LibraryReservation, LibraryEvent)
        .join(LibraryEvent, col(LibraryEvent.id) == col(LibraryReservation.event_id))
        .where(
            col(LibraryReservation.book_id) == _id(book),
            col(LibraryReservation.status) == _RESERVED,
            col(LibraryEvent.cancelled_at).is_(None),
        )
    )
    now = clock.now()
    for row, event in (await session.exec(statement)).all():
        if _is_upcoming(row, event, now):
            await _open_loan_event(row, event, book, session)


# --- views internals -----------------------------------------------------------------------


async def _views(rows: Sequence[LibraryReservation], session: AsyncSession) -> list[Reservation]:
    if not rows:
        return []
    events = {
        _id(e): e
        for e in (
            await session.exec(
                select(LibraryEvent).where(
                    col(LibraryEvent.id).in_(sorted({r.event_id for r in rows}))
                )
            )
        ).all()
    }
    book_rows = {
        _id(b): b
        for b in (
            await session.exec(
                select(LibraryBook).where(
                    col(LibraryBook.id).in_(sorted({r.book_id for r in rows}))
                )
            )
        ).all()
    }
    positions: dict[int, int] = {}
    for event_id, book_id in sorted(
        {(r.event_id, r.book_id) for r in rows if r.status is _WAITLISTED}
    ):
        statement = (
            select(col(LibraryReservation.id))
            .where(
                col(LibraryReservation.event_id) == event_id,
                col(LibraryReservation.book_id) == book_id,
                col(LibraryReservation.status) == _WAITLISTED,
            )
            .order_by(col(LibraryReservation.press_order), col(LibraryReservation.id))
        )
        ids = (await session.exec(statement)).all()
        positions.update({rid: n for n, rid in enumerate(ids, start=1) if rid is not None})
    views: list[Reservation] = []
    for row in rows:
        event = events[row.event_id]
        book = book_rows[row.book_id]
        times = slot_times(event, row.slot_index) if row.slot_index is not None else None
        views.append(
            Reservation(
                id=_id(row),
                event_id=row.event_id,
                book_id=row.book_id,
                book_title=dict(book.title),
                book_telegram_user_id=book.telegram_user_id,
                telegram_user_id=row.telegram_user_id,
                reader_name=row.reader_name,
                language=row.language,
                status=row.status,
                slot_index=row.slot_index,
                seat=row.seat,
                starts_at=None if times is None else times[0],
                ends_at=None if times is None else times[1],
                event_starts_at=event.starts_at,
                place_text=event.place_text,
                latitude=event.latitude,
                longitude=event.longitude,
                press_order=row.press_order,
                waitlist_position=positions.get(_id(row)) if row.status is _WAITLISTED else None,
                created_at=row.created_at,
                cancelled_at=row.cancelled_at,
                stopped_at=row.stopped_at,
            )
        )
    return views


async def _event_views(
    events: Sequence[LibraryEvent], now: datetime, session: AsyncSession
) -> list[EventView]:
    if not events:
        return []
    ids = [_id(e) for e in events]
    facilitators: dict[int, list[int]] = defaultdict(list)
    statement = (
        select(col(LibraryEventFacilitator.event_id), col(LibraryEventFacilitator.telegram_user_id))
        .where(col(LibraryEventFacilitator.event_id).in_(ids))
        .order_by(col(LibraryEventFacilitator.id))
    )
    for event_id, telegram_user_id in (await session.exec(statement)).all():
        facilitators[event_id].append(telegram_user_id)
    offered: dict[int, list[int]] = defaultdict(list)
    links = (
        select(col(LibraryEventBook.event_id), col(LibraryEventBook.book_id))
        .join(LibraryBook, col(LibraryBook.id) == col(LibraryEventBook.book_id))
        .where(
            col(LibraryEventBook.event_id).in_(ids),
            col(LibraryEventBook.withdrawn_at).is_(None),
            col(LibraryBook.retired_at).is_(None),
            col(LibraryBook.consented_at).is_not(None),
        )
        .order_by(col(LibraryEventBook.id))
    )
    for event_id, book_id in (await session.exec(links)).all():
        offered[event_id].append(book_id)
    taken = await _taken_counts(ids, session)
    views: list[EventView] = []
    for event in events:
        event_id = _id(event)
        free = sum(
            slot.seats_free
            for book_id in offered[event_id]
            for slot in _slot_views(event, taken.get((event_id, book_id), {}), now)
        )
        views.append(
            EventView(
                id=event_id,
                starts_at=event.starts_at,
                ends_at=event_ends_at(event),
                place_text=event.place_text,
                latitude=event.latitude,
                longitude=event.longitude,
                loan_minutes=event.loan_minutes,
                readers_per_loan=event.readers_per_loan,
                slots_per_book=event.slots_per_book,
                break_minutes=event.break_minutes,
                created_by=event.created_by,
                cancelled_at=event.cancelled_at,
                facilitator_ids=tuple(facilitators[event_id]),
                book_ids=tuple(offered[event_id]),
                seats_free=free,
            )
        )
    return views


async def _taken_counts(
    event_ids: Sequence[int], session: AsyncSession
) -> dict[tuple[int, int], dict[int, int]]:
    """Reserved seats per (event, book), per slot index."""
    statement = (
        select(
            col(LibraryReservation.event_id),
            col(LibraryReservation.book_id),
            col(LibraryReservation.slot_index),
            func.count(),
        )
        .where(
            col(LibraryReservation.event_id).in_(event_ids),
            col(LibraryReservation.status) == _RESERVED,
        )
        .group_by(
            col(LibraryReservation.event_id),
            col(LibraryReservation.book_id),
            col(LibraryReservation.slot_index),
        )
    )
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for event_id, book_id, slot, count in (await session.exec(statement)).all():
        if slot is not None:
            counts[(event_id, book_id)][slot] = count
    return counts


async def _waitlist_counts(event_id: int, session: AsyncSession) -> dict[int, int]:
    statement = (
        select(col(LibraryReservation.book_id), func.count())
        .where(
            col(LibraryReservation.event_id) == event_id,
            col(LibraryReservation.status) == _WAITLISTED,
        )
        .group_by(col(LibraryReservation.book_id))
    )
    return {book_id: count for book_id, count in (await session.exec(statement)).all()}


def _slot_views(
    event: LibraryEvent, taken: Mapping[int, int], now: datetime
) -> tuple[SlotView, ...]:
    views: list[SlotView] = []
    for index in range(event.slots_per_book):
        start, end = slot_times(event, index)
        views.append(
            SlotView(
                index=index,
                starts_at=start,
                ends_at=end,
                seats=event.readers_per_loan,
                seats_taken=taken.get(index, 0),
                started=start <= now,
            )
        )
    return tuple(views)


def _book_view(book: LibraryBook, categories: Sequence[str]) -> Book:
    return Book(
        id=_id(book),
        title=dict(book.title),
        blurb=dict(book.blurb),
        tags=tuple(book.tags),
        languages=tuple(book.languages),
        categories=tuple(sorted(categories)),
        telegram_user_id=book.telegram_user_id,
        linked_at=book.linked_at,
        consented_at=book.consented_at,
        retired_at=book.retired_at,
        created_by=book.created_by,
        created_at=book.created_at,
        updated_at=book.updated_at,
    )


async def _book_view_of(book: LibraryBook, session: AsyncSession) -> Book:
    categories = await _categories_of([_id(book)], session)
    return _book_view(book, categories.get(_id(book), []))


async def _categories_of(book_ids: Sequence[int], session: AsyncSession) -> dict[int, list[str]]:
    if not book_ids:
        return {}
    statement = (
        select(col(LibraryBookCategory.book_id), col(LibraryBookCategory.category_key))
        .where(col(LibraryBookCategory.book_id).in_(book_ids))
        .order_by(col(LibraryBookCategory.category_key))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for book_id, key in (await session.exec(statement)).all():
        found[book_id].append(key)
    return found


def _matches(book: LibraryBook, tag: str | None, language: str | None) -> bool:
    if tag is not None and tag.strip().lower().lstrip("#") not in book.tags:
        return False
    return language is None or language.strip().lower() in book.languages


# --- lookups, checks and names ---------------------------------------------------------------

_FACILITATOR_KEY: Final = ["event_id", "telegram_user_id"]
_M = TypeVar("_M", LibraryBook, LibraryEvent, LibraryReservation)


async def _fresh(model: type[_M], row_id: int, session: AsyncSession) -> _M | None:
    """The row as committed now (not the session's cached copy): read after taking a lock."""
    statement = (
        select(model).where(col(model.id) == row_id).execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


async def _require_book(book_id: int, session: AsyncSession) -> LibraryBook:
    book = await session.get(LibraryBook, book_id)
    if book is None:
        raise UnknownBook(book_id)
    return book


async def _require_event(event_id: int, session: AsyncSession) -> LibraryEvent:
    event = await session.get(LibraryEvent, event_id)
    if event is None:
        raise UnknownLibraryEvent(event_id)
    return event


async def _book_by_code(code: str, session: AsyncSession) -> LibraryBook:
    if not isinstance(code, str) or not _LINK_CODE.fullmatch(code):
        raise BookLinkUnknown()
    statement = select(LibraryBook).where(col(LibraryBook.link_code_hash) == _hash_code(code))
    book = (await session.exec(statement)).first()
    if book is None:
        raise BookLinkUnknown()
    return book


def _raise_unless_linkable(book: LibraryBook, now: datetime) -> None:
    if book.retired_at is not None or book.link_code_hash is None:
        raise BookLinkUnknown(book.id)
    if book.link_used_at is not None:
        raise BookLinkUsed(book.id)
    if book.link_expires_at is None or book.link_expires_at <= now:
        raise BookLinkExpired(book.id)


def _hash_code(code: str) -> str:
    # The code is random (120 bits), so a plain SHA-256 needs no salt or stretching.
    return hashlib.sha256(code.encode("ascii")).hexdigest()


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


def _checked_tags(tags: Sequence[str]) -> list[str]:
    if isinstance(tags, str | bytes):
        raise ValueError("tags are a list of words")
    checked: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValueError(f"a tag is a word, not {tag!r}")
        word = tag.strip().lower().lstrip("#")
        if not _TAG.fullmatch(word):
            raise ValueError(
                f"tag {tag!r}: at most {TAG_MAX_LENGTH} of a-z, 0-9, '-' or Thai letters"
            )
        if word not in checked:
            checked.append(word)
    if not 1 <= len(checked) <= MAX_TAGS:
        raise ValueError(f"a book has 1 to {MAX_TAGS} tags")
    return checked


def _checked_book_languages(languages: Sequence[str]) -> list[str]:
    if isinstance(languages, str | bytes):
        raise ValueError("languages are a list of codes")
    checked: list[str] = []
    for language in languages:
        code = language.strip().lower() if isinstance(language, str) else ""
        if not _LANGUAGE_CODE.fullmatch(code):
            raise ValueError(f"{language!r} is not a language code (th, en, ms, …)")
        if code not in checked:
            checked.append(code)
    if not 1 <= len(checked) <= MAX_BOOK_LANGUAGES:
        raise ValueError(f"a book speaks 1 to {MAX_BOOK_LANGUAGES} languages")
    return checked


async def _checked_categories(categories: Sequence[str], session: AsyncSession) -> list[str]:
    if isinstance(categories, str | bytes):
        raise ValueError("categories are a list of keys")
    keys = list(dict.fromkeys(categories))
    if not keys:
        raise ValueError("a book needs at least one need category")
    statement = select(col(NeedCategory.key)).where(col(NeedCategory.key).in_(keys))
    known = set((await session.exec(statement)).all())
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(f"unknown need categories: {unknown}")
    return sorted(keys)


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


def _checked_reader_name(name: str) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned:
        raise ValueError("reader_name is required")
    # As Telegram gave it: first and last names may together exceed the column; keep the start.
    return cleaned[:READER_NAME_MAX_LENGTH]


def _checked_language(language: str) -> str:
    if language not in LANGUAGES:
        raise UnsupportedLanguage(f"reader languages are {LANGUAGES}, not {language!r}")
    return language


def _status_name(was_reserved: bool) -> str:
    return "reserved" if was_reserved else "waitlisted"


def _id(row: object) -> int:
    value = getattr(row, "id", None)
    assert isinstance(value, int), "the row has not been flushed"
    return value


def _book_target(book_id: int) -> str:
    return f"library_book:{book_id}"


def _event_target(event_id: int) -> str:
    return f"library_event:{event_id}"


def _reservation_target(reservation_id: int) -> str:
    return f"library_reservation:{reservation_id}"
