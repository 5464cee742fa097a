"""The dispatcher rides out a database outage instead of stopping for good."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError
from telegram import Bot

from bot.emulator.emulator import Emulator
from bot.emulator.inprocess import InProcessRequest
from schedules import dispatcher as dispatcher_module
from schedules.dispatcher import DispatchConfig, Dispatcher
from schedules.rate_limit import Rates
from storage import citizens, deliveries
from storage.citizens import NewCitizen
from storage.database import Database
from storage.enums import AgeBand, Purpose

FAST = Rates(global_per_second=2000, global_burst=2000, private_per_second=100, private_burst=5)


@pytest.fixture
async def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, request=InProcessRequest(emulator)) as telegram_bot:
        yield telegram_bot


async def test_deliveries_wait_out_an_outage_and_are_sent_when_the_database_is_back(
    sqlite_db: Database, emulator: Emulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_module, "UNAVAILABLE_PAUSE_SECONDS", 0.01)
    real_claim = deliveries.claim_due
    failures = {"left": 3}

    async def claim_during_an_outage(*args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionDoesNotExistError("connection was closed in the middle of operation")
        return await real_claim(*args, **kwargs)

    monkeypatch.setattr(deliveries, "claim_due", claim_during_an_outage)
    user = emulator.add_user(10_001, "P", language_code="en")
    emulator.chats[user.id].started = True
    async with sqlite_db.session() as session:
        await citizens.register_citizen(
            NewCitizen(user.id, "en", AgeBand.age_20_34, False, None),
            dict.fromkeys(Purpose, True),
            session=session,
        )
        await deliveries.enqueue(
            "broadcast:t", "broadcast", {"th": "สวัสดี", "en": "Hello"},
            [deliveries.citizen_recipient(user.id, "en")],
            created_by="tg:1", audience="citizens:reminders", session=session,
        )  # fmt: skip
    dispatcher = Dispatcher(bot, sqlite_db, DispatchConfig(rates=FAST))
    await dispatcher.start()
    try:
        await asyncio.wait_for(dispatcher.idle(), 10)
        assert dispatcher.running, "the outage did not stop the dispatcher"
    finally:
        await dispatcher.stop()
    assert failures["left"] == 0
    assert [m.text for m in emulator.sent_to(user.id)] == ["Hello"]
