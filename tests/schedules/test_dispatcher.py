"""The dispatcher against the emulator: once per recipient, under faults, within its bound."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.emulator.emulator import Emulator
from bot.emulator.inprocess import InProcessRequest
from schedules.dispatcher import DispatchConfig, Dispatcher
from schedules.rate_limit import Rates
from storage import citizens, deliveries
from storage.citizens import NewCitizen
from storage.database import Database
from storage.deliveries import Recipient
from storage.enums import AgeBand, Purpose

FAST = Rates(global_per_second=2000, global_burst=2000, private_per_second=100, private_burst=5)


@pytest.fixture
async def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, request=InProcessRequest(emulator)) as telegram_bot:
        yield telegram_bot


async def _people(db: Database, emulator: Emulator, count: int) -> list[Recipient]:
    recipients = []
    async with db.session() as session:
        for i in range(count):
            user_id = 10_000 + i
            user = emulator.add_user(user_id, f"P{i}", language_code="th" if i % 2 else "en")
            emulator.chats[user.id].started = True
            language = "th" if i % 2 else "en"
            await citizens.register_citizen(
                NewCitizen(user_id, language, AgeBand.age_20_34, False, None),
                dict.fromkeys(Purpose, True),
                session=session,
            )
            recipients.append(deliveries.citizen_recipient(user_id, language))
    return recipients


async def _queue(db: Database, recipients: list[Recipient], purpose: str = "broadcast:t") -> int:
    async with db.session() as session:
        message = await deliveries.enqueue(
            purpose, "broadcast", {"th": "สวัสดี", "en": "Hello"}, recipients,
            created_by="tg:1", audience="citizens:reminders", session=session,
        )  # fmt: skip
    assert message.id is not None
    return message.id


async def _run(db: Database, bot: Bot, config: DispatchConfig) -> Dispatcher:
    dispatcher = Dispatcher(bot, db, config)
    await dispatcher.start()
    await dispatcher.idle()
    await dispatcher.stop()
    return dispatcher


def _received(emulator: Emulator) -> Counter[int]:
    return Counter(
        chat for chat, messages in emulator.messages.items() for m in messages if m.from_bot
    )


async def test_every_recipient_gets_the_message_once_in_their_language(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = await _people(sqlite_db, emulator, 40)
    message_id = await _queue(sqlite_db, recipients)
    dispatcher = await _run(sqlite_db, bot, DispatchConfig(rates=FAST, concurrency=4))
    assert set(_received(emulator).values()) == {1}
    assert len(_received(emulator)) == 40
    assert emulator.last_sent(10_001).text == "สวัสดี"
    assert emulator.last_sent(10_000).text == "Hello"
    assert dispatcher.max_in_flight_seen <= 4
    async with sqlite_db.session() as session:
        report = await deliveries.report(message_id, session=session)
    assert (report.sent, report.finished) == (40, True)


async def test_queueing_the_same_purpose_again_sends_nothing_twice(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = await _people(sqlite_db, emulator, 5)
    await _queue(sqlite_db, recipients)
    await _run(sqlite_db, bot, DispatchConfig(rates=FAST))
    await _queue(sqlite_db, recipients)
    await _run(sqlite_db, bot, DispatchConfig(rates=FAST))
    assert set(_received(emulator).values()) == {1}


async def test_faults_lose_nothing_and_blocked_people_are_marked(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = await _people(sqlite_db, emulator, 60)
    blocked = [10_003, 10_017]
    for user_id in blocked:
        emulator.block_bot(emulator.users[user_id])
    emulator.faults.inject("429", method="sendMessage", times=3, retry_after=1)
    emulator.faults.inject("500", method="sendMessage", times=4)
    emulator.faults.inject("502", method="sendMessage", times=2, when="after")
    emulator.faults.inject("drop", method="sendMessage", times=2)  # a time-out, nothing delivered
    message_id = await _queue(sqlite_db, recipients)
    config = DispatchConfig(rates=FAST, concurrency=4, backoff_seconds=0.01)
    await _run(sqlite_db, bot, config)

    received = _received(emulator)
    reachable = {r.chat_id for r in recipients} - set(blocked)
    assert set(received) == reachable, "every reachable citizen got it"
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= 2, "only the two faults injected after delivery may duplicate"
    async with sqlite_db.session() as session:
        report = await deliveries.report(message_id, session=session)
        for user_id in blocked:
            citizen = await citizens.get_citizen(user_id, session=session)
            assert citizen is not None and not citizen.reachable
    assert (report.sent, report.blocked, report.failed) == (58, 2, 0)


async def test_a_bad_request_fails_without_retrying(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    stranger = Recipient("tg:424242", 424242, "en")  # the emulator has no such chat
    message_id = await _queue(sqlite_db, [stranger])
    await _run(sqlite_db, bot, DispatchConfig(rates=FAST))
    async with sqlite_db.session() as session:
        report = await deliveries.report(message_id, session=session)
    assert report.failed == 1
    assert len(emulator.sends_to(424242)) == 1


async def test_interrupted_sends_are_resumed_on_start(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = await _people(sqlite_db, emulator, 3)
    await _queue(sqlite_db, recipients)
    async with sqlite_db.session() as session:
        claimed = await deliveries.claim_due(2, session=session)  # a process died after this
    assert len(claimed) == 2
    dispatcher = Dispatcher(bot, sqlite_db, DispatchConfig(rates=FAST))
    assert await dispatcher.start() == 2
    await dispatcher.idle()
    await dispatcher.stop()
    assert set(_received(emulator).values()) == {1} and len(_received(emulator)) == 3
