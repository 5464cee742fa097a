"""The one dispatcher: every send to many people goes through here.

It takes due deliveries from the delivery log, paces them under Telegram's limits, and records
each outcome, so a message reaches each recipient once: `sending` is committed before the call
and `sent` right after it. A process killed in between leaves `sending` rows that are re-sent on
the next start; at most `concurrency` sends are in flight at any moment, which bounds the
duplicates a kill can cause (Telegram has no idempotency key). A graceful stop() lets the sends
in flight finish and gives claims not yet sent back to pending: it leaves nothing `sending`.
429s pause every send for `retry_after`; 5xx and time-outs retry with backoff; 403 marks the
person unreachable.

The dispatcher's own transactions run one at a time (an asyncio lock): on SQLite, concurrent
writers on separate connections would otherwise queue in SQLite's busy handler, which sleeps
and polls (up to 100 ms a try) instead of waking when the lock is free: slow, and past the
5 s busy timeout a "database is locked" error that left a delivered message `sending`. Sends
that finish while another transaction runs are marked `sent` together in the next one, by one
statement (group commit); each still waits for its own commit before its slot is freed.

A message of kind `poll` goes out as a native poll (sendPoll) in the recipient's language. Its
owner learns the poll's id through a hook registered with `on_poll_sent` for a purpose prefix,
awaited once the delivery is marked `sent` (votes arrive by poll id only). A process killed
between the two leaves a sent poll whose hook never ran: its votes reach the bot unmapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from schedules.rate_limit import RateLimiter, Rates
from storage import clock, deliveries
from storage.database import AsyncSession, Database, is_unavailable
from storage.deliveries import DeliveryReport, DeliveryTask, PollSpec
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

ReportCallback = Callable[[OutboxMessage, DeliveryReport], Awaitable[None]]
# When nothing is due, look again at least this often (deliveries may be added by another
# process, e.g. `learncity` commands, that cannot wake us).
IDLE_POLL_SECONDS = 5.0
UNAVAILABLE_PAUSE_SECONDS = 2.0


@dataclass(frozen=True)
class PollSent:
    """A poll delivery Telegram accepted: what its owner needs to map votes to its record."""

    purpose: str
    chat_id: int  # the recipient's private chat (= their Telegram user id) or a group
    language: str
    poll_id: str
    telegram_message_id: int

    @property
    def telegram_user_id(self) -> int | None:
        """The recipient's user id when the poll went to a private chat, else None."""
        # Telegram gives private chats the user's (positive) id and groups negative ids.
        return self.chat_id if self.chat_id > 0 else None


PollSentCallback = Callable[[PollSent], Awaitable[None]]


