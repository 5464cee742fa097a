"""Fuzz: over 10,000 generated updates through the real Application and the strict emulator.

Hypothesis writes 100 batches of 120 actions (some reach no bot, as privacy mode hides group
chatter: at least 10,000 updates arrive): texts in Thai, Malay (Jawi and Latin letters),
emoji, zero-width and right-to-left characters, HTML-like text and very long strings; known,
unknown and malformed commands with random arguments; real and forged button data; stickers,
photos, voice notes, locations and contacts; votes in the bot's polls; edits, forwards,
repeated updates, channel posts and another bot's messages; in private chats and in two
groups. Citizens, facilitators, an officer, an admin and strangers take part, with an open
survey, a human book at an event and a council, so role-guarded paths run too. Each batch is
queued at once (a crowd), then the bot is left to settle.

Afterwards: no unhandled exception, no call the emulator refused, every button press
answered, and every message or press in a private chat (and every group message naming the
bot) either answered or dropped by a rule of handlers/input_guard.py.

`FUZZ_RANDOM=1` draws a fresh seed instead of the fixed one; `FUZZ_BATCHES=10` is a short run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from bot.services import AnyApplication
from bot.survey_cli import DEFAULT_SURVEY
from handlers.input_guard import GUARD_KEY, InputGuard, Verdict, utf16_length
from storage import surveys
from storage.enums import Role
from storage.survey_spec import load_survey_file
from tests.e2e.citizen_council_helpers import monthly_council
from tests.e2e.library_helpers import BOOK_ACCOUNT, book_account, listed_book, new_event
from tests.e2e.library_people import person

BATCHES = int(os.environ.get("FUZZ_BATCHES", 100))
BATCH_SIZE = 120  # some actions reach no bot (privacy mode in groups): ≥ 100 updates each
SECONDS_PER_BATCH = 2.0  # the guard's time between two crowds
BOT_NAME = "learncity_test_bot"
GROUP_MEMBER, GROUP_ADMIN, CHANNEL = -100_101, -100_102, -100_103
ADMIN = 8401
# (id, language, role): None = registered citizen; "stranger" = never registered.
PEOPLE: list[tuple[int, str | None, Role | str | None]] = [
    (8101, "th", None), (8102, "th", None), (8103, "en", None), (8104, "en", None),
    (8201, "th", Role.facilitator), (8202, "en", Role.facilitator),
    (8301, "en", Role.officer), (ADMIN, "th", "admin"),
    (8501, "th", "stranger"), (8502, "en", "stranger"), (8503, "ms", "stranger"),
    (8504, None, "stranger"),
]  # fmt: skip
OTHER_BOT = 8601
# Verdicts after which the guard stays silent: no answer is the documented behaviour.
SILENT = {
    Verdict.REPEATED, Verdict.CHANNEL, Verdict.FROM_BOT, Verdict.TOO_FAST, Verdict.EDITED,
}  # fmt: skip

THAI = ["สวัสดี", "อยากเรียนทำอาหาร", "ภาษาอังกฤษ", "๕ ธ.ค. ๒๕๖๙", "เบตง", "กรุณา", "ค่ะ", "ๆ"]
JAWI = ["سلامت ڤاڬي", "ساي ماهو بلاجر", "بهاس ملايو", "تريما كاسيه"]
MALAY = ["Selamat pagi", "Saya nak belajar menjahit", "terima kasih", "Yala"]
EMOJI = ["😀", "👨‍👩‍👧", "🇹🇭", "🏳️‍🌈", "👍🏽", "☕", "🧕"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad"]
RTL = ["\u202e", "\u200f", "\u202b", "\u2067", "\u061c"]
HTML = [
    "<b>", "</b>", "<i>x</i>", "&amp;", "&lt;", "&gt;", '<a href="tg://user?id=1">', "</a>",
    "<script>alert(1)</script>", "<pre>", "&#0;", "<tg-spoiler>", "<", ">", "&", '"', "'",
]  # fmt: skip
MISC = [
    "5/12/2569", "08:00", "1", "-1", "0", "99999999999999999999", "yes", "ok", " ", "\n",
    f"@{BOT_NAME}", "/", "%s", "{}", "{limit}", "\\", "NULL", "DROP TABLE citizen;--", "v1:",
]  # fmt: skip
FRAGMENTS = THAI + JAWI + MALAY + EMOJI + INVISIBLE + RTL + HTML + MISC
COMMANDS = [
    "start", "help", "language", "needs", "library", "council", "mysessions", "reminders",
    "privacy", "mydata", "forget", "schedule", "books", "poll", "attendance", "minutes",
    "broadcast", "summary", "export", "invite", "grant", "revoke", "audit", "cancel", "events",
    "nonsense", "START", "start@other_bot", "ยกเลิก",
]  # fmt: skip
FORGED_DATA = ["v1:need:", "v1:lib:book:42", "v1:onb:lang:xx", "v0:x", "v1:poll:close:-1", "x"]
OTHER_KINDS = ["sticker", "photo", "voice", "location", "contact"]

random_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
short_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), random_text), min_size=1, max_size=8)
long_text = st.tuples(st.sampled_from(FRAGMENTS), st.integers(1, 4096)).map(lambda p: [p[0] * p[1]])
text = st.one_of(short_text, short_text, short_text, long_text).map("".join)
arguments = st.one_of(st.just(""), text)
command = st.tuples(st.sampled_from(COMMANDS), st.booleans(), arguments).map(
    lambda c: f"/{c[0]}{'@' + BOT_NAME if c[1] else ''} {c[2]}"
)
callback_data = st.one_of(
    st.just(None),  # a real button of the message
    st.just(None),
    st.sampled_from(FORGED_DATA),
    st.text(min_size=1, max_size=64).filter(lambda s: len(s.encode()) <= 64),
)
who = st.sampled_from(range(len(PEOPLE)))
where = st.sampled_from(["private"] * 6 + ["member", "admin"])
pick = st.integers(0, 1 << 16)
action = st.one_of(
    st.tuples(st.just("text"), who, where, text),
    st.tuples(st.just("text"), who, where, text),
    st.tuples(st.just("command"), who, where, command),
    st.tuples(st.just("command"), who, where, command),
    st.tuples(st.just("press"), who, where, st.tuples(pick, pick, callback_data)),
    st.tuples(st.just("press"), who, where, st.tuples(pick, pick, callback_data)),
    st.tuples(st.just("other"), who, where, st.sampled_from(OTHER_KINDS)),
    st.tuples(st.just("edit"), who, where, st.tuples(pick, text)),
    st.tuples(st.just("repeat"), who, where, pick),
    st.tuples(st.just("forward"), who, where, text),
    st.tuples(st.just("vote"), who, where, st.tuples(pick, st.lists(pick, max_size=3))),
    st.tuples(st.just("channel"), who, where, st.tuples(text, st.booleans())),
    st.tuples(st.just("bot"), who, where, st.one_of(text, command)),
)


def fit(value: str) -> str:
    """As a Telegram app sends it: trimmed, not empty, at most 4096 UTF-16 units."""
    value = value.strip() or "."
    while utf16_length(value) > 4096:
        value = value[: len(value) - (utf16_length(value) - 4096 + 1) // 2 - 1].strip() or "."
    return value


@dataclass
class Outcome:
    """One update as the bot handled it: what the guard said, and the calls made meanwhile."""

    update: Update
    verdict: Verdict | None
    calls: list[Any]


@dataclass
class World:
    """The running bot, its people, and what the fuzzer saw."""

    live: LiveBot
    users: list[EmuUser] = field(default_factory=list)
    generated: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    clock: float = 0.0

    def now(self) -> float:
        """The input guard's clock (see `_instrument`)."""
        return self.clock

    @property
    def emulator(self) -> Any:
        return self.live.emulator

    def chat_of(self, user: EmuUser, place: str) -> int:
        return {"private": user.id, "member": GROUP_MEMBER, "admin": GROUP_ADMIN}[place]

    async def run(self, batch: list[tuple[str, int, str, Any]]) -> None:
        """Queue every action of `batch` at once, then wait until the bot has handled them."""
        pushed: list[dict[str, Any]] = []
        for kind, index, place, payload in batch:
            user = self.users[index]
            chat_id = self.chat_of(user, place)
            before = self.emulator.last_update_id
            await self._act(kind, user, chat_id, payload, pushed)
            self.actions[kind] += 1
            if self.emulator.last_update_id > before:
                pushed.extend(self.emulator.take_pending_updates()[-1:])
        self.generated += len(batch)
        await self.live.settle(timeout=60)
        self.clock += SECONDS_PER_BATCH

    async def _act(
        self, kind: str, user: EmuUser, chat_id: int, payload: Any, pushed: list[dict[str, Any]]
    ) -> None:
        emulator = self.emulator
        if kind == "text" or kind == "command":
            await emulator.user_sends(user, fit(payload), chat_id=chat_id)
        elif kind == "other":
            await emulator.user_sends_other(user, payload, chat_id=chat_id)
        elif kind == "forward":
            await emulator.user_forwards(user, fit(payload), chat_id=chat_id)
        elif kind == "channel":
            await emulator.channel_posts(CHANNEL, fit(payload[0]), edited=payload[1])
        elif kind == "bot":
            bot = emulator.users[OTHER_BOT]
            await emulator.user_sends(bot, fit(payload), chat_id=GROUP_ADMIN)
        elif kind == "repeat":
            if pushed:
                await emulator.repeat_update(pushed[payload % len(pushed)])
        elif kind == "edit":
            mine = [m for m in emulator.messages.get(chat_id, []) if m.sender_id == user.id]
            mine = [m for m in mine if m.kind == "text"]
            if mine:
                await emulator.user_edits(user, mine[payload[0] % len(mine)], fit(payload[1]))
        elif kind == "press":
            await self._press(user, chat_id, *payload)
        elif kind == "vote":
            await self._vote(user, *payload)

    async def _press(self, user: EmuUser, chat_id: int, which: int, button: int, data: Any) -> None:
        sent: list[EmuMessage] = self.emulator.sent_to(chat_id)
        if not sent:
            return
        with_buttons = [m for m in sent if m.buttons] or sent
        message = with_buttons[which % len(with_buttons)]
        real = [str(b["callback_data"]) for b in message.buttons if "callback_data" in b]
        if data is None:
            if not real:
                return
            data = real[button % len(real)]
        await self.emulator.press(user, message, data)

    async def _vote(self, user: EmuUser, which: int, options: list[int]) -> None:
        polls = [m for m in self.emulator.sent_to(user.id) if m.kind == "poll"]
        if not polls:
            return
        message = polls[which % len(polls)]
        count = len(self.emulator.polls.poll_of(message)["options"])
        try:
            await self.emulator.polls.vote(user, message, [o % count for o in options])
        except ValueError:
            pass  # as a Telegram app refuses it (closed poll, one answer only, no revoting)

    def unexplained(self) -> list[str]:
        """Private messages and presses neither answered nor dropped by a documented rule."""
        found = []
        for outcome in self.outcomes:
            update = outcome.update
            chat = update.effective_chat
            query = update.callback_query
            counted = update.message or update.edited_message or query
            if counted is None or outcome.verdict in SILENT:
                continue
            if query is None and (chat is None or chat.type != ChatType.PRIVATE):
                if not _addressed(update) or outcome.verdict is Verdict.TOO_LONG:
                    continue  # in groups the bot speaks only when addressed (handlers/fallback)
            chat_id = str(chat.id) if chat is not None else ""
            answered = any(
                str(c.params.get("chat_id")) == chat_id
                or (query is not None and c.params.get("callback_query_id") == query.id)
                for c in outcome.calls
            )
            if not answered:
                found.append(f"{outcome.verdict}: {update.to_dict()}"[:300])
        return found


