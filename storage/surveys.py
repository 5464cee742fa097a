"""Learning-needs surveys, quick polls and the native polls that carry them.

A survey file is checked (`storage.survey_spec`) and imported as a new draft version of its
key; at most one survey is open at a time. Each question goes out as a native Telegram poll,
recorded as a SentPoll whose `option_keys` map Telegram's option indexes to option keys, so
votes are stored by key. A citizen's vote is stored only with consent to `needs_survey`: one
current answer per citizen and question (or quick poll). In a group, the people who did not
consent (or are not registered) are only counted, from Telegram's own totals.

Storage knows Telegram only as integer ids and poll id strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import Boolean, ColumnElement, Table, bindparam, delete, func, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.selectable import Select
from sqlmodel import SQLModel, and_, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import audit, clock
from storage.database import AsyncSession
from storage.enums import PollKind, Purpose, QuickPollStatus, SurveyStatus
from storage.errors import (
    ConsentRequired,
    NotRegistered,
    UnknownQuickPoll,
    UnknownSurvey,
    UnsupportedLanguage,
)
from storage.models import (
    Citizen,
    Consent,
    FreeTextNeed,
    QuickPoll,
    SentPoll,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
)
from storage.sql import backend_of, upsert
from storage.survey_spec import (
    CategorySpec,
    OptionSpec,
    QuestionSpec,
    SurveySpec,
    load_survey_file,
    parse_quick_poll,
    parse_survey_file,
)
from storage.tokens import store_tokens

__all__ = [
    "FREE_TEXT_LANGUAGES",
    "FREE_TEXT_MAX_LENGTH",
    "POLL_LANGUAGES",
    "AnswerOutcome",
    "AnswerStatus",
    "CategorySpec",
    "GroupPollResult",
    "NewSentPoll",
    "NextStep",
    "OptionSpec",
    "OptionView",
    "PollCounts",
    "QuestionSpec",
    "QuestionView",
    "QuickPollResult",
    "SurveySpec",
    "SurveySummary",
    "SurveyView",
    "add_free_text",
    "close_quick_poll",
    "close_survey",
    "create_quick_poll",
    "get_question",
    "get_quick_poll",
    "group_poll_result",
    "import_survey",
    "list_surveys",
    "load_survey_file",
    "next_question",
    "next_step",
    "open_survey",
    "open_survey_now",
    "parse_quick_poll",
    "parse_survey_file",
    "progress",
    "quick_poll_polls",
    "quick_poll_result",
    "record_poll_answer",
    "record_poll_answers",
    "record_poll_counts",
    "record_polls_counts",
    "record_sent_poll",
    "record_sent_polls",
    "sent_poll",
    "survey_polls",
    "survey_view",
]

FREE_TEXT_MAX_LENGTH: Final = 4096
FREE_TEXT_LANGUAGES: Final = ("th", "en", "ms", "und")
POLL_LANGUAGES: Final = ("th", "en", "both")
POLL_ID_MAX_LENGTH: Final = 64
ACTOR_MAX_LENGTH: Final = 64
AUDIENCE_MAX_LENGTH: Final = 64
_IN_CHUNK: Final = 500  # values per IN (…) list

AnswerStatus = Literal[
    "stored",
    "replaced",
    "removed",
    "unchanged",
    "unknown_poll",
    "closed",
    "no_consent",
    "not_registered",
]
_CHANGED: Final = ("stored", "replaced", "removed")


@dataclass(frozen=True)
class OptionView:
    """One option of a question, in order; `category_key` is None for format or time options."""

    id: int
    key: str
    position: int
    label: dict[str, str]
    category_key: str | None


@dataclass(frozen=True)
class QuestionView:
    """One question with its options in order, ready to be sent as a poll."""

    id: int
    survey_id: int
    key: str
    position: int
    text: dict[str, str]
    multiple: bool
    options: tuple[OptionView, ...]

    @property
    def option_keys(self) -> list[str]:
        """The option keys in poll order (what `record_sent_poll` wants)."""
        return [option.key for option in self.options]


@dataclass(frozen=True)
class SurveyView:
    """A survey with its questions in order."""

    id: int
    key: str
    version: int
    title: dict[str, str]
    status: SurveyStatus
    questions: tuple[QuestionView, ...]


@dataclass(frozen=True)
class SurveySummary:
    """One survey version in the list: how many questions, how many people answered any."""

    id: int
    key: str
    version: int
    title: dict[str, str]
    status: SurveyStatus
    questions: int
    respondents: int
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class AnswerOutcome:
    """What became of one vote (a `poll_answer`).

    stored / replaced / removed / unchanged: the citizen's answer is now as they voted
    (`option_keys`, empty when removed); unknown_poll: not a poll the bot recorded; closed: the
    survey or quick poll no longer takes answers; no_consent / not_registered: nothing stored.
    """

    status: AnswerStatus
    question_id: int | None
    survey_id: int | None
    quick_poll_id: int | None
    kind: PollKind | None
    poll_id: str
    telegram_user_id: int
    option_keys: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when something was written."""
        return self.status in _CHANGED


@dataclass(frozen=True)
class GroupPollResult:
    """The votes in one poll: people who consented (stored answers) and everyone else.

    `anonymous_counts` are Telegram's counts minus the consented ones (never below zero).
    """

    poll_id: str
    kind: PollKind
    option_keys: list[str]
    labels: list[dict[str, str]]
    consented_counts: list[int]
    anonymous_counts: list[int]
    consented_voters: int
    total_voters: int
    closed: bool

    @property
    def anonymous_voters(self) -> int:
        """Voters who are only counted."""
        return self.total_voters - self.consented_voters


@dataclass(frozen=True)
class QuickPollResult:
    """A quick poll's result over every poll it was sent as, per option in order.

    `stored_counts`: consenting citizens' answers (private chats and groups); `anonymous_counts`:
    the other votes in groups; `counts`: both.
    """

    quick_poll_id: int
    question: dict[str, str]
    status: QuickPollStatus
    multiple: bool
    option_keys: list[str]
    labels: list[dict[str, str]]
    stored_counts: list[int]
    anonymous_counts: list[int]
    counts: list[int]
    respondents: int
    anonymous_voters: int

    @property
    def total_voters(self) -> int:
        """Everyone who voted: respondents stored plus anonymous group voters."""
        return self.respondents + self.anonymous_voters


