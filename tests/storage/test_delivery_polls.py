"""Poll messages in the delivery log: checked against Telegram's limits, claimed per language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from storage.database import Database
from storage.deliveries import (
    POLL_KIND,
    PollContent,
    PollSpec,
    citizen_recipient,
    claim_due,
    enqueue,
    group_recipient,
)
from storage.models import OutboxMessage

ANNA = citizen_recipient(1001, "th")
BEN = citizen_recipient(1002, "en")
GROUP = group_recipient(-100123)
TH_POLL = PollContent(
    question="อยากเรียนรู้เรื่องใด",
    options=["การเงิน", "สุขภาพ", "ภาษา"],
    is_anonymous=False,
    allows_multiple_answers=True,
)
EN_POLL = PollContent(
    question="What would you like to learn?",
    options=["Money", "Health", "Languages"],
    is_anonymous=False,
    allows_multiple_answers=True,
)


async def _enqueue(db: Database, content: Any, purpose: str = "quickpoll:1") -> OutboxMessage:
    async with db.session() as session:
        return await enqueue(
            purpose, POLL_KIND, content, [ANNA, BEN, GROUP],
            created_by="tg:7", audience="citizens:needs", session=session,
        )  # fmt: skip


async def test_a_poll_is_claimed_in_each_recipients_language(db: Database) -> None:
    message = await _enqueue(db, {"th": TH_POLL, "en": EN_POLL})
    assert message.kind == "poll" and message.content == {"th": TH_POLL, "en": EN_POLL}
    async with db.session() as session:
        tasks = {task.chat_id: task for task in await claim_due(10, session=session)}
    anna, ben, group = tasks[1001], tasks[1002], tasks[-100123]
    assert anna.poll == PollSpec("อยากเรียนรู้เรื่องใด", ("การเงิน", "สุขภาพ", "ภาษา"), False, True)
    assert anna.text == "อยากเรียนรู้เรื่องใด"
    assert ben.poll is not None and ben.poll.options == ("Money", "Health", "Languages")
    assert group.poll is not None and group.poll.question == EN_POLL["question"]  # no "both"


async def test_text_messages_are_claimed_without_a_poll(db: Database) -> None:
    async with db.session() as session:
        await enqueue(
            "broadcast:1", "broadcast", {"th": "สวัสดี", "en": "Hello"}, [ANNA],
            created_by="tg:7", audience="citizens:reminders", session=session,
        )  # fmt: skip
        (task,) = await claim_due(10, session=session)
    assert (task.text, task.poll) == ("สวัสดี", None)


def _poll(**change: object) -> dict[str, object]:
    poll: dict[str, object] = dict(EN_POLL)
    poll.update(change)
    return poll


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({}, "at least one poll"),
        ({"fr": EN_POLL}, "content keys"),
        ({"en": "What would you like to learn?"}, "not an object"),
        ({"en": _poll(question="")}, "question is empty"),
        ({"en": _poll(question="  ")}, "question is empty"),
        ({"en": _poll(question="q" * 301)}, "longer than 300"),
        ({"en": _poll(options=["only one"])}, "2 to 12 options"),
        ({"en": _poll(options=[f"o{i}" for i in range(13)])}, "2 to 12 options"),
        ({"en": _poll(options="yes,no")}, "2 to 12 options"),
        ({"en": _poll(options=["yes", ""])}, "empty option"),
        ({"en": _poll(options=["yes", 2])}, "empty option"),
        ({"en": _poll(options=["yes", "n" * 101])}, "longer than 100"),
        ({"en": _poll(options=["yes", "yes"])}, "repeats"),
        ({"en": _poll(is_anonymous="no")}, "is_anonymous"),
        ({"en": _poll(allows_multiple_answers=None)}, "allows_multiple_answers"),
        ({"en": _poll(type="quiz")}, "keys"),
        ({"en": {"question": "Q?", "options": ["a", "b"]}}, "keys"),
        ({"th": TH_POLL, "en": _poll(options=[])}, "'en' poll"),
    ],
)
async def test_a_bad_poll_is_refused_at_enqueue_and_nothing_is_written(
    db: Database, content: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        await _enqueue(db, content)
    async with db.session() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


async def test_the_longest_allowed_poll_is_accepted(db: Database) -> None:
    longest = _poll(question="q" * 300, options=[f"{i:02d}" + "o" * 98 for i in range(12)])
    message = await _enqueue(db, {"en": longest, "th": TH_POLL})
    assert message.content["en"]["question"] == "q" * 300


async def test_a_poll_in_text_content_is_still_refused_for_a_text_message(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(ValueError, match="empty"):
            await enqueue(
                "broadcast:2", "broadcast", {"en": EN_POLL}, [BEN],
                created_by="tg:7", audience="citizens:reminders", session=session,
            )  # fmt: skip