def _addressed(update: Update) -> bool:
    """A new group message naming the bot (rules 2-7 of the guard aside, it must be answered)."""
    message = update.message
    if message is None or message.forward_origin is not None:
        return False
    return f"@{BOT_NAME}" in (message.text or "").lower()


def _instrument(world: World) -> Callable[[AnyApplication], None]:
    """Record every error, every guard verdict and the calls made while each update ran."""

    def setup(app: AnyApplication) -> None:
        async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            world.errors.append(f"{type(context.error).__name__}: {context.error}")

        app.add_error_handler(on_error)
        # The guard's clock moves a fixed step per batch: the rate limit meets the same crowd
        # whatever the machine's speed.
        guard = app.bot_data[GUARD_KEY] = InputGuard(app.bot_data["settings"], world.now)
        judge = guard.judge
        verdicts: dict[int, Verdict] = {}

        def judging(update: Update) -> Verdict:
            verdict = judge(update)
            verdicts[id(update)] = verdict
            world.verdicts[verdict.name] += 1
            return verdict

        guard.judge = judging  # type: ignore[method-assign]
        processor: Any = app.update_processor
        process = processor.do_process_update

        async def traced(update: object, coroutine: Awaitable[Any]) -> None:
            start = len(world.emulator.calls)
            await process(update, coroutine)
            if isinstance(update, Update):
                calls = world.emulator.calls[start:]
                world.outcomes.append(Outcome(update, verdicts.pop(id(update), None), calls))

        processor.do_process_update = traced

    return setup


