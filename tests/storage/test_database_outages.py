"""Telling "the database is briefly unavailable" from a logic error, and pooled connections
that the server dropped."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from storage.database import Database, is_unavailable
from tests.conftest import open_test_database, postgresql_test_url


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_server_that_refuses_connections_is_unavailable_and_fails_its_ping() -> None:
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/nowhere")
    try:
        with pytest.raises(Exception) as raised:
            async with db.session() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        assert is_unavailable(raised.value)
        assert await db.ping() is False
    finally:
        await db.dispose()


async def test_a_statement_error_is_not_an_outage_and_the_ping_answers(db: Database) -> None:
    with pytest.raises(exc.IntegrityError) as raised:
        async with db.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO consents (citizen_id, purpose, granted, decided_at) "
                    "VALUES (999, 'reminders', true, CURRENT_TIMESTAMP)"
                )
            )
    assert not is_unavailable(raised.value)
    assert await db.ping() is True


def test_sqlite_lock_time_outs_are_transient_other_sqlite_errors_are_not() -> None:
    locked = exc.OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
    syntax = exc.OperationalError("SELEC", {}, sqlite3.OperationalError('near "SELEC": syntax'))
    assert is_unavailable(locked)
    assert not is_unavailable(syntax)


def test_a_connection_invalidated_by_sqlalchemy_is_an_outage() -> None:
    error = exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_unavailable(error)


def test_an_os_error_outside_the_database_driver_is_not_an_outage(tmp_path: Path) -> None:
    with pytest.raises(OSError) as raised:
        (tmp_path / "missing.ttf").read_bytes()
    assert not is_unavailable(raised.value)
    assert not is_unavailable(ValueError("bad input"))


async def test_a_connection_the_server_killed_mid_transaction_is_an_outage(
    tmp_path: Path,
) -> None:
    async with open_test_database("postgresql", tmp_path, migrated=False) as db:
        with pytest.raises(Exception) as raised:
            async with db.session() as session:
                await session.exec(text("SELECT pg_terminate_backend(pg_backend_pid())"))  # type: ignore[call-overload]
        assert is_unavailable(raised.value)


async def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(
    tmp_path: Path,
) -> None:
    async with open_test_database("postgresql", tmp_path, migrated=False) as db:
        async with db.session() as session:
            pid = (await session.exec(text("SELECT pg_backend_pid()"))).scalar()  # type: ignore[call-overload]
        # The connection is back in the pool; kill it from elsewhere, as a restart would.
        other = Database(postgresql_test_url())
        try:
            async with other.engine.begin() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await other.dispose()
        async with db.session() as session:  # pre-ping: a fresh connection, no error
            assert (await session.exec(text("SELECT 1"))).scalar() == 1  # type: ignore[call-overload]
