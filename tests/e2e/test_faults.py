"""Faults over real HTTP: what python-telegram-bot's default HTTPX transport makes of them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import RetryAfter, TimedOut

from bot.emulator.emulator import Emulator
from bot.emulator.faults import When
from bot.emulator.server import EmulatorServer


@pytest.fixture
async def emu() -> Emulator:
    emulator = Emulator()
    person = emulator.add_user(1, "Ann")
    await emulator.user_sends(person, "/start")
    return emulator


@pytest.fixture
async def bot(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta
    async with (
        EmulatorServer(emu) as server,
        Bot(emu.token, base_url=f"{server.base_url}/bot") as ptb_bot,
    ):
        yield ptb_bot


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_dropped_request_times_out_at_the_read_timeout(
    bot: Bot, emu: Emulator, when: When
) -> None:
    emu.faults.inject("drop", method="sendMessage", when=when)
    start = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(1, "reminder", read_timeout=0.3)
    assert time.monotonic() - start < 2
    assert len(emu.sent_to(1)) == (1 if when == "after" else 0)
    await bot.send_message(1, "the retry")  # the server still answers


async def test_429_reaches_ptb_as_retry_after(bot: Bot, emu: Emulator) -> None:
    emu.faults.inject("429", retry_after=4)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "reminder")
    assert caught.value.retry_after == timedelta(seconds=4)
    emu.faults.limits.enabled = True
    for i in range(3):
        await bot.send_message(1, f"m{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "too soon")
    assert caught.value.retry_after == timedelta(seconds=1)
    assert [c.error_code for c in emu.calls if not c.ok] == [429, 429]
