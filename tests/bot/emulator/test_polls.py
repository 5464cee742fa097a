"""Native polls: sendPoll and stopPoll through PTB 22.8's real `Bot`, votes through the driver.

The key proof is that PTB parses every Poll, PollOption and PollAnswer the emulator returns or
queues (PTB 22.8 raises when a Bot API 10.0 field such as `allows_revoting`, `members_only`,
`persistent_id` or `option_persistent_ids` is missing). Exact error texts are read from
`emu.calls`, since PTB recases them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    MessageEntity,
    Poll,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.emulator import polls
from bot.emulator.emulator import Emulator
from bot.emulator.model import EmuMessage, EmuUser

from .support import refused

START = 1_700_000_000.0
GROUP = -100


@dataclass
class Clock:
    """The time `Polls.now` reads; tests move it."""

    at: float = START

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


@pytest.fixture
def clock(emu: Emulator) -> Clock:
    fake = Clock()
    emu.polls.now = fake
    return fake


@pytest.fixture(autouse=True)
def _no_ptb_warnings() -> Iterator[None]:
    """PTB warns when a removed field (`correct_option_id`) comes back: none may."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


async def take(bot: Bot) -> tuple[Update, ...]:
    """The queued updates, confirmed so the next call sees only new ones."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


def last_error(emu: Emulator) -> str:
    call = emu.calls[-1]
    assert not call.ok, f"{call.method} succeeded"
    assert call.description is not None
    return call.description


def poll_message(emu: Emulator, chat_id: int) -> EmuMessage:
    message = emu.last_sent(chat_id)
    assert message.kind == "poll"
    return message


async def send(bot: Bot, chat_id: int, **kwargs: Any) -> Message:
    """A poll with two options unless the test says otherwise."""
    question = kwargs.pop("question", "ไปไหนดี?")
    options: Sequence[str | InputPollOption] = kwargs.pop("options", ["ทะเล", "ภูเขา"])
    return await bot.send_poll(chat_id, question, options, **kwargs)


@pytest.fixture
async def group(emu: Emulator, bot: Bot, user: EmuUser) -> int:
    """A group the bot was added to, with the start and membership updates already taken."""
    emu.add_group(GROUP, "ห้องเรียน")
    await emu.set_bot_membership(user, GROUP, "member")
    await take(bot)
    return GROUP


@pytest.fixture
async def fresh(bot: Bot, user: EmuUser) -> EmuUser:
    """`user`, with their /start update already taken."""
    await take(bot)
    return user


# ------------------------------------------------------------------ sendPoll


async def test_regular_poll_has_every_field_ptb_requires(
    bot: Bot, emu: Emulator, fresh: EmuUser
) -> None:
    sent = await send(bot, fresh.id)
    poll = sent.poll
    assert poll is not None
    assert (poll.question, poll.type, poll.is_closed) == ("ไปไหนดี?", Poll.REGULAR, False)
    # Telegram's defaults: anonymous, one answer, answers may be changed.
    assert (poll.is_anonymous, poll.allows_multiple_answers, poll.allows_revoting) == (
        True,
        False,
        True,
    )
    assert poll.members_only is False and poll.total_voter_count == 0
    assert [(o.text, o.voter_count, o.persistent_id) for o in poll.options] == [
        ("ทะเล", 0, "0"),
        ("ภูเขา", 0, "1"),
    ]
    assert poll.correct_option_ids == () and poll.close_date is None
    assert isinstance(poll.id, str) and poll.id.isdigit()
    assert sent.text is None and sent.from_user is not None and sent.from_user.is_bot
    message = poll_message(emu, fresh.id)
    assert message.message_id == sent.message_id
    assert message.extra["poll"] == emu.polls.poll_of(message) == emu.polls.get(poll.id)
    assert Poll.de_json(emu.polls.get(poll.id), bot) == poll


async def test_options_may_be_input_poll_options(bot: Bot, fresh: EmuUser) -> None:
    sent = await send(bot, fresh.id, options=[InputPollOption("ก"), "ข", InputPollOption("ค")])
    assert sent.poll is not None
    assert [o.text for o in sent.poll.options] == ["ก", "ข", "ค"]


async def test_one_option_is_enough_since_bot_api_10(bot: Bot, fresh: EmuUser) -> None:
    sent = await send(bot, fresh.id, options=["ใช่"])
    assert sent.poll is not None and len(sent.poll.options) == 1


async def test_twelve_options_are_the_most(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    twelve = [f"ข้อ {n}" for n in range(12)]
    sent = await send(bot, fresh.id, options=twelve)
    assert sent.poll is not None and len(sent.poll.options) == 12
    with refused("poll can't have more than 12 options"):
        await send(bot, fresh.id, options=[*twelve, "เกิน"])
    assert last_error(emu) == "Bad Request: poll can't have more than 12 options"


async def test_html_question_and_options_are_parsed(bot: Bot, fresh: EmuUser) -> None:
    sent = await bot.send_poll(
        fresh.id,
        "<b>1 &lt; 2</b>?",
        [InputPollOption("<i>ใช่</i>", text_parse_mode=ParseMode.HTML), "ไม่"],
        question_parse_mode=ParseMode.HTML,
    )
    assert sent.poll is not None
    # Only custom emoji survive in questions and options, as TDLib keeps them.
    assert (sent.poll.question, sent.poll.question_entities) == ("1 < 2?", ())
    assert (sent.poll.options[0].text, sent.poll.options[0].text_entities) == ("ใช่", ())


LIMIT_CASES: list[tuple[dict[str, Any], str]] = [
    ({"question": " "}, polls.QUESTION_EMPTY),
    ({"question": "ก" * 301}, polls.QUESTION_TOO_LONG),
    ({"options": []}, polls.TOO_FEW_OPTIONS),
    ({"options": ["ทะเล", " "]}, polls.OPTION_EMPTY),
    ({"options": ["ทะเล", "ก" * 101]}, polls.OPTION_TOO_LONG),
    ({"type": "survey"}, polls.UNSUPPORTED_TYPE),
    ({"type": "quiz"}, polls.WRONG_CORRECT_OPTION),
    ({"type": "quiz", "correct_option_ids": [2]}, polls.WRONG_CORRECT_OPTION),
    ({"type": "quiz", "correct_option_ids": [-1]}, polls.WRONG_CORRECT_OPTION),
    (
        {"type": "quiz", "options": ["a", "b", "c"], "correct_option_ids": [1, 0]},
        polls.WRONG_CORRECT_OPTION,
    ),
    (
        {"type": "quiz", "correct_option_ids": [0], "explanation": "ก" * 201},
        polls.EXPLANATION_TOO_LONG,
    ),
    (
        {"type": "quiz", "correct_option_ids": [0], "explanation": "1\n2\n3\n4"},
        polls.EXPLANATION_TOO_MANY_LINES,
    ),
    ({"open_period": 4}, polls.WRONG_OPEN_PERIOD),
    ({"open_period": polls.MAX_OPEN_PERIOD + 1}, polls.WRONG_OPEN_PERIOD),
    ({"close_date": int(START) + 4}, polls.WRONG_CLOSE_DATE),
    ({"close_date": int(START) - 60}, polls.WRONG_CLOSE_DATE),
    ({"open_period": 60, "close_date": int(START) + 60}, polls.OPEN_PERIOD_AND_CLOSE_DATE),
    ({"question": "<b>ไปไหน", "question_parse_mode": ParseMode.HTML}, "can't parse entities"),
    (
        {"reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="")]])},
        "BUTTON_DATA_INVALID",
    ),
]


@pytest.mark.parametrize(("kwargs", "description"), LIMIT_CASES)
async def test_limits_are_telegrams(
    bot: Bot, emu: Emulator, fresh: EmuUser, clock: Clock, kwargs: dict[str, Any], description: str
) -> None:
    with refused(description):
        await send(bot, fresh.id, **kwargs)
    assert last_error(emu).startswith(f"Bad Request: {description}")
    assert emu.sent_to(fresh.id) == [] and emu.polls.polls == {}


async def test_lengths_at_the_limit_pass(bot: Bot, fresh: EmuUser, clock: Clock) -> None:
    sent = await send(
        bot,
        fresh.id,
        question="ก" * 300,
        options=["ข" * 100, "ค"],
        type=Poll.QUIZ,
        correct_option_ids=[1],
        # 200 characters after parsing: the tags don't count.
        explanation="<b>" + "ง" * 200 + "</b>",
        explanation_parse_mode=ParseMode.HTML,
        open_period=polls.MAX_OPEN_PERIOD,
    )
    assert sent.poll is not None
    assert sent.poll.explanation == "ง" * 200
    assert sent.poll.explanation_entities == (MessageEntity(MessageEntity.BOLD, 0, 200),)


async def test_polls_need_a_chat_the_bot_may_write_to(bot: Bot, emu: Emulator) -> None:
    stranger = emu.add_user(2002, "Niran")
    with pytest.raises(Forbidden, match="initiate"):
        await send(bot, stranger.id)
    emu.add_group(GROUP, "ห้องเรียน")
    with pytest.raises(Forbidden, match="not a member"):
        await send(bot, GROUP)
    with refused("chat not found"):
        await send(bot, 999)


async def test_non_anonymous_polls_are_fine_in_private_chats_and_groups(
    bot: Bot, fresh: EmuUser, group: int
) -> None:
    for chat_id in (fresh.id, group):
        sent = await send(bot, chat_id, is_anonymous=False)
        assert sent.poll is not None and sent.poll.is_anonymous is False


async def test_reply_markup_is_kept(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("ผล", callback_data="results")]])
    sent = await send(bot, fresh.id, reply_markup=markup)
    assert sent.reply_markup == markup
    assert poll_message(emu, fresh.id).button_texts == ["ผล"]


# ------------------------------------------------------------------ votes and their updates


async def test_anonymous_votes_give_poll_updates_only(
    bot: Bot, emu: Emulator, fresh: EmuUser
) -> None:
    sent = await send(bot, fresh.id)
    assert sent.poll is not None
    await emu.polls.vote(fresh, poll_message(emu, fresh.id), [1])
    (update,) = await take(bot)
    assert update.poll_answer is None and update.poll is not None
    assert update.poll.id == sent.poll.id
    assert [o.voter_count for o in update.poll.options] == [0, 1]
    assert update.poll.total_voter_count == 1
    assert emu.polls.votes_of(update.poll.id) == {fresh.id: [1]}


async def test_non_anonymous_vote_gives_poll_answer_then_poll(
    bot: Bot, emu: Emulator, fresh: EmuUser
) -> None:
    sent = await send(bot, fresh.id, is_anonymous=False)
    assert sent.poll is not None
    await emu.polls.vote(fresh, poll_message(emu, fresh.id), [0])
    answer_update, poll_update = await take(bot)
    answer = answer_update.poll_answer
    assert answer is not None
    assert (answer.poll_id, answer.option_ids, answer.option_persistent_ids) == (
        sent.poll.id,
        (0,),
        ("0",),
    )
    assert answer.user is not None and answer.user.id == fresh.id and answer.voter_chat is None
    assert answer_update.effective_user is not None
    assert answer_update.effective_user.id == fresh.id
    assert poll_update.poll is not None
    assert [o.voter_count for o in poll_update.poll.options] == [1, 0]


async def test_changing_and_retracting_a_vote(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    sent = await send(bot, fresh.id, is_anonymous=False)
    assert sent.poll is not None
    message = poll_message(emu, fresh.id)
    await emu.polls.vote(fresh, message, [0])
    await emu.polls.vote(fresh, message, [1])
    await emu.polls.vote(fresh, message, [])
    updates = await take(bot)
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert [(a.option_ids, a.option_persistent_ids) for a in answers] == [
        ((0,), ("0",)),
        ((1,), ("1",)),
        ((), ()),
    ]
    # Each queued `poll` update keeps the counts of its moment.
    counts = [[o.voter_count for o in u.poll.options] for u in updates if u.poll]
    assert counts == [[1, 0], [0, 1], [0, 0]]
    assert emu.polls.votes_of(sent.poll.id) == {}
    assert emu.polls.poll_of(message)["total_voter_count"] == 0


async def test_the_same_answer_again_changes_nothing(
    bot: Bot, emu: Emulator, fresh: EmuUser
) -> None:
    await send(bot, fresh.id, is_anonymous=False)
    message = poll_message(emu, fresh.id)
    await emu.polls.vote(fresh, message, [1])
    await take(bot)
    await emu.polls.vote(fresh, message, [1])
    assert await take(bot) == ()
    await emu.polls.vote(fresh, message, [])
    assert len(await take(bot)) == 2
    await emu.polls.vote(fresh, message, [])  # no answer left to retract
    assert await take(bot) == ()


async def test_multiple_answers(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    sent = await send(
        bot, fresh.id, options=["a", "b", "c"], allows_multiple_answers=True, is_anonymous=False
    )
    assert sent.poll is not None and sent.poll.allows_multiple_answers
    await emu.polls.vote(fresh, poll_message(emu, fresh.id), [2, 0, 2])
    answer_update, poll_update = await take(bot)
    assert answer_update.poll_answer is not None
    assert answer_update.poll_answer.option_ids == (0, 2)
    assert answer_update.poll_answer.option_persistent_ids == ("0", "2")
    assert poll_update.poll is not None
    assert [o.voter_count for o in poll_update.poll.options] == [1, 0, 1]
    assert poll_update.poll.total_voter_count == 1  # voters, not answers


async def test_votes_the_poll_does_not_allow(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    await send(bot, fresh.id)
    message = poll_message(emu, fresh.id)
    with pytest.raises(ValueError, match="one answer"):
        await emu.polls.vote(fresh, message, [0, 1])
    with pytest.raises(ValueError, match="no option"):
        await emu.polls.vote(fresh, message, [2])
    stranger = emu.add_user(2002, "Niran")
    with pytest.raises(ValueError, match="can't see"):
        await emu.polls.vote(stranger, message, [0])
    with pytest.raises(ValueError, match="not a poll"):
        await emu.polls.vote(fresh, await emu.user_sends(fresh, "สวัสดี"), [0])
    (greeting,) = await take(bot)  # the refused votes sent nothing
    assert greeting.message is not None and greeting.message.text == "สวัสดี"
    assert emu.polls.poll_of(message)["total_voter_count"] == 0


async def test_without_revoting_an_answer_is_final(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    sent = await send(bot, fresh.id, allows_revoting=False, is_anonymous=False)
    assert sent.poll is not None and sent.poll.allows_revoting is False
    message = poll_message(emu, fresh.id)
    await emu.polls.vote(fresh, message, [0])
    with pytest.raises(ValueError, match="changing"):
        await emu.polls.vote(fresh, message, [1])
    with pytest.raises(ValueError, match="retracting"):
        await emu.polls.vote(fresh, message, [])
    assert emu.polls.votes_of(sent.poll.id) == {fresh.id: [0]}


# ------------------------------------------------------------------ quizzes


async def test_quiz_shows_the_bot_its_answer(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    sent = await send(
        bot,
        fresh.id,
        type=Poll.QUIZ,
        correct_option_ids=[1],
        explanation="ภูเขา<b>สูง</b>",
        explanation_parse_mode=ParseMode.HTML,
        is_anonymous=False,
    )
    poll = sent.poll
    assert poll is not None
    assert (poll.type, poll.correct_option_ids, poll.allows_revoting) == (Poll.QUIZ, (1,), False)
    assert poll.explanation == "ภูเขาสูง"
    assert poll.explanation_entities == (MessageEntity(MessageEntity.BOLD, 5, 3),)
    assert "correct_option_id" not in emu.polls.get(poll.id)  # removed in Bot API 9.6


async def test_quiz_answers_can_be_neither_changed_nor_retracted(
    bot: Bot, emu: Emulator, fresh: EmuUser
) -> None:
    sent = await send(bot, fresh.id, type=Poll.QUIZ, correct_option_ids=[0], is_anonymous=False)
    assert sent.poll is not None
    message = poll_message(emu, fresh.id)
    await emu.polls.vote(fresh, message, [1])  # wrong, and final
    with pytest.raises(ValueError, match="changing"):
        await emu.polls.vote(fresh, message, [0])
    with pytest.raises(ValueError, match="retracting"):
        await emu.polls.vote(fresh, message, [])
    answer_update, poll_update = await take(bot)
    assert answer_update.poll_answer is not None
    assert answer_update.poll_answer.option_ids == (1,)
    assert poll_update.poll is not None and poll_update.poll.correct_option_ids == (0,)


async def test_quiz_with_several_correct_answers(bot: Bot, fresh: EmuUser) -> None:
    sent = await send(
        bot,
        fresh.id,
        options=["a", "b", "c"],
        type=Poll.QUIZ,
        correct_option_ids=[0, 2],
        allows_multiple_answers=True,
    )
    assert sent.poll is not None and sent.poll.correct_option_ids == (0, 2)


async def test_quiz_reads_the_old_correct_option_id_too(emu: Emulator, fresh: EmuUser) -> None:
    status, body = await emu.call(
        emu.token,
        "sendPoll",
        {
            "chat_id": str(fresh.id),
            "question": "2 + 2?",
            "options": '["3", "4"]',
            "type": "quiz",
            "correct_option_id": "1",
        },
    )
    assert status == 200
    assert body["result"]["poll"]["correct_option_ids"] == [1]


async def test_explanation_of_a_regular_poll_is_ignored(bot: Bot, fresh: EmuUser) -> None:
    sent = await send(bot, fresh.id, explanation="ไม่ใช่ควิซ")
    assert sent.poll is not None and sent.poll.explanation is None


# ------------------------------------------------------------------ stopPoll


async def test_stop_poll_returns_the_closed_poll_and_tells_the_bot(
    bot: Bot, emu: Emulator, fresh: EmuUser
) -> None:
    sent = await send(bot, fresh.id, is_anonymous=False)
    assert sent.poll is not None
    await emu.polls.vote(fresh, poll_message(emu, fresh.id), [1])
    await take(bot)
    stopped = await bot.stop_poll(fresh.id, sent.message_id)
    assert stopped.is_closed and stopped.id == sent.poll.id
    assert [o.voter_count for o in stopped.options] == [0, 1]
    (update,) = await take(bot)
    assert update.poll is not None and update.poll.is_closed
    assert emu.polls.poll_of(poll_message(emu, fresh.id))["is_closed"] is True
    with pytest.raises(ValueError, match="closed"):
        await emu.polls.vote(fresh, poll_message(emu, fresh.id), [0])
    with refused("poll has already been closed"):
        await bot.stop_poll(fresh.id, sent.message_id)
    assert last_error(emu) == "Bad Request: poll has already been closed"
    assert await take(bot) == ()  # a refused stop tells nobody


async def test_stop_poll_replaces_the_keyboard(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    vote = InlineKeyboardMarkup([[InlineKeyboardButton("โหวต", callback_data="vote")]])
    done = InlineKeyboardMarkup([[InlineKeyboardButton("ผล", callback_data="results")]])
    sent = await send(bot, fresh.id, reply_markup=vote)
    keyboard: Any = ReplyKeyboardMarkup([["x"]])  # stopPoll takes inline keyboards only
    with refused("inline keyboard expected"):
        await bot.stop_poll(fresh.id, sent.message_id, reply_markup=keyboard)
    await bot.stop_poll(fresh.id, sent.message_id, reply_markup=done)
    assert poll_message(emu, fresh.id).button_texts == ["ผล"]


async def test_stop_poll_needs_a_poll_of_the_bot(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    text = await bot.send_message(fresh.id, "ไม่ใช่โพล")
    with refused("message is not a poll"):
        await bot.stop_poll(fresh.id, text.message_id)
    assert last_error(emu) == f"Bad Request: {polls.STOP_NOT_A_POLL}"
    with refused("message with poll to stop not found"):
        await bot.stop_poll(fresh.id, 999)
    assert last_error(emu) == f"Bad Request: {polls.STOP_NOT_FOUND}"
    with refused("chat not found"):
        await bot.stop_poll(999, 1)
    sent = await send(bot, fresh.id)
    await bot.delete_message(fresh.id, sent.message_id)
    with refused("message with poll to stop not found"):
        await bot.stop_poll(fresh.id, sent.message_id)


async def test_closed_at_birth(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    sent = await send(bot, fresh.id, is_closed=True)
    assert sent.poll is not None and sent.poll.is_closed
    with pytest.raises(ValueError, match="closed"):
        await emu.polls.vote(fresh, poll_message(emu, fresh.id), [0])
    with refused("poll has already been closed"):
        await bot.stop_poll(fresh.id, sent.message_id)


# ------------------------------------------------------------------ closing by itself


async def test_open_period_closes_the_poll_by_itself(
    bot: Bot, emu: Emulator, fresh: EmuUser, clock: Clock
) -> None:
    sent = await send(bot, fresh.id, open_period=30)
    poll = sent.poll
    assert poll is not None and poll.close_date is not None
    assert int(poll.close_date.timestamp()) == int(START) + 30
    assert emu.polls.get(poll.id)["open_period"] == 30
    message = poll_message(emu, fresh.id)
    clock.advance(29)
    await emu.polls.vote(fresh, message, [0])
    assert (await take(bot))[-1].poll is not None
    assert emu.polls.get(poll.id)["is_closed"] is False
    clock.advance(1)
    (update,) = await take(bot)  # getUpdates notices the time and brings the closing update
    assert update.poll is not None and update.poll.is_closed
    assert update.poll.options[0].voter_count == 1
    assert message.extra["poll"]["is_closed"] is True
    with pytest.raises(ValueError, match="closed"):
        await emu.polls.vote(fresh, message, [1])
    with refused("poll has already been closed"):
        await bot.stop_poll(fresh.id, sent.message_id)
    assert await take(bot) == ()  # announced once


async def test_close_date_closes_the_poll_too(
    bot: Bot, emu: Emulator, fresh: EmuUser, clock: Clock
) -> None:
    sent = await send(bot, fresh.id, close_date=int(START) + 600)
    assert sent.poll is not None
    assert emu.polls.get(sent.poll.id)["open_period"] == 600
    clock.advance(600)
    assert emu.polls.get(sent.poll.id)["is_closed"] is True  # read-back sees the time as well
    await emu.polls.tick()
    (update,) = await take(bot)
    assert update.poll is not None and update.poll.is_closed


# ------------------------------------------------------------------ groups


async def test_poll_updates_in_a_group(bot: Bot, emu: Emulator, user: EmuUser, group: int) -> None:
    sent = await send(bot, group, is_anonymous=False, options=["a", "b", "c"])
    assert sent.poll is not None and sent.chat.id == group
    message = poll_message(emu, group)
    others = [emu.add_user(2000 + n, f"นักเรียน {n}") for n in range(2)]
    await emu.polls.vote(user, message, [0])
    await emu.polls.vote(others[0], message, [2])
    await emu.polls.vote(others[1], message, [2])
    updates = await take(bot)
    voters = [u.poll_answer.user.id for u in updates if u.poll_answer and u.poll_answer.user]
    assert voters == [user.id, others[0].id, others[1].id]
    final = [u.poll for u in updates if u.poll][-1]
    assert [o.voter_count for o in final.options] == [1, 0, 2]
    assert final.total_voter_count == 3
    assert emu.polls.votes_of(sent.poll.id) == {user.id: [0], others[0].id: [2], others[1].id: [2]}
    stopped = await bot.stop_poll(group, sent.message_id)
    assert stopped.is_closed and stopped.total_voter_count == 3


async def test_allowed_updates_can_leave_polls_out(bot: Bot, emu: Emulator, fresh: EmuUser) -> None:
    await bot.get_updates(allowed_updates=["message"])
    await send(bot, fresh.id, is_anonymous=False)
    await emu.polls.vote(fresh, poll_message(emu, fresh.id), [0])
    assert await take(bot) == ()
