"""The async engine and sessions, for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["AsyncSession", "Database", "is_unavailable", "normalize_url"]

# Many concurrent handlers can queue for SQLite's single writer; waiting longer beats failing
# with "database is locked" (seen at 256 concurrent updates in bench/bench_needs.py).
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The execution option that marks a read-only SQLite transaction (plain, deferred BEGIN).
_READONLY_OPTION = "learncity_readonly"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# A server that does not answer at all (a cut network) must fail fast enough for the update's
# bounded retry (DB_RETRY_SECONDS) to see it; asyncpg's own default is 60 s.
PG_CONNECT_TIMEOUT_SECONDS = 5.0

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

    SQLite connections get WAL, foreign keys and a busy timeout, and every transaction that
    may write starts with BEGIN IMMEDIATE, so writers queue instead of failing half-way; in
    this process they queue on an asyncio lock first (see `session`). `schema` (PostgreSQL
    only) sets the `search_path`, e.g. to isolate tests.
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
            # A pooled connection the server (or a proxy) dropped is replaced, not handed out.
            engine_kwargs["pool_pre_ping"] = True
            connect_args: dict[str, Any] = {"timeout": PG_CONNECT_TIMEOUT_SECONDS}
            if schema is not None:
                if not _SCHEMA_NAME.match(schema):
                    raise ValueError(f"schema must be a lower-case identifier: {schema!r}")
                connect_args["server_settings"] = {"search_path": schema}
            engine_kwargs["connect_args"] = connect_args
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
        # SQLite has one writer. Writers of this process take turns here, handed over at once
        # in arrival order, rather than in SQLite's busy handler, which sleeps in steps of up
        # to 100 ms and so stalls every waiting handler (bench/bench_needs.py).
        self._write_turn = _WriteTurn() if self._backend == "sqlite" else None

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
    async def session(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """Open a session: commit when the block ends normally, roll back on any error.

        `readonly` promises that the block only reads: on SQLite it neither waits for nor
        takes the write lock (WAL readers see the last commit). A write in such a block may
        fail with "database is locked". A task must not open a writing session inside
        another one (SQLite would wait for itself).
        """
        if readonly or self._write_turn is None:
            async with self._open(readonly=readonly) as session:
                yield session
            return
        async with self._write_turn.taken(), self._open(readonly=False) as session:
            yield session

    @asynccontextmanager
    async def _open(self, *, readonly: bool) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            if readonly and self._backend == "sqlite":
                await session.connection(execution_options={_READONLY_OPTION: True})
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def ping(self) -> bool:
        """True if the database answers a trivial query now; False if it is unavailable."""
        try:
            async with self._engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception as error:
            if is_unavailable(error):
                return False
            raise
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url_for_display!r})"


# Driver errors that mean "no usable connection right now", not "this statement is wrong".
# SQLSTATE class 08 (connection exception) and the server shutting down or starting up.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite's transient failures: another process holds the lock past busy_timeout, or the file
# (e.g. on a network share) is briefly unreachable.
_SQLITE_TRANSIENT = ("database is locked", "unable to open database file", "disk i/o error")
_DRIVER_PATHS = ("/asyncpg/", "/sqlalchemy/", "/aiosqlite/")


def is_unavailable(raised: BaseException) -> bool:
    """True when `raised` means the database is briefly unavailable (retrying may succeed).

    Connection refused or reset, a connection the server closed, a server shutting down or
    starting, SQLite's "database is locked": yes. A constraint violation, a bad statement or
    any other logic error: no. An OSError counts only when a database driver raised it, so a
    missing file elsewhere is not taken for an outage.
    """
    for error in _causes(raised):
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        message = str(error).lower()
        if type(error).__name__ == "InterfaceError" and "connection" in message:
            return True  # asyncpg: "connection is closed" / "connection was closed in the middle"
        if isinstance(error, sqlite3.OperationalError) and message.startswith(_SQLITE_TRANSIENT):
            return True
        if isinstance(error, OSError) and _raised_by_driver(error):
            return True
    return False


def _causes(error: BaseException) -> list[BaseException]:
    """`error`, what it wraps (`.orig`) and its causes and contexts, each once."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending.extend([current.__context__, current.__cause__])
        if isinstance(orig, BaseException):
            pending.append(orig)
    return seen


def _raised_by_driver(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename.replace("\\", "/")
        if any(path in filename for path in _DRIVER_PATHS):
            return True
        traceback = traceback.tb_next
    return False


class _WriteTurn:
    """An asyncio lock for SQLite writers, re-entrant per task and bound to the running loop.

    Re-entrant, because a task that opens a session inside another (before the outer one has
    touched the database) must not wait for itself; per loop, because a `Database` may be
    used by successive `asyncio.run` calls (the CLI).
    """

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def taken(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            yield
            return
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._owner = asyncio.Lock(), loop, None
        async with self._lock:
            self._owner = task
            try:
                yield
            finally:
                self._owner = None


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
    # lock up front; concurrent writers wait (busy_timeout) instead. Read-only sessions
    # begin deferred: they never take the write lock.
    if connection.get_execution_options().get(_READONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
