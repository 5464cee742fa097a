"""Rows for any schema a migration leaves behind, made from the database's own reflection.

The migration walk cannot use today's models (older revisions lack their columns), so it reads
the tables as they are at each revision and writes `ROWS` rows into each empty one: every
column gets a value of its type (unique per column, so unique constraints hold), and a foreign
key points at the i-th row of its parent, which exists because parents are filled first. A new
column type or a self-referencing required key fails loudly here: teach `_value` about it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.migrate import VERSION_TABLE

ROWS = 2
_BASE_TIME = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)

Snapshot = dict[str, set[tuple[Any, ...]]]


async def fill_empty_tables(db: Database) -> Snapshot:
    """Write ROWS rows into every table that has none; then the `snapshot` of every table."""
    async with db.engine.begin() as connection:
        return await connection.run_sync(_fill)


async def snapshot(db: Database) -> Snapshot:
    """Every table's primary keys (all its columns if it has none), by table name."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_snapshot)


def _reflect(connection: Connection) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name != VERSION_TABLE]


def _snapshot(connection: Connection) -> Snapshot:
    # The inspector, not a full reflection: it is most of the walk's time on SQLite.
    inspector = sa.inspect(connection)
    found: Snapshot = {}
    for name in inspector.get_table_names():
        if name == VERSION_TABLE:
            continue
        key = inspector.get_pk_constraint(name)["constrained_columns"] or [
            column["name"] for column in inspector.get_columns(name)
        ]
        query = sa.select(*(sa.column(column) for column in key)).select_from(sa.table(name))
        found[name] = {tuple(row) for row in connection.execute(query)}
    return found


def _fill(connection: Connection) -> Snapshot:
    counter = itertools.count(1)
    found: Snapshot = {}
    for table in _reflect(connection):
        key = list(table.primary_key.columns) or list(table.columns)
        if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
            found[table.name] = {tuple(row) for row in connection.execute(sa.select(*key))}
            continue
        parents = {fk: _parent_rows(connection, fk, table) for fk in table.foreign_key_constraints}
        rows = []
        for i in range(ROWS):
            row: dict[str, Any] = {}
            for fk, parent_rows in parents.items():
                chosen = parent_rows[i % len(parent_rows)] if parent_rows else None
                for position, column in enumerate(fk.columns):
                    row[column.name] = None if chosen is None else chosen[position]
                    if chosen is None and not column.nullable:
                        raise AssertionError(f"{table.name}.{column.name}: no parent row")
            for column in table.columns:
                if column.name in row or _numbered_by_database(column):
                    continue
                row[column.name] = _value(column, next(counter))
            rows.append(row)
        connection.execute(table.insert(), rows)
        found[table.name] = {tuple(row) for row in connection.execute(sa.select(*key))}
    return found


def _parent_rows(
    connection: Connection, fk: sa.ForeignKeyConstraint, table: sa.Table
) -> list[tuple[Any, ...]]:
    if fk.referred_table is table:
        return []  # a self-reference stays empty (it must then be nullable)
    referred = [element.column for element in fk.elements]
    return [tuple(row) for row in connection.execute(sa.select(*referred).order_by(*referred))]


def _numbered_by_database(column: sa.Column[Any]) -> bool:
    table = column.table
    keys = list(table.primary_key.columns)
    return (
        keys == [column]
        and isinstance(column.type, sa.Integer)
        and not column.foreign_keys
        and column.autoincrement in (True, "auto")
    )


def _value(column: sa.Column[Any], n: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return n % 2 == 0
    if isinstance(kind, sa.Integer):
        return n
    if isinstance(kind, sa.Float):
        return n + 0.5
    if isinstance(kind, sa.Numeric):
        return Decimal(n)
    if isinstance(kind, sa.DateTime):
        moment = _BASE_TIME + timedelta(minutes=n)
        return moment if kind.timezone else moment.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 1) + timedelta(days=n)
    if isinstance(kind, sa.Time):
        return time(n % 24, n % 60)
    if isinstance(kind, sa.String):  # also Text; JSON text columns get a JSON object
        text = f'{{"v": {n}}}' if kind.length is None else f"v{n}"
        return text if kind.length is None or len(text) <= kind.length else str(n)[-kind.length :]
    if isinstance(kind, sa.LargeBinary):
        return bytes([n % 256])
    raise AssertionError(f"{column.table.name}.{column.name}: no test value for {kind!r}")
