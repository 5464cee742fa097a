"""Builders for the /library end-to-end tests: a running bot with a book, an event, readers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuMessage, EmuUser
from bot.i18n.catalog import catalogs
from storage import citizens, clock, library
from storage.citizens import NewCitizen
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import AgeBand, Language, Purpose, UnescoFeature
from storage.library import Book
from storage.models import LibraryEvent, NeedCategory

BANGKOK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tue 1 Dec 2026, 10:00 in Yala
EVENT_AT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # Sat 5 Dec 2026, 09:00 in Yala
FACILITATOR = 9100
BOOK_ACCOUNT = 9200
PLACE = "ห้องสมุดประชาชนเทศบาลนครยะลา"
LATITUDE, LONGITUDE = 6.5411, 101.2804
TITLE = {"th": "ชีวิตชาวประมงยะลา", "en": "A fisher's life"}
BLURB = {"th": "เรื่องเล่าจากทะเลและการเปลี่ยนอาชีพ", "en": "Stories from the sea and a new trade"}
OTHER_TITLE = {"th": "ครูสอนภาษามลายู", "en": "A Malay teacher"}
OTHER_BLURB = {"th": "การสอนภาษาในชุมชน", "en": "Teaching a language in the community"}
TH, EN = catalogs().messages["th"], catalogs().messages["en"]
ERROR_TEXTS = {TH["error.generic"], EN["error.generic"]}


@asynccontextmanager
async def frozen_clock(start: datetime = NOW) -> AsyncIterator[ManualClock]:
    """Storage time stands at `start` until moved (the bot and the emulator keep real time)."""
    manual = ManualClock(start)
    clock.set_clock(manual)
    try:
        yield manual
    finally:
        clock.set_clock(None)


def problems(live: LiveBot) -> list[str]:
    """What must never happen: unanswered presses, refused Bot API calls, error messages."""
    emulator = live.emulator
    found = [f"unanswered press {q.data}" for q in emulator.unanswered_callback_queries()]
    found += [f"{c.method} refused: {c.description}" for c in emulator.calls if not c.ok]
    found += [
        f"error shown to {chat}"
        for chat, messages in emulator.messages.items()
        for m in messages
        if m.from_bot and (m.text or "") in ERROR_TEXTS
    ]
    return found


async def person(
    live: LiveBot,
    user_id: int,
    name: str,
    language: Language,
    *,
    library_consent: bool = True,
    last_name: str | None = None,
) -> EmuUser:
    """A registered citizen who has started the bot (consenting to the library unless told)."""
    assert live.db is not None
    user = live.user(user_id, name, language_code=language, last_name=last_name)
    live.emulator.chats[user_id].started = True
    async with live.db.session() as session:
        await citizens.register_citizen(
            NewCitizen(user_id, language, AgeBand.age_35_49, False, None),
            {p: library_consent or p is not Purpose.human_library for p in Purpose},
            session=session,
        )
    return user


def book_account(live: LiveBot, user_id: int) -> int:
    """A book's own Telegram account: it opened its link, so it has started the bot."""
    live.user(user_id, "Book", language_code="th")
    live.emulator.chats[user_id].started = True
    return user_id


async def listed_book(
    db: Database,
    *,
    account: int = BOOK_ACCOUNT,
    title: dict[str, str] = TITLE,
    blurb: dict[str, str] = BLURB,
    tags: Sequence[str] = ("fishing", "ประมง"),
    languages: Sequence[str] = ("th", "ms"),
) -> Book:
    """A book that linked its own account (its consent to be listed)."""
    async with db.session() as session:
        if await session.get(NeedCategory, "languages") is None:
            session.add(
                NeedCategory(
                    key="languages",
                    name={"th": "ภาษา", "en": "Languages"},
                    unesco_feature=UnescoFeature.inclusive_learning,
                    sdgs=[4],
                )
            )
    async with db.session() as session:
        book = await library.create_book(
            title=title, blurb=blurb, tags=list(tags), categories=["languages"],
            languages=list(languages), created_by=FACILITATOR, session=session,
        )  # fmt: skip
        code = await library.issue_book_link(book.id, by=FACILITATOR, session=session)
    async with db.session() as session:
        return await library.link_book(code, account, session=session)


async def new_event(
    db: Database, book_ids: Sequence[int], *, slots: int = 3, **changes: Any
) -> LibraryEvent:
    """An event at EVENT_AT with 30-minute loans, one reader each, unless changed."""
    fields: dict[str, Any] = {
        "starts_at": EVENT_AT,
        "place_text": PLACE,
        "latitude": LATITUDE,
        "longitude": LONGITUDE,
        "slots_per_book": slots,
        "book_ids": list(book_ids),
        "created_by": FACILITATOR,
    }
    fields.update(changes)
    async with db.session() as session:
        return await library.create_event(session=session, **fields)


@dataclass
class Stage:
    """A running bot with one linked book at one event, its facilitator and the book's account."""

    live: LiveBot
    book: Book
    event: LibraryEvent
    facilitator: EmuUser
    book_user: EmuUser

    @property
    def db(self) -> Database:
        assert self.live.db is not None
        return self.live.db

    @property
    def event_id(self) -> int:
        assert self.event.id is not None
        return self.event.id


async def stage(live: LiveBot, *, slots: int = 3, readers_per_loan: int = 1) -> Stage:
    """Set the scene: the facilitator (English), the book's linked account, a book, an event."""
    assert live.db is not None
    facilitator = await person(live, FACILITATOR, "Farida", "en")
    book_user = live.emulator.users[book_account(live, BOOK_ACCOUNT)]
    book = await listed_book(live.db)
    event = await new_event(live.db, [book.id], slots=slots, readers_per_loan=readers_per_loan)
    return Stage(live, book, event, facilitator, book_user)


def last_document(live: LiveBot, chat_id: int) -> EmuMessage:
    """The newest document the bot sent to `chat_id`."""
    documents = [m for m in live.emulator.sent_to(chat_id) if m.kind == "document"]
    assert documents, f"no document in chat {chat_id}"
    return documents[-1]


def texts(live: LiveBot, chat_id: int) -> list[str]:
    """Every text the bot showed in `chat_id` (each edit too), oldest first."""
    return [text for m in live.emulator.sent_to(chat_id) for text in m.history]


def last_text(live: LiveBot, chat_id: int) -> str:
    """What the newest text message in `chat_id` shows now (after its edits)."""
    shown = [m for m in live.emulator.sent_to(chat_id) if m.text is not None]
    assert shown, f"no text message in chat {chat_id}"
    return shown[-1].text or ""