# --- surveys ------------------------------------------------------------------------------


async def import_survey(
    spec: SurveySpec, *, actor: str = audit.SYSTEM, session: AsyncSession
) -> Survey:
    """Store `spec` as a new draft version of its key (1 for a new key); upsert its categories.

    All or nothing: everything happens in a savepoint, so a failure leaves no trace even if
    the caller goes on. Audited as "survey.imported". `spec` comes from `parse_survey_file`.
    """
    async with session.begin_nested():
        if spec.categories:
            await session.exec(
                upsert(session, _CATEGORIES, ["key"], ["name", "unesco_feature", "sdgs"]),
                params=[
                    {
                        "key": category.key,
                        "name": dict(category.name),
                        "unesco_feature": category.unesco_feature,
                        "sdgs": list(category.sdgs),
                    }
                    for category in spec.categories
                ],
            )
        latest = (
            await session.exec(select(func.max(col(Survey.version))).where(Survey.key == spec.key))
        ).one()
        survey = Survey(
            key=spec.key,
            version=(latest or 0) + 1,
            title=dict(spec.title),
            status=SurveyStatus.draft,
            created_at=clock.now(),
        )
        session.add(survey)
        await session.flush()
        assert survey.id is not None
        questions = [
            SurveyQuestion(
                survey_id=survey.id,
                position=position,
                key=question.key,
                text=dict(question.text),
                multiple=question.multiple,
            )
            for position, question in enumerate(spec.questions)
        ]
        session.add_all(questions)
        await session.flush()
        for stored, question in zip(questions, spec.questions, strict=True):
            assert stored.id is not None
            session.add_all(
                SurveyOption(
                    question_id=stored.id,
                    position=position,
                    key=option.key,
                    label=dict(option.label),
                    category_key=option.category,
                )
                for position, option in enumerate(question.options)
            )
        await session.flush()
        await audit.record(
            "survey.imported",
            actor=actor,
            target=_survey_target(survey.id),
            detail={"key": survey.key, "version": survey.version, "questions": len(questions)},
            session=session,
        )
    return survey


async def list_surveys(*, session: AsyncSession) -> list[SurveySummary]:
    """Every survey version, by key then version, with question and respondent counts."""
    surveys = (
        await session.exec(select(Survey).order_by(col(Survey.key), col(Survey.version)))
    ).all()
    question_counts = dict(
        (
            await session.exec(
                select(col(SurveyQuestion.survey_id), func.count()).group_by(
                    col(SurveyQuestion.survey_id)
                )
            )
        ).all()
    )
    respondent_counts = dict(
        (
            await session.exec(
                select(
                    col(SurveyQuestion.survey_id),
                    func.count(func.distinct(SurveyAnswer.citizen_id)),
                )
                .join(SurveyAnswer, col(SurveyAnswer.question_id) == col(SurveyQuestion.id))
                .group_by(col(SurveyQuestion.survey_id))
            )
        ).all()
    )
    summaries: list[SurveySummary] = []
    for survey in surveys:
        assert survey.id is not None
        summaries.append(
            SurveySummary(
                id=survey.id,
                key=survey.key,
                version=survey.version,
                title=dict(survey.title),
                status=survey.status,
                questions=int(question_counts.get(survey.id, 0)),
                respondents=int(respondent_counts.get(survey.id, 0)),
                created_at=survey.created_at,
                opened_at=survey.opened_at,
                closed_at=survey.closed_at,
            )
        )
    return summaries


async def open_survey(survey_id: int, *, actor: str, session: AsyncSession) -> Survey:
    """Open the survey (a draft, or a closed one again), closing any other open survey first.

    Audited: "survey.closed" for each survey closed on the way, then "survey.opened". Already
    open: nothing changes. UnknownSurvey if there is no such survey.
    """
    survey = await _require_survey(survey_id, session)
    if survey.status is SurveyStatus.open:
        return survey
    now = clock.now()
    others = (
        await session.exec(
            select(Survey).where(
                col(Survey.status) == SurveyStatus.open, col(Survey.id) != survey_id
            )
        )
    ).all()
    for other in others:
        await _close(other, now, actor, session, reason="another survey opened")
    survey.status = SurveyStatus.open
    survey.opened_at = now
    survey.closed_at = None
    session.add(survey)
    await session.flush()  # after the others: at most one open survey (a unique index)
    await audit.record(
        "survey.opened",
        actor=actor,
        target=_survey_target(survey_id),
        detail={"key": survey.key, "version": survey.version},
        session=session,
    )
    return survey


async def close_survey(survey_id: int, *, actor: str, session: AsyncSession) -> Survey:
    """Close the survey: its polls take no more answers. Audited as "survey.closed".

    Already closed: nothing changes. UnknownSurvey if there is no such survey.
    """
    survey = await _require_survey(survey_id, session)
    if survey.status is not SurveyStatus.closed:
        await _close(survey, clock.now(), actor, session)
    return survey


async def open_survey_now(*, session: AsyncSession) -> SurveyView | None:
    """The open survey with its questions and options in order, or None."""
    survey = (
        await session.exec(select(Survey).where(col(Survey.status) == SurveyStatus.open))
    ).first()
    return None if survey is None else await _view_of(survey, session)


async def survey_view(survey_id: int, *, session: AsyncSession) -> SurveyView | None:
    """The survey (any status) with its questions and options in order, or None."""
    survey = await session.get(Survey, survey_id)
    return None if survey is None else await _view_of(survey, session)


async def get_question(question_id: int, *, session: AsyncSession) -> QuestionView | None:
    """One question with its options in order, or None."""
    question = await session.get(SurveyQuestion, question_id)
    if question is None:
        return None
    return (await question_views([question], session))[0]


