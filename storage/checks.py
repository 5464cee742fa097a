"""Small argument checks shared by storage modules."""

from __future__ import annotations

from datetime import datetime


def check_text(name: str, value: str, max_length: int) -> None:
    """Refuse an empty value or one longer than `max_length` characters."""
    if not value:
        raise ValueError(f"{name} is required")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")


def require_aware(name: str, value: datetime) -> datetime:
    """Refuse a naive datetime: storage never guesses a time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value
