"""Native polls: sendPoll, stopPoll, votes and their updates, as Bot API 10.0 has them.

The checks follow what the Bot API server and TDLib do (TDLib's errors reach the bot with the
first letter lowered): the question (1–300 characters) and each option (1–100) are parsed like
message text, then a poll has 1–12 options (Bot API 10.0 allows a single option), a quiz names
its correct options in `correct_option_ids` (Bot API 9.6; the old `correct_option_id` is still
read), `open_period`/`close_date` lie 5–2628000 seconds ahead (Bot API 9.6).

The Poll object is the one PTB 22.8 requires: `allows_revoting`, `members_only` and every
option's `persistent_id`; `correct_option_ids` replaces the removed `correct_option_id`.

Updates go only to the bot that sent the poll, as Telegram sends them: `poll_answer` for each
vote, change or retraction in a non-anonymous poll, then `poll` with the new counts; `poll` with
`is_closed` when the bot stops the poll or its time runs out. Time is `Polls.now`, which tests
replace; polls whose time has passed close lazily, whenever the polls are looked at (every
getUpdates call too, so a polling bot sees the closing update).
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .component import Component
from .errors import bad_request
from .html_entities import BadRequest, check_message_text
from .model import EmuMessage, EmuUser
from .params import Method, Params, bool_param, int_param, json_param, str_param
from .validation import check_reply_markup

if TYPE_CHECKING:
    from .emulator import Emulator

MAX_QUESTION_LENGTH = 300
MAX_OPTION_LENGTH = 100
MIN_OPTIONS = 1  # Bot API 10.0 lowered it from 2
MAX_OPTIONS = 12
MAX_EXPLANATION_LENGTH = 200
MAX_EXPLANATION_LINE_FEEDS = 2
MIN_OPEN_PERIOD = 5
MAX_OPEN_PERIOD = 2_628_000  # Bot API 9.6 raised it from 600
POLL_TYPES = ("regular", "quiz")
_NO_LIMIT = 1 << 30

# Telegram's wording (TDLib's errors, first letter lowered by the Bot API server).
QUESTION_EMPTY = "text must be non-empty"
QUESTION_TOO_LONG = f"poll question length must not exceed {MAX_QUESTION_LENGTH}"
TOO_FEW_OPTIONS = "poll must have at least one answer option"
TOO_MANY_OPTIONS = f"poll can't have more than {MAX_OPTIONS} options"
OPTION_EMPTY = "text must be non-empty"
OPTION_TOO_LONG = f"poll options length must not exceed {MAX_OPTION_LENGTH}"
WRONG_CORRECT_OPTION = "wrong correct option ID specified"
UNSUPPORTED_TYPE = "unsupported poll type specified"
# Not confirmed against the real server (it may answer with an MTProto error instead).
EXPLANATION_TOO_LONG = "explanation is too long"
EXPLANATION_TOO_MANY_LINES = "explanation can't contain more than 2 line feeds"
WRONG_OPEN_PERIOD = "wrong open_period specified"
WRONG_CLOSE_DATE = "wrong close_date specified"
OPEN_PERIOD_AND_CLOSE_DATE = "open_period and close_date can't be used together"
# stopPoll (the Bot API server's check_message, then TDLib's stop_poll).
STOP_NOT_FOUND = "message with poll to stop not found"
STOP_NOT_A_POLL = "message is not a poll"
STOP_NOT_OWN = "poll can't be stopped"
ALREADY_CLOSED = "poll has already been closed"


@dataclass
class PollState:
    """One poll: its settings, the message showing it and every voter's current answer."""

    id: str
    message: EmuMessage
    question: str
    question_entities: list[dict[str, Any]]
    options: list[str]
    option_entities: list[list[dict[str, Any]]]
    is_anonymous: bool
    type: str
    allows_multiple_answers: bool
    allows_revoting: bool
    correct_option_ids: list[int] = field(default_factory=list)
    explanation: str | None = None
    explanation_entities: list[dict[str, Any]] = field(default_factory=list)
    open_period: int | None = None
    close_date: int | None = None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    @staticmethod
    def persistent_id(index: int) -> str:
        """The option's persistent id (TDLib numbers the options it creates from "0")."""
        return str(index)

    def to_api(self) -> dict[str, Any]:
        """The Bot API `Poll` object, as the bot that sent the poll sees it."""
        counts = [0] * len(self.options)
        for chosen in self.votes.values():
            for index in chosen:
                counts[index] += 1
        options: list[dict[str, Any]] = []
        for index, text in enumerate(self.options):
            entities = self.option_entities[index]
            option: dict[str, Any] = {
                "persistent_id": self.persistent_id(index),
                "text": text,
                "voter_count": counts[index],
            }
            if entities:
                option["text_entities"] = entities
            options.append(option)
        data: dict[str, Any] = {"id": self.id, "question": self.question}
        if self.question_entities:
            data["question_entities"] = self.question_entities
        data.update(
            options=options,
            total_voter_count=len(self.votes),
            is_closed=self.is_closed,
            is_anonymous=self.is_anonymous,
            type=self.type,
            allows_multiple_answers=self.allows_multiple_answers,
            allows_revoting=self.allows_revoting,
            members_only=False,
        )
        if self.type == "quiz":
            # Visible to the bot that sent the quiz, open or closed.
            data["correct_option_ids"] = list(self.correct_option_ids)
            if self.explanation:
                data["explanation"] = self.explanation
                if self.explanation_entities:
                    data["explanation_entities"] = self.explanation_entities
        if self.open_period is not None and self.close_date is not None:
            data["open_period"] = self.open_period
            data["close_date"] = self.close_date
        return data


