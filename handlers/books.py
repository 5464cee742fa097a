"""/books: facilitators keep the human library's books (add, edit, retire, link)."""

from __future__ import annotations

from bot.services import AnyApplication


def register(app: AnyApplication) -> None:
    """Add this flow's handlers (none yet)."""
