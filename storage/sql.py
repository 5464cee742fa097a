"""Small SQL helpers that differ by backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from storage.database import AsyncSession


def backend_of(session: AsyncSession) -> str:
    """The dialect name of the session's database: "sqlite" or "postgresql"."""
    return session.get_bind().dialect.name


def insert_ignoring_conflicts(
    session: AsyncSession, table: Table, conflict_columns: Sequence[str]
) -> Insert:
    """INSERT … ON CONFLICT (`conflict_columns`) DO NOTHING, for the session's backend.

    Safe under concurrency: a row a concurrent transaction inserted first is skipped, not an
    error (PostgreSQL waits for that transaction; SQLite serialises writers anyway).
    """
    backend = backend_of(session)
    if backend == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    if backend == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    raise RuntimeError(f"unsupported database backend: {backend}")


def upsert(
    session: AsyncSession,
    table: Table,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> Insert:
    """INSERT … ON CONFLICT (`conflict_columns`) DO UPDATE SET each of `update_columns`.

    The updated columns take the values the INSERT proposed (`excluded`). One statement, safe
    under concurrency; a batch must not hold two rows for the same conflict key.
    """
    backend = backend_of(session)
    if backend == "postgresql":
        pg_insert = postgresql.insert(table)
        return pg_insert.on_conflict_do_update(
            index_elements=conflict_columns,
            set_={name: pg_insert.excluded[name] for name in update_columns},
        )
    if backend == "sqlite":
        lite_insert = sqlite.insert(table)
        return lite_insert.on_conflict_do_update(
            index_elements=conflict_columns,
            set_={name: lite_insert.excluded[name] for name in update_columns},
        )
    raise RuntimeError(f"unsupported database backend: {backend}")
