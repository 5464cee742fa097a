"""The typed-input filter matches only people we wait on, and forgets stale waits."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from telegram import Chat, Message, User

from handlers.awaiting import Awaiting, UserDataMatches, fresh


@dataclass
class _Wait:
    since: float


def _message(user_id: int) -> Message:
    user = User(user_id, "someone", is_bot=False)
    return Message(1, datetime(2026, 1, 1), Chat(user_id, "private"), from_user=user, text="hi")


def test_matches_only_the_people_waited_on() -> None:
    awaiting = Awaiting({7: _Wait(time.monotonic())}, 30, name="test")
    assert awaiting.filter(_message(7))
    assert not awaiting.filter(_message(8))


def test_a_stale_wait_is_dropped_and_no_longer_matches() -> None:
    waits = {7: _Wait(time.monotonic() - 31 * 60)}
    awaiting = Awaiting(waits, 30, name="test")
    assert not awaiting.filter(_message(7))
    assert waits == {}


class _App:
    """Just what the filter reads of an Application: user_data by user id."""

    def __init__(self, user_data: dict[int, dict[str, object]]) -> None:
        self.user_data = user_data


def test_user_data_filter_matches_only_whose_user_data_passes() -> None:
    app = _App({7: {"draft": "waiting"}, 8: {}})
    matches = UserDataMatches(app, lambda data: "draft" in data, name="test")  # type: ignore[arg-type]
    assert matches.filter(_message(7))
    assert not matches.filter(_message(8))
    assert not matches.filter(_message(9))  # no user_data at all


class _Context:
    """Just what fresh() and drop() read of a context: user_data."""

    def __init__(self, user_data: dict[str, object]) -> None:
        self.user_data = user_data


def test_fresh_gives_a_young_record_of_its_kind_and_drops_a_stale_one() -> None:
    context = _Context({"draft": _Wait(time.monotonic()), "other": "text"})
    assert fresh(context, "draft", _Wait, 30) is context.user_data["draft"]  # type: ignore[arg-type]
    assert fresh(context, "other", _Wait, 30) is None  # type: ignore[arg-type]
    context.user_data["draft"] = _Wait(time.monotonic() - 31 * 60)
    assert fresh(context, "draft", _Wait, 30) is None  # type: ignore[arg-type]
    assert "draft" not in context.user_data
