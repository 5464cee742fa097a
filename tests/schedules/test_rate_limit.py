"""Pacing under Telegram's limits, on a fake clock that only moves when someone sleeps."""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections import defaultdict

import pytest

from schedules.rate_limit import RateLimiter, Rates, SlidingWindow, TokenBucket

PRIVATE = 1001  # positive ids are private chats
GROUP = -1001  # negative ids are groups (and channels)


class FakeTime:
    """A monotonic clock plus a sleep that advances it (and lets other tasks run).

    With several tasks asleep at once the clock moves by each sleep in turn: everyone sleeps
    at least as long as asked, possibly longer, which a limiter must cope with anyway.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.start = start
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(max_chats: int = 10_000, **rates: float) -> tuple[RateLimiter, FakeTime]:
    clock = FakeTime()
    limit = RateLimiter(
        Rates(**rates),  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
        max_chats=max_chats,
    )
    return limit, clock


async def send_all(limit: RateLimiter, clock: FakeTime, chat_ids: list[int]) -> list[float]:
    """Acquire for each chat, all at once; the fake times at which each send was allowed."""
    sent: list[float] = []

    async def send(chat_id: int) -> None:
        await limit.acquire(chat_id)
        sent.append(clock())

    await asyncio.gather(*(send(chat_id) for chat_id in chat_ids))
    return sent


def most_in_any_window(times: list[float], width: float) -> int:
    """The most sends in any window [t, t + width) (a microsecond of slack for float sums)."""
    times = sorted(times)
    return max(
        (bisect_left(times, t + width - 1e-6) - i for i, t in enumerate(times)),
        default=0,
    )


# --- the global limit ------------------------------------------------------------------------


async def test_a_full_burst_passes_at_once_then_the_next_waits_for_one_token() -> None:
    limit, clock = limiter()
    for chat_id in range(1, 31):
        await limit.acquire(chat_id)
    assert clock.sleeps == []

    await limit.acquire(31)
    assert clock.sleeps == [pytest.approx(1 / 30)]


async def test_the_sustained_rate_is_the_configured_one() -> None:
    limit, clock = limiter()
    for chat_id in range(1, 31):  # the burst
        await limit.acquire(chat_id)

    for chat_id in range(31, 331):
        await limit.acquire(chat_id)
    assert clock.elapsed == pytest.approx(10.0, rel=0.05)


async def test_a_quiet_spell_refills_the_burst_but_no_more() -> None:
    limit, clock = limiter()
    for chat_id in range(1, 31):
        await limit.acquire(chat_id)
    clock.advance(60)
    for chat_id in range(31, 62):
        await limit.acquire(chat_id)
    assert clock.sleeps == [pytest.approx(1 / 30)]  # only the 31st after the break waited


async def test_rates_scale() -> None:
    limit, clock = limiter(global_per_second=300, global_burst=300)
    for chat_id in range(1, 301):
        await limit.acquire(chat_id)
    assert clock.sleeps == []
    for chat_id in range(301, 3301):
        await limit.acquire(chat_id)
    assert clock.sleeps[0] == pytest.approx(1 / 300)
    assert clock.elapsed == pytest.approx(10.0, rel=0.05)


# --- per-chat limits -------------------------------------------------------------------------


async def test_a_second_message_to_a_private_chat_waits_a_second() -> None:
    limit, clock = limiter()
    await limit.acquire(PRIVATE)
    await limit.acquire(PRIVATE)
    assert clock.elapsed == pytest.approx(1.0)
    await limit.acquire(PRIVATE + 1)  # another chat: no wait
    assert clock.elapsed == pytest.approx(1.0)


async def test_a_group_gets_20_messages_in_any_minute() -> None:
    limit, clock = limiter()
    await limit.acquire(GROUP)
    clock.advance(10)
    for _ in range(19):
        await limit.acquire(GROUP)
    assert clock.elapsed == pytest.approx(10.0)  # 20 so far, no waiting

    await limit.acquire(GROUP)  # the 21st waits until the first leaves the window
    assert clock.elapsed == pytest.approx(60.0)
    await limit.acquire(GROUP)  # the 22nd until the second (sent at 10 s) leaves
    assert clock.elapsed == pytest.approx(70.0)


async def test_channels_and_supergroups_count_as_groups() -> None:
    limit, clock = limiter()
    for _ in range(20):
        await limit.acquire(-1001234567890)
    assert clock.sleeps == []  # a private chat would have waited from the second message
    await limit.acquire(-1001234567890)
    assert clock.elapsed == pytest.approx(60.0)


async def test_a_private_chat_may_have_a_burst() -> None:
    limit, clock = limiter(private_burst=3)
    for _ in range(3):
        await limit.acquire(PRIVATE)
    assert clock.sleeps == []
    await limit.acquire(PRIVATE)
    assert clock.elapsed == pytest.approx(1.0)


# --- pausing after a 429 ---------------------------------------------------------------------


async def test_a_pause_delays_the_next_send_of_any_chat() -> None:
    limit, clock = limiter()
    limit.pause(5)
    await limit.acquire(PRIVATE)
    assert clock.elapsed == pytest.approx(5.0)
    await limit.acquire(PRIVATE + 1)
    assert clock.elapsed == pytest.approx(5.0)  # over once waited out


async def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    limit, clock = limiter()
    limit.pause(5)
    limit.pause(2)
    limit.pause(0)
    await limit.acquire(PRIVATE)
    assert clock.elapsed == pytest.approx(5.0)


async def test_a_pause_reaches_a_sender_already_waiting() -> None:
    clock = FakeTime()
    limit: RateLimiter

    async def sleep_then_hear_429(seconds: float) -> None:
        await clock.sleep(seconds)
        if len(clock.sleeps) == 1:
            limit.pause(5)  # a 429 arrives while the 31st message waits for its token

    limit = RateLimiter(Rates(), clock=clock, sleep=sleep_then_hear_429)
    for chat_id in range(1, 32):
        await limit.acquire(chat_id)
    assert clock.elapsed == pytest.approx(1 / 30 + 5)


# --- many senders at once --------------------------------------------------------------------


async def test_concurrent_senders_keep_the_token_bucket_bound() -> None:
    limit, clock = limiter()
    sent = await send_all(limit, clock, list(range(1, 101)))
    assert len(sent) == 100
    # A bucket of 30 filling at 30/s: at most 30 + 30 w sends in any w seconds.
    for width in (0.5, 1.0, 2.0):
        assert most_in_any_window(sent, width) <= 30 + 30 * width
    assert clock.elapsed == pytest.approx(70 / 30)  # 30 at once, then one every 1/30 s


async def test_with_a_burst_of_one_no_second_ever_holds_more_than_the_rate() -> None:
    limit, clock = limiter(global_burst=1)
    sent = await send_all(limit, clock, list(range(1, 101)))
    assert most_in_any_window(sent, 1.0) == 30
    assert clock.elapsed == pytest.approx(99 / 30)


async def test_concurrent_senders_keep_every_limit_for_a_mix_of_chats() -> None:
    limit, clock = limiter()
    chats = [PRIVATE + i % 7 for i in range(40)] + [GROUP - i % 2 for i in range(30)]
    chats += list(range(1, 31))
    sent = await send_all_by_chat(limit, clock, chats)

    everything = [t for times in sent.values() for t in times]
    assert len(everything) == 100
    assert most_in_any_window(everything, 1.0) <= 60
    for chat_id, times in sent.items():
        if chat_id > 0:
            assert most_in_any_window(times, 1.0) <= 1, chat_id
        else:
            assert most_in_any_window(times, 60.0) <= 20, chat_id


async def send_all_by_chat(
    limit: RateLimiter, clock: FakeTime, chat_ids: list[int]
) -> dict[int, list[float]]:
    sent: dict[int, list[float]] = defaultdict(list)

    async def send(chat_id: int) -> None:
        await limit.acquire(chat_id)
        sent[chat_id].append(clock())

    await asyncio.gather(*(send(chat_id) for chat_id in chat_ids))
    return sent


async def test_concurrent_senders_are_served_in_arrival_order() -> None:
    limit, _ = limiter()
    order: list[int] = []

    async def send(chat_id: int) -> None:
        await limit.acquire(chat_id)
        order.append(chat_id)

    await asyncio.gather(*(send(chat_id) for chat_id in range(1, 101)))
    assert order == list(range(1, 101))


async def test_a_chat_waiting_for_its_own_limit_does_not_hold_up_others() -> None:
    limit, _ = limiter()
    order: list[str] = []

    async def send(chat_id: int, label: str) -> None:
        await limit.acquire(chat_id)
        order.append(label)

    await asyncio.gather(
        send(PRIVATE, "first to A"),
        send(PRIVATE, "second to A"),  # must wait a second
        send(PRIVATE + 1, "to B"),
        send(GROUP, "to a group"),
    )
    assert order == ["first to A", "to B", "to a group", "second to A"]


# --- memory ----------------------------------------------------------------------------------


async def test_idle_chats_are_forgotten_beyond_max_chats() -> None:
    limit, clock = limiter(max_chats=100)
    for chat_id in range(1, 2001):
        await limit.acquire(chat_id if chat_id % 2 else -chat_id)
        clock.advance(1)
        assert limit.tracked_chats <= 100


async def test_busy_chats_are_kept_so_their_limits_hold() -> None:
    limit, clock = limiter(max_chats=2)
    await limit.acquire(PRIVATE)
    await limit.acquire(GROUP)
    await limit.acquire(PRIVATE + 1)  # both others are still busy: kept, over the cap
    assert limit.tracked_chats == 3

    await limit.acquire(PRIVATE)  # still limited: one second after its first message
    assert clock.elapsed == pytest.approx(1.0)

    clock.advance(60)  # everyone idle again
    await limit.acquire(PRIVATE + 2)
    assert limit.tracked_chats == 2


async def test_forgetting_an_idle_chat_changes_nothing() -> None:
    limit, clock = limiter(max_chats=1)
    await limit.acquire(GROUP)
    clock.advance(61)
    await limit.acquire(PRIVATE)  # forgets the group, whose minute is over
    assert limit.tracked_chats == 1
    for _ in range(20):
        await limit.acquire(GROUP)  # a fresh window, as the old one would have been
    assert clock.sleeps == []


# --- the building blocks ---------------------------------------------------------------------


def test_a_token_bucket_starts_full_and_refills_at_its_rate() -> None:
    clock = FakeTime()
    bucket = TokenBucket(2.0, 3, clock=clock)
    for _ in range(3):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == pytest.approx(0.5)
    clock.advance(0.25)
    assert bucket.delay() == pytest.approx(0.25)
    clock.advance(0.25)
    assert bucket.delay() == 0
    bucket.take()

    clock.advance(3600)  # never holds more than its capacity
    for _ in range(3):
        bucket.take()
    assert bucket.delay() == pytest.approx(0.5)


def test_taking_from_an_empty_bucket_is_an_error() -> None:
    clock = FakeTime()
    bucket = TokenBucket(1.0, 1, clock=clock)
    bucket.take()
    with pytest.raises(RuntimeError):
        bucket.take()


def test_a_bucket_is_idle_when_full() -> None:
    clock = FakeTime()
    bucket = TokenBucket(1.0, 2, clock=clock)
    assert bucket.idle()
    bucket.take()
    assert not bucket.idle()
    clock.advance(1)
    assert bucket.idle()


def test_a_sliding_window_allows_limit_events_in_any_period() -> None:
    clock = FakeTime()
    window = SlidingWindow(3, 10.0, clock=clock)
    for step in (0, 4, 4):
        clock.advance(step)
        assert window.delay() == 0
        window.take()
    assert window.delay() == pytest.approx(2.0)  # the first (at 0) leaves at 10
    with pytest.raises(RuntimeError):
        window.take()
    clock.advance(2)
    window.take()
    assert window.delay() == pytest.approx(4.0)  # now at 10; the one at 4 leaves at 14
    assert not window.idle()
    clock.advance(10)
    assert window.idle()


@pytest.mark.parametrize(
    "rates",
    [
        {"global_per_second": 0},
        {"private_per_second": -1},
        {"global_burst": 0},
        {"private_burst": 0},
        {"group_per_minute": 0},
        {"global_per_second": 10, "global_burst": 11},
    ],
)
def test_impossible_rates_are_refused(rates: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Rates(**rates)  # type: ignore[arg-type]


def test_a_burst_of_one_is_fine_below_one_message_a_second() -> None:
    assert Rates(global_per_second=0.5, global_burst=1).global_burst == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: TokenBucket(0, 1),
        lambda: TokenBucket(1, 0),
        lambda: SlidingWindow(0, 60),
        lambda: SlidingWindow(20, 0),
        lambda: RateLimiter(Rates(), max_chats=0),
    ],
)
def test_impossible_limiters_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
