"""Stopping the dispatcher: sends in flight finish, claims not yet sent go back to pending."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.emulator.emulator import Emulator
from bot.emulator.inprocess import InProcessRequest
from schedules.dispatcher import DispatchConfig, Dispatcher
from storage import deliveries
from storage.database import Database
from storage.models import Delivery
from tests.schedules.test_dispatcher import FAST, _people, _queue
from tests.storage.test_deliveries import stored_deliveries


@pytest.fixture
async def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, request=InProcessRequest(emulator)) as telegram_bot:
        yield telegram_bot


async def _until(condition: object, what: str) -> None:
    for _ in range(500):
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_stop_during_a_paced_wait_gives_the_claims_back(
    db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = await _people(db, emulator, 12)
    await _queue(db, recipients)
    # Every send meets a 429 asking for 30 s: the dispatcher pauses, holding its next claims.
    emulator.faults.inject("429", method="sendMessage", times=None, retry_after=30)
    dispatcher = Dispatcher(bot, db, DispatchConfig(rates=FAST, concurrency=4))
    await dispatcher.start()

    async def paced() -> bool:
        async with db.session() as session:
            counts = await deliveries.counts_by_status(session=session)
        # Each 429 is recorded pending (a retry) before the sum comes down to the four claims.
        refused = len(emulator.faults.injected)
        return refused >= 1 and counts.get("sending", 0) + refused == 4

    await _until(paced, "the dispatcher to hold its claims through the pause")
    await dispatcher.stop(timeout=30)  # without giving claims back it would sit out the pause

    rows: list[Delivery] = await stored_deliveries(db)
    assert {d.status for d in rows} == {"pending"}, "nothing is left `sending`"
    refused = {d.chat_id for d in rows if d.last_error == "429"}
    assert len(refused) == len(emulator.faults.injected)
    # The held claims were never sent: like the never claimed, they count no attempt.
    assert [d.attempts for d in rows if d.chat_id not in refused] == [0] * (12 - len(refused))
    assert not any(m.from_bot for chat in emulator.messages.values() for m in chat)
