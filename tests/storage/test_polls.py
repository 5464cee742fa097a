"""Votes in native polls: stored by option key, one answer per person, consent first.

Groups hold people who did not consent: they are counted from Telegram's totals, never stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from storage import audit
from storage.citizens import set_consent
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import PollKind, Purpose, QuickPollStatus
from storage.errors import PollSpecError, UnknownQuickPoll
from storage.models import QuickPoll, QuickPollAnswer, SurveyAnswer
from storage.surveys import (
    AnswerOutcome,
    GroupPollResult,
    QuestionView,
    QuickPollResult,
    SurveyView,
    close_quick_poll,
    close_survey,
    create_quick_poll,
    group_poll_result,
    quick_poll_polls,
    quick_poll_result,
    record_poll_answer,
    record_poll_answers,
    record_poll_counts,
    record_sent_poll,
    sent_poll,
    survey_polls,
    survey_view,
)
from tests.storage.conftest import START
from tests.storage.factories import registered
from tests.storage.survey_helpers import (
    FACILITATOR,
    OFFICER,
    imported,
    opened,
    sent_privately,
)

GROUP = -1001234567890
NO_SURVEY_CONSENT = {Purpose.reminders: True}


async def answers(db: Database) -> list[tuple[int, int, list[str], str, str | None]]:
    """(question id, citizen id, option keys, language, poll id) of every survey answer."""
    async with db.session() as session:
        rows = (await session.exec(select(SurveyAnswer).order_by(col(SurveyAnswer.id)))).all()
    return [(a.question_id, a.citizen_id, a.option_keys, a.language, a.poll_id) for a in rows]


async def vote(db: Database, poll_id: str, person: int, *option_ids: int) -> AnswerOutcome:
    async with db.session() as session:
        return await record_poll_answer(poll_id, person, list(option_ids), session=session)


async def sent_to_group(db: Database, question: QuestionView, poll_id: str = "g1") -> None:
    async with db.session() as session:
        await record_sent_poll(
            poll_id,
            chat_id=GROUP,
            message_id=7,
            kind=PollKind.group,
            question_id=question.id,
            option_keys=question.option_keys,
            language="both",
            session=session,
        )


@pytest.fixture
async def survey(db: Database) -> SurveyView:
    """The small survey, open, and Anna (1001, Thai) with every consent."""
    view = await opened(db)
    await registered(db, 1001, language="th")
    return view


# --- sent polls ---------------------------------------------------------------------------


async def test_a_sent_poll_is_remembered_with_its_option_keys(
    db: Database, survey: SurveyView, clock: ManualClock
) -> None:
    topics = survey.questions[0]
    await sent_privately(db, topics, 1001, "5012345678901234567", option_keys=["other", "digital"])
    async with db.session() as session:
        poll = await sent_poll("5012345678901234567", session=session)
        assert await sent_poll("nope", session=session) is None
        open_polls = await survey_polls(survey.id, session=session)
    assert poll is not None
    assert (poll.kind, poll.question_id, poll.quick_poll_id) == (PollKind.survey, topics.id, None)
    assert (poll.chat_id, poll.recipient_telegram_id, poll.language) == (1001, 1001, "th")
    assert poll.option_keys == ["other", "digital"]
    assert (poll.closed, poll.vote_counts, poll.total_voters, poll.created_at) == (
        False,
        None,
        None,
        clock(),
    )
    assert [p.poll_id for p in open_polls] == ["5012345678901234567"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"option_keys": ["digital", "cooking"]}, "not in the question"),
        ({"option_keys": ["digital", "digital"]}, "each once"),
        ({"option_keys": []}, "each once"),
        ({"language": "ms"}, "language"),
        ({"recipient_telegram_id": None}, "recipient"),
        ({"quick_poll_id": 1}, "no quick poll"),
        ({"question_id": 999}, "no survey question 999"),
    ],
)
async def test_a_sent_poll_that_does_not_match_its_question_is_refused(
    db: Database, survey: SurveyView, changes: dict[str, Any], message: str
) -> None:
    topics = survey.questions[0]
    options: dict[str, Any] = {
        "chat_id": 1001,
        "message_id": 1,
        "kind": "survey",
        "question_id": topics.id,
        "option_keys": topics.option_keys,
        "language": "th",
        "recipient_telegram_id": 1001,
    }
    options.update(changes)
    with pytest.raises(ValueError, match=message):
        async with db.session() as session:
            await record_sent_poll("p", session=session, **options)


async def test_a_group_poll_has_no_recipient(db: Database, survey: SurveyView) -> None:
    with pytest.raises(ValueError, match="recipient"):
        async with db.session() as session:
            await record_sent_poll(
                "g",
                chat_id=GROUP,
                message_id=1,
                kind="group",
                question_id=survey.questions[0].id,
                option_keys=survey.questions[0].option_keys,
                language="both",
                recipient_telegram_id=1001,
                session=session,
            )


# --- one citizen's answers ----------------------------------------------------------------


async def test_a_vote_is_stored_by_option_key(db: Database, survey: SurveyView) -> None:
    topics = survey.questions[0]
    await sent_privately(db, topics, 1001, "p1")
    outcome = await vote(db, "p1", 1001, 2, 0)
    assert outcome == AnswerOutcome(
        status="stored",
        question_id=topics.id,
        survey_id=survey.id,
        quick_poll_id=None,
        kind=PollKind.survey,
        poll_id="p1",
        telegram_user_id=1001,
        option_keys=("digital", "other"),
    )
    assert outcome.changed
    ((question_id, _, keys, language, poll_id),) = await answers(db)
    assert (question_id, keys, language, poll_id) == (topics.id, ["digital", "other"], "th", "p1")


async def test_a_changed_vote_replaces_the_answer_and_the_same_vote_changes_nothing(
    db: Database, survey: SurveyView, clock: ManualClock
) -> None:
    await sent_privately(db, survey.questions[0], 1001, "p1")
    await vote(db, "p1", 1001, 0)
    clock.advance(minutes=2)
    replaced = await vote(db, "p1", 1001, 1, 2)
    clock.advance(minutes=2)
    unchanged = await vote(db, "p1", 1001, 2, 1)
    assert (replaced.status, replaced.option_keys) == ("replaced", ("languages", "other"))
    assert (unchanged.status, unchanged.changed) == ("unchanged", False)
    async with db.session() as session:
        (answer,) = (await session.exec(select(SurveyAnswer))).all()
    assert answer.option_keys == ["languages", "other"]
    assert (answer.answered_at, answer.updated_at) == (START, START.replace(minute=32))


async def test_a_retracted_vote_removes_the_answer(db: Database, survey: SurveyView) -> None:
    await sent_privately(db, survey.questions[0], 1001, "p1")
    await vote(db, "p1", 1001, 0)
    removed = await vote(db, "p1", 1001)
    again = await vote(db, "p1", 1001)
    assert (removed.status, removed.option_keys, removed.changed) == ("removed", (), True)
    assert again.status == "unchanged"
    assert await answers(db) == []


async def test_a_poll_the_bot_did_not_send_is_ignored(db: Database, survey: SurveyView) -> None:
    outcome = await vote(db, "someone-elses-poll", 1001, 0)
    assert outcome == AnswerOutcome(
        "unknown_poll", None, None, None, None, "someone-elses-poll", 1001
    )
    assert await answers(db) == []


async def test_votes_after_the_survey_closed_are_ignored(db: Database, survey: SurveyView) -> None:
    await sent_privately(db, survey.questions[0], 1001, "p1")
    await vote(db, "p1", 1001, 0)
    async with db.session() as session:
        await close_survey(survey.id, actor=OFFICER, session=session)
    closed = await vote(db, "p1", 1001, 1)
    retracted = await vote(db, "p1", 1001)
    assert (closed.status, closed.question_id, closed.survey_id) == (
        "closed",
        survey.questions[0].id,
        survey.id,
    )
    assert retracted.status == "closed"
    assert [a[2] for a in await answers(db)] == [["digital"]]


async def test_votes_in_a_draft_survey_are_ignored(db: Database) -> None:
    draft = await imported(db)
    await registered(db, 1001)
    assert draft.id is not None
    async with db.session() as session:
        view = await survey_view(draft.id, session=session)
    assert view is not None
    await sent_privately(db, view.questions[0], 1001, "p1")
    assert (await vote(db, "p1", 1001, 0)).status == "closed"
    assert await answers(db) == []


async def test_a_poll_telegram_reported_closed_takes_no_votes(
    db: Database, survey: SurveyView
) -> None:
    await sent_privately(db, survey.questions[0], 1001, "p1")
    async with db.session() as session:
        assert await record_poll_counts("p1", [0, 0, 0], 0, True, session=session)
    assert (await vote(db, "p1", 1001, 0)).status == "closed"
    assert await answers(db) == []


async def test_without_consent_to_the_survey_nothing_is_stored(
    db: Database, survey: SurveyView
) -> None:
    await registered(db, 1002, consents=NO_SURVEY_CONSENT)
    await sent_privately(db, survey.questions[0], 1002, "p2")
    await sent_privately(db, survey.questions[0], 1001, "p1")
    assert (await vote(db, "p2", 1002, 0)).status == "no_consent"
    await vote(db, "p1", 1001, 0)
    async with db.session() as session:
        await set_consent(1001, Purpose.needs_survey, False, session=session)
    withdrawn = await vote(db, "p1", 1001, 1)
    stranger = await vote(db, "p1", 4242, 1)
    assert (withdrawn.status, stranger.status) == ("no_consent", "not_registered")
    assert [a[2] for a in await answers(db)] == [["digital"]]  # untouched by the refused vote


async def test_a_poll_in_both_languages_stores_the_citizens_language(
    db: Database, survey: SurveyView
) -> None:
    await registered(db, 1002, language="en")
    await sent_to_group(db, survey.questions[0])
    await vote(db, "g1", 1001, 0)
    await vote(db, "g1", 1002, 0)
    assert [(a[3], a[4]) for a in await answers(db)] == [("th", "g1"), ("en", "g1")]


async def test_an_option_the_poll_does_not_have_is_an_error(
    db: Database, survey: SurveyView
) -> None:
    await sent_privately(db, survey.questions[1], 1001, "p1")
    with pytest.raises(ValueError, match="no option 2"):
        await vote(db, "p1", 1001, 2)
    assert await answers(db) == []


async def test_retracting_in_one_poll_keeps_the_answer_given_in_another(
    db: Database, survey: SurveyView
) -> None:
    topics = survey.questions[0]
    await sent_to_group(db, topics)
    await sent_privately(db, topics, 1001, "p1")
    assert (await vote(db, "g1", 1001, 0)).status == "stored"
    assert (await vote(db, "p1", 1001, 1)).status == "replaced"
    assert (await vote(db, "g1", 1001)).status == "unchanged"
    assert [(a[2], a[4]) for a in await answers(db)] == [(["languages"], "p1")]


# --- many votes at once -------------------------------------------------------------------


async def test_a_batch_stores_in_order_and_the_last_vote_of_a_person_wins(
    db: Database, survey: SurveyView
) -> None:
    topics, fmt = survey.questions[0], survey.questions[1]
    await registered(db, 1002, consents=NO_SURVEY_CONSENT)
    await registered(db, 1003)
    await sent_to_group(db, topics)
    await sent_privately(db, fmt, 1003, "f3")
    batch: list[tuple[str, int, list[int]]] = [
        ("g1", 1001, [0]),
        ("g1", 1002, [1]),
        ("g1", 1001, [1]),
        ("nope", 1001, [0]),
        ("g1", 4242, [0]),
        ("g1", 1003, [2]),
        ("f3", 1003, [0]),
        ("g1", 1003, []),
        ("f3", 1003, [1]),
        ("g1", 1001, [1]),
    ]
    async with db.session() as session:
        outcomes = await record_poll_answers(batch, session=session)
    assert [o.status for o in outcomes] == [
        "stored",
        "no_consent",
        "replaced",
        "unknown_poll",
        "not_registered",
        "stored",
        "stored",
        "removed",
        "replaced",
        "unchanged",
    ]
    assert [o.option_keys for o in outcomes][:3] == [("digital",), (), ("languages",)]
    by_person = {(a[0], a[1]): a[2] for a in await answers(db)}
    citizens = {1001: 1, 1003: 3}
    assert by_person == {
        (topics.id, citizens[1001]): ["languages"],
        (fmt.id, citizens[1003]): ["online"],
    }


async def test_a_batch_gives_the_same_outcomes_as_one_by_one(
    db: Database, survey: SurveyView
) -> None:
    await sent_privately(db, survey.questions[0], 1001, "p1")
    batch: list[tuple[str, int, list[int]]] = [
        ("p1", 1001, [0]),
        ("p1", 1001, [0]),
        ("p1", 1001, [1]),
        ("p1", 1001, []),
    ]
    async with db.session() as session:
        together = await record_poll_answers(batch, session=session)
    one_by_one = [await vote(db, poll, person, *ids) for poll, person, ids in batch]
    assert together == one_by_one
    assert await answers(db) == []
    async with db.session() as session:
        assert await record_poll_answers([], session=session) == []


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """Collect the SQL statements run meanwhile (transaction control left out)."""
    statements: list[str] = []

    def before(
        _conn: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def test_storing_a_vote_takes_a_handful_of_statements(
    db: Database, survey: SurveyView
) -> None:
    await sent_privately(db, survey.questions[0], 1001, "p1")
    with counting_statements(db) as statements:
        await vote(db, "p1", 1001, 0)
    assert len(statements) <= 4


async def test_a_batch_of_many_votes_takes_about_as_many_statements_as_one(
    db: Database, survey: SurveyView
) -> None:
    people = range(2001, 2041)
    for person in people:
        await registered(db, person)
    await sent_to_group(db, survey.questions[0])
    with counting_statements(db) as statements:
        async with db.session() as session:
            outcomes = await record_poll_answers(
                [("g1", person, [person % 3]) for person in people], session=session
            )
    assert {o.status for o in outcomes} == {"stored"}
    assert len(statements) <= 5
    assert len(await answers(db)) == 40


# --- Telegram's counts and group results --------------------------------------------------


async def test_counts_from_telegram_are_kept_and_a_closed_poll_stays_closed(
    db: Database, survey: SurveyView
) -> None:
    await sent_to_group(db, survey.questions[0])
    async with db.session() as session:
        assert await record_poll_counts("g1", [3, 1, 0], 4, False, session=session)
        assert not await record_poll_counts("nope", [1], 1, False, session=session)
        poll = await sent_poll("g1", session=session)
    assert poll is not None and (poll.vote_counts, poll.total_voters, poll.closed) == (
        [3, 1, 0],
        4,
        False,
    )
    async with db.session() as session:
        assert await record_poll_counts("g1", [3, 2, 0], 5, True, session=session)
        assert await record_poll_counts("g1", [3, 2, 0], 5, False, session=session)
        poll = await sent_poll("g1", session=session)
        assert await survey_polls(survey.id, session=session) == []
    assert poll is not None and (poll.vote_counts, poll.total_voters, poll.closed) == (
        [3, 2, 0],
        5,
        True,
    )
    with pytest.raises(ValueError, match="negative"):
        async with db.session() as session:
            await record_poll_counts("g1", [-1, 0, 0], 0, False, session=session)


async def test_a_group_polls_consenting_votes_are_stored_and_the_rest_only_counted(
    db: Database, survey: SurveyView
) -> None:
    topics = survey.questions[0]
    await registered(db, 1002)
    await registered(db, 1003, consents=NO_SURVEY_CONSENT)
    await sent_to_group(db, topics)
    await vote(db, "g1", 1001, 0, 1)  # consented
    await vote(db, "g1", 1002, 0)  # consented
    await vote(db, "g1", 1003, 0)  # registered, no consent: only counted
    await vote(db, "g1", 4242, 2)  # a stranger: only counted
    async with db.session() as session:
        await record_poll_counts("g1", [3, 1, 1], 4, False, session=session)
        result = await group_poll_result("g1", session=session)
        assert await group_poll_result("nope", session=session) is None
    assert result == GroupPollResult(
        poll_id="g1",
        kind=PollKind.group,
        option_keys=["digital", "languages", "other"],
        labels=[
            {"th": "ทักษะดิจิทัล", "en": "Digital skills"},
            {"th": "ภาษา", "en": "Languages"},
            {"th": "อื่น ๆ", "en": "Something else"},
        ],
        consented_counts=[2, 1, 0],
        anonymous_counts=[1, 0, 1],
        consented_voters=2,
        total_voters=4,
        closed=False,
    )
    assert result.anonymous_voters == 2


async def test_anonymous_counts_never_go_below_zero(db: Database, survey: SurveyView) -> None:
    await sent_to_group(db, survey.questions[0])
    await vote(db, "g1", 1001, 0)
    async with db.session() as session:
        before_counts = await group_poll_result("g1", session=session)
        await record_poll_counts("g1", [0, 1, 0], 1, False, session=session)  # Telegram lags
        lagging = await group_poll_result("g1", session=session)
    assert before_counts is not None and lagging is not None
    assert (before_counts.anonymous_counts, before_counts.total_voters) == ([0, 0, 0], 1)
    assert (lagging.consented_counts, lagging.anonymous_counts) == ([1, 0, 0], [0, 1, 0])
    assert lagging.total_voters == 1


async def test_a_citizen_who_withdraws_consent_is_only_counted(
    db: Database, survey: SurveyView
) -> None:
    await sent_to_group(db, survey.questions[0])
    await vote(db, "g1", 1001, 1)
    async with db.session() as session:
        await record_poll_counts("g1", [0, 1, 0], 1, False, session=session)
        await set_consent(1001, Purpose.needs_survey, False, session=session)
        result = await group_poll_result("g1", session=session)
    assert result is not None
    assert (result.consented_counts, result.anonymous_counts) == ([0, 0, 0], [0, 1, 0])


# --- quick polls --------------------------------------------------------------------------

QUESTION = {"th": "สภากาแฟครั้งหน้าควรคุยเรื่องใด", "en": "What should the next coffee council discuss?"}
OPTIONS = [
    {"key": "market", "th": "ตลาดชุมชน", "en": "The community market"},
    {"key": "park", "th": "สวนสาธารณะ", "en": "The park"},
    {"key": "health", "th": "การตรวจสุขภาพ", "en": "Health check-ups"},
]


async def quick(db: Database, **kwargs: Any) -> QuickPoll:
    options: dict[str, Any] = {
        "multiple": False,
        "created_by": FACILITATOR,
        "audience": "citizens:needs_survey",
    }
    options.update(kwargs)
    async with db.session() as session:
        return await create_quick_poll(QUESTION, OPTIONS, session=session, **options)


async def send_quick(
    db: Database, poll: QuickPoll, poll_id: str, recipient: int | None, language: str = "th"
) -> None:
    assert poll.id is not None
    async with db.session() as session:
        await record_sent_poll(
            poll_id,
            chat_id=recipient if recipient is not None else GROUP,
            message_id=9,
            kind="quick",
            quick_poll_id=poll.id,
            option_keys=[o["key"] for o in poll.options],
            language=language,
            recipient_telegram_id=recipient,
            session=session,
        )


async def test_a_quick_poll_is_stored_open_and_audited(db: Database, clock: ManualClock) -> None:
    poll = await quick(db, multiple=True)
    assert (poll.question, poll.multiple, poll.status) == (QUESTION, True, QuickPollStatus.open)
    assert poll.options == OPTIONS
    assert (poll.created_by, poll.audience, poll.created_at) == (
        FACILITATOR,
        "citizens:needs_survey",
        clock(),
    )
    async with db.session() as session:
        (entry,) = await audit.all_entries(session=session)
    assert (entry.action, entry.actor, entry.target) == (
        "quick_poll.created",
        FACILITATOR,
        f"quick_poll:{poll.id}",
    )
    assert entry.detail == {"audience": "citizens:needs_survey", "options": 3, "multiple": True}


async def test_quick_poll_options_get_keys_by_position_when_none_is_given(db: Database) -> None:
    async with db.session() as session:
        poll = await create_quick_poll(
            {"th": " ใช่หรือไม่ ", "en": "Yes or no?"},
            [{"th": "ใช่", "en": "Yes"}, {"th": "ไม่", "en": "No"}],
            multiple=False,
            created_by=FACILITATOR,
            audience=f"group:{GROUP}",
            session=session,
        )
    assert poll.question == {"th": "ใช่หรือไม่", "en": "Yes or no?"}
    assert poll.options == [
        {"key": "o1", "th": "ใช่", "en": "Yes"},
        {"key": "o2", "th": "ไม่", "en": "No"},
    ]


@pytest.mark.parametrize(
    ("question", "options", "message"),
    [
        ({"th": "คำถาม"}, OPTIONS, "question.en: missing translation"),
        ({"th": "ก" * 301, "en": "q"}, OPTIONS, r"question.th: at most 300 characters \(has 301\)"),
        (QUESTION, [], "options: at least 1 option"),
        (QUESTION, [{"th": "ก", "en": "a"}] * 13, r"options\[12\]: at most 12 options"),
        (QUESTION, [{"th": "ก", "en": "x" * 101}], r"options\[0\].en: at most 100 characters"),
        (QUESTION, [{"th": "ก"}], r"options\[0\].en: missing translation"),
        (QUESTION, [OPTIONS[0], OPTIONS[0]], r'options\[1\].key: duplicate key "market"'),
        (QUESTION, [{"key": "Big", "th": "ก", "en": "a"}], r"options\[0\].key: must be 1–48"),
        (QUESTION, [{"th": "ก", "en": "a", "ms": "b"}], r"options\[0\].ms: unknown field"),
    ],
)
async def test_a_quick_poll_breaking_a_rule_is_refused_and_nothing_is_stored(
    db: Database, question: dict[str, str], options: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(PollSpecError, match=message):
        async with db.session() as session:
            await create_quick_poll(
                question,
                options,
                multiple=False,
                created_by=FACILITATOR,
                audience="citizens:needs_survey",
                session=session,
            )
    async with db.session() as session:
        assert (await session.exec(select(QuickPoll))).all() == []
        assert await audit.all_entries(session=session) == []


async def test_quick_poll_answers_follow_the_same_rules(db: Database) -> None:
    await registered(db, 1001, language="en")
    await registered(db, 1002, consents=NO_SURVEY_CONSENT)
    poll = await quick(db)
    await send_quick(db, poll, "q1", 1001, language="both")
    await send_quick(db, poll, "q2", 1002)
    stored = await vote(db, "q1", 1001, 2)
    replaced = await vote(db, "q1", 1001, 1)
    refused = await vote(db, "q2", 1002, 0)
    assert (stored.status, stored.kind, stored.quick_poll_id, stored.question_id) == (
        "stored",
        PollKind.quick,
        poll.id,
        None,
    )
    assert (replaced.status, replaced.option_keys, refused.status) == (
        "replaced",
        ("park",),
        "no_consent",
    )
    async with db.session() as session:
        (answer,) = (await session.exec(select(QuickPollAnswer))).all()
    assert (answer.option_keys, answer.language, answer.poll_id) == (["park"], "en", "q1")
    assert (await vote(db, "q1", 1001)).status == "removed"
    async with db.session() as session:
        assert (await session.exec(select(QuickPollAnswer))).all() == []


async def test_closing_a_quick_poll_stops_answers_and_lists_the_polls_to_stop(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, 1001)
    poll = await quick(db)
    assert poll.id is not None
    await send_quick(db, poll, "q1", 1001)
    await send_quick(db, poll, "qg", None, language="both")
    async with db.session() as session:
        await record_poll_counts("qg", [0, 0, 0], 0, True, session=session)  # stopped already
        to_stop = await quick_poll_polls(poll.id, session=session)
    assert [p.poll_id for p in to_stop] == ["q1"]
    clock.advance(hours=1)
    async with db.session() as session:
        closed = await close_quick_poll(poll.id, actor=FACILITATOR, session=session)
        await close_quick_poll(poll.id, actor=FACILITATOR, session=session)  # again: nothing
        actions = [e.action for e in await audit.all_entries(session=session)]
    assert (closed.status, closed.closed_at) == (QuickPollStatus.closed, clock())
    assert actions[-2:] == ["quick_poll.created", "quick_poll.closed"]
    assert (await vote(db, "q1", 1001, 0)).status == "closed"
    async with db.session() as session:
        with pytest.raises(UnknownQuickPoll):
            await close_quick_poll(999, actor=FACILITATOR, session=session)
        with pytest.raises(UnknownQuickPoll):
            await quick_poll_result(999, session=session)


async def test_a_quick_polls_result_adds_stored_answers_and_anonymous_group_votes(
    db: Database,
) -> None:
    for person in (1001, 1002, 1003):
        await registered(db, person)
    await registered(db, 1004, consents=NO_SURVEY_CONSENT)
    poll = await quick(db)
    assert poll.id is not None
    await send_quick(db, poll, "q1", 1001)
    await send_quick(db, poll, "q2", 1002)
    await send_quick(db, poll, "qg", None, language="both")
    await vote(db, "q1", 1001, 0)  # privately
    await vote(db, "q2", 1002, 2)  # privately
    await vote(db, "qg", 1003, 0)  # in the group, consented
    await vote(db, "qg", 1004, 1)  # in the group, no consent
    await vote(db, "qg", 5555, 1)  # in the group, a stranger
    async with db.session() as session:
        await record_poll_counts("qg", [1, 2, 0], 3, False, session=session)
        result = await quick_poll_result(poll.id, session=session)
    assert result == QuickPollResult(
        quick_poll_id=poll.id,
        question=QUESTION,
        status=QuickPollStatus.open,
        multiple=False,
        option_keys=["market", "park", "health"],
        labels=[{"th": o["th"], "en": o["en"]} for o in OPTIONS],
        stored_counts=[2, 0, 1],
        anonymous_counts=[0, 2, 0],
        counts=[2, 2, 1],
        respondents=3,
        anonymous_voters=2,
    )
    assert result.total_voters == 5
    async with db.session() as session:
        group = await group_poll_result("qg", session=session)
    assert group is not None
    assert (group.consented_counts, group.anonymous_counts, group.labels[0]) == (
        [1, 0, 0],
        [0, 2, 0],
        {"th": "ตลาดชุมชน", "en": "The community market"},
    )


async def test_a_quick_poll_needs_a_known_id_and_sensible_names(db: Database) -> None:
    with pytest.raises(UnknownQuickPoll):
        async with db.session() as session:
            await record_sent_poll(
                "q",
                chat_id=1,
                message_id=1,
                kind="quick",
                quick_poll_id=42,
                option_keys=["o1"],
                language="th",
                recipient_telegram_id=1,
                session=session,
            )
    with pytest.raises(ValueError, match="audience"):
        await quick(db, audience="")
    with pytest.raises(ValueError, match="created_by"):
        await quick(db, created_by="x" * 65)
