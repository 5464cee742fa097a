"""The one clock all storage code reads; tests and the scheduler may replace it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Clock = _system_clock


def now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    value = _clock()
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the clock returned a naive datetime; it must be timezone-aware")
    return value.astimezone(UTC)


def set_clock(fn: Clock | None) -> None:
    """Make `now()` call `fn`; `None` restores the system clock."""
    global _clock
    _clock = fn if fn is not None else _system_clock


class ManualClock:
    """A clock that only moves when told to; pass an instance to `set_clock`."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start)

    def __call__(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (timezone-aware)."""
        self._now = _aware_utc(when)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by `delta` or by `timedelta(**kwargs)`; return the new time."""
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a naive datetime is ambiguous; pass a timezone-aware one")
    return value.astimezone(UTC)
