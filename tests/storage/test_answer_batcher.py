"""The answer batcher: votes stored together, a first survey answer returned with its next step."""

from __future__ import annotations

import asyncio

from storage import surveys
from storage.answer_batcher import AnswerBatcher
from storage.database import Database
from storage.models import SentPoll
from tests.storage.factories import registered
from tests.storage.survey_helpers import opened, sent_privately


async def test_a_first_answer_comes_back_with_the_next_step_read_after_the_batch(
    db: Database,
) -> None:
    view = await opened(db)
    first, second, _ = view.questions
    await registered(db, 1001)
    await registered(db, 1002, language="en")
    await sent_privately(db, first, 1001, "p-1001")
    await sent_privately(db, first, 1002, "p-1002", language="en")
    batcher = AnswerBatcher(db)
    try:
        (anne, anne_step), (ben, ben_step) = await asyncio.gather(
            batcher.submit_with_step("p-1001", 1001, [0]),
            batcher.submit_with_step("p-1002", 1002, [1]),
        )
        assert batcher.batches == 1, "answers arriving together share a transaction"
        assert (anne.status, ben.status) == ("stored", "stored")
        assert anne_step is not None and ben_step is not None
        assert anne_step.step == surveys.NextStep(view.id, second, 1, 3)
        assert (anne_step.language, ben_step.language) == ("th", "en")

        changed, step = await batcher.submit_with_step("p-1001", 1001, [1])
        assert changed.status == "replaced" and step is None, "only a first answer moves on"
        unknown, step = await batcher.submit_with_step("no-such-poll", 1001, [0])
        assert unknown.status == "unknown_poll" and step is None
        assert (await batcher.submit("p-1002", 1002, [2])).status == "replaced"
    finally:
        await batcher.close()
    async with db.session() as session:
        following = await surveys.next_step(1001, session=session)
    assert following is not None and following.question == second


async def test_after_a_restart_private_survey_polls_counts_need_no_write_but_group_polls_do(
    db: Database,
) -> None:
    view = await opened(db)
    first = view.questions[0]
    await sent_privately(db, first, 1003, "p-open")
    await sent_privately(db, first, 1004, "p-closed")
    async with db.session() as session:
        await surveys.record_poll_counts("p-closed", [0, 0, 0], 0, True, session=session)
        await surveys.record_sent_poll(
            "g-1", chat_id=-1001, message_id=7, kind="group", question_id=first.id,
            language="both", option_keys=first.option_keys, session=session,
        )  # fmt: skip
    restarted = AnswerBatcher(db)
    try:
        assert await restarted.load_private_polls() == 1, "the open private poll only"
        await restarted.submit_counts("p-open", [1, 0, 0], 1, False)
        assert restarted.batches == 0, "a private poll's counts say nothing new"
        await restarted.submit_counts("g-1", [2, 1, 0], 3, False)
        assert restarted.batches == 1, "a group poll's counts are kept"
        await restarted.submit_counts("p-open", [0, 1, 0], 1, True)
        assert restarted.batches == 2, "closing is kept, private or not"
    finally:
        await restarted.close()
    async with db.session() as session:
        group = await session.get(SentPoll, "g-1")
        private = await session.get(SentPoll, "p-open")
    assert group is not None and group.vote_counts == [2, 1, 0]
    assert private is not None and private.closed
