"""/mysessions: a citizen's upcoming library loans and council meetings in one list."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