class Polls(Component):
    """Polls the bot sent and the votes people cast."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        # The clock polls close by; tests replace it to move time.
        self.now: Callable[[], float] = time.time
        self.polls: dict[str, PollState] = {}
        self._by_message: dict[tuple[int, int], str] = {}
        self._ids = itertools.count(1)
        self._closed_unannounced: list[PollState] = []

    def methods(self) -> dict[str, Method]:
        methods: dict[str, Method] = {"sendpoll": self._send_poll, "stoppoll": self._stop_poll}
        get_updates = self.emulator._methods.get("getupdates")
        if get_updates is not None:

            async def get_updates_after_tick(params: Params) -> Any:
                await self.tick()
                return await get_updates(params)

            methods["getupdates"] = get_updates_after_tick
        return methods

    # ------------------------------------------------------------------ the Bot API side

    async def _send_poll(self, params: Params) -> dict[str, Any]:
        await self.tick()
        emulator = self.emulator
        chat = emulator._chat_for_sending(params)
        question, question_entities = self._question(params)
        options, option_entities = self._options(params)
        poll_type = str_param(params, "type") or "regular"
        if poll_type not in POLL_TYPES:
            raise bad_request(UNSUPPORTED_TYPE)
        is_quiz = poll_type == "quiz"
        correct: list[int] = []
        explanation: str | None = None
        explanation_entities: list[dict[str, Any]] = []
        if is_quiz:
            correct = self._correct_option_ids(params, len(options))
            explanation, explanation_entities = self._explanation(params)
        now = self.now()
        open_period, close_date = self._closing_time(params, now)
        markup = check_reply_markup(json_param(params, "reply_markup"))
        anonymous = params.get("is_anonymous") is None or bool_param(params, "is_anonymous")
        # Telegram's default: regular polls let voters change their answer, quizzes don't.
        revoting = bool_param(params, "allows_revoting")
        if params.get("allows_revoting") is None:
            revoting = not is_quiz
        state = PollState(
            id=str(5_300_000_000_000_000_000 + next(self._ids)),
            message=EmuMessage(
                chat_id=chat.id,
                message_id=chat.take_message_id(),
                sender_id=emulator.bot.id,
                from_bot=True,
                date=int(now),
                text=None,
                reply_markup=markup,
                kind="poll",
            ),
            question=question,
            question_entities=question_entities,
            options=options,
            option_entities=option_entities,
            is_anonymous=anonymous,
            type=poll_type,
            allows_multiple_answers=bool_param(params, "allows_multiple_answers"),
            allows_revoting=revoting,
            correct_option_ids=correct,
            explanation=explanation,
            explanation_entities=explanation_entities,
            open_period=open_period,
            close_date=close_date,
            is_closed=bool_param(params, "is_closed"),
        )
        self.polls[state.id] = state
        self._by_message[(chat.id, state.message.message_id)] = state.id
        self._show(state)
        emulator.messages.setdefault(chat.id, []).append(state.message)
        return emulator._message_to_api(state.message)

    @staticmethod
    def _parse(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Any]]:
        """Text with its parse mode or entities, normalised like message text (may be empty)."""
        if entities:
            if not isinstance(entities, list):
                raise bad_request("can't parse entities JSON object")
            parse_mode = None  # Telegram ignores the parse mode when entities are given
        plain, parsed = check_message_text(text, parse_mode, limit=_NO_LIMIT, allow_empty=True)
        return plain, list(entities) if entities else list(parsed)

    @staticmethod
    def _custom_emoji_only(entities: list[Any]) -> list[dict[str, Any]]:
        """Questions and options keep only their custom emoji (TDLib drops the rest)."""
        return [e for e in entities if isinstance(e, dict) and e.get("type") == "custom_emoji"]

    def _question(self, params: Params) -> tuple[str, list[dict[str, Any]]]:
        text, entities = self._parse(
            str_param(params, "question") or "",
            str_param(params, "question_parse_mode"),
            json_param(params, "question_entities"),
        )
        if not text:
            raise bad_request(QUESTION_EMPTY)
        if len(text) > MAX_QUESTION_LENGTH:  # TDLib counts Unicode code points
            raise bad_request(QUESTION_TOO_LONG)
        return text, self._custom_emoji_only(entities)

    def _options(self, params: Params) -> tuple[list[str], list[list[dict[str, Any]]]]:
        raw = json_param(params, "options")
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise bad_request("can't parse options JSON object")
        if len(raw) < MIN_OPTIONS:
            raise bad_request(TOO_FEW_OPTIONS)
        if len(raw) > MAX_OPTIONS:
            raise bad_request(TOO_MANY_OPTIONS)
        texts: list[str] = []
        all_entities: list[list[dict[str, Any]]] = []
        for item in raw:
            if isinstance(item, str):
                source, parse_mode, entities = item, None, None
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                source = item["text"]
                parse_mode, entities = item.get("text_parse_mode"), item.get("text_entities")
            else:
                raise bad_request(
                    "can't parse InputPollOption: Expected InputPollOption to be an Object"
                )
            try:
                text, parsed = self._parse(source, parse_mode, entities)
            except BadRequest as error:
                detail = error.description.removeprefix("Bad Request: ")
                raise bad_request(f"can't parse InputPollOption: {detail}") from None
            if not text:
                raise bad_request(OPTION_EMPTY)
            if len(text) > MAX_OPTION_LENGTH:
                raise bad_request(OPTION_TOO_LONG)
            texts.append(text)
            all_entities.append(self._custom_emoji_only(parsed))
        return texts, all_entities

    @staticmethod
    def _correct_option_ids(params: Params, option_count: int) -> list[int]:
        ids = json_param(params, "correct_option_ids")
        if ids is None and params.get("correct_option_id") not in (None, ""):
            ids = [int_param(params, "correct_option_id")]
        if isinstance(ids, int) and not isinstance(ids, bool):
            ids = [ids]
        if not isinstance(ids, list) or not ids:
            raise bad_request(WRONG_CORRECT_OPTION)
        checked: list[int] = []
        for value in ids:
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_request(WRONG_CORRECT_OPTION)
            if not 0 <= value < option_count or (checked and value <= checked[-1]):
                raise bad_request(WRONG_CORRECT_OPTION)  # in range, increasing
            checked.append(value)
        return checked

    def _explanation(self, params: Params) -> tuple[str | None, list[dict[str, Any]]]:
        raw = str_param(params, "explanation")
        if not raw:
            return None, []
        text, entities = self._parse(
            raw,
            str_param(params, "explanation_parse_mode"),
            json_param(params, "explanation_entities"),
        )
        if len(text) > MAX_EXPLANATION_LENGTH:
            raise bad_request(EXPLANATION_TOO_LONG)
        if text.count("\n") > MAX_EXPLANATION_LINE_FEEDS:
            raise bad_request(EXPLANATION_TOO_MANY_LINES)
        return text or None, entities

    @staticmethod
    def _closing_time(params: Params, now: float) -> tuple[int | None, int | None]:
        """(open_period, close_date): both set when the poll closes by itself, else None."""
        open_period = int_param(params, "open_period", required=False)
        close_date = int_param(params, "close_date", required=False)
        if open_period and close_date:
            raise bad_request(OPEN_PERIOD_AND_CLOSE_DATE)
        if open_period:
            if not MIN_OPEN_PERIOD <= open_period <= MAX_OPEN_PERIOD:
                raise bad_request(WRONG_OPEN_PERIOD)
            return open_period, int(now) + open_period
        if close_date:
            ahead = close_date - int(now)
            if not MIN_OPEN_PERIOD <= ahead <= MAX_OPEN_PERIOD:
                raise bad_request(WRONG_CLOSE_DATE)
            return ahead, close_date
        return None, None

    async def _stop_poll(self, params: Params) -> dict[str, Any]:
        await self.tick()
        chat_id = int_param(params, "chat_id")
        message_id = int_param(params, "message_id", required=False)
        markup = check_reply_markup(json_param(params, "reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        assert chat_id is not None
        if chat_id not in self.emulator.chats:
            raise bad_request("chat not found")
        message = next(
            (
                m
                for m in self.emulator.messages.get(chat_id, [])
                if m.message_id == message_id and not m.deleted
            ),
            None,
        )
        if message is None:
            raise bad_request(STOP_NOT_FOUND)
        poll_id = self._by_message.get((chat_id, message.message_id))
        if poll_id is None:
            raise bad_request(STOP_NOT_A_POLL)
        if not message.from_bot:
            raise bad_request(STOP_NOT_OWN)
        state = self.polls[poll_id]
        if state.is_closed:
            raise bad_request(ALREADY_CLOSED)
        state.is_closed = True
        message.reply_markup = markup
        self._show(state)
        await self._push_poll(state)
        return state.to_api()

    # ------------------------------------------------------------------ time

    def _expire(self) -> None:
        """Close every poll whose close_date has come; their `poll` updates wait for tick()."""
        now = self.now()
        for state in self.polls.values():
            if not state.is_closed and state.close_date is not None and now >= state.close_date:
                state.is_closed = True
                self._show(state)
                self._closed_unannounced.append(state)

    async def tick(self) -> None:
        """Close the polls whose time has passed and send the bot their closing `poll` update."""
        self._expire()
        while self._closed_unannounced:
            await self._push_poll(self._closed_unannounced.pop(0))

    # ------------------------------------------------------------------ the driver side

    async def vote(self, user: EmuUser, message: EmuMessage, option_ids: list[int]) -> None:
        """`user` answers the poll in `message`; an empty list retracts their answer.

        Refused with ValueError as Telegram's apps refuse it: a closed poll, several options
        where one is allowed, an option the poll lacks, or changing/retracting an answer in a
        poll that does not allow revoting (quizzes, by default).
        """
        await self.tick()
        state = self._state_of(message)
        if message.deleted:
            raise ValueError("the poll's message was deleted")
        chat = self.emulator.chats[message.chat_id]
        if chat.type == "private" and chat.id != user.id:
            raise ValueError(f"user {user.id} can't see private chat {chat.id}")
        if state.is_closed:
            raise ValueError("the poll is closed")
        chosen = sorted(set(option_ids))
        if len(chosen) > 1 and not state.allows_multiple_answers:
            raise ValueError("the poll allows one answer only")
        if any(not 0 <= index < len(state.options) for index in chosen):
            raise ValueError(f"the poll has no option among {option_ids}")
        previous = state.votes.get(user.id)
        if not chosen and not state.allows_revoting:
            raise ValueError("the poll doesn't allow retracting an answer")
        if previous is not None and chosen != previous and not state.allows_revoting:
            raise ValueError("the poll doesn't allow changing an answer")
        if chosen == (previous or []):
            return  # nothing changes, Telegram sends nothing
        if chosen:
            state.votes[user.id] = chosen
        else:
            del state.votes[user.id]
        self._show(state)
        if not state.is_anonymous:
            await self.emulator._push(
                "poll_answer",
                {
                    "poll_id": state.id,
                    "user": user.to_api(),
                    "option_ids": chosen,
                    "option_persistent_ids": [state.persistent_id(i) for i in chosen],
                },
            )
        await self._push_poll(state)

    # ------------------------------------------------------------------ reading back

    def get(self, poll_id: str) -> dict[str, Any]:
        """The Bot API Poll object as it is now."""
        self._expire()
        if poll_id not in self.polls:
            raise KeyError(f"no poll {poll_id}")
        return self.polls[poll_id].to_api()

    def poll_of(self, message: EmuMessage) -> dict[str, Any]:
        """The Bot API Poll object `message` shows."""
        self._expire()
        return self._state_of(message).to_api()

    def votes_of(self, poll_id: str) -> dict[int, list[int]]:
        """Every voter's current answer: user id → chosen option ids."""
        self._expire()
        return {user_id: list(chosen) for user_id, chosen in self.polls[poll_id].votes.items()}

    # ------------------------------------------------------------------ helpers

    def _state_of(self, message: EmuMessage) -> PollState:
        poll_id = self._by_message.get((message.chat_id, message.message_id))
        if poll_id is None:
            raise ValueError(f"message {message.message_id} in {message.chat_id} is not a poll")
        return self.polls[poll_id]

    @staticmethod
    def _show(state: PollState) -> None:
        """Keep the message's `poll` field current (a fresh dict, so queued updates keep theirs)."""
        state.message.extra["poll"] = state.to_api()

    async def _push_poll(self, state: PollState) -> None:
        await self.emulator._push("poll", copy.deepcopy(state.to_api()))
