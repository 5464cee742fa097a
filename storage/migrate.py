"""Alembic, driven from code: upgrade, downgrade and ask where a database stands.

Migrations live in `storage/migrations`; no alembic.ini is needed at runtime. Each run happens
in one transaction (on SQLite too, so a failed migration leaves nothing half done). On SQLite,
foreign keys are switched off for the run — batch mode copies and drops tables, which would
otherwise cascade-delete child rows — and `PRAGMA foreign_key_check` must pass before commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"

Status = Literal["empty", "at_head", "behind", "unknown"]


def alembic_config() -> Config:
    """An Alembic `Config` pointing at storage/migrations, built without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The newest revision shipped with the code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate `db` up to `revision` (default: head). Already there: nothing happens."""
    async with migration_connection(db) as connection:
        await connection.run_sync(_run_command, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(db: Database, revision: str) -> None:
    """Migrate `db` down to `revision` ("base" drops every table the migrations made)."""
    async with migration_connection(db) as connection:
        await connection.run_sync(_run_command, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    _tables, heads = await _inspect(db)
    if len(heads) > 1:
        raise RuntimeError(f"the database has several heads: {', '.join(heads)}")
    return heads[0] if heads else None


async def is_empty(db: Database) -> bool:
    """True when the database holds no tables (an alembic_version without a row is ignored)."""
    tables, heads = await _inspect(db)
    return not tables and not heads


async def status(db: Database) -> Status:
    """Where `db` stands against the code: empty, at_head, behind (upgrade it) or unknown.

    "unknown" means tables without migration history, a revision this code does not know
    (e.g. written by newer code), or several heads: do not touch it automatically.
    """
    tables, heads = await _inspect(db)
    if not tables and not heads:
        return "empty"
    if len(heads) != 1:
        return "unknown"
    script = ScriptDirectory.from_config(alembic_config())
    if heads[0] == script.get_current_head():
        return "at_head"
    known = {rev.revision for rev in script.walk_revisions()}
    return "behind" if heads[0] in known else "unknown"


@asynccontextmanager
async def migration_connection(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection inside one transaction for DDL; on SQLite, foreign keys off meanwhile."""
    sqlite = db.backend == "sqlite"
    async with db.engine.connect() as connection:
        if sqlite:
            await connection.run_sync(_set_sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                yield connection
                if sqlite:
                    await connection.run_sync(_check_sqlite_foreign_keys)
        finally:
            if sqlite:
                try:
                    await connection.run_sync(_set_sqlite_foreign_keys, True)
                except BaseException:
                    # Never hand a connection without foreign keys back to the pool.
                    await connection.invalidate()
                    raise


def _run_command(connection: Connection, run: Callable[[Config], None]) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    run(config)


async def _inspect(db: Database) -> tuple[list[str], tuple[str, ...]]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_tables_and_heads)


def _tables_and_heads(connection: Connection) -> tuple[list[str], tuple[str, ...]]:
    tables = [t for t in inspect(connection).get_table_names() if t != VERSION_TABLE]
    heads = MigrationContext.configure(connection).get_current_heads()
    return tables, tuple(heads)


def _set_sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Must run outside a transaction (SQLite ignores it inside one), so use the raw DBAPI
    # connection: SQLAlchemy would begin a transaction first.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None:
        raise RuntimeError("the connection is closed")
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"migration left broken foreign keys: {problems[:5]}")
