"""The door before every flow: odd and hostile input, each kind with one rule.

Runs first (group -1000, before the poll group -999, the flows in -2…-21, the fallback's -100
and group 0). The first rule that matches decides; "dropped" means no flow sees the update, so
nothing is read from or written to the database for it. The rules, in the order they are checked:

1. **Repeated update** (an `update_id` seen before) — dropped silently. Telegram repeats an
   update only when the bot did not confirm it: a webhook answer that timed out, or a poll
   whose offset was not sent before a restart. The first happens while this process lives, so
   a bounded in-memory set of recent ids catches it; the second would need a database write
   for every update, which is the flood this module exists to prevent, and the flows stay
   safe against it anyway (buttons are re-checked against the database, votes are upserts).
2. **Channel posts** and their edits — dropped silently: the bot serves people, not channels.
3. **Messages and taps from bots** (`from_user.is_bot`, which includes anonymous group admins
   and channels speaking in a group) — dropped silently: a bot cannot consent or hold a role.
4. **Too fast**: each person's messages (of any kind, edits included) and button taps draw on
   a token bucket of `INPUT_BURST`, refilled at `INPUT_PER_SECOND`. Over it, the update is
   dropped; in a private chat the person gets one "please slow down" per
   `INPUT_NOTICE_SECONDS`, in a group nothing. A tap is always answered (answerCallbackQuery:
   Telegram keeps the spinner turning until then), with the notice at most once per window.
   Poll answers are not limited: a vote is one upsert per poll and person, and a person can
   vote only in the few polls sent to them.
5. **Edited messages** — never acted on; the first version was already answered. In a private
   chat one "edits are not read, please send again" per `INPUT_NOTICE_SECONDS`.
6. **Forwarded messages** (`forward_origin` set) — not taken as the person's own words: a
   short "please type it yourself" in a private chat, silence in a group.
7. **Over-long text** (more than `INPUT_MAX_TEXT` UTF-16 units, as Telegram counts) from a
   person without a staff role — refused with the limit stated in a private chat, silence in a
   group. Facilitators' wizards (/broadcast, /minutes) state their own, longer limits.

Everything else goes on to the flows. Update kinds no handler takes (reactions, join requests,
chat_member, business messages) are ignored; inline queries never come (no inline mode).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import Enum, auto

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot import outage
from bot.services import AnyApplication
from bot.settings import Settings
from handlers.people import load_person
from handlers.replies import reply, t
from storage.enums import Role

logger = logging.getLogger(__name__)

GUARD_GROUP = -1000  # before every flow and the fallback: a dropped update reaches none
GUARD_KEY = "input_guard"
RECENT_UPDATES = 10_000  # far more than Telegram keeps unconfirmed (100 per getUpdates)
STAFF = frozenset({Role.facilitator, Role.officer, Role.admin})
Clock = Callable[[], float]


class Verdict(Enum):
    """What the guard decided for one update."""

    PASS = auto()
    REPEATED = auto()
    CHANNEL = auto()
    FROM_BOT = auto()
    TOO_FAST = auto()
    TOO_FAST_NOTICE = auto()
    EDITED = auto()
    EDITED_NOTICE = auto()
    FORWARDED = auto()
    TOO_LONG = auto()


class RecentIds:
    """The last `size` update ids, oldest forgotten first."""

    def __init__(self, size: int = RECENT_UPDATES) -> None:
        self._size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def seen(self, update_id: int) -> bool:
        """True if `update_id` came before; remembers it either way."""
        if update_id in self._ids:
            return True
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return False


class TokenBuckets:
    """One token bucket per person; a full bucket is forgotten, so memory follows activity."""

    def __init__(self, burst: int, per_second: float, clock: Clock = time.monotonic) -> None:
        self._burst = float(burst)
        self._rate = per_second
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, at)
        self._prune_at = 1024

    def take(self, key: int) -> bool:
        """Spend one token of `key`'s bucket; False when it is empty."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._prune_at:
            self._prune(now)
        return allowed

    def _prune(self, now: float) -> None:
        refill = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}
        self._prune_at = max(1024, 2 * len(self._buckets))

    def __len__(self) -> int:
        return len(self._buckets)


