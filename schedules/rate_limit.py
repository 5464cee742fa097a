"""Pacing for sending messages under Telegram's limits.

Telegram allows about 30 messages a second overall (short bursts tolerated), about one a
second to a private chat and 20 a minute to a group. RateLimiter.acquire(chat_id) waits until
both the global bucket and the chat's own limiter allow a message, then counts it; pause()
makes every sender wait out a 429's retry_after. Clock and sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Waits shorter than this count as none: float rounding must not cause endless tiny sleeps.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Rates:
    """Sending limits. A group is limited by a sliding minute, everything else by buckets.

    global_burst may not exceed global_per_second (or 1, for rates under one a second).
    """

    global_per_second: float = 30.0
    global_burst: int = 30
    private_per_second: float = 1.0
    private_burst: int = 1
    group_per_minute: int = 20

    def __post_init__(self) -> None:
        for name in ("global_per_second", "private_per_second"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        for name in ("global_burst", "private_burst", "group_per_minute"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.global_burst > max(1.0, self.global_per_second):
            raise ValueError("global_burst may not exceed global_per_second")


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity`; starts full."""

    def __init__(self, rate: float, capacity: float, *, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    def delay(self) -> float:
        """Seconds until a token is available; 0 if one is available now."""
        self._refill()
        wait = (1 - self._tokens) / self.rate
        return wait if wait > _EPSILON else 0.0

    def take(self) -> None:
        """Use a token; RuntimeError if none is available (wait delay() first)."""
        if self.delay() > 0:
            raise RuntimeError("no token available yet")
        self._tokens -= 1

    def idle(self) -> bool:
        """True when full: forgetting this bucket would change nothing."""
        self._refill()
        return self._tokens >= self.capacity - _EPSILON

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now


class SlidingWindow:
    """At most `limit` events in any `period` seconds."""

    def __init__(self, limit: int, period: float, *, clock: Clock = time.monotonic) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a sliding window needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._times: deque[float] = deque()

    def delay(self) -> float:
        """Seconds until one more event fits in the window; 0 if it fits now."""
        now = self._forget_old()
        if len(self._times) < self.limit:
            return 0.0
        wait = self._times[0] + self.period - now
        return wait if wait > _EPSILON else 0.0

    def take(self) -> None:
        """Record an event now; RuntimeError if the window is full (wait delay() first)."""
        if self.delay() > 0:
            raise RuntimeError("the window is full")
        self._times.append(self._clock())

    def idle(self) -> bool:
        """True when empty: forgetting this window would change nothing."""
        self._forget_old()
        return not self._times

    def _forget_old(self) -> float:
        now = self._clock()
        while self._times and self._times[0] + self.period <= now + _EPSILON:
            self._times.popleft()
        return now


class _Limiter(Protocol):
    def delay(self) -> float: ...
    def take(self) -> None: ...
    def idle(self) -> bool: ...


@dataclass
class _Chat:
    limiter: _Limiter
    lock: asyncio.Lock
    users: int = 0  # acquire() calls holding on to this entry


class RateLimiter:
    """Waits before each message so that Telegram's limits are kept.

    Concurrent acquire() calls are served first come, first served per chat and, once their
    chat allows, first come, first served for the global bucket; a wait for one chat's limit
    never holds up other chats. Limiters of idle chats are forgotten, oldest first, once more
    than `max_chats` chats are tracked (an idle limiter is full, so nothing is lost).
    """

    def __init__(
        self,
        rates: Rates,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_chats: int = 10_000,
    ) -> None:
        if max_chats < 1:
            raise ValueError("max_chats must be at least 1")
        self.rates = rates
        self.max_chats = max_chats
        self._clock = clock
        self._sleep = sleep
        self._global = TokenBucket(rates.global_per_second, rates.global_burst, clock=clock)
        self._global_lock = asyncio.Lock()
        self._paused_until = clock()
        self._chats: OrderedDict[int, _Chat] = OrderedDict()

    @property
    def tracked_chats(self) -> int:
        """How many per-chat limiters are kept."""
        return len(self._chats)

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` from now (Telegram's 429 retry_after)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` may go out now, and count it.

        Positive ids are private chats (a token bucket), others groups and channels (a
        sliding minute).
        """
        chat = self._chat(chat_id)
        chat.users += 1
        try:
            async with chat.lock:
                await self._wait(chat.limiter.delay)
                async with self._global_lock:
                    # Only the holder of chat.lock takes from chat.limiter, so it still allows.
                    await self._wait(self._global_delay)
                    self._global.take()
                    chat.limiter.take()
        finally:
            chat.users -= 1

    async def _wait(self, delay: Callable[[], float]) -> None:
        while (seconds := delay()) > 0:
            await self._sleep(seconds)

    def _global_delay(self) -> float:
        paused = self._paused_until - self._clock()
        return max(paused if paused > _EPSILON else 0.0, self._global.delay())

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is not None:
            self._chats.move_to_end(chat_id)
            return chat
        self._forget_idle()
        chat = _Chat(self._new_limiter(chat_id), asyncio.Lock())
        self._chats[chat_id] = chat
        return chat

    def _new_limiter(self, chat_id: int) -> _Limiter:
        if chat_id > 0:
            rates = self.rates
            return TokenBucket(rates.private_per_second, rates.private_burst, clock=self._clock)
        return SlidingWindow(self.rates.group_per_minute, 60.0, clock=self._clock)

    def _forget_idle(self) -> None:
        """Make room for one more chat by dropping the least recently used idle ones.

        Busy chats are kept even past max_chats: dropping them would break their limits. There
        can only be so many: the global rate bounds how many chats were sent to in a minute.
        """
        excess = len(self._chats) - self.max_chats + 1
        if excess <= 0:
            return
        idle = []
        for chat_id, chat in self._chats.items():
            if chat.users == 0 and chat.limiter.idle():
                idle.append(chat_id)
                if len(idle) == excess:
                    break
        for chat_id in idle:
            del self._chats[chat_id]
