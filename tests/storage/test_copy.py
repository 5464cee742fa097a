"""`storage.copy`: a seeded SQLite database copied into an empty one, on both backends."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.emulator.harness import sqlite_url
from bot.seed_demo import seed_demo
from storage.clock import ManualClock, set_clock
from storage.copy import CopyRefused, copy_database, count_rows, tables
from storage.database import Database
from storage.migrate import upgrade
from storage.summary import parse_period, summarize
from tests.storage.factories import registered

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
TZ = "Asia/Bangkok"
# Tables the demo seed fills (the rest it leaves empty): each must arrive with its rows, or
# the copy would prove little. Tables added later need not be here.
SEEDED = {
    "audit_log",
    "citizens",
    "library_books",
    "library_events",
    "need_categories",
    "need_picks_state",
    "series",
    "surveys",
    "consents",
    "council_meetings",
    "free_text_needs",
    "library_book_categories",
    "library_event_books",
    "library_reservations",
    "survey_questions",
    "council_agenda_items",
    "council_attendance",
    "council_rsvps",
    "free_text_tokens",
    "survey_options",
    "survey_answers",
    "need_picks",
}


async def _seed(path: Path) -> None:
    set_clock(ManualClock(NOW))
    db = Database(sqlite_url(path))
    try:
        await upgrade(db)
        await seed_demo(db, citizens=40, answers=200, free_texts=30, seed=3, now=NOW)
    finally:
        await db.dispose()
        set_clock(None)


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with a small demo data set, made once for this module."""
    path = tmp_path_factory.mktemp("seeded") / "source.db"
    asyncio.run(_seed(path))
    return path


@pytest.fixture
async def seeded(seeded_file: Path, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Database]:
    """A copy of the seeded file for one test (copies may change it)."""
    clock.set(NOW)
    path = tmp_path / "source" / "learncity.db"
    path.parent.mkdir()
    shutil.copyfile(seeded_file, path)
    db = Database(sqlite_url(path))
    try:
        yield db
    finally:
        await db.dispose()


async def test_a_copy_keeps_every_row_and_the_same_summary_and_takes_new_rows(
    seeded: Database, empty_db: Database
) -> None:
    copied: list[str] = []
    counts = await copy_database(
        seeded, empty_db, batch_size=7, progress=lambda name, _rows: copied.append(name)
    )

    assert copied == [table.name for table in tables()]
    assert [count.table for count in counts] == copied
    assert all(count.matches for count in counts), counts
    assert await count_rows(empty_db) == await count_rows(seeded)
    filled = {count.table for count in counts if count.target > 0}
    assert filled >= SEEDED
    period = parse_period("all", now=NOW, tz=TZ)
    assert await summarize(empty_db, period) == await summarize(seeded, period)

    # The copy takes new rows (PostgreSQL: its sequences were moved past the copied ids).
    await registered(empty_db, 1)
    assert (await count_rows(empty_db))["citizens"] == (await count_rows(seeded))["citizens"] + 1


async def test_a_target_with_rows_is_refused_and_left_alone(seeded: Database, db: Database) -> None:
    await registered(db, 7)
    with pytest.raises(CopyRefused, match="not empty"):
        await copy_database(seeded, db)
    assert (await count_rows(db))["citizens"] == 1


async def test_a_migrated_but_empty_target_is_accepted(seeded: Database, db: Database) -> None:
    counts = await copy_database(seeded, db)
    assert all(count.matches for count in counts)


async def test_a_source_behind_the_code_is_refused(seeded: Database, empty_db: Database) -> None:
    async with seeded.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    with pytest.raises(CopyRefused, match="learncity db upgrade"):
        await copy_database(seeded, empty_db)


async def test_a_target_with_foreign_tables_is_refused(
    seeded: Database, empty_db: Database
) -> None:
    async with empty_db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    with pytest.raises(CopyRefused, match="empty database"):
        await copy_database(seeded, empty_db)


def relative_spelling(db: Database) -> str:
    """The same SQLite file's URL, with a path relative to the working directory."""
    return f"sqlite+aiosqlite:///{os.path.relpath(db.url.split('///', 1)[1])}"


async def test_a_database_is_not_copied_onto_itself(seeded: Database) -> None:
    same = Database(relative_spelling(seeded))
    try:
        with pytest.raises(CopyRefused, match="same database"):
            await copy_database(seeded, same)
    finally:
        await same.dispose()