class _ErrorLog(logging.Handler):
    def __init__(self, world: World) -> None:
        super().__init__(logging.ERROR)
        self.world = world

    def emit(self, record: logging.LogRecord) -> None:
        self.world.errors.append(f"log {record.name}: {record.getMessage()}")


async def _start(world: World, tmp_path: Path) -> None:
    live = world.live = LiveBot(
        database_url=sqlite_url(tmp_path / "fuzz.db"),
        in_process=True,
        extra_setup=_instrument(world),
        settings_overrides={
            "admin_ids": frozenset({ADMIN}),
            # The emulator is not Telegram: no reason to pace replies here.
            "interactive_rate_per_second": 100_000.0,
            "interactive_group_per_minute": 1_000_000.0,
            # Tight enough that a crowd of one person's updates meets it now and then.
            "input_burst": 12,
            "input_per_second": 4.0,
            "log_level": "WARNING",
        },
    )
    await live.start()
    for user_id, language, role in PEOPLE:
        if role == "stranger":
            world.users.append(live.user(user_id, f"S{user_id}", language_code=language))
        else:
            granted = role if isinstance(role, Role) else None
            await person(live, user_id, language or "th", role=granted)
            world.users.append(live.emulator.users[user_id])
    await _stock(live)
    live.emulator.add_user(OTHER_BOT, "Spam", username="spam_bot", is_bot=True)
    live.emulator.add_group(GROUP_MEMBER, "Yala readers")
    live.emulator.add_group(GROUP_ADMIN, "Yala council", supergroup=True)
    live.emulator.add_channel(CHANNEL, "Yala news")
    facilitator = live.emulator.users[8201]
    await live.set_membership(facilitator, GROUP_MEMBER, "member")
    await live.set_membership(facilitator, GROUP_ADMIN, "administrator")


