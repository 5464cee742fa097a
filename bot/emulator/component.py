"""A part of the emulator that adds Bot API methods (polls, files, webhooks, faults)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .params import Method

if TYPE_CHECKING:
    from .emulator import Emulator


class Component:
    """Holds the emulator it belongs to; `methods()` lists the Bot API methods it answers."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def methods(self) -> dict[str, Method]:
        """Lower-case method name → coroutine taking the request's parameters."""
        return {}
