"""Storage test helpers: a manual clock that every storage function reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from storage.clock import ManualClock, set_clock

START = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)  # 08:30 in Yala


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """Freeze storage time at START; move it with `clock.advance(minutes=5)`."""
    manual = ManualClock(START)
    set_clock(manual)
    try:
        yield manual
    finally:
        set_clock(None)