@dataclass(frozen=True)
class DispatchConfig:
    """How fast and how hard the dispatcher tries."""

    rates: Rates = field(default_factory=Rates)
    concurrency: int = 8
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 300.0


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this PTB version exposes."""
    # PTB 22 stores a timedelta and warns when the public int property is read.
    value = getattr(error, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raw = error.retry_after
    return raw.total_seconds() if isinstance(raw, timedelta) else float(raw)


@dataclass
class _SentBatch:
    """Deliveries Telegram accepted, to be marked `sent` in one transaction."""

    rows: list[tuple[int, int]] = field(default_factory=list)
    committed: bool = False


class Dispatcher:
    """Sends queued deliveries once each, under the configured rates."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        config: DispatchConfig,
        *,
        on_finished: ReportCallback | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.bot = bot
        self.db = db
        self.config = config
        self.on_finished = on_finished
        self.limiter = limiter or RateLimiter(config.rates)
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()  # set by stop(): ends a paced wait at once
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self.max_in_flight_seen = 0
        self._db_lock = asyncio.Lock()
        self._unrecorded = _SentBatch()  # sent, waiting for the next transaction to mark them
        self._poll_hooks: dict[str, PollSentCallback] = {}

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._task is not None and not self._task.done()

    async def start(self) -> int:
        """Put interrupted sends back in the queue and begin; returns how many were resumed."""
        async with self._session() as session:
            resumed = await deliveries.recover_in_flight(session=session)
        if resumed:
            logger.warning("resuming %d sends interrupted by the last stop", resumed)
        self._stopping = False
        self._stopped.clear()
        self._task = asyncio.create_task(self._run(), name="dispatcher")
        return resumed

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the dispatcher's; they run one at a time (see the module doc)."""
        async with self._db_lock, self.db.session() as session:
            yield session

    def on_poll_sent(self, purpose_prefix: str, callback: PollSentCallback) -> None:
        """Await `callback` after each poll whose purpose starts with the prefix is sent.

        Register before start(), so that no poll sent at start-up misses it. The callback runs
        in the delivery's slot: keep it short. If it raises, the error is logged; the poll stays
        sent. Raises ValueError for an empty prefix or one already registered.
        """
        if not purpose_prefix:
            raise ValueError("a purpose prefix is required")
        if purpose_prefix in self._poll_hooks:
            raise ValueError(f"a poll hook is already registered for {purpose_prefix!r}")
        self._poll_hooks[purpose_prefix] = callback

    def wake(self) -> None:
        """New deliveries were queued: look now rather than at the next poll."""
        self._wakeup.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking new deliveries; let the ones in flight finish (within `timeout`).

        Claims not yet sent go back to pending. Past `timeout` the sends still in flight are
        cancelled: they stay `sending` and are sent again on the next start.
        """
        self._stopping = True
        self._stopped.set()
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            if not self._task.done():
                for delivery in list(self._in_flight):
                    delivery.cancel()
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def idle(self) -> None:
        """Wait until nothing is due or in flight (tests and benchmarks)."""
        while True:
            if self._in_flight:  # busy: no need to ask the database (and hold up the sends)
                await asyncio.sleep(0.02)
                continue
            async with self._session() as session:
                counts = await deliveries.counts_by_status(session=session)
                next_due = await deliveries.next_due_at(session=session)
            busy = counts.get("sending", 0) or self._in_flight
            due_now = next_due is not None and next_due <= clock.now()
            if not busy and not due_now:
                return
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        try:
            while not self._stopping:
                free = self.config.concurrency - len(self._in_flight)
                if free <= 0:
                    await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    async with self._session() as session:
                        # Sends that finished while we waited for the session freed more slots.
                        free = self.config.concurrency - len(self._in_flight)
                        tasks = await deliveries.claim_due(free, session=session)
                    if not tasks:
                        await self._report_finished()
                        await self._sleep_until_due()
                        continue
                except Exception as error:
                    if not is_unavailable(error):
                        raise
                    # A database outage must not stop the sends for good: look again later.
                    logger.warning("the database is unavailable; deliveries wait (%s)", error)
                    await asyncio.sleep(UNAVAILABLE_PAUSE_SECONDS)
                    continue
                for index, task in enumerate(tasks):
                    if not await self._acquire(task.chat_id):
                        await self._release(tasks[index:])
                        break
                    self._launch(task)
        except Exception:
            logger.exception("the dispatcher stopped on an unexpected error")
            raise
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _acquire(self, chat_id: int) -> bool:
        """The limiter's permission to send, or False once stop() was called (a paced wait,
        e.g. after a 429, must not hold up the stop)."""
        if self._stopping:
            return False
        acquiring = asyncio.ensure_future(self.limiter.acquire(chat_id))
        stopping = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if acquiring.done():
            acquiring.result()  # raises what the limiter raised, as before
            return True  # the token is taken: this one goes out
        acquiring.cancel()  # RateLimiter.acquire takes its token only at the end
        with contextlib.suppress(asyncio.CancelledError):
            await acquiring
        return False

    async def _release(self, tasks: list[DeliveryTask]) -> None:
        """Claims that will not be sent now go back to pending (not `sending`: they were
        never sent, so the next start must not count them as interrupted)."""
        async with self._session() as session:
            released = await deliveries.release_claimed([t.id for t in tasks], session=session)
        logger.info("stopping: %d claimed deliveries left pending", released)

    def _launch(self, task: DeliveryTask) -> None:
        running = asyncio.create_task(self._deliver(task), name=f"delivery-{task.id}")
        self._in_flight.add(running)
        self.max_in_flight_seen = max(self.max_in_flight_seen, len(self._in_flight))
        running.add_done_callback(self._in_flight.discard)

    async def _sleep_until_due(self) -> None:
        async with self._session() as session:
            next_due = await deliveries.next_due_at(session=session)
        timeout = IDLE_POLL_SECONDS
        if next_due is not None:
            timeout = min(timeout, max((next_due - clock.now()).total_seconds(), 0.0))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        self._wakeup.clear()

    async def _deliver(self, task: DeliveryTask) -> None:
        """One send and its outcome; never raises (an error is an outcome)."""
        try:
            await self._send_and_record(task)
        except Exception:  # the database refused the outcome: say so now, not at GC time
            logger.exception(
                "could not record the outcome of delivery %d: it stays `sending` and is sent "
                "again on the next start",
                task.id,
            )

    async def _send_and_record(self, task: DeliveryTask) -> None:
        try:
            message = await self._send(task)
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            self.limiter.pause(wait)
            await self._retry(task, clock.now() + timedelta(seconds=wait), "429", count=False)
        except Forbidden as error:
            async with self._session() as session:
                await deliveries.mark_blocked(task.id, error.message[:255], session=session)
        except BadRequest as error:
            async with self._session() as session:
                await deliveries.mark_failed(task.id, error.message[:255], session=session)
        except (NetworkError, TelegramError) as error:
            # Time-outs and 5xx: the send may even have arrived; try again with backoff.
            await self._retry(task, self._backoff(task.attempt), type(error).__name__)
        except Exception as error:  # a bug must not lose the delivery or kill the loop
            logger.exception("unexpected error sending delivery %d", task.id)
            await self._retry(task, self._backoff(task.attempt), repr(error)[:255])
        else:
            await self._record_sent(task.id, message.message_id)
            if task.poll is not None:
                await self._poll_sent(task, message)

    async def _send(self, task: DeliveryTask) -> Message:
        """One Telegram call: a native poll for a poll delivery, else an HTML text message."""
        if task.poll is not None:
            poll: PollSpec = task.poll
            return await self.bot.send_poll(
                task.chat_id,
                poll.question,
                poll.options,
                is_anonymous=poll.is_anonymous,
                allows_multiple_answers=poll.allows_multiple_answers,
            )
        return await self.bot.send_message(task.chat_id, task.text, parse_mode="HTML")

    async def _poll_sent(self, task: DeliveryTask, message: Message) -> None:
        """Tell the poll's owners its id; their errors are logged, never undo the send."""
        hooks = [
            hook for prefix, hook in self._poll_hooks.items() if task.purpose.startswith(prefix)
        ]
        if message.poll is None:
            logger.warning("delivery %d was sent as a poll but Telegram returned none", task.id)
            return
        if not hooks:
            logger.warning("poll %s was sent but no hook maps its votes", task.purpose)
            return
        sent = PollSent(
            purpose=task.purpose,
            chat_id=task.chat_id,
            language=task.language,
            poll_id=message.poll.id,
            telegram_message_id=message.message_id,
        )
        for hook in hooks:
            try:
                await hook(sent)
            except Exception:
                logger.exception("the poll hook for %s failed (the poll stays sent)", task.purpose)

    async def _record_sent(self, delivery_id: int, telegram_message_id: int) -> None:
        """Mark the delivery sent, in one transaction with the others waiting to be marked.

        Returns once that transaction is committed; raises if it failed (the delivery stays
        `sending` and is re-sent after a restart, as when the process dies here).
        """
        batch = self._unrecorded
        batch.rows.append((delivery_id, telegram_message_id))
        async with self._db_lock:
            if batch is self._unrecorded:  # nobody has marked this batch yet: mark it now
                self._unrecorded = _SentBatch()
                async with self.db.session() as session:
                    await deliveries.mark_sent_many(batch.rows, session=session)
                batch.committed = True
        if not batch.committed:
            raise RuntimeError(f"delivery {delivery_id} was sent but could not be marked sent")

    def _backoff(self, attempt: int) -> datetime:
        delay = min(
            self.config.backoff_seconds * 2 ** max(attempt - 1, 0), self.config.backoff_max_seconds
        )
        return clock.now() + timedelta(seconds=delay)

    async def _retry(
        self, task: DeliveryTask, at: datetime, error: str, *, count: bool = True
    ) -> None:
        async with self._session() as session:
            if count and task.attempt >= self.config.max_attempts:
                await deliveries.mark_failed(task.id, error, session=session)
            else:
                await deliveries.retry_later(task.id, at, error, session=session)
        self.wake()

    async def _report_finished(self) -> None:
        if self.on_finished is None:
            return
        async with self._session() as session:
            finished = await deliveries.finished_unreported(session=session)
        for message, report in finished:
            try:
                await self.on_finished(message, report)
            except TelegramError:
                logger.warning("could not report delivery %s", message.purpose, exc_info=True)
            async with self._session() as session:
                await deliveries.mark_reported(message.id or 0, session=session)
