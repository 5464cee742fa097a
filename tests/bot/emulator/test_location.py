"""sendLocation: a map point the bot sends (the human library's "Map" button)."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import Forbidden

from bot.emulator.emulator import Emulator
from bot.emulator.model import EmuUser

from .support import refused


async def test_send_location_returns_a_location_ptb_parses(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    sent = await bot.send_location(user.id, latitude=6.5411, longitude=101.2804)
    assert sent.location is not None
    assert (sent.location.latitude, sent.location.longitude) == (6.5411, 101.2804)
    shown = emu.last_sent(user.id)
    assert shown.kind == "location"
    assert shown.extra["location"] == {"latitude": 6.5411, "longitude": 101.2804}


async def test_coordinates_off_the_globe_are_refused(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    with refused("wrong latitude or longitude specified"):
        await bot.send_location(user.id, latitude=91.0, longitude=101.0)
    assert emu.sent_to(user.id) == []


async def test_a_location_needs_a_started_chat(bot: Bot, emu: Emulator) -> None:
    stranger = emu.add_user(2002, "Stranger")
    with pytest.raises(Forbidden):
        await bot.send_location(stranger.id, latitude=6.5, longitude=101.2)
