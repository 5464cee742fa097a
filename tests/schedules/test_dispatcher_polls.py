"""Poll deliveries: a native poll once per recipient, in their language, its id to its owner."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.emulator.emulator import Emulator
from bot.emulator.inprocess import InProcessRequest
from schedules.dispatcher import DispatchConfig, Dispatcher, PollSent
from schedules.rate_limit import Rates
from storage import deliveries
from storage.database import Database
from storage.deliveries import POLL_KIND, PollContent, Recipient

FAST = Rates(global_per_second=2000, global_burst=2000, private_per_second=100, private_burst=5)
CONFIG = DispatchConfig(rates=FAST, concurrency=4, backoff_seconds=0.01)
GROUP_ID = -100_555
POLLS: dict[str, PollContent] = {
    "th": PollContent(
        question="คุณได้เรียนรู้มากเพียงใด",
        options=["1", "2", "3", "4", "5"],
        is_anonymous=False,
        allows_multiple_answers=False,
    ),
    "en": PollContent(
        question="How much did you learn?",
        options=["1", "2", "3", "4", "5"],
        is_anonymous=False,
        allows_multiple_answers=False,
    ),
    "both": PollContent(
        question="เรียนรู้มากเพียงใด / How much did you learn?",
        options=["น้อย / little", "มาก / a lot"],
        is_anonymous=True,
        allows_multiple_answers=True,
    ),
}


@pytest.fixture
async def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, request=InProcessRequest(emulator)) as telegram_bot:
        yield telegram_bot


class Hook:
    """Records what the dispatcher reports; optionally fails for some chats."""

    def __init__(self, fail_for: frozenset[int] = frozenset()) -> None:
        self.calls: list[PollSent] = []
        self.fail_for = fail_for

    async def __call__(self, sent: PollSent) -> None:
        self.calls.append(sent)
        if sent.chat_id in self.fail_for:
            raise RuntimeError("the owner's database said no")


def _people(emulator: Emulator, count: int) -> list[Recipient]:
    recipients = []
    for i in range(count):
        user_id = 20_000 + i
        language = "th" if i % 2 else "en"
        emulator.add_user(user_id, f"P{i}", language_code=language)
        emulator.chats[user_id].started = True
        recipients.append(deliveries.citizen_recipient(user_id, language))
    return recipients


async def _queue_poll(db: Database, recipients: list[Recipient], purpose: str = "libfb:17") -> int:
    async with db.session() as session:
        message = await deliveries.enqueue(
            purpose, POLL_KIND, POLLS, recipients,
            created_by="tg:1", audience="readers", session=session,
        )  # fmt: skip
    assert message.id is not None
    return message.id


async def _run(dispatcher: Dispatcher) -> None:
    await dispatcher.start()
    await dispatcher.idle()
    await dispatcher.stop()


def _polls_by_chat(emulator: Emulator) -> Counter[int]:
    return Counter(
        chat
        for chat, messages in emulator.messages.items()
        for m in messages
        if m.from_bot and m.kind == "poll"
    )


async def test_each_recipient_gets_one_native_poll_in_their_language_and_the_hook_its_id(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = _people(emulator, 12)
    emulator.add_group(GROUP_ID, "Coffee council").bot_status = "member"
    recipients.append(deliveries.group_recipient(GROUP_ID))
    message_id = await _queue_poll(sqlite_db, recipients)
    hook, other = Hook(), Hook()
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", hook)
    dispatcher.on_poll_sent("quickpoll:", other)
    await _run(dispatcher)

    assert _polls_by_chat(emulator) == Counter({r.chat_id: 1 for r in recipients})
    assert emulator.calls_to("sendMessage") == []
    th = emulator.polls.polls[next(s.poll_id for s in hook.calls if s.chat_id == 20_001)]
    assert (th.question, th.options) == (POLLS["th"]["question"], POLLS["th"]["options"])
    assert (th.is_anonymous, th.allows_multiple_answers) == (False, False)
    en = emulator.polls.polls[next(s.poll_id for s in hook.calls if s.chat_id == 20_000)]
    assert en.question == "How much did you learn?"
    group = emulator.polls.polls[next(s.poll_id for s in hook.calls if s.chat_id == GROUP_ID)]
    assert group.question == POLLS["both"]["question"]
    assert (group.is_anonymous, group.allows_multiple_answers) == (True, True)

    assert other.calls == []
    assert sorted(s.chat_id for s in hook.calls) == sorted(r.chat_id for r in recipients)
    for sent in hook.calls:
        poll = emulator.polls.polls[sent.poll_id]
        assert poll.message.chat_id == sent.chat_id
        assert poll.message.message_id == sent.telegram_message_id
        assert sent.purpose == "libfb:17"
        expected_language = {20_000: "en", 20_001: "th", GROUP_ID: "both"}.get(sent.chat_id)
        assert expected_language is None or sent.language == expected_language
    by_chat = {s.chat_id: s for s in hook.calls}
    assert by_chat[20_001].telegram_user_id == 20_001
    assert by_chat[GROUP_ID].telegram_user_id is None
    async with sqlite_db.session() as session:
        report = await deliveries.report(message_id, session=session)
    assert (report.sent, report.finished) == (13, True)


async def test_a_poll_is_sent_once_even_when_queued_and_dispatched_again(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = _people(emulator, 4)
    hook = Hook()
    await _queue_poll(sqlite_db, recipients)
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", hook)
    await _run(dispatcher)
    await _queue_poll(sqlite_db, recipients)
    again = Dispatcher(bot, sqlite_db, CONFIG)
    again.on_poll_sent("libfb:", hook)
    await _run(again)
    assert set(_polls_by_chat(emulator).values()) == {1}
    assert len(hook.calls) == 4


async def test_poll_sends_are_retried_through_faults_like_messages(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = _people(emulator, 10)
    blocked = 20_003
    emulator.block_bot(emulator.users[blocked])
    faults = [
        emulator.faults.inject("429", method="sendPoll", times=2, retry_after=1),
        emulator.faults.inject("500", method="sendPoll", times=3),
        emulator.faults.inject("drop", method="sendPoll", times=1),  # a time-out
    ]
    message_id = await _queue_poll(sqlite_db, recipients)
    hook = Hook()
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", hook)
    await dispatcher.start()
    try:
        while True:
            await dispatcher.idle()
            async with sqlite_db.session() as session:
                report = await deliveries.report(message_id, session=session)
            if report.finished:
                break
    finally:
        await dispatcher.stop()
    assert [fault.fired for fault in faults] == [2, 3, 1]
    reachable = {r.chat_id for r in recipients} - {blocked}
    assert _polls_by_chat(emulator) == Counter(dict.fromkeys(reachable, 1))
    assert sorted(s.chat_id for s in hook.calls) == sorted(reachable)
    assert (report.sent, report.blocked, report.failed) == (9, 1, 0)


async def test_a_failing_hook_is_logged_and_the_poll_stays_sent(
    sqlite_db: Database, emulator: Emulator, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    recipients = _people(emulator, 3)
    message_id = await _queue_poll(sqlite_db, recipients)
    hook = Hook(fail_for=frozenset({20_001}))
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", hook)
    with caplog.at_level(logging.ERROR, logger="schedules.dispatcher"):
        await _run(dispatcher)
    assert len(hook.calls) == 3
    assert set(_polls_by_chat(emulator).values()) == {1}
    async with sqlite_db.session() as session:
        report = await deliveries.report(message_id, session=session)
    assert (report.sent, report.pending, report.sending) == (3, 0, 0)
    failures = [r for r in caplog.records if "poll hook" in r.getMessage()]
    assert len(failures) == 1
    assert "RuntimeError: the owner's database said no" in caplog.text  # with its traceback


async def test_a_poll_nobody_owns_is_sent_with_a_warning(
    sqlite_db: Database, emulator: Emulator, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    recipients = _people(emulator, 1)
    await _queue_poll(sqlite_db, recipients, purpose="orphan:1")
    hook = Hook()
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", hook)
    with caplog.at_level(logging.WARNING, logger="schedules.dispatcher"):
        await _run(dispatcher)
    assert _polls_by_chat(emulator) == Counter({20_000: 1})
    assert hook.calls == []
    assert any("no hook" in r.getMessage() for r in caplog.records)


async def test_text_messages_do_not_call_poll_hooks(
    sqlite_db: Database, emulator: Emulator, bot: Bot
) -> None:
    recipients = _people(emulator, 2)
    async with sqlite_db.session() as session:
        await deliveries.enqueue(
            "libfb:text", "broadcast", {"th": "สวัสดี", "en": "Hello"}, recipients,
            created_by="tg:1", audience="readers", session=session,
        )  # fmt: skip
    hook = Hook()
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", hook)
    await _run(dispatcher)
    assert emulator.last_sent(20_000).text == "Hello"
    assert hook.calls == [] and emulator.calls_to("sendPoll") == []


async def test_hooks_are_registered_once_per_non_empty_prefix(
    sqlite_db: Database, bot: Bot
) -> None:
    dispatcher = Dispatcher(bot, sqlite_db, CONFIG)
    dispatcher.on_poll_sent("libfb:", Hook())
    with pytest.raises(ValueError, match="already"):
        dispatcher.on_poll_sent("libfb:", Hook())
    with pytest.raises(ValueError, match="prefix"):
        dispatcher.on_poll_sent("", Hook())
