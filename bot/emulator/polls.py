"""Native polls: sendPoll, stopPoll, votes and their updates (issue 3 fills this in)."""

from __future__ import annotations

from .component import Component


class Polls(Component):
    """Polls the bot sent and the votes people cast."""
