"""/library: readers browse events and books, reserve loans, join waitlists, cancel."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
