"""Faults, rate limits and latency: Telegram's bad days, on request.

`Emulator.call` consults `emulator.faults` around every Bot API call. Three things live here:

* Injected faults (`inject`): a 429, 500, 502, dropped request or "bot was blocked" 403 for the
  next N calls of one method (or of every method), optionally only for one chat. A fault fires
  either `when="before"` the method runs (nothing happens) or `when="after"` it changed state
  (the message exists, yet the bot sees an error: for exactly-once tests).
* Rate limits like Telegram's (`limits`, off by default): token buckets for the overall rate,
  each private chat and each group. A refused call gets a 429 with `retry_after` and changes
  nothing. The buckets read `clock`, which tests may replace to stay deterministic.
* Latency (`latency`, 0 by default): a real `asyncio.sleep` before every call, for benchmarks.

Faults never touch driver actions (`user_sends`, `press`, …): those do not go through `call`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from .component import Component
from .errors import ApiError, DroppedRequest, forbidden
from .params import Params

if TYPE_CHECKING:
    from .emulator import Emulator

FaultKind = Literal["429", "500", "502", "drop", "blocked"]
When = Literal["before", "after"]
Source = Literal["injected", "rate_limit"]

# Methods that post a new message: they count toward the overall limit and their chat's limit.
MESSAGE_METHODS = frozenset(
    name.lower()
    for name in (
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendVideoNote",
        "sendSticker",
        "sendPoll",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendDice",
        "sendMediaGroup",
        "sendPaidMedia",
        "sendInvoice",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    )
)
# Methods that change a message already there: they count toward their chat's limit only.
EDIT_METHODS = frozenset(
    name.lower()
    for name in (
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "stopPoll",
    )
)
# Not counted at all: sendChatAction, deleteMessage, answerCallbackQuery, getUpdates, getMe,
# set*/get* and every other method.

_EPSILON = 1e-9  # float slack when a bucket has refilled "exactly" one token


@dataclass
class RateLimits:
    """Telegram's flood limits. A limit set to None is switched off; `scale` multiplies every
    limit (rates, burst sizes and the group count alike: `scale=100` is a Telegram a hundred
    times as generous). Time is read from `Faults.clock`."""

    enabled: bool = False
    # Overall: about 30 messages per second, in bursts of up to 30 (a token bucket).
    global_per_second: float | None = 30.0
    global_burst: float = 30.0
    # One private chat: about 1 message per second; Telegram tolerates a short burst (a bucket).
    private_per_second: float | None = 1.0
    private_burst: float = 3.0
    # One group or supergroup: at most 20 messages in any 60 seconds (a sliding window, so
    # retry_after can be long, as Telegram's is in groups).
    group_per_minute: float | None = 20.0
    scale: float = 1.0


@dataclass
class Fault:
    """An injected fault; the handle `Faults.inject` returns. `cancel()` switches it off."""

    kind: FaultKind
    method: str | None  # lower-case; None: every method but getUpdates
    chat_id: int | None
    times: int | None  # None: until cancelled or cleared
    when: When
    retry_after: int
    fired: int = 0
    cancelled: bool = False

    @property
    def active(self) -> bool:
        """True while the fault may still fire."""
        return not self.cancelled and (self.times is None or self.fired < self.times)

    def cancel(self) -> None:
        """The fault fires no more."""
        self.cancelled = True

    def matches(self, method: str, params: Params, when: When) -> bool:
        """Whether this fault applies to a call of `method` (lower-case) at `when`."""
        if not self.active or self.when != when:
            return False
        if self.method is None:
            if method == "getupdates":
                return False  # polling keeps working unless getUpdates is named
        elif self.method != method:
            return False
        return self.chat_id is None or _chat_key(params) == self.chat_id

    def error(self) -> Exception:
        """What the call raises when this fault fires."""
        if self.kind == "429":
            return too_many_requests(self.retry_after)
        if self.kind == "500":
            return ApiError(500, "Internal Server Error")
        if self.kind == "502":
            return ApiError(502, "Bad Gateway")
        if self.kind == "blocked":
            return forbidden("bot was blocked by the user")
        return DroppedRequest()


@dataclass(frozen=True)
class FaultEvent:
    """One call the faults refused: an injected fault firing, or a rate limit."""

    kind: FaultKind
    method: str
    chat_id: int | None
    when: When
    source: Source
    at: float
    retry_after: int | None = None


def too_many_requests(retry_after: int) -> ApiError:
    """Telegram's 429; PTB turns it into `RetryAfter`."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class _Limiter(Protocol):
    def wait(self, now: float) -> float:
        """Seconds until one more call is allowed (0: allowed now)."""

    def take(self, now: float) -> None:
        """Count one call."""


@dataclass
class _BucketState:
    tokens: float
    updated: float


@dataclass
class _Bucket:
    """A token bucket, read with the current settings (they may change between calls)."""

    states: dict[tuple[str, int], _BucketState]
    key: tuple[str, int]
    rate: float  # tokens per second
    capacity: float

    def level(self, now: float) -> float:
        state = self.states.get(self.key)
        if state is None:
            return self.capacity  # never used: full
        elapsed = max(now - state.updated, 0.0)
        return min(self.capacity, state.tokens + elapsed * self.rate)

    def wait(self, now: float) -> float:
        missing = 1.0 - self.level(now)
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def take(self, now: float) -> None:
        self.states[self.key] = _BucketState(max(self.level(now) - 1.0, 0.0), now)


@dataclass
class _Window:
    """At most `limit` calls in any `period` seconds."""

    sent: deque[float]
    limit: int
    period: float

    def wait(self, now: float) -> float:
        recent = [t for t in self.sent if t > now - self.period + _EPSILON]
        if len(recent) < self.limit:
            return 0.0
        return recent[-self.limit] + self.period - now

    def take(self, now: float) -> None:
        while self.sent and self.sent[0] <= now - self.period + _EPSILON:
            self.sent.popleft()
        self.sent.append(now)


