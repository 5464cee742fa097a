"""Facilitators' view of their library events: rosters, feedback, cancel, withdraw, stop/report."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