class Throttle:
    """At most one notice of a kind per person per `seconds`."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._next: dict[int, float] = {}
        self._prune_at = 1024

    def due(self, key: int) -> bool:
        """True (and start a new window) if `key` has had no notice in this window."""
        now = self._clock()
        if self._next.get(key, 0.0) > now:
            return False
        self._next[key] = now + self._seconds
        if len(self._next) > self._prune_at:  # amortised: a crowd costs no scan per notice
            self._next = {k: v for k, v in self._next.items() if v > now}
            self._prune_at = max(1024, 2 * len(self._next))
        return True

    def __len__(self) -> int:
        return len(self._next)


class InputGuard:
    """The rules' memory and the verdict for each update (no I/O, so it is easy to test)."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.max_text = settings.input_max_text
        self.recent = RecentIds()
        self.buckets = TokenBuckets(settings.input_burst, settings.input_per_second, clock)
        self.slow_notices = Throttle(settings.input_notice_seconds, clock)
        self.edit_notices = Throttle(settings.input_notice_seconds, clock)

    def judge(self, update: Update) -> Verdict:
        """The first rule that matches `update` (see the module docstring)."""
        if self.recent.seen(update.update_id):
            return Verdict.REPEATED
        if update.channel_post is not None or update.edited_channel_post is not None:
            return Verdict.CHANNEL
        user = update.effective_user
        counted = update.message or update.edited_message or update.callback_query
        if user is None or counted is None:
            return Verdict.PASS  # polls, poll answers, membership changes: not people typing
        if user.is_bot:
            return Verdict.FROM_BOT
        private = update.effective_chat is not None and (
            update.effective_chat.type == ChatType.PRIVATE
        )
        if not self.buckets.take(user.id):
            notice = (private or update.callback_query is not None) and self.slow_notices.due(
                user.id
            )
            return Verdict.TOO_FAST_NOTICE if notice else Verdict.TOO_FAST
        if update.edited_message is not None:
            notice = private and self.edit_notices.due(user.id)
            return Verdict.EDITED_NOTICE if notice else Verdict.EDITED
        message = update.message
        if message is None:
            return Verdict.PASS
        if message.forward_origin is not None:
            return Verdict.FORWARDED
        if message.text is not None and utf16_length(message.text) > self.max_text:
            return Verdict.TOO_LONG
        return Verdict.PASS


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def register(app: AnyApplication) -> None:
    """Put the guard in front of every flow."""
    app.bot_data[GUARD_KEY] = InputGuard(app.bot_data["settings"])
    app.add_handler(TypeHandler(Update, _on_update), group=GUARD_GROUP)


async def _on_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let the update through, or act on the verdict and stop every other group."""
    if not isinstance(update, Update) or outage.retrying():
        # A retry or replay after a database outage was judged on its first run: judged again
        # it would be dropped as a repeated update_id and the person's answer lost.
        return
    guard: InputGuard = context.bot_data[GUARD_KEY]
    verdict = guard.judge(update)
    if verdict is Verdict.PASS:
        return
    if verdict is not Verdict.REPEATED:
        logger.debug("input guard: %s for update %s", verdict.name, update.update_id)
    if not await _act(update, context, verdict, guard):
        return
    raise ApplicationHandlerStop


async def _act(
    update: Update, context: ContextTypes.DEFAULT_TYPE, verdict: Verdict, guard: InputGuard
) -> bool:
    """Say what the verdict calls for; False when the update should go on after all."""
    private = update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
    query = update.callback_query
    if verdict is Verdict.TOO_FAST:
        if query is not None:
            await _answer_quietly(query.answer())
        return True
    if verdict is Verdict.TOO_FAST_NOTICE:
        person = await load_person(update, context)
        if query is not None:
            await _answer_quietly(query.answer(t(context, person.language, "guard.slow_down")))
        else:
            await reply(update, context, person.language, "guard.slow_down")
        return True
    if verdict is Verdict.EDITED_NOTICE:
        person = await load_person(update, context)
        await reply(update, context, person.language, "guard.edited")
        return True
    if verdict is Verdict.FORWARDED and private:
        person = await load_person(update, context)
        await reply(update, context, person.language, "guard.forwarded")
        return True
    if verdict is Verdict.TOO_LONG:
        if not private:
            return True
        person = await load_person(update, context)
        if person.role in STAFF:
            return False  # staff wizards state their own limits
        text = update.effective_message.text if update.effective_message else None
        await reply(
            update, context, person.language, "guard.too_long",
            limit=guard.max_text, length=utf16_length(text or ""),
        )  # fmt: skip
        return True
    return True  # repeated, channel, bot, edits without notice, forwards in groups: silence


async def _answer_quietly(answer: Awaitable[bool]) -> None:
    """Answer a tap; a query already too old is no reason to fail the update."""
    try:
        await answer
    except TelegramError:
        logger.info("could not answer a throttled button press", exc_info=True)
