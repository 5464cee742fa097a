"""Votes arriving together are written together: one transaction for a small batch.

Each caller awaits its own vote's outcome, so a handler still only moves on (e.g. sends the
next question) once its answer is committed, and one person's votes — handled one after the
other — stay in order. A batch that fails is retried vote by vote, so one bad vote cannot
lose the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from storage import surveys
from storage.database import Database
from storage.surveys import AnswerOutcome

logger = logging.getLogger(__name__)

Vote = tuple[str, int, Sequence[int]]


class AnswerBatcher:
    """Collects votes for up to `max_delay` seconds (or `max_batch` votes) per transaction."""

    def __init__(self, db: Database, *, max_batch: int = 200, max_delay: float = 0.002) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._queue: asyncio.Queue[tuple[Vote, asyncio.Future[AnswerOutcome]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(
        self, poll_id: str, telegram_user_id: int, option_ids: Sequence[int]
    ) -> AnswerOutcome:
        """Store one vote; returns when its batch is committed."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_forever(), name="answer-batcher")
        future: asyncio.Future[AnswerOutcome] = asyncio.get_running_loop().create_future()
        await self._queue.put(((poll_id, telegram_user_id, list(option_ids)), future))
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

    async def _write(self, batch: list[tuple[Vote, asyncio.Future[AnswerOutcome]]]) -> None:
        self.batches += 1
        try:
            async with self.db.session() as session:
                outcomes = await surveys.record_poll_answers([v for v, _ in batch], session=session)
        except Exception as error:
            if len(batch) == 1:
                _, future = batch[0]
                if not future.done():
                    future.set_exception(error)
                return
            logger.warning("a batch of %d votes failed; retrying one by one", len(batch))
            for item in batch:
                await self._write([item])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
