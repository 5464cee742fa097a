"""Learning-needs surveys: checked files, versions, one open survey, progress and free text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import audit
from storage.citizens import set_consent
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import Purpose, SurveyStatus, UnescoFeature
from storage.errors import (
    ConsentRequired,
    NotRegistered,
    SurveyFileError,
    UnknownSurvey,
    UnsupportedLanguage,
)
from storage.models import (
    AuditEntry,
    Citizen,
    FreeTextNeed,
    NeedCategory,
    Survey,
    SurveyOption,
    SurveyQuestion,
)
from storage.survey_spec import (
    OPTION_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    OptionSpec,
    QuestionSpec,
    SurveySpec,
)
from storage.surveys import (
    FREE_TEXT_MAX_LENGTH,
    SurveySummary,
    add_free_text,
    close_survey,
    import_survey,
    list_surveys,
    load_survey_file,
    next_question,
    open_survey,
    open_survey_now,
    parse_survey_file,
    progress,
    record_poll_answer,
    survey_view,
)
from tests.storage.factories import registered
from tests.storage.survey_helpers import (
    OFFICER,
    SMALL_SURVEY,
    imported,
    opened,
    sent_privately,
    survey_file,
)

DEFAULT_SURVEY = Path(__file__).resolve().parents[2] / "bot" / "data" / "surveys" / "default.yaml"
Mutation = Callable[[dict[str, Any]], object]


def question(data: dict[str, Any], index: int) -> dict[str, Any]:
    result: dict[str, Any] = data["questions"][index]
    return result


def option(data: dict[str, Any], q: int, o: int) -> dict[str, Any]:
    result: dict[str, Any] = question(data, q)["options"][o]
    return result


def thirteen_options(data: dict[str, Any]) -> None:
    question(data, 2)["options"] = [
        {"key": f"o{i}", "label": {"th": f"ตัวเลือก {i}", "en": f"Option {i}"}} for i in range(13)
    ]


RULES: list[tuple[str, Mutation, str]] = [
    ("unknown top field", lambda d: d.update(version=2), "version: unknown field"),
    ("key missing", lambda d: d.pop("key"), "key: required"),
    ("key pattern", lambda d: d.update(key="Needs-2026"), "key: must be 1–48 characters"),
    ("key too long", lambda d: d.update(key="k" * 49), "key: must be 1–48 characters"),
    ("title translation", lambda d: d["title"].pop("en"), "title.en: missing translation"),
    (
        "unsupported language",
        lambda d: question(d, 0)["text"].update(ms="Apa yang anda mahu belajar?"),
        r"questions\[0\].text.ms: unsupported language",
    ),
    ("no questions", lambda d: d.update(questions=[]), "questions: at least 1 question"),
    (
        "question translation",
        lambda d: question(d, 0)["text"].pop("en"),
        r"questions\[0\].text.en: missing translation",
    ),
    (
        "question blank",
        lambda d: question(d, 1)["text"].update(th="   "),
        r"questions\[1\].text.th: must not be empty",
    ),
    (
        "question too long",
        lambda d: question(d, 1)["text"].update(th="ก" * (QUESTION_MAX_LENGTH + 1)),
        r"questions\[1\].text.th: at most 300 characters \(has 301\)",
    ),
    (
        "question not text",
        lambda d: question(d, 1)["text"].update(en=42),
        r"questions\[1\].text.en: must be text",
    ),
    (
        "no options",
        lambda d: question(d, 0).update(options=[]),
        r"questions\[0\].options: at least 1 option",
    ),
    ("too many options", thirteen_options, r"questions\[2\].options\[12\]: at most 12 options"),
    (
        "option too long",
        lambda d: option(d, 0, 1)["label"].update(en="x" * (OPTION_MAX_LENGTH + 1)),
        r"questions\[0\].options\[1\].label.en: at most 100 characters \(has 101\)",
    ),
    (
        "option translation",
        lambda d: option(d, 1, 0)["label"].pop("th"),
        r"questions\[1\].options\[0\].label.th: missing translation",
    ),
    (
        "duplicate question key",
        lambda d: question(d, 1).update(key="topics"),
        r'questions\[1\].key: duplicate key "topics"',
    ),
    (
        "duplicate option key",
        lambda d: option(d, 0, 1).update(key="digital"),
        r'questions\[0\].options\[1\].key: duplicate key "digital"',
    ),
    (
        "option key pattern",
        lambda d: option(d, 0, 0).update(key="Digital skills"),
        r"questions\[0\].options\[0\].key: must be 1–48 characters",
    ),
    (
        "unknown category",
        lambda d: option(d, 0, 2).update(category="cooking"),
        r'questions\[0\].options\[2\].category: unknown category "cooking"',
    ),
    (
        "unknown field",
        lambda d: question(d, 0).update(multipe=True),
        r"questions\[0\].multipe: unknown field",
    ),
    (
        "multiple not a flag",
        lambda d: question(d, 0).update(multiple="yes"),
        r"questions\[0\].multiple: must be true or false",
    ),
    (
        "category feature",
        lambda d: d["categories"][0].update(unesco_feature="digital"),
        r"categories\[0\].unesco_feature: must be one of inclusive_learning",
    ),
    (
        "category sdg range",
        lambda d: d["categories"][0].update(sdgs=[4, 18]),
        r"categories\[0\].sdgs\[1\]: must be an SDG number from 1 to 17",
    ),
    (
        "category sdg repeated",
        lambda d: d["categories"][1].update(sdgs=[4, 4]),
        r"categories\[1\].sdgs\[1\]: duplicate SDG 4",
    ),
    (
        "category without sdgs",
        lambda d: d["categories"][1].update(sdgs=[]),
        r"categories\[1\].sdgs: at least 1 SDG",
    ),
    (
        "category name",
        lambda d: d["categories"][1]["name"].pop("th"),
        r"categories\[1\].name.th: missing translation",
    ),
    (
        "duplicate category",
        lambda d: d["categories"][1].update(key="digital_skills"),
        r'categories\[1\].key: duplicate key "digital_skills"',
    ),
]


# --- the file rules -----------------------------------------------------------------------


def test_the_small_survey_file_is_valid() -> None:
    spec = parse_survey_file(SMALL_SURVEY)
    assert spec.key == "needs_test"
    assert [q.key for q in spec.questions] == ["topics", "format", "time"]
    assert spec.questions[0].multiple and not spec.questions[1].multiple
    assert [o.category for o in spec.questions[0].options] == ["digital_skills", "languages", None]
    assert spec.categories[0].unesco_feature is UnescoFeature.learning_technologies
    assert spec.categories[0].sdgs == (4, 8, 9)


@pytest.mark.parametrize(("mutate", "message"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_rule_is_refused_naming_the_field(mutate: Mutation, message: str) -> None:
    data = survey_file()
    mutate(data)
    with pytest.raises(SurveyFileError, match=message):
        parse_survey_file(data)


def test_every_broken_rule_is_reported_at_once() -> None:
    data = survey_file(key="BAD")
    question(data, 0)["text"].pop("en")
    option(data, 1, 1)["label"]["th"] = ""
    with pytest.raises(SurveyFileError) as raised:
        parse_survey_file(data)
    assert raised.value.problems == (
        "key: must be 1–48 characters of a–z, 0–9 and _",
        "questions[0].text.en: missing translation",
        "questions[1].options[1].label.th: must not be empty",
    )


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(SurveyFileError, match="file: must be a mapping"):
        parse_survey_file(["questions"])


def test_texts_are_stored_without_surrounding_blanks() -> None:
    data = survey_file()
    question(data, 0)["text"]["en"] = "  What would you like to learn?\n"
    assert parse_survey_file(data).questions[0].text["en"] == "What would you like to learn?"


def test_twelve_options_of_100_characters_and_300_character_questions_are_accepted() -> None:
    data = survey_file()
    question(data, 2)["text"] = {"th": "ก" * 300, "en": "q" * 300}
    question(data, 2)["options"] = [
        {"key": f"o{i}", "label": {"th": "ข" * 100, "en": "x" * 100}} for i in range(12)
    ]
    assert len(parse_survey_file(data).questions[2].options) == 12


def test_a_yaml_file_is_loaded_and_broken_yaml_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "key: tiny\ntitle: {th: สำรวจ, en: Survey}\nquestions:\n"
        "  - key: q\n    text: {th: คำถาม, en: Question}\n"
        "    options:\n      - {key: a, label: {th: ใช่, en: 'Yes'}}\n",
        encoding="utf-8",
    )
    assert load_survey_file(good).questions[0].options[0].label == {"th": "ใช่", "en": "Yes"}
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: [unclosed\n", encoding="utf-8")
    with pytest.raises(SurveyFileError, match=r"broken\.yaml: not valid YAML"):
        load_survey_file(broken)


async def test_a_refused_file_stores_nothing(db: Database) -> None:
    data = survey_file()
    thirteen_options(data)
    with pytest.raises(SurveyFileError):
        async with db.session() as session:
            await import_survey(parse_survey_file(data), session=session)
    assert await stored_counts(db) == {"surveys": 0, "questions": 0, "options": 0, "categories": 0}


async def stored_counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            "surveys": len((await session.exec(select(Survey))).all()),
            "questions": len((await session.exec(select(SurveyQuestion))).all()),
            "options": len((await session.exec(select(SurveyOption))).all()),
            "categories": len((await session.exec(select(NeedCategory))).all()),
        }


async def test_an_import_that_fails_half_way_leaves_nothing_even_if_the_caller_goes_on(
    db: Database,
) -> None:
    # Built by hand, not parsed: two options with one key break a database constraint only
    # after the survey, its categories and the first question were written.
    valid = parse_survey_file(SMALL_SURVEY)
    twice = OptionSpec(key="same", label={"th": "ซ้ำ", "en": "Twice"})
    broken = SurveySpec(
        key=valid.key,
        title=valid.title,
        categories=valid.categories,
        questions=(*valid.questions, QuestionSpec("dup", {"th": "ก", "en": "a"}, (twice, twice))),
    )
    async with db.session() as session:
        with pytest.raises(IntegrityError):
            await import_survey(broken, session=session)
        session.add(AuditEntry(actor="system", action="test.after"))  # the caller goes on
    assert await stored_counts(db) == {"surveys": 0, "questions": 0, "options": 0, "categories": 0}
    async with db.session() as session:
        actions = [e.action for e in await audit.all_entries(session=session)]
    assert actions == ["test.after"]


# --- importing and versions ---------------------------------------------------------------


async def test_importing_stores_a_draft_with_questions_options_and_categories_in_order(
    db: Database, clock: ManualClock
) -> None:
    survey = await imported(db)
    assert (survey.key, survey.version, survey.status) == ("needs_test", 1, SurveyStatus.draft)
    assert (survey.created_at, survey.opened_at, survey.closed_at) == (clock(), None, None)
    assert survey.title == {"th": "สำรวจความต้องการการเรียนรู้", "en": "Learning needs"}
    assert survey.id is not None
    async with db.session() as session:
        view = await survey_view(survey.id, session=session)
        categories = (await session.exec(select(NeedCategory).order_by(NeedCategory.key))).all()
        (entry,) = await audit.all_entries(session=session)
    assert view is not None
    assert [q.key for q in view.questions] == ["topics", "format", "time"]
    assert [q.position for q in view.questions] == [0, 1, 2]
    topics = view.questions[0]
    assert topics.multiple and topics.option_keys == ["digital", "languages", "other"]
    assert [o.category_key for o in topics.options] == ["digital_skills", "languages", None]
    assert topics.options[1].label == {"th": "ภาษา", "en": "Languages"}
    assert [(c.key, c.unesco_feature, c.sdgs) for c in categories] == [
        ("digital_skills", UnescoFeature.learning_technologies, [4, 8, 9]),
        ("languages", UnescoFeature.inclusive_learning, [4, 10]),
    ]
    assert (entry.action, entry.actor, entry.target) == ("survey.imported", "system", "survey:1")
    assert entry.detail == {"key": "needs_test", "version": 1, "questions": 3}


async def test_importing_a_key_again_adds_a_version_and_updates_the_categories(
    db: Database,
) -> None:
    first = await imported(db)
    other = await imported(db, survey_file(key="another_survey"))
    data = survey_file()
    data["categories"][0]["name"] = {"th": "ทักษะดิจิทัลและสื่อ", "en": "Digital and media skills"}
    data["categories"][0]["sdgs"] = [4, 9]
    second = await imported(db, data)  # the latest import names the categories
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert second.status is SurveyStatus.draft and second.id != first.id
    async with db.session() as session:
        category = await session.get(NeedCategory, "digital_skills")
        summaries = await list_surveys(session=session)
    assert category is not None
    assert category.name == {"th": "ทักษะดิจิทัลและสื่อ", "en": "Digital and media skills"}
    assert category.sdgs == [4, 9]
    assert [(s.key, s.version) for s in summaries] == [
        ("another_survey", 1),
        ("needs_test", 1),
        ("needs_test", 2),
    ]


async def test_the_list_counts_questions_and_respondents(db: Database, clock: ManualClock) -> None:
    view = await opened(db)
    await imported(db)  # version 2, a draft nobody answered
    for person in (1001, 1002):
        await registered(db, person)
        await sent_privately(db, view.questions[0], person, f"p{person}")
        await sent_privately(db, view.questions[1], person, f"q{person}")
        async with db.session() as session:
            await record_poll_answer(f"p{person}", person, [0], session=session)
            await record_poll_answer(f"q{person}", person, [1], session=session)
    async with db.session() as session:
        summaries = await list_surveys(session=session)
    assert summaries == [
        SurveySummary(
            id=view.id,
            key="needs_test",
            version=1,
            title=view.title,
            status=SurveyStatus.open,
            questions=3,
            respondents=2,
            created_at=clock(),
            opened_at=clock(),
            closed_at=None,
        ),
        SurveySummary(
            id=view.id + 1,
            key="needs_test",
            version=2,
            title=view.title,
            status=SurveyStatus.draft,
            questions=3,
            respondents=0,
            created_at=clock(),
            opened_at=None,
            closed_at=None,
        ),
    ]


async def test_the_shipped_default_survey_imports_cleanly(db: Database) -> None:
    spec = load_survey_file(DEFAULT_SURVEY)
    assert spec.key == "learning_needs_2026"
    async with db.session() as session:
        survey = await import_survey(spec, session=session)
    assert survey.id is not None and survey.version == 1
    async with db.session() as session:
        view = await survey_view(survey.id, session=session)
        categories = (await session.exec(select(NeedCategory))).all()
    assert view is not None
    assert len(categories) == 9
    assert {c.unesco_feature for c in categories} <= set(UnescoFeature)
    assert all(c.sdgs and 4 in c.sdgs for c in categories)
    # The first question offers every category; format and time questions have none.
    topics = view.questions[0]
    assert topics.multiple
    assert {o.category_key for o in topics.options} == {c.key for c in categories}
    by_key = {q.key: q for q in view.questions}
    assert {"format", "time", "frequency"} <= set(by_key)
    assert all(o.category_key is None for o in by_key["format"].options)
    assert {"human_library", "coffee_council"} <= set(by_key["format"].option_keys)
    assert all(o.category_key is None for o in by_key["time"].options)


def test_the_default_survey_fits_one_bilingual_group_poll() -> None:
    # Groups get "ไทย / English" in one poll: both languages together stay within the limits.
    spec = load_survey_file(DEFAULT_SURVEY)
    for q in spec.questions:
        assert len(q.text["th"]) + len(q.text["en"]) + 3 <= QUESTION_MAX_LENGTH, q.key
        for o in q.options:
            assert len(o.label["th"]) + len(o.label["en"]) + 3 <= OPTION_MAX_LENGTH, o.key


def test_the_default_survey_keeps_to_one_polite_voice() -> None:
    source = DEFAULT_SURVEY.read_text(encoding="utf-8")
    for particle in ("ครับ", "ค่ะ", "คะ", "นะ"):
        assert particle not in source


# --- opening and closing ------------------------------------------------------------------


async def test_opening_a_survey_audits_it_and_shows_it_as_the_open_survey(
    db: Database, clock: ManualClock
) -> None:
    survey = await imported(db)
    assert survey.id is not None
    clock.advance(minutes=5)
    async with db.session() as session:
        opened_survey = await open_survey(survey.id, actor=OFFICER, session=session)
    assert opened_survey.status is SurveyStatus.open
    assert opened_survey.opened_at == clock()
    async with db.session() as session:
        view = await open_survey_now(session=session)
        entries = await audit.all_entries(session=session)
    assert view is not None and view.id == survey.id
    assert [q.key for q in view.questions] == ["topics", "format", "time"]
    assert view.questions[0].option_keys == ["digital", "languages", "other"]
    assert (entries[-1].action, entries[-1].actor, entries[-1].target) == (
        "survey.opened",
        OFFICER,
        f"survey:{survey.id}",
    )


async def test_opening_another_survey_closes_the_open_one(db: Database) -> None:
    first = await opened(db)
    second = await imported(db)
    assert second.id is not None
    async with db.session() as session:
        await open_survey(second.id, actor=OFFICER, session=session)
    async with db.session() as session:
        statuses = {s.id: s.status for s in (await session.exec(select(Survey))).all()}
        view = await open_survey_now(session=session)
        actions = [(e.action, e.target) for e in await audit.all_entries(session=session)]
    assert statuses == {first.id: SurveyStatus.closed, second.id: SurveyStatus.open}
    assert view is not None and view.id == second.id
    assert actions[-2:] == [
        ("survey.closed", f"survey:{first.id}"),
        ("survey.opened", f"survey:{second.id}"),
    ]


async def test_the_database_itself_refuses_two_open_surveys(db: Database) -> None:
    first = await opened(db)
    second = await imported(db)
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.exec(
                update(Survey).where(col(Survey.id) == second.id).values(status="open")
            )
    async with db.session() as session:
        view = await open_survey_now(session=session)
    assert view is not None and view.id == first.id


async def test_opening_the_open_survey_again_changes_nothing(db: Database) -> None:
    view = await opened(db)
    async with db.session() as session:
        before = len(await audit.all_entries(session=session))
        await open_survey(view.id, actor=OFFICER, session=session)
        assert len(await audit.all_entries(session=session)) == before


async def test_closing_a_survey_audits_it_and_a_closed_survey_can_be_reopened(
    db: Database, clock: ManualClock
) -> None:
    view = await opened(db)
    clock.advance(days=30)
    async with db.session() as session:
        survey = await close_survey(view.id, actor=OFFICER, session=session)
    assert (survey.status, survey.closed_at) == (SurveyStatus.closed, clock())
    async with db.session() as session:
        assert await open_survey_now(session=session) is None
        await close_survey(view.id, actor=OFFICER, session=session)  # again: nothing happens
        actions = [e.action for e in await audit.all_entries(session=session)]
    assert actions == ["survey.imported", "survey.opened", "survey.closed"]
    clock.advance(days=1)
    async with db.session() as session:
        survey = await open_survey(view.id, actor=OFFICER, session=session)
    assert (survey.status, survey.opened_at, survey.closed_at) == (
        SurveyStatus.open,
        clock(),
        None,
    )


async def test_an_unknown_survey_cannot_be_opened_or_closed(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(UnknownSurvey):
            await open_survey(99, actor=OFFICER, session=session)
        with pytest.raises(UnknownSurvey):
            await close_survey(99, actor=OFFICER, session=session)
        assert await survey_view(99, session=session) is None
        assert await open_survey_now(session=session) is None


# --- progress -----------------------------------------------------------------------------


async def test_next_question_walks_the_questions_in_order_and_progress_counts_them(
    db: Database,
) -> None:
    view = await opened(db)
    await registered(db, 1001)
    for index, q in enumerate(view.questions):
        async with db.session() as session:
            upcoming = await next_question(view.id, 1001, session=session)
            assert await progress(view.id, 1001, session=session) == (index, 3)
        assert upcoming == q
        await sent_privately(db, q, 1001, f"poll-{index}")
        async with db.session() as session:
            await record_poll_answer(f"poll-{index}", 1001, [0], session=session)
    async with db.session() as session:
        assert await next_question(view.id, 1001, session=session) is None
        assert await progress(view.id, 1001, session=session) == (3, 3)


async def test_next_question_skips_only_what_this_person_answered(db: Database) -> None:
    view = await opened(db)
    await registered(db, 1001)
    await registered(db, 1002)
    await sent_privately(db, view.questions[1], 1001, "middle")
    async with db.session() as session:
        await record_poll_answer("middle", 1001, [1], session=session)
        assert await next_question(view.id, 1001, session=session) == view.questions[0]
        await record_poll_answer("middle", 1001, [], session=session)  # retracted: unanswered
        assert await progress(view.id, 1001, session=session) == (0, 3)
        assert await next_question(view.id, 1002, session=session) == view.questions[0]
        assert await next_question(view.id, 5555, session=session) == view.questions[0]
        assert await progress(view.id, 5555, session=session) == (0, 3)


async def test_answers_to_another_version_do_not_count(db: Database) -> None:
    old = await opened(db)
    await registered(db, 1001)
    await sent_privately(db, old.questions[0], 1001, "old")
    async with db.session() as session:
        await record_poll_answer("old", 1001, [0], session=session)
    new = await opened(db)
    async with db.session() as session:
        assert await progress(old.id, 1001, session=session) == (1, 3)
        assert await progress(new.id, 1001, session=session) == (0, 3)
        assert await next_question(new.id, 1001, session=session) == new.questions[0]


# --- free text ----------------------------------------------------------------------------


async def test_a_free_text_need_is_stored_stripped_with_its_language(
    db: Database, clock: ManualClock
) -> None:
    view = await opened(db)
    citizen = await registered(db, 1001)
    async with db.session() as session:
        need = await add_free_text(
            1001, "  อยากเรียนทำขนมพื้นบ้าน\n", "th", survey_id=view.id, session=session
        )
    assert (need.citizen_id, need.survey_id, need.text, need.language, need.created_at) == (
        citizen.id,
        view.id,
        "อยากเรียนทำขนมพื้นบ้าน",
        "th",
        clock(),
    )
    async with db.session() as session:
        malay = await add_free_text(
            1001, "Saya mahu belajar menjahit", "ms", survey_id=None, session=session
        )
    assert (malay.language, malay.survey_id) == ("ms", None)


async def test_a_long_free_text_is_cut_to_4096_characters(db: Database) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        need = await add_free_text(1001, "ก" * 5000, "und", survey_id=None, session=session)
    assert len(need.text) == FREE_TEXT_MAX_LENGTH


async def test_free_text_needs_registration_consent_and_sense(db: Database) -> None:
    await registered(db, 1001, consents={Purpose.reminders: True})
    await registered(db, 1002)
    cases: list[tuple[int, str, str, int | None, type[Exception]]] = [
        (5555, "text", "en", None, NotRegistered),
        (1001, "text", "en", None, ConsentRequired),
        (1002, "   ", "en", None, ValueError),
        (1002, "text", "fr", None, UnsupportedLanguage),
        (1002, "text", "en", 99, UnknownSurvey),
    ]
    for person, words, language, survey_id, error in cases:
        with pytest.raises(error):
            async with db.session() as session:
                await add_free_text(person, words, language, survey_id=survey_id, session=session)
    async with db.session() as session:
        assert (await session.exec(select(FreeTextNeed))).all() == []


async def test_withdrawing_consent_stops_free_text(db: Database) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        await set_consent(1001, Purpose.needs_survey, False, session=session)
    with pytest.raises(ConsentRequired) as raised:
        async with db.session() as session:
            await add_free_text(1001, "text", "en", survey_id=None, session=session)
    assert raised.value.purpose == "needs_survey"


async def test_an_erased_citizens_need_stays_but_is_no_longer_linked(db: Database) -> None:
    citizen = await registered(db, 1001)
    async with db.session() as session:
        need = await add_free_text(1001, "ห้องสมุดใกล้บ้าน", "th", survey_id=None, session=session)
    async with db.session() as session:
        await session.exec(delete(Citizen).where(col(Citizen.id) == citizen.id))
    async with db.session() as session:
        kept = await session.get(FreeTextNeed, need.id)
        stored = (await session.exec(select(func.count()).select_from(FreeTextNeed))).one()
    assert kept is not None and kept.citizen_id is None and kept.text == "ห้องสมุดใกล้บ้าน"
    assert stored == 1
