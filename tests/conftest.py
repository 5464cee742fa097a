"""Database fixtures shared by every test suite.

- `db`: a migrated database, parametrized over SQLite and PostgreSQL (storage tests use it).
- `empty_db`: the same, never migrated (migration tests).
- `sqlite_db`: a migrated SQLite file only (fast; for handler and e2e tests).

PostgreSQL needs TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test);
each test gets its own fresh schema, dropped afterwards. Without the variable the PostgreSQL
variants are skipped, except under CI=true, where they fail.

Migrating takes far longer than copying, so each backend is migrated once a session: SQLite
into a template file that each test copies; PostgreSQL into a template schema that `pg_dump`
writes out as SQL (tables, sequences, constraints and the migrations' rows), which each test
replays into its own schema (about 0.1 s against 0.3–1 s for Alembic's walk). Without `pg_dump`
each PostgreSQL test migrates its schema. (`CREATE DATABASE … TEMPLATE` was tried: 0.1–0.6 s a
test depending on the disk, no better than migrating.)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage.database import Database
from storage.migrate import upgrade

BACKENDS = ["sqlite", "postgresql"]
# As `learncity` does: PTB's coming RetryAfter.retry_after type, without deprecation warnings.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def postgresql_test_url() -> str:
    """TEST_DATABASE_URL, or skip (fail under CI) when it is not set."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("TEST_DATABASE_URL is not set under CI: PostgreSQL storage tests must run")
        pytest.skip(
            "PostgreSQL tests skipped: set "
            "TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
    return url


_sqlite_template: list[Path] = []  # the session's migrated SQLite file, once made


async def _migrated_sqlite_template() -> Path:
    if not _sqlite_template:
        path = Path(tempfile.mkdtemp(prefix="learncity-template-")) / "learncity.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db)
        finally:
            await db.dispose()
        _sqlite_template.append(path)
    return _sqlite_template[0]


_postgresql_template: list[str | None] = []  # the migrated schema as SQL, once made
TEMPLATE_SCHEMA = "learncity_template_schema"  # stands for the schema's name in that SQL


async def _migrated_postgresql_script(url: str) -> str | None:
    """SQL that makes a migrated schema named TEMPLATE_SCHEMA; None without `pg_dump`."""
    if not _postgresql_template:
        _postgresql_template.append(await _dump_migrated_schema(url))
    return _postgresql_template[0]


async def _dump_migrated_schema(url: str) -> str | None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    schema = f"template_{uuid.uuid4().hex[:16]}"
    admin = Database(url)
    try:
        async with admin.engine.begin() as connection:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        db = Database(url, schema=schema)
        try:
            await upgrade(db)
        finally:
            await db.dispose()
        libpq_url = make_url(url).set(drivername="postgresql").render_as_string(False)
        process = await asyncio.create_subprocess_exec(
            pg_dump, "--schema", schema, "--inserts", "--no-owner", "--no-privileges",
            "--no-comments", libpq_url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
        if process.returncode != 0:  # e.g. a pg_dump older than the server: migrate instead
            return None
        # Lines starting with a backslash are psql commands (`\restrict` in recent pg_dumps).
        lines = [line for line in out.decode().splitlines() if not line.startswith("\\")]
        return "\n".join(lines).replace(schema, TEMPLATE_SCHEMA)
    finally:
        async with admin.engine.begin() as connection:
            await connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.dispose()


async def _new_schema(admin: Database, url: str, schema: str, *, migrated: bool) -> bool:
    """Create `schema`, migrated from the session's template when there is one; True if so."""
    script = await _migrated_postgresql_script(url) if migrated else None
    async with admin.engine.begin() as connection:
        if script is None:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            return False
        # asyncpg runs a script of many statements only outside prepared statements.
        raw = await connection.get_raw_connection()
        await raw.driver_connection.execute(script.replace(TEMPLATE_SCHEMA, schema))  # type: ignore[union-attr]
    return True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's SQLite template."""
    for path in _sqlite_template:
        shutil.rmtree(path.parent, ignore_errors=True)
    _sqlite_template.clear()


@asynccontextmanager
async def open_test_database(
    backend: str, tmp_path: Path, *, migrated: bool = True
) -> AsyncIterator[Database]:
    """A throwaway database: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        path = tmp_path / "db" / "learncity.db"
        if migrated:
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(await _migrated_sqlite_template(), path)
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            yield db
        finally:
            await db.dispose()
        return

    url = postgresql_test_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = Database(url)
    try:
        replayed = await _new_schema(admin, url, schema, migrated=migrated)
        db = Database(url, schema=schema)
        try:
            if migrated and not replayed:
                await upgrade(db)
            yield db
        finally:
            await db.dispose()
            async with admin.engine.begin() as connection:
                await connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    async with open_test_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture(params=BACKENDS)
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, never migrated database, once on each backend."""
    async with open_test_database(request.param, tmp_path, migrated=False) as database:
        yield database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite file database (WAL, foreign keys on)."""
    async with open_test_database("sqlite", tmp_path) as database:
        yield database
