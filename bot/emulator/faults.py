"""Faults, rate limits and latency: Telegram's bad days, on request (issue 3 fills this in)."""

from __future__ import annotations

from .component import Component
from .params import Params


class Faults(Component):
    """Consulted around every call: may delay, refuse with 429/500/403, or drop the request."""

    async def before(self, method: str, params: Params) -> None:
        """Runs before the method changes any state."""

    async def after(self, method: str, params: Params) -> None:
        """Runs after the method changed state (a fault here is 'after delivery')."""
