"""Votes arriving together are written together: one transaction for a small batch.

Each caller awaits its own vote's outcome, so a handler still only moves on (e.g. sends the
next question) once its answer is committed, and one person's votes — handled one after the
other — stay in order. The vote counts of `poll` updates (one per vote, as Telegram sends
them) and the polls `/needs` sends share the same transactions, with the same result as
storing everything one by one in the order it arrived. A batch that fails is retried item by
item, so one bad vote cannot lose the others. A first answer to a survey question comes back
with the person's next step, read in the same transaction (`storage.survey_steps`), so
`/needs` can send it without reading the person and the survey again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from storage import survey_steps, surveys
from storage.database import AsyncSession, Database
from storage.enums import PollKind
from storage.survey_steps import StepFor
from storage.surveys import AnswerOutcome, NewSentPoll, PollCounts

logger = logging.getLogger(__name__)

Vote = tuple[str, int, Sequence[int]]
Item = Vote | PollCounts | NewSentPoll
Result = tuple[AnswerOutcome, StepFor | None] | None  # a vote's; None for the other items

# How many private survey polls to remember (about 40 bytes each).
PRIVATE_POLLS_REMEMBERED = 100_000


class AnswerBatcher:
    """Collects votes for up to `max_delay` seconds (or `max_batch` votes) per transaction."""

    def __init__(self, db: Database, *, max_batch: int = 200, max_delay: float = 0.002) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        # Survey polls sent to one person's private chat: their counts (one voter) say nothing
        # the stored answer does not, so their `poll` updates need no write unless they close
        # the poll. Loaded again at start-up (`load_private_polls`).
        self._private_polls: OrderedDict[str, None] = OrderedDict()

    async def load_private_polls(self) -> int:
        """Remember the private survey polls sent before a restart, as those sent since are
        remembered, so their `poll` updates need no write either. Returns how many."""
        async with self.db.session(readonly=True) as session:
            newest_first = await surveys.private_survey_poll_ids(
                PRIVATE_POLLS_REMEMBERED, session=session
            )
        for poll_id in reversed(newest_first):  # the newest are forgotten last
            self._private_polls.setdefault(poll_id, None)
        return len(newest_first)

    async def submit(
        self, poll_id: str, telegram_user_id: int, option_ids: Sequence[int]
    ) -> AnswerOutcome:
        """Store one vote; returns when its batch is committed."""
        outcome, _ = await self.submit_with_step(poll_id, telegram_user_id, option_ids)
        return outcome

    async def submit_with_step(
        self, poll_id: str, telegram_user_id: int, option_ids: Sequence[int]
    ) -> tuple[AnswerOutcome, StepFor | None]:
        """Store one vote; returns when its batch is committed, with the voter's next survey
        step when the vote was a first answer ("stored") to a survey poll, else None."""
        result = await self._submit((poll_id, telegram_user_id, list(option_ids)))
        assert isinstance(result, tuple) and isinstance(result[0], AnswerOutcome)
        return result

    async def submit_counts(
        self, poll_id: str, counts: Sequence[int], total_voters: int, closed: bool
    ) -> None:
        """Keep a `poll` update's counts (`surveys.record_poll_counts`); returns when committed.

        Counts of a poll the bot never recorded are dropped, and so are those of an open
        private survey poll (see `_private_polls`).
        """
        if not closed and poll_id in self._private_polls:
            return
        await self._submit(
            PollCounts(poll_id, tuple(int(c) for c in counts), int(total_voters), bool(closed))
        )

    async def record_sent_poll(self, poll: NewSentPoll) -> None:
        """Remember a poll the bot just sent (`surveys.record_sent_poll`); returns when committed.

        Raises as `record_sent_poll` does when the poll does not match its question.
        """
        await self._submit(poll)

    async def _submit(self, item: Item) -> Any:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_forever(), name="answer-batcher")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))  # unbounded: never waits
        return await future

    async def close(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _flush_forever(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.max_delay
            while len(batch) < self.max_batch:
                # Take what is already queued at once: waiting item by item costs a task and a
                # turn of the loop each, and a burst would be cut into many small batches.
                with contextlib.suppress(asyncio.QueueEmpty):
                    batch.append(self._queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            await self._write(batch)
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        try:
            async with self.db.session() as session:
                results = await _store([item for item, _ in batch], session)
        except Exception as error:
            if len(batch) == 1:
                _, future = batch[0]
                if not future.done():
                    future.set_exception(error)
                return
            logger.warning("a batch of %d votes failed; retrying one by one", len(batch))
            for entry in batch:
                await self._write([entry])
            return
        for (item, future), result in zip(batch, results, strict=True):
            self._remember_private(item, result)
            if not future.done():
                future.set_result(result)

    def _remember_private(self, item: Item, result: Result) -> None:
        if isinstance(item, NewSentPoll):
            private = item.kind == PollKind.survey.value
            poll_id = item.poll_id
        elif result is not None:
            private = result[0].kind is PollKind.survey
            poll_id = result[0].poll_id
        else:
            return
        if private:
            self._private_polls[poll_id] = None
            self._private_polls.move_to_end(poll_id)
            while len(self._private_polls) > PRIVATE_POLLS_REMEMBERED:
                self._private_polls.popitem(last=False)


async def _store(items: list[Item], session: AsyncSession) -> list[Result]:
    """Store the items as if one by one, in a few statements; one result per item, in order:
    (outcome, next step) for a vote, None for the rest.

    The items are cut into parts within which order does not matter, and each part is stored
    as votes, then counts, then sent polls. A part ends after counts that close a poll (later
    votes for it are refused), and before a vote or counts for a poll recorded earlier in it.
    """
    results: dict[int, AnswerOutcome | None] = {}
    part: list[int] = []
    recorded: set[str] = set()

    async def flush() -> None:
        votes = [(i, v) for i in part if isinstance(v := items[i], tuple)]
        counts = [(i, c) for i in part if isinstance(c := items[i], PollCounts)]
        polls = [(i, p) for i in part if isinstance(p := items[i], NewSentPoll)]
        if votes:
            outcomes = await surveys.record_poll_answers([v for _, v in votes], session=session)
            results.update(zip((i for i, _ in votes), outcomes, strict=True))
        if counts:
            await surveys.record_polls_counts([c for _, c in counts], session=session)
        if polls:
            await surveys.record_sent_polls([p for _, p in polls], session=session)
        results.update((i, None) for i in part if i not in results)
        part.clear()
        recorded.clear()

    for index, item in enumerate(items):
        poll_id = item[0] if isinstance(item, tuple) else item.poll_id
        if poll_id in recorded and not isinstance(item, NewSentPoll):
            await flush()
        part.append(index)
        if isinstance(item, NewSentPoll):
            recorded.add(item.poll_id)
        elif isinstance(item, PollCounts) and item.closed:
            await flush()
    await flush()
    # After every write of the batch, as reading after the commit would see it.
    first_answers = {
        outcome.telegram_user_id
        for outcome in results.values()
        if outcome is not None and outcome.status == "stored" and outcome.kind is PollKind.survey
    }
    steps = await survey_steps.next_steps(first_answers, session=session) if first_answers else {}
    return [_with_step(results[index], steps) for index in range(len(items))]


def _with_step(outcome: AnswerOutcome | None, steps: dict[int, StepFor]) -> Result:
    if outcome is None:
        return None
    if outcome.status != "stored" or outcome.kind is not PollKind.survey:
        return outcome, None
    return outcome, steps.get(outcome.telegram_user_id)
