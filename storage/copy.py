"""Copy every table from one database to another (`learncity db copy`), e.g. SQLite → PostgreSQL.

The source must be at the latest migration; the target is migrated to it first if empty, and
refused if any table already holds a row (a copy never merges). Tables go in foreign-key order
(`SQLModel.metadata.sorted_tables`), each streamed from the source in batches, so memory stays
flat however big the database. The whole copy is one transaction on the target: a failure
leaves it as empty as it was. PostgreSQL sequences are moved past the copied ids afterwards,
else the next insert would reuse id 1. Row counts are compared per table at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from storage import migrate
from storage.database import _READONLY_OPTION, Database

DEFAULT_BATCH_SIZE = 2000


class CopyRefused(Exception):
    """The copy cannot start; the message is one line for the operator."""


@dataclass(frozen=True)
class TableCount:
    """One table's rows in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        """True when the target holds exactly the source's rows."""
        return self.source == self.target


def tables() -> list[Table]:
    """Every table of the models, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


async def check_copyable(source: Database, target: Database) -> None:
    """Raise CopyRefused unless the source is at head and the target is empty or unused."""
    if _same_database(source, target):
        raise CopyRefused("The source and the target are the same database.")
    state = await migrate.status(source)
    if state != "at_head":
        raise CopyRefused(
            f"The source {source.url_for_display} is not at the latest migration ({state}): "
            "run `learncity db upgrade` on it first."
        )
    target_state = await migrate.status(target)
    if target_state == "empty":
        return
    if target_state != "at_head":
        raise CopyRefused(
            f"The target {target.url_for_display} already holds tables ({target_state}): "
            "a copy never merges; give an empty database."
        )
    filled = [name for name, rows in (await count_rows(target)).items() if rows]
    if filled:
        raise CopyRefused(
            f"The target {target.url_for_display} is not empty ({', '.join(filled[:5])} "
            "hold rows): a copy never merges; give an empty database."
        )


def _same_database(source: Database, target: Database) -> bool:
    first, second = make_url(source.url), make_url(target.url)
    if source.backend == target.backend == "sqlite":
        # Relative and absolute spellings of one file are the same database.
        paths = [Path(url.database or "").expanduser().resolve() for url in (first, second)]
        return paths[0] == paths[1]
    return source.url == target.url and source.schema == target.schema


async def count_rows(db: Database) -> dict[str, int]:
    """Rows per table of the models, in foreign-key order."""
    async with db.engine.connect() as connection:
        return {table.name: await _count(connection, table) for table in tables()}


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableCount]:
    """Copy every row of `source` into `target`; the counts per table, compared afterwards.

    Raises CopyRefused before writing anything if `check_copyable` objects. `progress` is
    called with each table's name and the rows copied into it.
    """
    await check_copyable(source, target)
    if await migrate.status(target) == "empty":
        await migrate.upgrade(target)
    source_counts: dict[str, int] = {}
    async with source.engine.connect() as reader, target.engine.begin() as writer:
        # One read transaction for the whole copy, so every table comes from the same moment
        # (PostgreSQL: REPEATABLE READ; SQLite: a deferred BEGIN in WAL, which also leaves
        # the write lock to a bot that may still be running).
        await reader.execution_options(
            **{_READONLY_OPTION: True},
            **({"isolation_level": "REPEATABLE READ"} if source.backend == "postgresql" else {}),
        )
        async with reader.begin():
            for table in tables():
                source_counts[table.name] = await _count(reader, table)
                copied = await _copy_table(reader, writer, table, batch_size)
                if progress is not None:
                    progress(table.name, copied)
        if target.backend == "postgresql":
            await _reset_sequences(writer)
    target_counts = await count_rows(target)
    return [TableCount(name, source_counts[name], target_counts[name]) for name in source_counts]


async def _copy_table(
    reader: AsyncConnection, writer: AsyncConnection, table: Table, batch_size: int
) -> int:
    # Ordered by primary key so that a copy is reproducible and ids keep their order.
    query = select(table).order_by(*table.primary_key.columns)
    keys = [column.key for column in table.columns]
    copied = 0
    result = await reader.stream(query.execution_options(yield_per=batch_size))
    async for batch in result.partitions(batch_size):
        rows: list[dict[str, Any]] = [dict(zip(keys, row, strict=True)) for row in batch]
        await writer.execute(table.insert(), rows)
        copied += len(rows)
    return copied


async def _reset_sequences(writer: AsyncConnection) -> None:
    for table in tables():
        column = _serial_key(table)
        if column is None:
            continue
        await writer.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f'(SELECT coalesce(max("{column}"), 0) + 1 FROM "{table.name}"), false)'
        )


def _serial_key(table: Table) -> str | None:
    """The name of a single integer primary key that the database numbers, if any."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer) or keys[0].foreign_keys:
        return None
    return keys[0].name if keys[0].autoincrement in (True, "auto") else None


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())
