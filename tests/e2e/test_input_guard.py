"""Odd and hostile input meets one rule each, before any flow (handlers/input_guard.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuUser
from storage.enums import Role
from tests.e2e.library_people import EN, TH, person, running_bot

GROUP = -100_500
CHANNEL = -100_900
SLOW_TH = TH["guard.slow_down"]


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    async with running_bot(tmp_path) as bot:
        yield bot


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[LiveBot]:
    """A bucket of 3 that hardly refills, so a burst of 4 is always one too many."""
    async with running_bot(tmp_path, input_burst=3, input_per_second=0.001) as bot:
        yield bot


def _texts(live: LiveBot, chat_id: int) -> list[str]:
    return [m.text or "" for m in live.emulator.sent_to(chat_id)]


async def _send_quickly(live: LiveBot, user: EmuUser, texts: list[str]) -> None:
    """Queue every text before the bot reads any (a flood), then wait for the bot."""
    for text in texts:
        await live.emulator.user_sends(user, text)
    await live.settle()


async def test_a_repeated_update_is_handled_once(live: LiveBot) -> None:
    user = live.user(7001, "Ana", language_code="en")
    await live.emulator.user_sends(user, "/help")
    first = live.emulator.take_pending_updates()[-1]
    await live.emulator.repeat_update(first)
    await live.emulator.repeat_update(first)
    await live.settle()
    assert len(live.emulator.sent_to(user.id)) == 1


async def test_channel_posts_and_their_edits_are_ignored(live: LiveBot) -> None:
    live.emulator.add_channel(CHANNEL, "Yala news")
    await live.emulator.channel_posts(CHANNEL, "/help")
    await live.emulator.channel_posts(CHANNEL, "<b>hi</b>", edited=True)
    await live.settle()
    assert live.emulator.sends_to(CHANNEL) == []


async def test_a_bot_in_a_group_is_not_answered_but_a_person_is(live: LiveBot) -> None:
    await person(live, 7002, "th", role=Role.facilitator)
    facilitator = live.emulator.users[7002]
    other_bot = live.emulator.add_user(7003, "Spam", username="spam_bot", is_bot=True)
    live.emulator.add_group(GROUP, "Yala readers")
    await live.set_membership(facilitator, GROUP, "administrator")
    before = len(live.emulator.sent_to(GROUP))
    await live.send(other_bot, "/help@learncity_test_bot", chat_id=GROUP)
    assert len(live.emulator.sent_to(GROUP)) == before
    await live.send(facilitator, "/help@learncity_test_bot", chat_id=GROUP)
    assert len(live.emulator.sent_to(GROUP)) == before + 1


async def test_a_flood_gets_one_slow_down_and_no_database_work(strict: LiveBot) -> None:
    user = strict.user(7004, "Somsri", language_code="th")
    await _send_quickly(strict, user, ["สวัสดี"] * 4)
    texts = _texts(strict, user.id)
    assert texts.count(SLOW_TH) == 1 and len(texts) == 4  # three answers, then one notice
    assert strict.db is not None
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = strict.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await _send_quickly(strict, user, ["สวัสดี", "/help", "/needs", "<b>x</b>"] * 5)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    assert len(_texts(strict, user.id)) == 4  # the rest of the window: silence


async def test_a_flood_of_taps_is_answered_without_acting(strict: LiveBot) -> None:
    user = strict.user(7005, "Sam", language_code="en")
    await strict.send(user, "/start")
    start = strict.emulator.last_sent(user.id)
    data = str(start.buttons[0]["callback_data"])
    queries = [await strict.emulator.press(user, start, data) for _ in range(5)]
    await strict.settle()
    # Every tap answered (the fixture checks it too); one toast asks to slow down.
    assert all(q.answered for q in queries)
    toasts = [str((q.answer or {}).get("text") or "") for q in queries]
    assert toasts.count(EN["guard.slow_down"]) == 1


async def test_edits_are_not_read_and_the_person_is_told_once(live: LiveBot) -> None:
    user = live.user(7006, "Ana", language_code="en")
    message = await live.emulator.user_sends(user, "/help")
    await live.settle()
    await live.emulator.user_edits(user, message, "/start")
    await live.emulator.user_edits(user, message, "/needs")
    await live.settle()
    texts = _texts(live, user.id)
    assert texts.count(EN["guard.edited"]) == 1
    assert len(texts) == 2  # /help's answer and the one notice; neither edit was acted on


async def test_a_forwarded_message_is_not_taken_as_the_persons_own(live: LiveBot) -> None:
    user = live.user(7007, "Ana", language_code="th")
    await live.emulator.user_forwards(user, "/start")
    await live.settle()
    assert _texts(live, user.id) == [TH["guard.forwarded"]]


@pytest.mark.parametrize(
    ("text", "refused"),
    [("ก" * 1000, False), ("ก" * 1001, True), ("😀" * 501, True), ("<b>" * 400, True)],
)
async def test_over_long_text_is_refused_with_the_limit(
    live: LiveBot, text: str, refused: bool
) -> None:
    user = live.user(7008, "Ana", language_code="en")
    replies = await live.send(user, text)
    assert len(replies) == 1
    says_limit = "at most 1000 characters" in (replies[0].text or "")
    assert says_limit is refused


async def test_staff_text_goes_on_to_their_flows_own_limits(live: LiveBot) -> None:
    await person(live, 7009, "en", role=Role.facilitator)
    replies = await live.send(live.emulator.users[7009], "x" * 1500)
    assert [m.text for m in replies] == [EN["fallback.text"]]