async def _stock(live: LiveBot) -> None:
    """Something behind each door: an open survey, a human book at an event, a council."""
    assert live.db is not None
    async with live.db.session() as session:
        survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
        assert survey.id is not None
        await surveys.open_survey(survey.id, actor="test", session=session)
    book_account(live, BOOK_ACCOUNT)
    book = await listed_book(live.db)
    await new_event(live.db, [book.id])
    await monthly_council(live.db)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # a long repr
def test_ten_thousand_odd_updates_break_nothing(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    world = World(live=None)  # type: ignore[arg-type]
    log = _ErrorLog(world)
    try:
        loop.run_until_complete(_start(world, tmp_path))
        logging.getLogger().addHandler(log)  # after start: configure_logging sets the root up

        @settings(
            max_examples=BATCHES,
            deadline=None,
            derandomize=os.environ.get("FUZZ_RANDOM") is None,
            database=None,
            phases=[Phase.generate],  # the bot keeps state: shrinking would not replay
            suppress_health_check=list(HealthCheck),
        )
        @given(batch=st.lists(action, min_size=BATCH_SIZE, max_size=BATCH_SIZE))
        def one_batch(batch: list[tuple[str, int, str, Any]]) -> None:
            loop.run_until_complete(world.run(batch))
            refused = [
                (c.method, c.description, str(c.params.get("text"))[-150:], c.params.get("chat_id"))
                for c in world.emulator.calls
                if not c.ok
            ]
            assert refused == [], f"the Bot API refused calls: {refused[:5]}"
            assert world.errors == [], f"unhandled: {world.errors[:5]}"

        one_batch()
        loop.run_until_complete(asyncio.sleep(0.2))  # presses answered after the last settle
        assert len(world.outcomes) >= BATCHES * 100, "fewer than 10,000 updates reached the bot"
        assert world.errors == []
        assert world.emulator.unanswered_callback_queries() == []
        assert world.unexplained() == []
        handled = Counter(
            o.update.update_id for o in world.outcomes if o.verdict != Verdict.REPEATED
        )
        assert [i for i, n in handled.items() if n > 1] == [], "a repeated update acted on twice"
        assert world.verdicts[Verdict.REPEATED.name] > 0
        print(f"\nfuzz: {world.generated} actions, {len(world.outcomes)} updates handled")
        print(f"fuzz actions: {dict(world.actions)}\nfuzz verdicts: {dict(world.verdicts)}")
        methods = Counter(c.method for c in world.emulator.calls)
        print(f"fuzz Bot API calls: {dict(methods)}")
        pressed = Counter(
            q.data.split(":")[1] if q.data.startswith("v1:") else "forged"
            for q in world.emulator.callback_queries.values()
        )
        print(f"fuzz presses by flow: {dict(pressed)}")
    finally:
        logging.getLogger().removeHandler(log)
        if world.live is not None:
            loop.run_until_complete(world.live.stop())
        loop.close()
