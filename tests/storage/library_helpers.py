"""Builders for human-library tests: need categories, listed books, events and readers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from storage.database import Database
from storage.enums import Purpose, UnescoFeature
from storage.library import (
    Book,
    Reservation,
    create_book,
    create_event,
    issue_book_link,
    link_book,
    reserve,
)
from storage.models import LibraryEvent, NeedCategory
from tests.storage.conftest import START
from tests.storage.factories import ALL_GRANTED, registered

FACILITATOR = 7
EVENT_START = START + timedelta(days=5)  # 2026-01-10 01:30 UTC, 08:30 in Yala

TITLE = {"th": "ชีวิตชาวประมงยะลา", "en": "A fisher's life"}
BLURB = {"th": "เรื่องเล่าจากทะเลและการเปลี่ยนอาชีพ", "en": "Stories from the sea and a new trade"}


async def with_categories(db: Database, *keys: str) -> None:
    """Add need categories (default: digital_skills and languages) in their own session."""
    async with db.session() as session:
        for key in keys or ("digital_skills", "languages"):
            session.add(
                NeedCategory(
                    key=key,
                    name={"th": key, "en": key},
                    unesco_feature=UnescoFeature.inclusive_learning,
                    sdgs=[4],
                )
            )


def book_fields(**changes: Any) -> dict[str, Any]:
    """Valid `create_book` arguments, with some replaced."""
    fields: dict[str, Any] = {
        "title": TITLE,
        "blurb": BLURB,
        "tags": ["fishing", "ประมง"],
        "categories": ["languages"],
        "languages": ["th", "ms"],
        "created_by": FACILITATOR,
    }
    fields.update(changes)
    return fields


async def new_book(db: Database, **changes: Any) -> Book:
    """A book, not linked (so not listed), created in its own session."""
    async with db.session() as session:
        return await create_book(session=session, **book_fields(**changes))


async def linked(db: Database, book: Book, telegram_user_id: int) -> Book:
    """Link `book` to this Telegram account (its consent), through a fresh code."""
    async with db.session() as session:
        code = await issue_book_link(book.id, by=FACILITATOR, session=session)
    async with db.session() as session:
        return await link_book(code, telegram_user_id, session=session)


async def listed_book(db: Database, telegram_user_id: int = 500, **changes: Any) -> Book:
    """A book that linked itself and consented, so readers may reserve it."""
    return await linked(db, await new_book(db, **changes), telegram_user_id)


async def new_event(
    db: Database,
    book_ids: Sequence[int],
    *,
    starts_at: datetime = EVENT_START,
    slots_per_book: int = 3,
    **changes: Any,
) -> LibraryEvent:
    """A library event of these books (30-minute loans, one reader each, unless changed)."""
    fields: dict[str, Any] = {
        "starts_at": starts_at,
        "place_text": "ห้องสมุดประชาชนเทศบาลนครยะลา",
        "latitude": 6.5411,
        "longitude": 101.2804,
        "slots_per_book": slots_per_book,
        "book_ids": list(book_ids),
        "created_by": FACILITATOR,
    }
    fields.update(changes)
    async with db.session() as session:
        return await create_event(session=session, **fields)


async def readers(
    db: Database, *telegram_user_ids: int, consents: Mapping[Purpose, bool] = ALL_GRANTED
) -> None:
    """Register these citizens (every consent unless told otherwise)."""
    for telegram_user_id in telegram_user_ids:
        await registered(db, telegram_user_id, consents)


async def reserved(
    db: Database,
    event: LibraryEvent,
    book: Book,
    telegram_user_id: int,
    *,
    press_order: int | None = None,
    slot_index: int | None = None,
    language: str = "th",
) -> Reservation:
    """Reserve (or waitlist) in its own session; press order defaults to the reader's id."""
    assert event.id is not None
    async with db.session() as session:
        return await reserve(
            event.id,
            book.id,
            telegram_user_id,
            reader_name=f"Reader {telegram_user_id}",
            language=language,
            press_order=telegram_user_id if press_order is None else press_order,
            slot_index=slot_index,
            session=session,
        )
