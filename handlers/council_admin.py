"""Facilitators' coffee-council tools: agenda, /attendance check-in, /minutes, action items."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
