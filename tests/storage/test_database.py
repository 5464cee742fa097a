"""The Database: URLs, sessions, SQLite pragmas, PostgreSQL schemas."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage import audit
from storage.citizens import count_citizens
from storage.database import SQLITE_BUSY_TIMEOUT_MS, Database, normalize_url
from storage.models import Citizen, Consent
from tests.conftest import open_test_database
from tests.storage.factories import registered


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("sqlite:///learncity.db", "sqlite+aiosqlite:///learncity.db"),
        ("sqlite:////var/lib/x.db", "sqlite+aiosqlite:////var/lib/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        (" sqlite:// ", "sqlite+aiosqlite://"),
    ],
)
def test_normalize_url_gives_each_url_its_async_driver(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_url_for_display_hides_the_password() -> None:
    db = Database("postgres://city:s3cret@db.example:5432/learncity")
    assert db.url_for_display == "postgresql+asyncpg://city:***@db.example:5432/learncity"
    assert "s3cret" not in repr(db)
    assert db.backend == "postgresql"


def test_unsupported_databases_and_misplaced_schemas_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        Database("mysql+aiomysql://u@h/d")
    with pytest.raises(ValueError, match="PostgreSQL"):
        Database(f"sqlite:///{tmp_path / 'x.db'}", schema="s")
    with pytest.raises(ValueError, match="identifier"):
        Database("postgresql://u@h/d", schema="bad; drop")


async def test_sqlite_creates_the_parent_directory_but_opens_nothing_until_used(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep" / "er" / "learncity.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert path.parent.is_dir()
        assert not path.exists()
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert path.exists()
    finally:
        await db.dispose()


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        assert (
            await connection.exec_driver_sql("PRAGMA busy_timeout")
        ).scalar() == SQLITE_BUSY_TIMEOUT_MS
    wal = Path(str(sqlite_db.engine.url.database) + "-wal")
    assert await asyncio.to_thread(wal.exists)


async def test_deleting_a_citizen_cascades_to_their_consents(db: Database) -> None:
    citizen = await registered(db)
    async with db.engine.begin() as connection:
        await connection.execute(text("DELETE FROM citizens WHERE id = :id"), {"id": citizen.id})
    async with db.session() as session:
        assert (await session.exec(select(Consent))).all() == []
        assert await count_citizens(session=session) == 0


async def test_a_consent_for_no_citizen_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        async with db.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO consents (citizen_id, purpose, granted, decided_at) "
                    "VALUES (999, 'reminders', true, CURRENT_TIMESTAMP)"
                )
            )


async def test_session_commits_when_the_block_succeeds(db: Database) -> None:
    async with db.session() as session:
        await audit.record("test.kept", actor="system", session=session)
    async with db.session() as session:
        assert [e.action for e in await audit.recent(session=session)] == ["test.kept"]


async def test_session_rolls_back_when_the_block_fails(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await audit.record("test.lost", actor="system", session=session)
            raise RuntimeError("boom")
    async with db.session() as session:
        assert await audit.recent(session=session) == []


async def test_concurrent_writers_queue_instead_of_failing(db: Database) -> None:
    async def read_then_write(n: int) -> None:
        async with db.session() as session:
            before = len(await audit.recent(session=session))
            await asyncio.sleep(0.05)
            await audit.record(
                f"test.writer{n}", actor="system", detail={"saw": before}, session=session
            )

    await asyncio.gather(*(read_then_write(n) for n in range(4)))
    async with db.session() as session:
        assert len(await audit.recent(session=session)) == 4


async def test_postgresql_tests_run_in_their_own_schema(tmp_path: Path) -> None:
    async with open_test_database("postgresql", tmp_path) as db:
        assert db.schema is not None
        async with db.engine.connect() as connection:
            current = (await connection.execute(text("SELECT current_schema()"))).scalar()
            tables = (
                await connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": db.schema},
                )
            ).scalars()
            assert current == db.schema
            assert {"citizens", "consents", "audit_log", "alembic_version"} <= set(tables)


async def test_session_rows_come_back_as_models(db: Database) -> None:
    await registered(db, 42)
    async with db.session() as session:
        (citizen,) = (await session.exec(select(Citizen))).all()
    assert isinstance(citizen, Citizen)
    assert citizen.telegram_user_id == 42


async def test_a_read_only_session_is_not_blocked_by_an_open_writer(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'ro.db'}")
    try:
        async with db.session() as session:
            await session.exec(text("CREATE TABLE t (x INTEGER)"))  # type: ignore[call-overload]
        async with db.session() as writer:
            await writer.exec(text("INSERT INTO t VALUES (1)"))  # type: ignore[call-overload]

            async def read() -> int:
                async with db.session(readonly=True) as reader:
                    rows = await reader.exec(text("SELECT count(*) FROM t"))  # type: ignore[call-overload]
                    return int(rows.one()[0])

            # The writer has not committed: the reader sees the last commit, without waiting.
            assert await asyncio.wait_for(read(), 2) == 0
    finally:
        await db.dispose()


async def test_writers_of_one_process_take_turns_in_arrival_order(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    order: list[int] = []
    try:
        async with db.session() as session:
            await session.exec(text("CREATE TABLE t (x INTEGER)"))  # type: ignore[call-overload]

        async def write(n: int) -> None:
            async with db.session() as session:
                order.append(n)
                await session.exec(text(f"INSERT INTO t VALUES ({n})"))  # type: ignore[call-overload]
                await asyncio.sleep(0)

        await asyncio.gather(*(write(n) for n in range(20)))
        assert order == list(range(20))
    finally:
        await db.dispose()


async def test_a_session_opened_inside_another_in_one_task_does_not_wait_for_itself(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'nested.db'}")
    try:
        async with db.session() as outer:
            async with db.session() as inner:
                await inner.exec(text("CREATE TABLE t (x INTEGER)"))  # type: ignore[call-overload]
            await outer.exec(text("INSERT INTO t VALUES (1)"))  # type: ignore[call-overload]
    finally:
        await db.dispose()
