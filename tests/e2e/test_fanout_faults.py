"""A fan-out over real HTTP while the emulator misbehaves: nobody missed, duplicates counted.

The dispatcher sends a broadcast to a few hundred citizens through the emulator's HTTP server,
under the emulator's (scaled) flood limits, while faults are injected: 429 with retry_after,
500 and 502, time-outs (a request the server never answers) before and after the message was
delivered, and 403 from people who blocked the bot. Every reachable citizen gets the message;
the only duplicates are the sends Telegram delivered but answered with an error (a fault
injected "after"): the bot cannot tell those from a lost send, so it sends again. Blocked
people are marked unreachable, the report adds up, and nothing is logged as an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.emulator.emulator import Emulator
from bot.emulator.faults import RateLimits
from bot.emulator.server import EmulatorServer
from schedules.dispatcher import DispatchConfig, Dispatcher
from schedules.rate_limit import Rates
from storage import citizens, deliveries
from storage.citizens import NewCitizen
from storage.database import Database
from storage.deliveries import DeliveryReport
from storage.enums import AgeBand, Language, Purpose

CITIZENS = 240
FIRST_USER_ID = 700_000
BLOCKED = [FIRST_USER_ID + i for i in (7, 61, 118, 200)]
TIMEOUT = 0.5  # the bot's read time-out: a dropped request fails after this long
# The emulator enforces Telegram's limits ten times as generous: 300/s overall (bursts of 300),
# 10/s per private chat. The dispatcher paces itself below them.
EMULATOR_LIMITS = RateLimits(enabled=True, scale=10)
RATES = Rates(global_per_second=200, global_burst=20, private_per_second=5, private_burst=1)
CONFIG = DispatchConfig(rates=RATES, concurrency=16, max_attempts=8, backoff_seconds=0.05)


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(Emulator()) as running:
        yield running


@pytest.fixture
async def bot(server: EmulatorServer) -> AsyncIterator[Bot]:
    request = HTTPXRequest(
        connection_pool_size=CONFIG.concurrency + 4,
        read_timeout=TIMEOUT,
        write_timeout=TIMEOUT,
        connect_timeout=TIMEOUT,
        pool_timeout=TIMEOUT,
    )
    token = server.emulator.token
    async with Bot(token, base_url=f"{server.base_url}/bot", request=request) as telegram_bot:
        yield telegram_bot


async def _queue_broadcast(db: Database, emulator: Emulator) -> int:
    """Register the citizens (each with a started chat) and queue one broadcast to them all."""
    async with db.session() as session:
        for i in range(CITIZENS):
            user_id = FIRST_USER_ID + i
            language: Language = "th" if i % 2 else "en"
            emulator.add_user(user_id, f"C{i}", language_code=language)
            emulator.chats[user_id].started = True
            await citizens.register_citizen(
                NewCitizen(user_id, language, AgeBand.age_20_34),
                dict.fromkeys(Purpose, True),
                session=session,
            )
    async with db.session() as session:
        recipients = await deliveries.broadcast_recipients(session=session)
        assert len(recipients) == CITIZENS
        message = await deliveries.enqueue(
            "broadcast:faults", "broadcast", {"th": "ประกาศ", "en": "Announcement"}, recipients,
            created_by="tg:1", audience="citizens:reminders", session=session,
        )  # fmt: skip
    assert message.id is not None
    return message.id


async def _until_finished(dispatcher: Dispatcher, db: Database, message_id: int) -> DeliveryReport:
    """idle() returns while a retry waits for its time; wait until nothing is left open."""
    while True:
        await dispatcher.idle()
        async with db.session() as session:
            report = await deliveries.report(message_id, session=session)
        if report.finished:
            return report
        await asyncio.sleep(0.05)


async def test_faults_during_a_fan_out_lose_nobody_and_duplicate_only_after_delivery(
    sqlite_db: Database, server: EmulatorServer, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    emulator = server.emulator
    message_id = await _queue_broadcast(sqlite_db, emulator)
    for user_id in BLOCKED:
        emulator.block_bot(emulator.users[user_id])
    emulator.faults.limits = EMULATOR_LIMITS
    faults = emulator.faults
    send = "sendMessage"
    before = [  # the next calls, whoever they are for: nothing is delivered, then an error
        faults.inject("429", method=send, times=3, retry_after=1),
        faults.inject("500", method=send, times=4),
        faults.inject("drop", method=send, times=3),  # a time-out
    ]
    after = [  # delivered, yet the bot sees an error: each may cause one duplicate
        faults.inject("502", method=send, times=2, when="after"),
        faults.inject("drop", method=send, times=2, when="after"),
    ]
    # Faults aimed at chats further down the queue, so that they fire mid-way.
    late_after = [FIRST_USER_ID + 150, FIRST_USER_ID + 230]
    before.append(faults.inject("429", method=send, chat_id=FIRST_USER_ID + 100, retry_after=1))
    before.append(faults.inject("500", method=send, chat_id=FIRST_USER_ID + 120))
    before.append(faults.inject("drop", method=send, chat_id=FIRST_USER_ID + 140))
    after.append(faults.inject("drop", method=send, chat_id=late_after[0], when="after"))
    after.append(faults.inject("502", method=send, chat_id=late_after[1], when="after"))

    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    started = time.monotonic()
    await dispatcher.start()
    try:
        report = await asyncio.wait_for(_until_finished(dispatcher, sqlite_db, message_id), 12)
        assert dispatcher.running, "the dispatcher loop died"
    finally:
        await dispatcher.stop()
    elapsed = time.monotonic() - started

    received = Counter(
        {chat: sum(m.from_bot for m in messages) for chat, messages in emulator.messages.items()}
    )
    reachable = {FIRST_USER_ID + i for i in range(CITIZENS)} - set(BLOCKED)
    duplicates = {chat: n - 1 for chat, n in received.items() if n > 1}
    allowed = sum(fault.fired for fault in after)
    injected = Counter(f"{e.kind} {e.when}" for e in faults.injected)
    print(
        f"\nfan-out under faults: {CITIZENS} citizens in {elapsed:.1f} s; injected "
        f"{dict(injected)}; {len(faults.rate_limited)} rate-limit 429s; duplicates "
        f"{sum(duplicates.values())} (allowed: {allowed} faults after delivery); {report}"
    )
    assert [f.fired for f in before + after] == [f.times for f in before + after], "unfired"
    assert set(received) == reachable, "every reachable citizen got the message"
    assert sum(duplicates.values()) <= allowed
    assert set(late_after) <= set(duplicates), "a send delivered but answered with an error"
    assert faults.rate_limited == [], "the dispatcher kept under the emulator's limits"
    assert dispatcher.max_in_flight_seen <= CONFIG.concurrency
    assert (report.sent, report.blocked, report.failed) == (len(reachable), len(BLOCKED), 0)
    async with sqlite_db.session() as session:
        for user_id in [*BLOCKED, FIRST_USER_ID]:
            citizen = await citizens.get_citizen(user_id, session=session)
            assert citizen is not None
            assert citizen.reachable is (user_id not in BLOCKED)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
