"""/schedule: facilitators set up a human-library event (date, time, place, books, loans)."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
