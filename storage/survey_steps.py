"""Many people's next survey step at once, read inside the transaction that stored their votes.

A first answer to a survey poll brings the next question. Reading it per person (their record,
then `surveys.next_step`) cost two sessions for every answer; the answer batcher instead asks
here once per batch, in the batch's own transaction, for everyone whose answer was stored:
a few queries whatever the batch's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlmodel import col, select

from storage.database import AsyncSession
from storage.enums import SurveyStatus
from storage.models import Citizen, Survey, SurveyAnswer, SurveyQuestion
from storage.surveys import NextStep, QuestionView, question_views

__all__ = ["StepFor", "next_steps"]

_IN_CHUNK: Final = 500  # values per IN (…) list
T = TypeVar("T")


@dataclass(frozen=True)
class StepFor:
    """A registered person's next step (`surveys.next_step`), with what it takes to send it:
    their language, and whether they are marked unreachable (then the caller reads them as
    usual, which lifts the mark)."""

    telegram_user_id: int
    language: str
    reachable: bool
    step: NextStep | None


async def next_steps(
    telegram_user_ids: Iterable[int], *, session: AsyncSession
) -> dict[int, StepFor]:
    """Each registered person's next step in the open survey, as `surveys.next_step` tells it
    one by one; people without a record are left out. Four queries at most (per 500 people)."""
    people: dict[int, tuple[int, str, bool]] = {}
    for chunk in _chunks(sorted(set(telegram_user_ids))):
        statement = select(
            col(Citizen.telegram_user_id), col(Citizen.id), col(Citizen.language),
            col(Citizen.reachable),
        ).where(col(Citizen.telegram_user_id).in_(chunk))  # fmt: skip
        for telegram_user_id, citizen_id, language, reachable in (
            await session.exec(statement)
        ).all():
            assert citizen_id is not None
            people[telegram_user_id] = (citizen_id, language, bool(reachable))
    if not people:
        return {}
    questions = (
        await session.exec(
            select(SurveyQuestion)
            .join(Survey, col(Survey.id) == col(SurveyQuestion.survey_id))
            .where(col(Survey.status) == SurveyStatus.open)
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        )
    ).all()
    if not questions:  # no open survey, or one without questions
        open_survey = select(col(Survey.id)).where(col(Survey.status) == SurveyStatus.open)
        survey_id = (await session.exec(open_survey)).first()
        empty = None if survey_id is None else NextStep(survey_id, None, 0, 0)
        return {
            user: StepFor(user, language, reachable, empty)
            for user, (_, language, reachable) in people.items()
        }
    question_ids = [q.id for q in questions if q.id is not None]
    answered: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(citizen_id for citizen_id, _, _ in people.values())):
        pairs = select(col(SurveyAnswer.citizen_id), col(SurveyAnswer.question_id)).where(
            col(SurveyAnswer.citizen_id).in_(chunk), col(SurveyAnswer.question_id).in_(question_ids)
        )
        answered.update((c, q) for c, q in (await session.exec(pairs)).all())
    nexts: dict[int, SurveyQuestion | None] = {}
    counts: dict[int, int] = {}
    for user, (citizen_id, _, _) in people.items():
        unanswered = [q for q in questions if (citizen_id, q.id) not in answered]
        nexts[user] = unanswered[0] if unanswered else None
        counts[user] = len(questions) - len(unanswered)
    views = await _views({q.id: q for q in nexts.values() if q is not None and q.id}, session)
    survey_id = questions[0].survey_id
    return {
        user: StepFor(
            user,
            language,
            reachable,
            NextStep(
                survey_id,
                None if (question := nexts[user]) is None else views[_id(question)],
                counts[user],
                len(questions),
            ),
        )
        for user, (_, language, reachable) in people.items()
    }


async def _views(
    questions: dict[int, SurveyQuestion], session: AsyncSession
) -> dict[int, QuestionView]:
    """The questions with their options in order (one query), by question id."""
    views = await question_views(list(questions.values()), session)
    return {view.id: view for view in views}


def _id(question: SurveyQuestion) -> int:
    assert question.id is not None
    return question.id


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]
