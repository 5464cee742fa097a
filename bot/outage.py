"""Database outages: retry an update with backoff, then spool it and replay it later.

An update whose handling failed because the database was briefly unavailable (see
`storage.database.is_unavailable`; the error handler reports it here instead of telling the
person "something went wrong") is handled again, whole, with exponential backoff and jitter
for up to DB_RETRY_SECONDS. Re-running is safe for the flows that matter: a vote replaces the
stored answer, and every write happens in one transaction that failed as a whole.

If it still fails, the update goes to the spool (`bot.spool`) and the person is told once that
their answer is delayed. Only people known to have consented are spooled: the database is down,
so "known" means seen with a record (registration is consent) since this process started. The
others are asked to try again in a few minutes. Button taps are never spooled: Telegram wants
their answer within seconds and, replayed later, they would act on a screen long gone. Until a
person's spooled updates are replayed, their new ones join the queue, so order is kept.

A repeating job checks the database and replays the spool in update_id order, each update
deleted once handled.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import CallbackContext

from bot.services import Services, services_from_app
from bot.settings import Language
from bot.spool import Spool
from storage.database import Database, is_unavailable

logger = logging.getLogger(__name__)

OUTAGE_KEY = "outage"
REPLAY_JOB = "outage-replay"
FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 2.0
# People whose consent we remember (about 100 bytes each).
CONSENTING_REMEMBERED = 200_000


@dataclass
class _Attempt:
    """One run of an update's handlers; the error handler marks it when the database failed."""

    unavailable: bool = False
    replaying: bool = False


_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "outage_attempt", default=None
)


def absorb(error: BaseException | None, update: object) -> bool:
    """For the error handler: True if `error` is a database outage that is dealt with here.

    During an update's handling by an `OutageGuard`, it is marked for a retry (or the spool);
    in a job (no update), one warning line is logged: the job runs again later anyway.
    """
    if error is None or not is_unavailable(error):
        return False
    attempt = _attempt.get()
    if attempt is not None:
        attempt.unavailable = True
        logger.info("the database is unavailable (%s); the update will be retried", _short(error))
        return True
    if update is None:
        logger.warning("the database is unavailable (%s); the job will run again", _short(error))
        return True
    return False  # an update nobody will retry: the error handler tells the person


def retrying() -> bool:
    """True while an update is handled again after a database outage (first run: False)."""
    attempt = _attempt.get()
    return attempt is not None and attempt.replaying


