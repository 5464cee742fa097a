"""Faults, rate limits and latency, seen through python-telegram-bot 22.8's real `Bot`.

Rate-limit tests replace `emu.faults.clock` with a fake clock: every call happens "in the same
instant" until the test advances it, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import (
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.emulator.emulator import Emulator
from bot.emulator.faults import FaultKind, RateLimits, When
from bot.emulator.model import EmuUser

from .support import refused


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.8 gives RetryAfter.retry_after as a deprecated int (warning each time it builds
    one) unless PTB_TIMEDELTA is set; then it is a `datetime.timedelta`."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock(emu: Emulator) -> FakeClock:
    fake = FakeClock()
    emu.faults.clock = fake
    return fake


@pytest.fixture
def limits(emu: Emulator, clock: FakeClock) -> RateLimits:
    """Telegram's limits switched on, with the fake clock."""
    emu.faults.limits.enabled = True
    return emu.faults.limits


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def started_users(emu: Emulator, count: int, first_id: int = 5000) -> list[EmuUser]:
    people = [emu.add_user(first_id + i, f"U{i}") for i in range(count)]
    for person in people:
        await emu.user_sends(person, "/start")
    return people


def joined_group(emu: Emulator, chat_id: int = -100, *, supergroup: bool = False) -> int:
    emu.add_group(chat_id, "Coffee council", supergroup=supergroup).bot_status = "member"
    return chat_id


# ------------------------------------------------------------------ injected faults

EXPECTED: dict[str, tuple[type[TelegramError], int | None, str]] = {
    "429": (RetryAfter, 429, "Too Many Requests: retry after 3"),
    "500": (NetworkError, 500, "Internal Server Error"),
    "502": (NetworkError, 502, "Bad Gateway"),
    "blocked": (Forbidden, 403, "Forbidden: bot was blocked by the user"),
    "drop": (TimedOut, None, "dropped"),
}


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_each_fault_before_delivers_nothing_and_after_delivers(
    bot: Bot, emu: Emulator, user: EmuUser, kind: FaultKind, when: When
) -> None:
    error_type, code, description = EXPECTED[kind]
    emu.faults.inject(kind, method="sendMessage", when=when)
    with pytest.raises(error_type):
        await bot.send_message(user.id, "reminder")
    delivered = [m.text for m in emu.sent_to(user.id)]
    assert delivered == (["reminder"] if when == "after" else [])
    call = emu.calls[-1]
    assert (call.method, call.ok, call.error_code, call.description) == (
        "sendMessage",
        False,
        code,
        description,
    )
    # The fault was for one call: the retry goes through (a duplicate, if it fired after).
    await bot.send_message(user.id, "reminder")
    assert len(emu.sent_to(user.id)) == (2 if when == "after" else 1)


