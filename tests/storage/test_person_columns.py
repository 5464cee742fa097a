"""The person-column registry covers the schema: a new person column cannot be forgotten."""

from __future__ import annotations

import re

from sqlalchemy import BigInteger
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table registered)
from storage.person_columns import NOT_PERSONAL, PERSON_COLUMNS

# Names that suggest a column holds who someone is.
_LOOKS_PERSONAL = re.compile(
    r"(telegram|user_id|recipient|actor|owner|citizen_id|chat_id|_by$|^by$|person|reader|voter)"
)


def _looks_personal(column: object) -> bool:
    name = getattr(column, "name", "")
    return isinstance(getattr(column, "type", None), BigInteger) or bool(
        _LOOKS_PERSONAL.search(name)
    )


def test_every_column_that_could_name_a_person_is_registered_or_declared_not_personal() -> None:
    registered = {(c.table, c.column) for c in PERSON_COLUMNS}
    missing = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if _looks_personal(column)
        and (table.name, column.name) not in registered
        and (table.name, column.name) not in NOT_PERSONAL
    ]
    assert missing == [], f"add these to storage/person_columns.py: {missing}"


def test_every_registered_column_exists() -> None:
    tables = SQLModel.metadata.tables
    stale = [
        f"{c.table}.{c.column}"
        for c in PERSON_COLUMNS
        if c.table not in tables or c.column not in tables[c.table].columns
    ]
    assert stale == []
    for table, column in NOT_PERSONAL:
        assert column in tables[table].columns


def test_the_check_notices_a_new_person_column() -> None:
    from sqlalchemy import Column, Integer, MetaData, Table

    table = Table(
        "fresh", MetaData(), Column("id", Integer), Column("helper_telegram_id", BigInteger)
    )
    assert [c.name for c in table.columns if _looks_personal(c)] == ["helper_telegram_id"]
