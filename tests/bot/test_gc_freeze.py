"""At start the bot exempts what it loaded from the garbage collector's passes, once."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot, sqlite_url
from bot.settings import Settings


def test_freezing_is_on_unless_turned_off() -> None:
    assert Settings(telegram_bot_token="1:x").gc_freeze_at_start
    assert not Settings(telegram_bot_token="1:x", gc_freeze_at_start="false").gc_freeze_at_start


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_bot_freezes_once_after_start_up_when_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    calls: list[str] = []

    def collect(*args: object) -> int:
        calls.append("collect")
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    overrides = {"gc_freeze_at_start": enabled}
    url = sqlite_url(tmp_path / "gc.db")
    async with LiveBot(database_url=url, settings_overrides=overrides) as live:
        user = live.user(8101, "Nok", language_code="en")
        await live.send(user, "/help")
        assert live.emulator.sent_to(8101), "the bot answers"
    assert calls == (["collect", "freeze"] if enabled else [])
