"""The real Application polling the emulator over HTTP, on a SQLite file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import ContextTypes

from bot.emulator.harness import LiveBot, sqlite_url
from bot.services import AnyApplication
from handlers.deep_links import register_deep_link
from handlers.people import Person

TEST_FLOW_PREFIX = "test-"


async def _test_only_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str
) -> None:
    """A deep-link flow that exists only in tests: it proves the payload survived onboarding."""
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id, f"test flow done: {payload} ({person.language})"
    )


def _register_test_flow(app: AnyApplication) -> None:
    register_deep_link(app, TEST_FLOW_PREFIX, _test_only_flow)


@pytest.fixture
async def live(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[LiveBot]:
    """A running bot. Afterwards: every button press was answered, and Telegram refused no call
    (a 400 from the emulator is a bug in the bot) unless the test is marked `allow_api_errors`."""
    bot = LiveBot(database_url=sqlite_url(tmp_path / "e2e.db"), extra_setup=_register_test_flow)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    assert bot.emulator.unanswered_callback_queries() == []
    shown = [m.text or "" for chat in bot.emulator.messages.values() for m in chat if m.from_bot]
    escaped_twice = [text for text in shown if "<b>" in text or "&lt;" in text or "&amp;" in text]
    assert escaped_twice == [], "markup shown to people as literal text (escaped twice)"
    if request.node.get_closest_marker("allow_api_errors") is None:
        refused = [(c.method, c.description) for c in bot.emulator.calls if not c.ok]
        assert refused == [], f"the Bot API refused calls: {refused}"
