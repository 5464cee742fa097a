"""Handler tests: the real Application on the emulator in-process (no sockets, fast)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot, sqlite_url


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[LiveBot]:
    """A running bot whose Bot API calls go straight to the emulator, with the same checks
    as the e2e fixture: every press answered, no call refused."""
    live = LiveBot(database_url=sqlite_url(tmp_path / "handlers.db"), in_process=True)
    async with live:
        yield live
    assert live.emulator.unanswered_callback_queries() == []
    assert [(c.method, c.description) for c in live.emulator.calls if not c.ok] == []
