"""A fresh emulator per test, and a real python-telegram-bot `Bot` wired to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.emulator.emulator import Emulator
from bot.emulator.inprocess import InProcessRequest
from bot.emulator.model import EmuUser


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    """PTB's own Bot: every answer the emulator gives must parse as PTB 22.8 expects."""
    request, polling = InProcessRequest(emu), InProcessRequest(emu)
    async with Bot(emu.token, request=request, get_updates_request=polling) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def user(emu: Emulator) -> EmuUser:
    """A Thai-speaking user who has started the bot (so the bot may write to them)."""
    person = emu.add_user(1001, "Somchai", language_code="th")
    await emu.user_sends(person, "/start")
    return person