async def next_question(
    survey_id: int, telegram_user_id: int, *, session: AsyncSession
) -> QuestionView | None:
    """The first question of the survey, in order, that this person has not answered.

    None when every question is answered (or the survey has none). It does not look at the
    survey's status: callers ask it for the open survey.
    """
    questions = (
        await session.exec(
            select(SurveyQuestion)
            .where(col(SurveyQuestion.survey_id) == survey_id)
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        )
    ).all()
    if not questions:
        return None
    answered = set((await session.exec(_answered_question_ids(survey_id, telegram_user_id))).all())
    for question in questions:
        if question.id not in answered:
            return (await question_views([question], session))[0]
    return None


@dataclass(frozen=True)
class NextStep:
    """Where a person stands in the open survey (see `next_step`)."""

    survey_id: int
    question: QuestionView | None  # None: every question is answered
    answered: int
    total: int


async def next_step(telegram_user_id: int, *, session: AsyncSession) -> NextStep | None:
    """The open survey's next question for this person, with their progress; None when no
    survey is open.

    What `open_survey_now`, `next_question` and `progress` tell together, in two queries: the
    open survey's questions with this person's answers, then the next question's options.
    """
    citizen_id = (
        select(col(Citizen.id))
        .where(col(Citizen.telegram_user_id) == telegram_user_id)
        .scalar_subquery()
    )
    rows = (
        await session.exec(
            select(SurveyQuestion, col(SurveyAnswer.id))
            .join(
                Survey,
                and_(
                    col(Survey.id) == col(SurveyQuestion.survey_id),
                    col(Survey.status) == SurveyStatus.open,
                ),
            )
            .outerjoin(
                SurveyAnswer,
                and_(
                    col(SurveyAnswer.question_id) == col(SurveyQuestion.id),
                    col(SurveyAnswer.citizen_id) == citizen_id,
                ),
            )
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        )
    ).all()
    if not rows:  # no open survey, or one without questions
        survey_id = (
            await session.exec(
                select(col(Survey.id)).where(col(Survey.status) == SurveyStatus.open)
            )
        ).first()
        return None if survey_id is None else NextStep(survey_id, None, 0, 0)
    unanswered = [question for question, answer_id in rows if answer_id is None]
    question = (await question_views(unanswered[:1], session))[0] if unanswered else None
    return NextStep(rows[0][0].survey_id, question, len(rows) - len(unanswered), len(rows))


async def progress(
    survey_id: int, telegram_user_id: int, *, session: AsyncSession
) -> tuple[int, int]:
    """(questions this person has answered, questions in the survey)."""
    total = (
        await session.exec(
            select(func.count())
            .select_from(SurveyQuestion)
            .where(col(SurveyQuestion.survey_id) == survey_id)
        )
    ).one()
    answered = (
        await session.exec(
            select(func.count()).select_from(
                _answered_question_ids(survey_id, telegram_user_id).subquery()
            )
        )
    ).one()
    return int(answered), int(total)


async def add_free_text(
    telegram_user_id: int,
    text: str,
    language: str,
    *,
    survey_id: int | None,
    session: AsyncSession,
) -> FreeTextNeed:
    """Store a need in the citizen's own words (stripped, at most 4096 characters kept).

    `language` is the detected one: th, en, ms or und (unknown). Raises ValueError for blank
    text, UnsupportedLanguage, NotRegistered, ConsentRequired (no consent to needs_survey) and
    UnknownSurvey.
    """
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("a free-text need cannot be blank")
    if language not in FREE_TEXT_LANGUAGES:
        raise UnsupportedLanguage(
            f"unsupported language {language!r}; expected one of {FREE_TEXT_LANGUAGES}"
        )
    voter = (await _voters([telegram_user_id], session)).get(telegram_user_id)
    if voter is None:
        raise NotRegistered(telegram_user_id)
    if not voter.consented:
        raise ConsentRequired(telegram_user_id, purpose=Purpose.needs_survey.value)
    if survey_id is not None:
        await _require_survey(survey_id, session)
    need = FreeTextNeed(
        citizen_id=voter.citizen_id,
        survey_id=survey_id,
        text=cleaned[:FREE_TEXT_MAX_LENGTH].rstrip(),
        language=language,
        created_at=clock.now(),
    )
    session.add(need)
    await session.flush()
    # Segmented once, here, so that officers' themes are a GROUP BY (storage/tokens.py).
    await store_tokens(need, session=session)
    return need


# --- sent polls and votes -----------------------------------------------------------------


@dataclass(frozen=True)
class NewSentPoll:
    """A native poll the bot just sent, as `record_sent_poll` takes it."""

    poll_id: str
    chat_id: int
    message_id: int
    kind: PollKind | str
    option_keys: Sequence[str]
    language: str
    question_id: int | None = None
    quick_poll_id: int | None = None
    recipient_telegram_id: int | None = None


