"""The async engine and sessions, for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["AsyncSession", "Database", "normalize_url"]

# Many concurrent handlers can queue for SQLite's single writer; waiting longer beats failing
# with "database is locked" (seen at 256 concurrent updates in bench/bench_needs.py).
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

Backend = Literal["sqlite", "postgresql"]


def normalize_url(url: str) -> str:
    """Give a URL its async driver: postgres(ql):// → postgresql+asyncpg://, sqlite → aiosqlite."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    return url


class Database:
    """One database: its async engine and a session factory. Nothing connects until used.

    SQLite connections get WAL, foreign keys and a 5 s busy timeout, and every transaction
    starts with BEGIN IMMEDIATE, so writers queue instead of failing half-way. `schema`
    (PostgreSQL only) sets the `search_path`, e.g. to isolate tests.
    """

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None) -> None:
        self._url: URL = make_url(normalize_url(url))
        backend = self._url.get_backend_name()
        engine_kwargs: dict[str, Any] = {"echo": echo}
        self._backend: Backend
        if backend == "sqlite":
            self._backend = "sqlite"
            if schema is not None:
                raise ValueError("schema is only supported on PostgreSQL")
            _create_parent_directory(self._url)
        elif backend == "postgresql":
            self._backend = "postgresql"
            engine_kwargs["pool_pre_ping"] = True
            if schema is not None:
                if not _SCHEMA_NAME.match(schema):
                    raise ValueError(f"schema must be a lower-case identifier: {schema!r}")
                engine_kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        else:
            raise ValueError(f"unsupported database (use sqlite or postgresql): {backend}")
        self._schema = schema
        self._engine = create_async_engine(self._url, **engine_kwargs)
        if self._backend == "sqlite":
            event.listen(self._engine.sync_engine, "connect", _on_sqlite_connect)
            event.listen(self._engine.sync_engine, "begin", _on_sqlite_begin)
        self._sessions = async_sessionmaker(
            self._engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (for migrations and raw checks; prefer `session()`)."""
        return self._engine

    @property
    def backend(self) -> Backend:
        """Which kind of database: "sqlite" or "postgresql"."""
        return self._backend

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema this database is confined to, if any."""
        return self._schema

    @property
    def url(self) -> str:
        """The normalised URL, password included (never log this; see `url_for_display`)."""
        return self._url.render_as_string(hide_password=False)

    @property
    def url_for_display(self) -> str:
        """The URL with any password replaced by ***, safe for logs."""
        return self._url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session: commit when the block ends normally, roll back on any error."""
        async with self._sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url_for_display!r})"


def _create_parent_directory(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver (see _on_sqlite_begin) and set the pragmas,
    # which only take effect outside a transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    # The driver's own BEGIN is lazy and skips SELECTs, which breaks SAVEPOINTs and lets a
    # read-then-write transaction fail with "database is locked". IMMEDIATE takes the write
    # lock up front; concurrent writers wait (busy_timeout) instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