async def test_429_reaches_ptb_as_retry_after_with_its_seconds(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    emu.faults.inject("429", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user.id, "hi")
    assert caught.value.retry_after == timedelta(seconds=7)


async def test_retry_after_is_a_deprecated_int_by_default(
    bot: Bot, emu: Emulator, user: EmuUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA")
    emu.faults.inject("429", retry_after=5)
    with pytest.warns(PTBDeprecationWarning), pytest.raises(RetryAfter) as caught:
        await bot.send_message(user.id, "hi")
    with pytest.warns(PTBDeprecationWarning):
        assert caught.value.retry_after == 5


async def test_a_fault_for_one_method_leaves_the_others_alone(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    sent = await bot.send_message(user.id, "v1")
    emu.faults.inject("500", method="editMessageText")
    await bot.send_message(user.id, "another")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.edit_message_text("v2", chat_id=user.id, message_id=sent.message_id)
    assert emu.sent_to(user.id)[0].text == "v1"


async def test_a_fault_for_one_chat_leaves_other_chats_alone(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    [other] = await started_users(emu, 1)
    emu.faults.inject("blocked", chat_id=other.id, times=None)
    await bot.send_message(user.id, "fine")
    await bot.get_me()
    for _ in range(3):
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(other.id, "nope")
    assert emu.sent_to(other.id) == [] and len(emu.sent_to(user.id)) == 1
    assert [e.chat_id for e in emu.faults.events] == [other.id] * 3
    assert [e.kind for e in emu.faults.events_for(other.id)] == ["blocked"] * 3


async def test_times_counts_the_calls_that_fail(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    fault = emu.faults.inject("502", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(user.id, "x")
    assert not fault.active and fault.fired == 2
    await bot.send_message(user.id, "x")
    assert len(emu.sent_to(user.id)) == 1
    assert emu.faults.armed == []


async def test_cancel_and_clear(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    forever = emu.faults.inject("500", times=None)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(user.id, "x")
    forever.cancel()
    await bot.send_message(user.id, "x")

    emu.faults.inject("500", times=None)
    emu.faults.inject("drop", method="getMe", times=None)
    emu.faults.clear()
    await bot.get_me()
    await bot.send_message(user.id, "y")
    assert [m.text for m in emu.sent_to(user.id)] == ["x", "y"]


async def test_faults_fire_oldest_first_one_per_call(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    emu.faults.inject("500")
    emu.faults.inject("blocked")
    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "x")
    with pytest.raises(Forbidden):
        await bot.send_message(user.id, "x")
    await bot.send_message(user.id, "x")
    assert [(e.kind, e.source) for e in emu.faults.events] == [
        ("500", "injected"),
        ("blocked", "injected"),
    ]
    assert emu.faults.injected == emu.faults.events and emu.faults.rate_limited == []


async def test_get_updates_is_spared_unless_named(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    emu.faults.inject("500", times=None)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/start"]
    emu.faults.clear()
    emu.faults.inject("drop", method="getUpdates")
    with pytest.raises(TimedOut):
        await bot.get_updates(timeout=0)


async def test_an_after_fault_only_fires_once_the_method_succeeded(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    fault = emu.faults.inject("drop", when="after")
    with refused("chat not found"):
        await bot.send_message(user.id + 1, "nobody")
    assert fault.active and fault.fired == 0
    with pytest.raises(TimedOut):
        await bot.send_message(user.id, "hi")
    assert not fault.active and [m.text for m in emu.sent_to(user.id)] == ["hi"]


async def test_inject_rejects_what_could_never_fire(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="no method"):
        emu.faults.inject("500", method="sendMesage")
    with pytest.raises(ValueError, match="kind"):
        emu.faults.inject("404")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        emu.faults.inject("500", times=0)
    with pytest.raises(ValueError, match="retry_after"):
        emu.faults.inject("429", retry_after=0)
    with pytest.raises(ValueError, match="when"):
        emu.faults.inject("500", when="during")  # type: ignore[arg-type]


async def test_driver_actions_never_fail(emu: Emulator, user: EmuUser) -> None:
    emu.faults.inject("drop", times=None)
    emu.faults.limits.enabled = True
    await emu.user_sends(user, "hello")
    assert emu.pending_update_count == 2


# ------------------------------------------------------------------ rate limits


async def test_limits_are_off_by_default(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    assert emu.faults.limits == RateLimits()
    assert emu.faults.limits.enabled is False
    for i in range(40):
        await bot.send_message(user.id, f"m{i}")
    assert len(emu.sent_to(user.id)) == 40


async def test_the_31st_message_in_one_instant_is_refused_overall(
    bot: Bot, emu: Emulator, limits: RateLimits, clock: FakeClock
) -> None:
    people = await started_users(emu, 31)
    results = await asyncio.gather(
        *(bot.send_message(p.id, "reminder") for p in people), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RetryAfter)]
    assert len(refused) == 1 and retry_seconds(refused[0]) == 1
    assert sum(len(emu.sent_to(p.id)) for p in people) == 30
    [throttled] = [c for c in emu.calls if not c.ok]
    assert (throttled.method, throttled.error_code) == ("sendMessage", 429)
    assert throttled.description == "Too Many Requests: retry after 1"
    assert [e.source for e in emu.faults.rate_limited] == ["rate_limit"]

    clock.advance(1 / 30)  # one token back
    late = next(p for p in people if not emu.sent_to(p.id))
    await bot.send_message(late.id, "reminder")
    with pytest.raises(RetryAfter):
        await bot.send_message(late.id, "again")


async def test_a_private_chat_gets_a_burst_of_three_then_one_a_second(
    bot: Bot, emu: Emulator, user: EmuUser, limits: RateLimits, clock: FakeClock
) -> None:
    for i in range(3):
        await bot.send_message(user.id, f"burst {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user.id, "too soon")
    assert retry_seconds(caught.value) == 1
    [other] = await started_users(emu, 1)
    await bot.send_message(other.id, "another chat is not limited by the first")

    clock.advance(0.5)
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "still too soon")
    clock.advance(0.5)
    await bot.send_message(user.id, "a second later")
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "too soon again")
    assert len(emu.sent_to(user.id)) == 4


@pytest.mark.parametrize("supergroup", [False, True])
async def test_a_group_gets_twenty_messages_a_minute(
    bot: Bot, emu: Emulator, limits: RateLimits, clock: FakeClock, supergroup: bool
) -> None:
    group = joined_group(emu, supergroup=supergroup)
    for i in range(20):
        await bot.send_message(group, f"m{i}")
        clock.advance(2.0)  # 20 messages, one every 2 s: slower than 1 a second, yet too many
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group, "the 21st within a minute")
    # The first message leaves the 60-second window 20 s from now.
    assert retry_seconds(caught.value) == 20
    assert len(emu.sent_to(group)) == 20
    clock.advance(19.5)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group, "not yet")
    assert retry_seconds(caught.value) == 1  # 0.5 s, rounded up to Telegram's whole seconds
    clock.advance(0.5)
    await bot.send_message(group, "the first one left the window")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group, "the second has not")
    assert retry_seconds(caught.value) == 2


async def test_a_group_burst_waits_a_whole_minute(
    bot: Bot, emu: Emulator, limits: RateLimits, clock: FakeClock
) -> None:
    group = joined_group(emu)
    for i in range(20):
        await bot.send_message(group, f"m{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group, "the 21st")
    assert retry_seconds(caught.value) == 60
    clock.advance(60)
    for i in range(20):
        await bot.send_message(group, f"n{i}")
    assert len(emu.sent_to(group)) == 40


async def test_scale_raises_every_limit(
    bot: Bot, emu: Emulator, user: EmuUser, limits: RateLimits, clock: FakeClock
) -> None:
    limits.scale = 2
    group = joined_group(emu)
    for i in range(40):
        await bot.send_message(group, f"m{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group, "the 41st")
    assert retry_seconds(caught.value) == 60
    for i in range(6):
        await bot.send_message(user.id, f"p{i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "the 7th")
    clock.advance(0.5)  # 2 a second
    await bot.send_message(user.id, "half a second later")


async def test_each_limit_can_be_switched_off(
    bot: Bot, emu: Emulator, user: EmuUser, limits: RateLimits
) -> None:
    limits.private_per_second = None
    for i in range(30):
        await bot.send_message(user.id, f"m{i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "the 31st: the overall limit still holds")
    limits.global_per_second = None
    await bot.send_message(user.id, "no limit left")
    assert len(emu.sent_to(user.id)) == 31


async def test_a_refused_call_changes_nothing(
    bot: Bot, emu: Emulator, user: EmuUser, limits: RateLimits, clock: FakeClock
) -> None:
    for i in range(3):
        await bot.send_message(user.id, f"m{i}")
    chat = emu.chats[user.id]
    next_id, messages = chat.next_message_id, list(emu.messages[user.id])
    for _ in range(5):
        with pytest.raises(RetryAfter):
            await bot.send_message(user.id, "refused")
    assert chat.next_message_id == next_id and emu.messages[user.id] == messages
    clock.advance(1.0)  # refused calls took no tokens: exactly one second buys one message
    await bot.send_message(user.id, "through")
    assert [m.text for m in emu.sent_to(user.id)] == ["m0", "m1", "m2", "through"]


async def test_which_methods_count(
    bot: Bot, emu: Emulator, user: EmuUser, limits: RateLimits
) -> None:
    sent = await bot.send_message(user.id, "v0")
    # Chat actions, callback answers, deletions, getMe and getUpdates are free.
    for _ in range(5):
        await bot.send_chat_action(user.id, "typing")
        await bot.get_me()
        await bot.get_updates(timeout=0)
    query = await emu.press(user, emu.last_sent(user.id), "x")
    await bot.answer_callback_query(query.id)
    # Edits spend the chat's tokens: 2 left after the send.
    await bot.edit_message_text("v1", chat_id=user.id, message_id=sent.message_id)
    await bot.edit_message_text("v2", chat_id=user.id, message_id=sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("v3", chat_id=user.id, message_id=sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "nor a message")
    assert emu.last_sent(user.id).history == ["v0", "v1", "v2"]


async def test_edits_do_not_count_toward_the_overall_limit(
    bot: Bot, emu: Emulator, limits: RateLimits
) -> None:
    limits.private_per_second = None
    people = await started_users(emu, 2)
    first = await bot.send_message(people[0].id, "e0")
    for i in range(1, 40):
        await bot.edit_message_text(f"e{i}", chat_id=people[0].id, message_id=first.message_id)
    for i in range(29):
        await bot.send_message(people[1].id, f"m{i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(people[1].id, "the 31st message")


async def test_injected_faults_come_before_the_limits(
    bot: Bot, emu: Emulator, user: EmuUser, limits: RateLimits
) -> None:
    emu.faults.inject("500", times=3)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(user.id, "x")
    for i in range(3):  # the refused calls took no tokens
        await bot.send_message(user.id, f"m{i}")


# ------------------------------------------------------------------ latency


async def test_latency_delays_every_call(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    emu.faults.latency = 0.05
    start = time.monotonic()
    await bot.send_message(user.id, "slow")
    await bot.get_me()
    assert time.monotonic() - start >= 0.1
    emu.faults.latency = 0
    start = time.monotonic()
    await bot.send_message(user.id, "fast")
    assert time.monotonic() - start < 0.05