class Faults(Component):
    """Consulted around every call: may delay, refuse with 429/500/502/403, or drop the request."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.clock: Callable[[], float] = time.monotonic
        self.latency: float = 0.0
        self.limits = RateLimits()
        self.armed: list[Fault] = []  # injected faults that may still fire, oldest first
        self.events: list[FaultEvent] = []  # every refusal, injected or by a rate limit
        self._buckets: dict[tuple[str, int], _BucketState] = {}
        self._windows: dict[int, deque[float]] = {}

    # ------------------------------------------------------------------ the test's side

    def inject(
        self,
        kind: FaultKind,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
        when: When = "before",
        retry_after: int = 3,
    ) -> Fault:
        """Make the next `times` matching calls fail with `kind` (None: until cancelled).

        `method` None means every method except getUpdates; `chat_id` limits the fault to calls
        naming that chat. Several matching faults fire oldest first, one per call.
        """
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {kind!r}")
        if when not in get_args(When):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for until cleared)")
        if retry_after < 1:
            raise ValueError("retry_after must be at least 1 second")
        name = method.lower() if method is not None else None
        if name is not None and name not in self.emulator._methods:
            raise ValueError(f"the emulator has no method {method!r}")
        fault = Fault(kind, name, chat_id, times, when, retry_after)
        self.armed.append(fault)
        return fault

    def clear(self) -> None:
        """Cancel every injected fault (limits, latency and the event log stay)."""
        for fault in self.armed:
            fault.cancel()
        self.armed.clear()

    def refill(self) -> None:
        """Forget what the rate limits counted: every limit starts afresh."""
        self._buckets.clear()
        self._windows.clear()

    def events_for(self, chat_id: int) -> list[FaultEvent]:
        """The refusals of calls aimed at `chat_id`, oldest first."""
        return [event for event in self.events if event.chat_id == chat_id]

    @property
    def injected(self) -> list[FaultEvent]:
        """The injected faults that fired."""
        return [event for event in self.events if event.source == "injected"]

    @property
    def rate_limited(self) -> list[FaultEvent]:
        """The 429s the rate limits produced."""
        return [event for event in self.events if event.source == "rate_limit"]

    # ------------------------------------------------------------------ the emulator's side

    async def before(self, method: str, params: Params) -> None:
        """Runs before the method changes any state."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        name = method.lower()
        self._fire(name, method, params, "before")
        if self.limits.enabled:
            self._take_tokens(name, method, params)

    async def after(self, method: str, params: Params) -> None:
        """Runs after the method changed state (a fault here is 'after delivery')."""
        self._fire(method.lower(), method, params, "after")

    def _fire(self, name: str, method: str, params: Params, when: When) -> None:
        for fault in self.armed:
            if fault.matches(name, params, when):
                fault.fired += 1
                self.events.append(
                    FaultEvent(
                        fault.kind,
                        method,
                        _chat_key(params),
                        when,
                        "injected",
                        self.clock(),
                        fault.retry_after if fault.kind == "429" else None,
                    )
                )
                self.armed = [f for f in self.armed if f.active]
                raise fault.error()

    # ------------------------------------------------------------------ rate limits

    def _limiters(self, name: str, params: Params) -> list[_Limiter]:
        """The limits a call of `name` counts toward."""
        limits = self.limits
        counts_globally = name in MESSAGE_METHODS
        if not counts_globally and name not in EDIT_METHODS:
            return []
        scale = limits.scale
        if scale <= 0:
            raise ValueError("RateLimits.scale must be positive")
        limiters: list[_Limiter] = []
        if counts_globally and limits.global_per_second is not None:
            limiters.append(
                self._bucket(
                    ("global", 0), limits.global_per_second * scale, limits.global_burst * scale
                )
            )
        chat_id = _chat_key(params)
        chat = self.emulator.chats.get(chat_id) if chat_id is not None else None
        if chat is None or chat_id is None:
            return limiters  # the method refuses an unknown chat itself
        if chat.type == "private":
            if limits.private_per_second is not None:
                limiters.append(
                    self._bucket(
                        ("chat", chat_id),
                        limits.private_per_second * scale,
                        limits.private_burst * scale,
                    )
                )
        elif limits.group_per_minute is not None:
            limit = math.floor(limits.group_per_minute * scale + _EPSILON)
            if limit < 1:
                raise ValueError("group_per_minute * scale must allow at least one message")
            limiters.append(_Window(self._windows.setdefault(chat_id, deque()), limit, 60.0))
        return limiters

    def _bucket(self, key: tuple[str, int], rate: float, capacity: float) -> _Bucket:
        if rate <= 0:
            raise ValueError("rate limits must be positive (None switches one off)")
        return _Bucket(self._buckets, key, rate, max(capacity, 1.0))

    def _take_tokens(self, name: str, method: str, params: Params) -> None:
        """Count the call toward every limit it falls under, or refuse it and count nothing."""
        limiters = self._limiters(name, params)
        if not limiters:
            return
        now = self.clock()
        wait = max(limiter.wait(now) for limiter in limiters)
        if wait > 0:
            retry_after = max(1, math.ceil(wait - _EPSILON))
            self.events.append(
                FaultEvent(
                    "429", method, _chat_key(params), "before", "rate_limit", now, retry_after
                )
            )
            raise too_many_requests(retry_after)
        for limiter in limiters:
            limiter.take(now)


def _chat_key(params: Params) -> int | None:
    """The call's chat_id as an int, or None (absent, or an @username)."""
    value = params.get("chat_id")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