async def open_quick_polls(
    *, created_by: str, since: datetime, limit: int, session: AsyncSession
) -> list[QuickPoll]:
    """The open quick polls `created_by` made since `since`, newest first, at most `limit`."""
    statement = (
        select(QuickPoll)
        .where(
            col(QuickPoll.created_by) == created_by,
            col(QuickPoll.status) == QuickPollStatus.open,
            col(QuickPoll.created_at) >= since,
        )
        .order_by(col(QuickPoll.created_at).desc(), col(QuickPoll.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def private_survey_poll_ids(limit: int, *, session: AsyncSession) -> list[str]:
    """The newest `limit` survey polls sent to one person's private chat and not closed,
    newest first (the answer batcher's memory after a restart)."""
    statement = (
        select_columns(col(SentPoll.poll_id))
        .where(col(SentPoll.kind) == PollKind.survey, col(SentPoll.closed).is_(False))
        .order_by(col(SentPoll.created_at).desc())
        .limit(limit)
    )
    return list((await (await session.connection()).execute(statement)).scalars())


async def record_sent_poll(
    poll_id: str,
    *,
    chat_id: int,
    message_id: int,
    kind: PollKind | str,
    option_keys: Sequence[str],
    language: str,
    question_id: int | None = None,
    quick_poll_id: int | None = None,
    recipient_telegram_id: int | None = None,
    session: AsyncSession,
) -> SentPoll:
    """Remember a native poll the bot just sent, so its votes can be stored by option key.

    `option_keys[i]` is the key of the poll's option i. `kind` survey: a question sent to
    `recipient_telegram_id`'s private chat; group: a question sent to a group (no recipient);
    quick: a quick poll, private (with a recipient) or in a group. `language` is th, en or
    both. Raises ValueError when the poll does not match its question or quick poll
    (UnknownQuickPoll when there is no such quick poll).
    """
    new = NewSentPoll(
        poll_id=poll_id,
        chat_id=chat_id,
        message_id=message_id,
        kind=kind,
        option_keys=option_keys,
        language=language,
        question_id=question_id,
        quick_poll_id=quick_poll_id,
        recipient_telegram_id=recipient_telegram_id,
    )
    (poll,) = await record_sent_polls([new], session=session)
    return poll


async def record_sent_polls(
    polls: Sequence[NewSentPoll], *, session: AsyncSession
) -> list[SentPoll]:
    """Several polls at once, as `record_sent_poll` records each, with the same checks (the
    first poll that fails one raises): one query for the questions' option keys, one flush."""
    known_by_question: dict[int, set[str]] = {}
    for chunk in _chunks(sorted({p.question_id for p in polls if p.question_id is not None})):
        statement = select(col(SurveyOption.question_id), col(SurveyOption.key)).where(
            col(SurveyOption.question_id).in_(chunk)
        )
        for question_id, key in (await session.exec(statement)).all():
            known_by_question.setdefault(question_id, set()).add(key)
    created: list[SentPoll] = []
    for new in polls:
        poll_kind = PollKind(new.kind)
        if not new.poll_id or len(new.poll_id) > POLL_ID_MAX_LENGTH:
            raise ValueError(f"a poll id is 1–{POLL_ID_MAX_LENGTH} characters")
        if new.language not in POLL_LANGUAGES:
            raise ValueError(f"a poll's language is one of {POLL_LANGUAGES}, not {new.language!r}")
        keys = list(new.option_keys)
        if not keys or len(set(keys)) != len(keys):
            raise ValueError("a poll needs its option keys, each once")
        if poll_kind is PollKind.quick:
            if new.quick_poll_id is None or new.question_id is not None:
                raise ValueError("a quick poll's poll names the quick poll and no question")
            quick = await _require_quick_poll(new.quick_poll_id, session)
            known = {option["key"] for option in quick.options}
        else:
            if new.question_id is None or new.quick_poll_id is not None:
                raise ValueError(f"a {poll_kind.value} poll names its question and no quick poll")
            if (poll_kind is PollKind.survey) != (new.recipient_telegram_id is not None):
                raise ValueError("a survey poll has a recipient; a group poll has none")
            known = known_by_question.get(new.question_id, set())
            if not known:
                raise ValueError(f"no survey question {new.question_id} with options")
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise ValueError(f"option keys not in the question or quick poll: {unknown}")
        created.append(
            SentPoll(
                poll_id=new.poll_id,
                chat_id=new.chat_id,
                message_id=new.message_id,
                kind=poll_kind,
                question_id=new.question_id,
                quick_poll_id=new.quick_poll_id,
                language=new.language,
                option_keys=keys,
                recipient_telegram_id=new.recipient_telegram_id,
                closed=False,
                created_at=clock.now(),
            )
        )
    session.add_all(created)
    await session.flush()
    return created


async def sent_poll(poll_id: str, *, session: AsyncSession) -> SentPoll | None:
    """The poll the bot sent with this Telegram poll id, or None."""
    return await session.get(SentPoll, poll_id)


async def survey_polls(survey_id: int, *, session: AsyncSession) -> list[SentPoll]:
    """The survey's polls Telegram has not reported closed (e.g. to stop group polls)."""
    statement = (
        select(SentPoll)
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SentPoll.question_id))
        .where(col(SurveyQuestion.survey_id) == survey_id, col(SentPoll.closed).is_(False))
        .order_by(col(SentPoll.created_at), col(SentPoll.poll_id))
    )
    return list((await session.exec(statement)).all())


async def record_poll_answer(
    poll_id: str, telegram_user_id: int, option_ids: Sequence[int], *, session: AsyncSession
) -> AnswerOutcome:
    """Store one vote (`poll_answer`): option indexes are mapped to keys through the SentPoll.

    Nothing is written for an unknown poll, a closed survey or quick poll (or a poll Telegram
    reported closed), a stranger ("not_registered") or a citizen without consent to
    needs_survey ("no_consent"). Otherwise the citizen's one answer to the question (or quick
    poll) is stored, replaced, kept ("unchanged") or, for an empty `option_ids` (a retracted
    vote), removed — only if it came through this poll. The answer's language is the poll's,
    or the citizen's for a poll in both languages. A few indexed statements; ValueError for an
    option index the poll does not have.
    """
    vote = (poll_id, telegram_user_id, option_ids)
    (outcome,) = await record_poll_answers([vote], session=session)
    return outcome


async def record_poll_answers(
    batch: Sequence[tuple[str, int, Sequence[int]]], *, session: AsyncSession
) -> list[AnswerOutcome]:
    """Store many votes at once, in order, as `record_poll_answer` would one by one.

    Reads with a handful of queries for the whole batch and writes only each answer's final
    state (the same person answering the same question twice ends with the second answer).
    One outcome per vote, in order.
    """
    if not batch:
        return []
    targets = await _targets({poll_id for poll_id, _, _ in batch}, session)
    voters = await _voters(
        {user for poll_id, user, _ in batch if poll_id in targets and targets[poll_id].open},
        session,
    )
    survey_keys: set[tuple[int, int]] = set()
    quick_keys: set[tuple[int, int]] = set()
    for poll_id, user, _ in batch:
        target, voter = targets.get(poll_id), voters.get(user)
        if target is None or voter is None:
            continue
        if target.question_id is not None:
            survey_keys.add((target.question_id, voter.citizen_id))
        elif target.quick_poll_id is not None:
            quick_keys.add((target.quick_poll_id, voter.citizen_id))
    initial: dict[_AnswerKey, _Answer | None] = {}
    initial.update(await _existing(_SURVEY_ANSWERS, "question_id", survey_keys, session))
    initial.update(await _existing(_QUICK_ANSWERS, "quick_poll_id", quick_keys, session))
    current = dict(initial)

    outcomes: list[AnswerOutcome] = []
    for poll_id, user, option_ids in batch:
        target = targets.get(poll_id)
        if target is None:
            outcomes.append(_outcome("unknown_poll", None, poll_id, user))
            continue
        keys = target.keys_for(option_ids)
        if not target.open:
            outcomes.append(_outcome("closed", target, poll_id, user))
            continue
        voter = voters.get(user)
        if voter is None:
            outcomes.append(_outcome("not_registered", target, poll_id, user))
            continue
        if not voter.consented:
            outcomes.append(_outcome("no_consent", target, poll_id, user))
            continue
        key = target.answer_key(voter.citizen_id)
        before = current[key]
        status: AnswerStatus
        if not keys:
            if before is not None and before.poll_id == poll_id:
                current[key] = None
                status = "removed"
            else:
                status = "unchanged"
        else:
            language = voter.language if target.language == "both" else target.language
            current[key] = _Answer(keys, poll_id, language)
            if before is None:
                status = "stored"
            elif set(before.option_keys) == set(keys):
                status = "unchanged"
                current[key] = _Answer(before.option_keys, poll_id, language)
            else:
                status = "replaced"
        outcomes.append(_outcome(status, target, poll_id, user, keys))

    await _write_answers(initial, current, session)
    return outcomes


async def record_poll_counts(
    poll_id: str,
    counts: Sequence[int],
    total_voters: int,
    closed: bool,
    *,
    session: AsyncSession,
) -> bool:
    """Keep Telegram's counts from a `poll` update; `closed` marks the poll closed for good.

    False if the bot never recorded this poll. ValueError for negative numbers.
    """
    values = [int(count) for count in counts]
    if any(count < 0 for count in values) or total_voters < 0:
        raise ValueError("vote counts cannot be negative")
    changes: dict[str, Any] = {"vote_counts": values, "total_voters": int(total_voters)}
    if closed:
        changes["closed"] = True
    result = await session.exec(
        update(SentPoll).where(col(SentPoll.poll_id) == poll_id).values(**changes)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class PollCounts:
    """Telegram's counts from one `poll` update (see `record_poll_counts`)."""

    poll_id: str
    counts: tuple[int, ...]
    total_voters: int
    closed: bool


async def record_polls_counts(updates: Sequence[PollCounts], *, session: AsyncSession) -> None:
    """Many `poll` updates at once, in order, as `record_poll_counts` would one by one.

    One UPDATE run for the whole list (the last counts of a poll win; `closed` stays once
    set); polls the bot never recorded match no row. ValueError for negative numbers.
    """
    if any(c < 0 for u in updates for c in u.counts) or any(u.total_voters < 0 for u in updates):
        raise ValueError("vote counts cannot be negative")
    if not updates:
        return
    statement = (
        update(_SENT_POLLS)
        .where(_SENT_POLLS.c.poll_id == bindparam("b_poll_id"))
        .values(
            vote_counts=bindparam("b_counts"),
            total_voters=bindparam("b_total"),
            closed=or_(_SENT_POLLS.c.closed, bindparam("b_closed", type_=Boolean())),
        )
    )
    rows = [
        {
            "b_poll_id": u.poll_id,
            "b_counts": [int(c) for c in u.counts],
            "b_total": int(u.total_voters),
            "b_closed": bool(u.closed),
        }
        for u in updates
    ]
    await session.exec(statement, params=rows)


async def group_poll_result(poll_id: str, *, session: AsyncSession) -> GroupPollResult | None:
    """One poll's votes per option: stored answers of consenting citizens and the rest.

    Meant for polls in groups, where Telegram's counts include people who are only counted.
    None if the bot never recorded this poll.
    """
    poll = await session.get(SentPoll, poll_id)
    if poll is None:
        return None
    keys = list(poll.option_keys)
    labels = await _labels_of(poll, session)
    table = _QUICK_ANSWERS if poll.kind is PollKind.quick else _SURVEY_ANSWERS
    stored = await _consented_answers(table, table.c.poll_id == poll_id, session)
    consented = _count_by_key(keys, (option_keys for option_keys, _ in stored))
    telegram = list(poll.vote_counts or [])
    anonymous = [
        max(0, (telegram[index] if index < len(telegram) else 0) - consented[index])
        for index in range(len(keys))
    ]
    return GroupPollResult(
        poll_id=poll.poll_id,
        kind=poll.kind,
        option_keys=keys,
        labels=[labels.get(key, {}) for key in keys],
        consented_counts=consented,
        anonymous_counts=anonymous,
        consented_voters=len(stored),
        total_voters=max(poll.total_voters or 0, len(stored)),
        closed=poll.closed,
    )


# --- quick polls --------------------------------------------------------------------------


async def create_quick_poll(
    question: Mapping[str, str],
    options: Sequence[Mapping[str, str]],
    *,
    multiple: bool,
    created_by: str,
    audience: str,
    session: AsyncSession,
) -> QuickPoll:
    """Store a bilingual quick poll, open; audited as "quick_poll.created".

    `question` maps "th" and "en" to text (1–300 characters); each option maps "th" and "en"
    to a label (1–100) and may name its "key" (else "o1", "o2", …); 1–12 options. Raises
    PollSpecError naming each field that breaks a rule; ValueError for a bad actor or audience.
    """
    text, checked = parse_quick_poll(question, options)
    _check_name("created_by", created_by, ACTOR_MAX_LENGTH)
    _check_name("audience", audience, AUDIENCE_MAX_LENGTH)
    poll = QuickPoll(
        question=text,
        options=checked,
        multiple=bool(multiple),
        created_by=created_by,
        audience=audience,
        status=QuickPollStatus.open,
        created_at=clock.now(),
    )
    session.add(poll)
    await session.flush()
    assert poll.id is not None
    await audit.record(
        "quick_poll.created",
        actor=created_by,
        target=_quick_target(poll.id),
        detail={"audience": audience, "options": len(checked), "multiple": poll.multiple},
        session=session,
    )
    return poll


async def get_quick_poll(quick_poll_id: int, *, session: AsyncSession) -> QuickPoll | None:
    """The quick poll with this id, or None."""
    return await session.get(QuickPoll, quick_poll_id)


async def close_quick_poll(quick_poll_id: int, *, actor: str, session: AsyncSession) -> QuickPoll:
    """Close the quick poll: no more answers are stored. Audited as "quick_poll.closed".

    Already closed: nothing changes. UnknownQuickPoll if there is no such quick poll.
    """
    poll = await _require_quick_poll(quick_poll_id, session)
    if poll.status is QuickPollStatus.closed:
        return poll
    poll.status = QuickPollStatus.closed
    poll.closed_at = clock.now()
    session.add(poll)
    await session.flush()
    await audit.record(
        "quick_poll.closed", actor=actor, target=_quick_target(quick_poll_id), session=session
    )
    return poll


async def quick_poll_polls(quick_poll_id: int, *, session: AsyncSession) -> list[SentPoll]:
    """The quick poll's polls Telegram has not reported closed: the ones to stopPoll."""
    statement = (
        select(SentPoll)
        .where(col(SentPoll.quick_poll_id) == quick_poll_id, col(SentPoll.closed).is_(False))
        .order_by(col(SentPoll.created_at), col(SentPoll.poll_id))
    )
    return list((await session.exec(statement)).all())


async def quick_poll_result(quick_poll_id: int, *, session: AsyncSession) -> QuickPollResult:
    """Per option: stored answers of consenting citizens, plus the other votes in groups.

    UnknownQuickPoll if there is no such quick poll.
    """
    poll = await _require_quick_poll(quick_poll_id, session)
    keys = [str(option["key"]) for option in poll.options]
    stored = await _consented_answers(
        _QUICK_ANSWERS, _QUICK_ANSWERS.c.quick_poll_id == quick_poll_id, session
    )
    stored_counts = _count_by_key(keys, (option_keys for option_keys, _ in stored))
    anonymous_counts = [0] * len(keys)
    anonymous_voters = 0
    groups = (
        await session.exec(
            select(SentPoll).where(
                col(SentPoll.quick_poll_id) == quick_poll_id,
                col(SentPoll.recipient_telegram_id).is_(None),
            )
        )
    ).all()
    for group in groups:
        through = [option_keys for option_keys, poll_id in stored if poll_id == group.poll_id]
        consented = _count_by_key(group.option_keys, through)
        telegram = list(group.vote_counts or [])
        for index, key in enumerate(group.option_keys):
            if key in keys and index < len(telegram):
                extra = max(0, telegram[index] - consented[index])
                anonymous_counts[keys.index(key)] += extra
        anonymous_voters += max(0, (group.total_voters or 0) - len(through))
    return QuickPollResult(
        quick_poll_id=quick_poll_id,
        question=dict(poll.question),
        status=poll.status,
        multiple=poll.multiple,
        option_keys=keys,
        labels=[
            {lang: str(option[lang]) for lang in ("th", "en") if lang in option}
            for option in poll.options
        ],
        stored_counts=stored_counts,
        anonymous_counts=anonymous_counts,
        counts=[a + b for a, b in zip(stored_counts, anonymous_counts, strict=True)],
        respondents=len(stored),
        anonymous_voters=anonymous_voters,
    )


# --- internals ----------------------------------------------------------------------------

_CATEGORIES: Final = SQLModel.metadata.tables["need_categories"]
_SURVEY_ANSWERS: Final = SQLModel.metadata.tables["survey_answers"]
_QUICK_ANSWERS: Final = SQLModel.metadata.tables["quick_poll_answers"]
_SENT_POLLS: Final = SQLModel.metadata.tables["sent_polls"]

# ("survey", question id, citizen id) or ("quick", quick poll id, citizen id)
_AnswerKey = tuple[str, int, int]
T = TypeVar("T")


@dataclass(frozen=True)
class _Answer:
    option_keys: tuple[str, ...]
    poll_id: str | None
    language: str = ""


@dataclass(frozen=True)
class _Voter:
    citizen_id: int
    language: str
    consented: bool


@dataclass(frozen=True)
class _Target:
    """A sent poll and whether what it stands for still takes answers."""

    poll_id: str
    kind: PollKind
    language: str
    option_keys: tuple[str, ...]
    question_id: int | None
    survey_id: int | None
    quick_poll_id: int | None
    open: bool

    def keys_for(self, option_ids: Sequence[int]) -> tuple[str, ...]:
        """The option keys of these indexes, in poll order; ValueError for a bad index."""
        chosen: list[str] = []
        for index in sorted(set(option_ids)):
            if isinstance(index, bool) or not 0 <= index < len(self.option_keys):
                raise ValueError(f"poll {self.poll_id} has no option {index}")
            chosen.append(self.option_keys[index])
        return tuple(chosen)

    def answer_key(self, citizen_id: int) -> _AnswerKey:
        if self.question_id is not None:
            return ("survey", self.question_id, citizen_id)
        assert self.quick_poll_id is not None
        return ("quick", self.quick_poll_id, citizen_id)


def _outcome(
    status: AnswerStatus,
    target: _Target | None,
    poll_id: str,
    telegram_user_id: int,
    option_keys: tuple[str, ...] = (),
) -> AnswerOutcome:
    return AnswerOutcome(
        status=status,
        question_id=None if target is None else target.question_id,
        survey_id=None if target is None else target.survey_id,
        quick_poll_id=None if target is None else target.quick_poll_id,
        kind=None if target is None else target.kind,
        poll_id=poll_id,
        telegram_user_id=telegram_user_id,
        option_keys=option_keys,
    )


# The vote path's reads, built once and run on the session's Core connection: building a
# statement, its cache key and the ORM's execution context cost more CPU than SQLite's work
# for a batch of 100 votes (bench/README.md, bench_needs).
_TARGETS: Final = (
    select_columns(
        col(SentPoll.poll_id),
        col(SentPoll.kind),
        col(SentPoll.language),
        col(SentPoll.option_keys),
        col(SentPoll.question_id),
        col(SentPoll.quick_poll_id),
        col(SentPoll.closed),
        col(SurveyQuestion.survey_id),
        col(Survey.status),
        col(QuickPoll.status),
    )
    .outerjoin(SurveyQuestion, col(SurveyQuestion.id) == col(SentPoll.question_id))
    .outerjoin(Survey, col(Survey.id) == col(SurveyQuestion.survey_id))
    .outerjoin(QuickPoll, col(QuickPoll.id) == col(SentPoll.quick_poll_id))
    .where(col(SentPoll.poll_id).in_(bindparam("poll_ids", expanding=True)))
)
_VOTERS: Final = (
    select_columns(
        col(Citizen.telegram_user_id),
        col(Citizen.id),
        col(Citizen.language),
        col(Consent.granted),
    )
    .outerjoin(
        Consent,
        and_(
            col(Consent.citizen_id) == col(Citizen.id),
            col(Consent.purpose) == Purpose.needs_survey,
        ),
    )
    .where(col(Citizen.telegram_user_id).in_(bindparam("user_ids", expanding=True)))
)


def _existing_statement(table: Table, parent_column: str) -> Select[Any]:
    parent = table.c[parent_column]
    return select_columns(parent, table.c.citizen_id, table.c.option_keys, table.c.poll_id).where(
        parent.in_(bindparam("parents", expanding=True)),
        table.c.citizen_id.in_(bindparam("citizens", expanding=True)),
    )


_EXISTING: Final = {
    "question_id": _existing_statement(_SURVEY_ANSWERS, "question_id"),
    "quick_poll_id": _existing_statement(_QUICK_ANSWERS, "quick_poll_id"),
}


async def _targets(poll_ids: Iterable[str], session: AsyncSession) -> dict[str, _Target]:
    """The sent polls among `poll_ids` that point at a question or quick poll (one query)."""
    targets: dict[str, _Target] = {}
    connection = await session.connection()
    for chunk in _chunks(sorted(poll_ids)):
        rows = (await connection.execute(_TARGETS, {"poll_ids": list(chunk)})).all()
        for row in rows:
            poll_id, kind, language, option_keys, sent_question_id, sent_quick_id, closed = row[:7]
            survey_id, survey_status, quick_status = row[7:]
            if PollKind(kind) is PollKind.quick:
                if quick_status is None:
                    continue
                is_open = quick_status == QuickPollStatus.open
                question_id, quick_poll_id = None, sent_quick_id
            else:
                if survey_status is None:
                    continue
                is_open = survey_status == SurveyStatus.open
                question_id, quick_poll_id = sent_question_id, None
            targets[poll_id] = _Target(
                poll_id=poll_id,
                kind=PollKind(kind),
                language=language,
                option_keys=tuple(option_keys),
                question_id=question_id,
                survey_id=survey_id,
                quick_poll_id=quick_poll_id,
                open=is_open and not closed,
            )
    return targets


async def _voters(telegram_user_ids: Iterable[int], session: AsyncSession) -> dict[int, _Voter]:
    """Registered citizens among the ids, with whether they consent to needs_survey."""
    voters: dict[int, _Voter] = {}
    connection = await session.connection()
    for chunk in _chunks(sorted(set(telegram_user_ids))):
        rows = (await connection.execute(_VOTERS, {"user_ids": list(chunk)})).all()
        for telegram_user_id, citizen_id, language, granted in rows:
            assert citizen_id is not None
            voters[telegram_user_id] = _Voter(citizen_id, language, bool(granted))
    return voters


async def _existing(
    table: Table, parent_column: str, pairs: set[tuple[int, int]], session: AsyncSession
) -> dict[_AnswerKey, _Answer | None]:
    """The stored answers for (parent id, citizen id) pairs; None where there is none."""
    kind = "survey" if parent_column == "question_id" else "quick"
    found: dict[_AnswerKey, _Answer | None] = {(kind, p, c): None for p, c in pairs}
    if not pairs:
        return found
    statement = _EXISTING[parent_column]
    parents = sorted({p for p, _ in pairs})
    citizens = sorted({c for _, c in pairs})
    connection = await session.connection()
    for parent_chunk in _chunks(parents):
        for citizen_chunk in _chunks(citizens):
            params = {"parents": list(parent_chunk), "citizens": list(citizen_chunk)}
            for parent_id, citizen_id, option_keys, poll_id in (
                await connection.execute(statement, params)
            ).all():
                key = (kind, parent_id, citizen_id)
                if key in found:
                    found[key] = _Answer(tuple(option_keys), poll_id)
    return found


async def _write_answers(
    initial: Mapping[_AnswerKey, _Answer | None],
    final: Mapping[_AnswerKey, _Answer | None],
    session: AsyncSession,
) -> None:
    """Write only what changed: one upsert per table and a delete per removed answer."""
    now = clock.now()
    survey_rows: list[dict[str, Any]] = []
    quick_rows: list[dict[str, Any]] = []
    for key, answer in final.items():
        before = initial[key]
        if answer == before or (
            answer is not None
            and before is not None
            and answer.option_keys == before.option_keys
            and answer.poll_id == before.poll_id
        ):
            continue
        kind, parent_id, citizen_id = key
        table = _SURVEY_ANSWERS if kind == "survey" else _QUICK_ANSWERS
        parent = table.c.question_id if kind == "survey" else table.c.quick_poll_id
        if answer is None:
            await session.exec(
                delete(table).where(parent == parent_id, table.c.citizen_id == citizen_id)
            )
            continue
        row: dict[str, Any] = {
            "citizen_id": citizen_id,
            "option_keys": list(answer.option_keys),
            "language": answer.language,
            "poll_id": answer.poll_id,
            "answered_at": now,
        }
        if kind == "survey":
            survey_rows.append({"question_id": parent_id, **row, "updated_at": now})
        else:
            quick_rows.append({"quick_poll_id": parent_id, **row})
    connection = await session.connection()
    if survey_rows:
        await connection.execute(_answers_upsert(session, "survey"), survey_rows)
    if quick_rows:
        await connection.execute(_answers_upsert(session, "quick"), quick_rows)


_UPSERTS: dict[tuple[str, str], Insert] = {}


def _answers_upsert(session: AsyncSession, kind: str) -> Insert:
    """The answers table's upsert for the session's backend, built once (building the
    `excluded` columns is a good part of a batch's CPU)."""
    key = (backend_of(session), kind)
    statement = _UPSERTS.get(key)
    if statement is None:
        if kind == "survey":
            table, parent, stamp = _SURVEY_ANSWERS, "question_id", "updated_at"
        else:
            table, parent, stamp = _QUICK_ANSWERS, "quick_poll_id", "answered_at"
        columns = ["option_keys", "language", "poll_id", stamp]
        statement = _UPSERTS[key] = upsert(session, table, [parent, "citizen_id"], columns)
    return statement


async def _consented_answers(
    table: Table, condition: ColumnElement[bool], session: AsyncSession
) -> list[tuple[list[str], str | None]]:
    """(option keys, poll id) of the answers matching `condition` whose citizen consents."""
    statement = (
        select(table.c.option_keys, table.c.poll_id)
        .join(
            Consent,
            and_(
                col(Consent.citizen_id) == table.c.citizen_id,
                col(Consent.purpose) == Purpose.needs_survey,
                col(Consent.granted).is_(True),
            ),
        )
        .where(condition)
    )
    return [(list(keys), poll_id) for keys, poll_id in (await session.exec(statement)).all()]


def _count_by_key(keys: Sequence[str], answers: Iterable[Sequence[str]]) -> list[int]:
    index = {key: position for position, key in enumerate(keys)}
    counts = [0] * len(keys)
    for chosen in answers:
        for key in set(chosen):
            if key in index:
                counts[index[key]] += 1
    return counts


async def _labels_of(poll: SentPoll, session: AsyncSession) -> dict[str, dict[str, str]]:
    if poll.quick_poll_id is not None:
        quick = await session.get(QuickPoll, poll.quick_poll_id)
        if quick is None:
            return {}
        return {
            str(option["key"]): {lang: str(option[lang]) for lang in ("th", "en") if lang in option}
            for option in quick.options
        }
    if poll.question_id is None:
        return {}
    options = (
        await session.exec(
            select(SurveyOption).where(col(SurveyOption.question_id) == poll.question_id)
        )
    ).all()
    return {option.key: dict(option.label) for option in options}


def _answered_question_ids(survey_id: int, telegram_user_id: int) -> SelectOfScalar[int]:
    return (
        select(col(SurveyAnswer.question_id))
        .join(Citizen, col(Citizen.id) == col(SurveyAnswer.citizen_id))
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .where(
            col(Citizen.telegram_user_id) == telegram_user_id,
            col(SurveyQuestion.survey_id) == survey_id,
        )
    )


async def _view_of(survey: Survey, session: AsyncSession) -> SurveyView:
    assert survey.id is not None
    questions = (
        await session.exec(
            select(SurveyQuestion)
            .where(col(SurveyQuestion.survey_id) == survey.id)
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        )
    ).all()
    return SurveyView(
        id=survey.id,
        key=survey.key,
        version=survey.version,
        title=dict(survey.title),
        status=survey.status,
        questions=tuple(await question_views(list(questions), session)),
    )


async def question_views(
    questions: Sequence[SurveyQuestion], session: AsyncSession
) -> list[QuestionView]:
    """Views of the questions, in the order given, with their options (one query)."""
    ids = [question.id for question in questions if question.id is not None]
    by_question: dict[int, list[OptionView]] = {question_id: [] for question_id in ids}
    if ids:
        options = (
            await session.exec(
                select(SurveyOption)
                .where(col(SurveyOption.question_id).in_(ids))
                .order_by(col(SurveyOption.position), col(SurveyOption.id))
            )
        ).all()
        for option in options:
            assert option.id is not None
            by_question[option.question_id].append(
                OptionView(
                    id=option.id,
                    key=option.key,
                    position=option.position,
                    label=dict(option.label),
                    category_key=option.category_key,
                )
            )
    views: list[QuestionView] = []
    for question in questions:
        assert question.id is not None
        views.append(
            QuestionView(
                id=question.id,
                survey_id=question.survey_id,
                key=question.key,
                position=question.position,
                text=dict(question.text),
                multiple=question.multiple,
                options=tuple(by_question[question.id]),
            )
        )
    return views


async def _close(
    survey: Survey, now: datetime, actor: str, session: AsyncSession, *, reason: str | None = None
) -> None:
    assert survey.id is not None
    survey.status = SurveyStatus.closed
    survey.closed_at = now
    session.add(survey)
    await session.flush()
    detail: dict[str, object] = {"key": survey.key, "version": survey.version}
    if reason is not None:
        detail["reason"] = reason
    await audit.record(
        "survey.closed",
        actor=actor,
        target=_survey_target(survey.id),
        detail=detail,
        session=session,
    )


async def _require_survey(survey_id: int, session: AsyncSession) -> Survey:
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise UnknownSurvey(survey_id)
    return survey


async def _require_quick_poll(quick_poll_id: int, session: AsyncSession) -> QuickPoll:
    poll = await session.get(QuickPoll, quick_poll_id)
    if poll is None:
        raise UnknownQuickPoll(quick_poll_id)
    return poll


def _survey_target(survey_id: int) -> str:
    return f"survey:{survey_id}"


def _quick_target(quick_poll_id: int) -> str:
    return f"quick_poll:{quick_poll_id}"


def _check_name(name: str, value: str, max_length: int) -> None:
    if not value:
        raise ValueError(f"{name} is required")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]
