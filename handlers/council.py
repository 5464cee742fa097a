"""/council: citizens see the next coffee-council meeting, RSVP and suggest agenda topics."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