class OutageGuard:
    """Retries, spools and replays updates across database outages; see the module doc."""

    def __init__(self, spool: Spool, *, retry_seconds: float) -> None:
        self.spool = spool
        self.retry_seconds = retry_seconds
        self._app: Any = None
        self._consenting: OrderedDict[int, Language] = OrderedDict()
        self._told: set[int] = set()
        self._replay_lock = asyncio.Lock()
        self._known_down = False
        self.spooled = 0
        self.replayed = 0

    def bind(self, app: Any) -> None:
        """The application whose updates are handled again (set once it is built)."""
        self._app = app

    def remember_consent(self, telegram_user_id: int, language: Language | None) -> None:
        """Record whether this person has consented (a record exists); None: they have not."""
        if language is None:
            self._consenting.pop(telegram_user_id, None)
            return
        self._consenting[telegram_user_id] = language
        self._consenting.move_to_end(telegram_user_id)
        while len(self._consenting) > CONSENTING_REMEMBERED:
            self._consenting.popitem(last=False)

    def forget_person(self, telegram_user_id: int) -> int:
        """Drop everything held about this person (/forget); returns spooled updates removed."""
        self._consenting.pop(telegram_user_id, None)
        self._told.discard(telegram_user_id)
        return self.spool.forget_person(telegram_user_id)

    async def handle(self, update: object, first_run: Awaitable[Any]) -> None:
        """Run an update (`first_run`, in its sender's turn); retry or spool it on an outage."""
        sender = _person(update)
        if sender is not None and self.spool.has_pending(sender):
            if inspect.iscoroutine(first_run):
                first_run.close()  # not run: it would overtake the spooled ones
            await self._give_up(update, sender)
            return
        attempt = _Attempt()
        token = _attempt.set(attempt)
        try:
            await first_run
            # Known down (an update already gave up, and no replay has found it back): waiting
            # again would only hold this update and its slot; straight to the spool.
            retry_seconds = 0.0 if self._known_down else self.retry_seconds
            loop = asyncio.get_running_loop()
            deadline = loop.time() + retry_seconds
            delay = FIRST_DELAY_SECONDS
            while attempt.unavailable and loop.time() + delay <= deadline:
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, MAX_DELAY_SECONDS)
                attempt.unavailable, attempt.replaying = False, True
                await self._app.process_update(update)
        finally:
            _attempt.reset(token)
        self._known_down = attempt.unavailable
        if attempt.unavailable:
            await self._give_up(update, sender)

    async def replay(self, in_turn: Any) -> int:
        """Replay the spool in update_id order if the database answers; returns how many.

        `in_turn(key, awaitable)` runs an awaitable in the turn of that sender, so a spooled
        update and a new one of the same person never run at once. An update that meets the
        outage again stays for the next run, and so do its sender's later ones; if the
        database no longer answers at all, the run stops there.
        """
        if self._replay_lock.locked() or not self.spool.pending():
            return 0
        async with self._replay_lock:
            database: Database = self._services().db
            if not await database.ping():
                return 0
            self._known_down = False
            done = 0
            held: set[int | None] = set()  # senders whose next update failed: keep their order
            for _ in range(100):  # new updates may join while we replay; bounded all the same
                ids = [i for i in self.spool.pending() if self._sender_of(i) not in held]
                if not ids:
                    break
                for update_id in ids:
                    sender = self._sender_of(update_id)
                    if sender in held:
                        continue
                    outcome = await in_turn(sender, self._replay_one(update_id))
                    if outcome is None:
                        held.add(sender)
                        if not await database.ping():
                            return done
                        logger.warning("spooled update %d failed again; it waits", update_id)
                        continue
                    done += outcome
            if done:
                logger.info("replayed %d spooled updates", done)
            return done

    def _sender_of(self, update_id: int) -> int | None:
        return self.spool.sender_of(update_id)

    async def _replay_one(self, update_id: int) -> int | None:
        """1 if replayed (and deleted), 0 if it was gone, None if the database failed again."""
        spooled = self.spool.read(update_id)
        if spooled is None:
            return 0
        update = Update.de_json(spooled.update, self._app.bot)
        attempt = _Attempt(replaying=True)
        token = _attempt.set(attempt)
        try:
            await self._app.process_update(update)
        finally:
            _attempt.reset(token)
        if attempt.unavailable:
            return None
        await self.spool.discard(update_id)
        self.replayed += 1
        if not self.spool.has_pending(spooled.sender):
            self._told.discard(spooled.sender)
        return 1

    async def _give_up(self, update: object, sender: int | None) -> None:
        """Spool the update if its sender consented; otherwise ask them to try again later."""
        if not isinstance(update, Update) or sender is None:
            logger.warning("the database is unavailable: an update without a sender is dropped")
            return
        if update.callback_query is not None or sender not in self._consenting:
            await self._tell(update, sender, "outage.try_later")
            return
        try:
            await self.spool.put(update.update_id, sender, update.to_dict())
        except OSError:
            logger.exception("could not spool update %d", update.update_id)
            await self._tell(update, sender, "outage.try_later")
            return
        self.spooled += 1
        logger.warning("the database is unavailable: update %d spooled", update.update_id)
        if sender not in self._told:
            self._told.add(sender)
            await self._tell(update, sender, "outage.delayed")

    async def _tell(self, update: Update, sender: int, key: str) -> None:
        """A short note in a private chat (or the answer to a button tap), never in a group."""
        try:
            services = self._services()
            language = self._consenting.get(sender) or _language_hint(
                update, services.settings.default_language
            )
            text = services.catalogs.text(language, key)
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
                return
            chat = update.effective_chat
            if chat is not None and chat.type != ChatType.PRIVATE:
                return
            await self._app.bot.send_message(sender, text)
        except (TelegramError, RuntimeError):
            logger.warning("could not tell person about the delay", exc_info=True)

    def _services(self) -> Services:
        return services_from_app(self._app)


def outage_of(context: CallbackContext[Any, Any, Any, Any]) -> OutageGuard | None:
    """The guard of the application handling this update, if it has one."""
    guard = context.application.bot_data.get(OUTAGE_KEY)
    return guard if isinstance(guard, OutageGuard) else None


def forget_person(context: CallbackContext[Any, Any, Any, Any], telegram_user_id: int) -> int:
    """For /forget: remove this person's spooled updates and consent mark; returns how many."""
    guard = outage_of(context)
    return guard.forget_person(telegram_user_id) if guard is not None else 0


async def replay_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The repeating job: replay the spool once the database answers again."""
    guard = outage_of(context)
    processor = context.application.update_processor
    in_turn = getattr(processor, "in_turn", None)
    if guard is None or in_turn is None:
        return
    try:
        await guard.replay(in_turn)
    except Exception as error:
        if not is_unavailable(error):
            raise
        logger.warning("the database is still unavailable; the spool waits (%s)", _short(error))


def _person(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


def _language_hint(update: Update, default: Language) -> Language:
    code = (update.effective_user.language_code or "") if update.effective_user else ""
    if code.lower().startswith("th"):
        return "th"
    if code.lower().startswith("en"):
        return "en"
    return default


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:120]}"
