"""The input guard's verdicts and memory, on a hand-moved clock (no bot, no network)."""

from __future__ import annotations

import itertools
from typing import Any

from telegram import Update

from bot.settings import load_settings
from handlers.input_guard import InputGuard, RecentIds, Throttle, TokenBuckets, Verdict

_ids = itertools.count(1)
PERSON = {"id": 42, "is_bot": False, "first_name": "Ana"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Ana"}
GROUP = {"id": -5, "type": "group", "title": "Yala"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _update(kind: str, **payload: Any) -> Update:
    return Update.de_json({"update_id": next(_ids), kind: payload}, None)


def _message(chat: dict[str, Any] = PRIVATE, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"message_id": 1, "date": 0, "chat": chat, "from": PERSON, "text": text, **extra}


def _press() -> Update:
    return _update(
        "callback_query", id="q", chat_instance="1", data="v1:x", **{"from": PERSON},
        message=_message(),
    )  # fmt: skip


def _guard(clock: Clock, **settings: Any) -> InputGuard:
    defaults = {"input_burst": 2, "input_per_second": 1.0, "input_notice_seconds": 60.0}
    return InputGuard(load_settings(**{**defaults, **settings}), clock)


def test_an_update_id_is_recognised_until_it_is_among_the_oldest_forgotten() -> None:
    recent = RecentIds(size=3)
    assert [recent.seen(i) for i in (1, 2, 1, 3, 4)] == [False, False, True, False, False]
    assert recent.seen(1) is False  # 1 was the oldest when 4 came


def test_a_bucket_allows_a_burst_then_refills_at_its_pace() -> None:
    clock = Clock()
    buckets = TokenBuckets(3, 0.5, clock)
    assert [buckets.take(7) for _ in range(4)] == [True, True, True, False]
    clock.now = 1.0
    assert buckets.take(7) is False  # half a token
    clock.now = 2.0
    assert buckets.take(7) is True
    assert buckets.take(8) is True  # others have their own bucket


def test_buckets_of_people_gone_quiet_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(2, 1.0, clock)
    for person in range(2000):
        buckets.take(person)
    clock.now = 10.0
    for person in range(2000, 2100):
        buckets.take(person)
    assert len(buckets) < 1100


def test_a_notice_is_due_once_per_window() -> None:
    clock = Clock()
    throttle = Throttle(60.0, clock)
    assert [throttle.due(1), throttle.due(1), throttle.due(2)] == [True, False, True]
    clock.now = 61.0
    assert throttle.due(1) is True
    for person in range(3, 2000):
        throttle.due(person)
    clock.now = 200.0
    for person in range(2000, 2100):
        throttle.due(person)
    assert len(throttle) < 1100  # windows long over are forgotten


def test_a_flood_in_private_gets_one_notice_then_silence() -> None:
    guard = _guard(Clock())
    verdicts = [guard.judge(_update("message", **_message())) for _ in range(5)]
    assert (
        verdicts == [Verdict.PASS, Verdict.PASS, Verdict.TOO_FAST_NOTICE] + [Verdict.TOO_FAST] * 2
    )


def test_a_flood_in_a_group_is_silent_but_a_tap_is_always_told() -> None:
    guard = _guard(Clock())
    group = [guard.judge(_update("message", **_message(GROUP))) for _ in range(3)]
    assert group[-1] is Verdict.TOO_FAST
    assert guard.judge(_press()) is Verdict.TOO_FAST_NOTICE


def test_votes_are_not_limited() -> None:
    guard = _guard(Clock(), input_burst=1)
    guard.judge(_update("message", **_message()))
    vote = {"poll_id": "p", "user": PERSON, "option_ids": [0], "option_persistent_ids": ["0"]}
    assert [guard.judge(_update("poll_answer", **vote)) for _ in range(3)] == [Verdict.PASS] * 3


def test_each_odd_kind_meets_its_rule() -> None:
    guard = _guard(Clock(), input_burst=100)
    bot = {**PERSON, "id": 99, "is_bot": True}
    forwarded = {"type": "hidden_user", "sender_user_name": "X", "date": 0}
    assert guard.judge(_update("channel_post", **_message(GROUP))) is Verdict.CHANNEL
    assert guard.judge(_update("message", **{**_message(GROUP), "from": bot})) is Verdict.FROM_BOT
    edited = _update("edited_message", **_message(edit_date=1))
    assert guard.judge(edited) is Verdict.EDITED_NOTICE
    assert guard.judge(_update("edited_message", **_message(edit_date=2))) is Verdict.EDITED
    assert guard.judge(_update("edited_message", **_message(GROUP, edit_date=2))) is Verdict.EDITED
    forward = _update("message", **_message(forward_origin=forwarded))
    assert guard.judge(forward) is Verdict.FORWARDED
    assert guard.judge(_update("message", **_message(text="😀" * 500))) is Verdict.PASS
    assert guard.judge(_update("message", **_message(text="😀" * 501))) is Verdict.TOO_LONG
    assert guard.judge(edited) is Verdict.REPEATED
