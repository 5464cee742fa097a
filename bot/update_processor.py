"""Updates from different people run concurrently; each person's updates keep their order.

At Telegram's real round trip (≈50 ms a call) a bot handling one update at a time cannot
answer more than about 20 people a second. Running everything concurrently would let one
person's quick taps overtake each other (a vote changed before it was stored). So updates
are serialised per sender (user, else chat) and run in parallel across senders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.ext import BaseUpdateProcessor

if TYPE_CHECKING:
    from bot.outage import OutageGuard

T = TypeVar("T")


def sender_key(update: object) -> int | None:
    """Whose order to keep: the user, else the chat; None for updates with neither."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.poll is not None:
            return None  # vote counts of a poll: no sender, and order does not matter
    return None


class PerSenderUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across senders, in order for each sender."""

    def __init__(self, max_concurrent_updates: int, guard: OutageGuard | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Retries (and spools) updates that met a database outage, inside the sender's turn.
        self.guard = guard

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run `coroutine` after the same sender's earlier updates have finished."""
        key = sender_key(update)
        if key is None:
            await self._run(update, coroutine)
            return
        # Plain code rather than an async context manager: this runs for every update.
        lock = self._enter(key)
        try:
            async with lock:  # asyncio.Lock is FIFO: arrival order is kept
                await self._run(update, coroutine)
        finally:
            self._leave(key)

    async def in_turn(self, key: int | None, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` in the turn of sender `key` (e.g. to replay a spooled update)."""
        if key is None:
            return await awaitable
        lock = self._enter(key)
        try:
            async with lock:
                return await awaitable
        finally:
            self._leave(key)

    def _run(self, update: object, coroutine: Awaitable[Any]) -> Awaitable[Any]:
        return coroutine if self.guard is None else self.guard.handle(update, coroutine)

    def _enter(self, key: int) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        return lock

    def _leave(self, key: int) -> None:
        self._waiting[key] -= 1
        if self._waiting[key] == 0:  # nobody queued: forget it, so memory stays flat
            del self._waiting[key]
            del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
