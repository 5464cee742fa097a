"""Many people's next survey step at once agrees with `surveys.next_step` one by one."""

from __future__ import annotations

from storage import citizens, surveys
from storage.database import Database
from storage.survey_steps import StepFor, next_steps
from tests.storage.factories import registered
from tests.storage.survey_helpers import opened, sent_privately


async def _answer(db: Database, poll_id: str, telegram_user_id: int) -> None:
    async with db.session() as session:
        outcome = await surveys.record_poll_answer(poll_id, telegram_user_id, [0], session=session)
    assert outcome.status == "stored"


async def test_each_person_gets_the_step_next_step_would_give_with_language_and_reach(
    db: Database,
) -> None:
    view = await opened(db)
    first, second, _ = view.questions
    await registered(db, 1001)  # answered nothing
    await registered(db, 1002, language="en")  # answered the second question only
    await registered(db, 1003)  # answered everything
    await sent_privately(db, second, 1002, "p-1002")
    await _answer(db, "p-1002", 1002)
    for n, question in enumerate(view.questions):
        await sent_privately(db, question, 1003, f"p-1003-{n}")
        await _answer(db, f"p-1003-{n}", 1003)
    async with db.session() as session:
        await citizens.set_reachable(1003, False, session=session)

    async with db.session() as session:
        steps = await next_steps([1001, 1002, 1003, 5555], session=session)
        one_by_one = {
            user: await surveys.next_step(user, session=session) for user in (1001, 1002, 1003)
        }
    assert set(steps) == {1001, 1002, 1003}, "a stranger has no step"
    for user, step in one_by_one.items():
        assert steps[user].step == step
    assert steps[1001] == StepFor(1001, "th", True, surveys.NextStep(view.id, first, 0, 3))
    assert steps[1002] == StepFor(1002, "en", True, surveys.NextStep(view.id, first, 1, 3))
    assert steps[1003] == StepFor(1003, "th", False, surveys.NextStep(view.id, None, 3, 3))


async def test_without_an_open_survey_everyone_has_no_step(db: Database) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        steps = await next_steps([1001], session=session)
        assert await surveys.next_step(1001, session=session) is None
    assert steps == {1001: StepFor(1001, "th", True, None)}
    async with db.session() as session:
        assert await next_steps([], session=session) == {}
