"""50 readers press "First free time" at once for a book with 3 free slots, on both databases.

All 50 presses are queued in the emulator before the bot fetches them, so they arrive in one
batch and are handled concurrently (one task per reader; each reservation in its own
transaction on its own connection). Exactly 3 get a slot, 47 wait in the order of their
presses (update_id), everyone gets an answer, and no error reaches anyone.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from storage import library
from storage.database import normalize_url
from storage.enums import ReservationStatus
from storage.library import Reservation
from storage.models import LibraryReservation
from tests.conftest import BACKENDS, postgresql_test_url
from tests.e2e.library_helpers import TITLE, frozen_clock, person, problems, stage, texts

READERS = 50
SLOTS = 3
DAY = {"th": "เสาร์ 5 ธ.ค. 2569, 09:00 น.", "en": "Sat 5 Dec 2026, 09:00"}
FIRST_FREE = {"th": "เวลาว่างแรกสุด", "en": "First free time"}
RESERVED = {"th": "จองแล้ว", "en": "Reserved"}
WAITING = {"th": "รายชื่อรอคิวลำดับที่", "en": "on the waitlist, number"}


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database for the bot: a SQLite file, or a PostgreSQL database dropped after."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "race.db")
        return
    url = make_url(normalize_url(postgresql_test_url()))
    name = f"library_race_{uuid.uuid4().hex[:12]}"
    # The bot opens its own engine from a URL (no schema option), so it gets a database.
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def _button(message: EmuMessage, label: str) -> str:
    for button in message.buttons:
        if button["text"] == label:
            return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {message.button_texts}")


async def _everyone_presses(live: LiveBot, readers: list[EmuUser], labels: dict[str, str]) -> None:
    """Each reader presses the labelled button on their newest message; all queued, then run."""
    for reader in readers:
        message = live.emulator.last_sent(reader.id)
        label = labels[reader.language_code or "th"]
        await live.emulator.press(reader, message, _button(message, label))
    # Nothing yielded to the bot meanwhile: it fetches every press in one batch.
    assert live.emulator.pending_update_count == len(readers)
    await live.settle(timeout=120)


class InFlight:
    """Wraps `storage.library.reserve` to see how many reservations run at the same time."""

    def __init__(self, reserve: Callable[..., Awaitable[Reservation]]) -> None:
        self.reserve = reserve
        self.now = self.most = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Reservation:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self.reserve(*args, **kwargs)
        finally:
            self.now -= 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_fifty_readers_race_for_three_slots(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with frozen_clock(), database_url(backend, tmp_path) as url:
        live = LiveBot(database_url=url, in_process=True)
        async with live:
            assert live.settings is not None and live.settings.concurrent_updates >= READERS
            scene = await stage(live, slots=SLOTS, readers_per_loan=1)
            readers = [
                await person(live, 8000 + n, f"Reader{n}", "th" if n % 2 else "en")
                for n in range(READERS)
            ]
            # Everyone opens the book's page: /library → the event → the book.
            for reader in readers:
                await live.emulator.user_sends(reader, "/library")
            await live.settle(timeout=120)
            await _everyone_presses(live, readers, DAY)
            await _everyone_presses(live, readers, TITLE)

            first = live.emulator.last_update_id + 1
            in_flight = InFlight(library.reserve)
            monkeypatch.setattr(library, "reserve", in_flight)
            await _everyone_presses(live, readers, FIRST_FREE)
            if backend == "postgresql":  # SQLite has one writer: its transactions take turns
                assert in_flight.most > 1, "reservations ran side by side on separate connections"
            press_of = {reader.id: first + n for n, reader in enumerate(readers)}

            async with scene.db.session() as session:
                rows = (
                    await session.exec(
                        select(LibraryReservation).order_by(
                            col(LibraryReservation.press_order), col(LibraryReservation.id)
                        )
                    )
                ).all()
            reserved = [r for r in rows if r.status is ReservationStatus.reserved]
            waiting = [r for r in rows if r.status is ReservationStatus.waitlisted]
            assert len(rows) == READERS
            assert len(reserved) == SLOTS and sorted(r.slot_index or 0 for r in reserved) == [
                0,
                1,
                2,
            ]
            assert len(waiting) == READERS - SLOTS
            # The waitlist's order is the order of the presses: each row carries its update_id.
            assert all(r.press_order == press_of[r.telegram_user_id] for r in rows)
            assert [r.press_order for r in waiting] == sorted(r.press_order for r in waiting)

            for reader in readers:
                lang = reader.language_code or "th"
                shown = texts(live, reader.id)
                got_slot = any(RESERVED[lang] in text for text in shown)
                waits = any(WAITING[lang] in text for text in shown)
                assert got_slot != waits, f"reader {reader.id} got one clear answer"
            documents = [
                m for r in readers for m in live.emulator.sent_to(r.id) if m.kind == "document"
            ]
            assert len(documents) == SLOTS
            assert len(texts(live, scene.book_user.id)) == SLOTS, "the book hears of each loan"
        assert problems(live) == []
