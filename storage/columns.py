"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores `timestamptz`; SQLite (which drops tzinfo) stores naive UTC. Naive values
    are refused on the way in, because their meaning is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; strip tzinfo for SQLite."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware one")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the backend gave back."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumText(TypeDecorator[E], Generic[E]):
    """A `StrEnum` stored as a plain string column (no native enum type to migrate)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[E], length: int = 32) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        """Store the member's value; an unknown value raises ValueError."""
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> E | None:
        """Give back the enum member."""
        if value is None:
            return None
        return self.enum_cls(value)


class JsonText(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as text, readable on any backend and easy to rewrite."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        """Serialise to compact JSON (Thai text kept as is)."""
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: Any | None, dialect: Dialect) -> dict[str, Any] | None:
        """Parse the stored JSON."""
        if value is None:
            return None
        parsed = json.loads(value)
        if not isinstance(parsed, dict):
            raise ValueError("stored JSON is not an object")
        return parsed


class JsonList(TypeDecorator[list[Any]]):
    """A JSON array stored as text (e.g. a citizen's reminder lead minutes)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> str | None:
        """Serialise to compact JSON."""
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return json.dumps(list(value), ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any | None, dialect: Dialect) -> list[Any] | None:
        """Parse the stored JSON."""
        if value is None:
            return None
        parsed = json.loads(value)
        if not isinstance(parsed, list):
            raise ValueError("stored JSON is not an array")
        return parsed
