"""`learncity db copy --to URL`: a seeded SQLite database moved to PostgreSQL whole."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.emulator.harness import sqlite_url
from storage.clock import ManualClock, set_clock
from storage.copy import count_rows, tables
from storage.database import Database
from storage.summary import Summary, parse_period, summarize
from tests.conftest import postgresql_test_url


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(TEST_DATABASE_URL, a fresh empty schema in it), dropped afterwards."""
    url = postgresql_test_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_ddl(url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        asyncio.run(_ddl(url, f'DROP SCHEMA "{schema}" CASCADE'))


async def _ddl(url: str, statement: str) -> None:
    admin = Database(url)
    try:
        async with admin.engine.begin() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await admin.dispose()


async def _counts_and_summary(db: Database) -> tuple[dict[str, int], Summary]:
    try:
        period = parse_period("all", now=datetime.now(UTC))
        return await count_rows(db), await summarize(db, period)
    finally:
        await db.dispose()


def test_a_seeded_sqlite_database_moves_to_postgresql_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pg_schema: tuple[str, str],
) -> None:
    url, schema = pg_schema
    source_url = sqlite_url(tmp_path / "city.db")
    monkeypatch.setenv("DATABASE_URL", source_url)
    seed = ["db", "seed-demo", "--citizens", "40", "--answers", "200", "--free-texts", "30"]
    assert main(seed) == 0
    capsys.readouterr()

    assert main(["db", "copy", "--to", url, "--schema", schema, "--batch-size", "50"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"OK: {len(tables())} tables,")
    assert out[-1].endswith("every count equal")
    assert "citizens" in {line.split()[0] for line in out[2:-1]}

    set_clock(ManualClock(datetime.now(UTC)))  # both summaries at the same moment
    try:
        source = asyncio.run(_counts_and_summary(Database(source_url)))
        target = asyncio.run(_counts_and_summary(Database(url, schema=schema)))
    finally:
        set_clock(None)
    assert target[0] == source[0]
    assert source[0]["citizens"] == 40
    assert target[1] == source[1]

    # Again into the now filled target: refused, nothing added.
    assert main(["db", "copy", "--to", url, "--schema", schema]) == 1
    assert "not empty" in capsys.readouterr().err
    after = asyncio.run(_counts_and_summary(Database(url, schema=schema)))
    assert after[0] == source[0]


def test_a_malformed_target_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "city.db"))
    assert main(["db", "copy", "--to", "mysql://somewhere/db"]) == 2
    assert capsys.readouterr().err.strip().startswith("Cannot use the target: unsupported")
