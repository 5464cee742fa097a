"""People, books and a frozen clock for the facilitators' library e2e tests (/schedule, /events).

The clock stands still at Friday 20 November 2026, 10:00 in Yala (03:00 UTC), so dates typed
in the tests ("5/12/2569") stay in the future whenever the tests run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.emulator.harness import LiveBot, sqlite_url
from bot.i18n.catalog import catalogs
from storage import citizens, clock, library, roles
from storage.citizens import NewCitizen
from storage.clock import ManualClock
from storage.enums import AgeBand, Purpose, Role
from tests.storage.library_helpers import BLURB, with_categories

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 in Yala
EN, TH = catalogs().messages["en"], catalogs().messages["th"]
BOOK_TITLE = {"th": "ชีวิตชาวประมงยะลา", "en": "A fisher's life"}
OTHER_TITLE = {"th": "ครูสอนภาษามลายู", "en": "A Malay teacher"}


@contextmanager
def frozen_clock() -> Iterator[ManualClock]:
    """Storage (and the handlers, which read storage's clock) see NOW until the end."""
    manual = ManualClock(NOW)
    clock.set_clock(manual)
    try:
        yield manual
    finally:
        clock.set_clock(None)


@asynccontextmanager
async def running_bot(tmp_path: Path, **overrides: Any) -> AsyncIterator[LiveBot]:
    """The bot in-process on a fresh SQLite file, with need categories; checks like conftest's
    `live` afterwards: every press answered, no Bot API call refused."""
    bot = LiveBot(
        database_url=sqlite_url(tmp_path / "library.db"),
        in_process=True,
        settings_overrides=overrides or None,
    )
    async with bot:
        assert bot.db is not None
        await with_categories(bot.db)
        yield bot
    assert bot.emulator.unanswered_callback_queries() == []
    shown = [m.text or "" for chat in bot.emulator.messages.values() for m in chat if m.from_bot]
    assert [s for s in shown if "<b>" in s or "&lt;" in s or "&amp;" in s] == [], "escaped twice"
    assert [(c.method, c.description) for c in bot.emulator.calls if not c.ok] == []


async def person(
    live: LiveBot, user_id: int, language: str, *, role: Role | None = None, name: str = ""
) -> None:
    """A registered person who agreed to everything (and holds `role`)."""
    assert live.db is not None
    live.user(user_id, name or f"P{user_id}", language_code=language)
    live.emulator.chats[user_id].started = True
    async with live.db.session() as session:
        await citizens.register_citizen(
            NewCitizen(user_id, language, AgeBand.age_35_49, False, None),  # type: ignore[arg-type]
            dict.fromkeys(Purpose, True),
            session=session,
        )
        if role is not None:
            await roles.grant_role(user_id, role, actor="system", session=session)


async def book(
    live: LiveBot, title: Mapping[str, str], *, linked_to: int | None = None
) -> library.Book:
    """A book; linked (so readers may reserve it) when `linked_to` names its account."""
    assert live.db is not None
    async with live.db.session() as session:
        created = await library.create_book(
            title=title, blurb=BLURB, tags=["stories"], categories=["languages"],
            languages=["th", "en"], created_by=1, session=session,
        )  # fmt: skip
    if linked_to is None:
        return created
    live.user(linked_to, f"Book{linked_to}", language_code="th")  # the book's own account
    live.emulator.chats[linked_to].started = True
    async with live.db.session() as session:
        code = await library.issue_book_link(created.id, by=1, session=session)
    async with live.db.session() as session:
        return await library.link_book(code, linked_to, session=session)


async def reserve(
    live: LiveBot, event_id: int, book_id: int, reader: int, name: str, language: str
) -> library.Reservation:
    """The reader reserves (or joins the waitlist) as the reader flow would."""
    assert live.db is not None
    async with live.db.session() as session:
        return await library.reserve(
            event_id, book_id, reader, reader_name=name, language=language, press_order=reader,
            session=session,
        )  # fmt: skip


async def until(live: LiveBot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for something the dispatcher sends in the background."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    await live.settle()
