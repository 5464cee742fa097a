"""`/needs` end to end: the default survey as native polls, votes, free text, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.emulator.emulator import Emulator
from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from bot.i18n.catalog import catalogs
from bot.survey_cli import DEFAULT_SURVEY
from storage import citizens, roles, surveys
from storage.citizens import NewCitizen
from storage.database import Database
from storage.enums import AgeBand, Purpose, Role
from storage.models import FreeTextNeed, SentPoll, SurveyAnswer
from storage.survey_spec import load_survey_file

EN, TH = catalogs().messages["en"], catalogs().messages["th"]


async def _prepare(db: Database, people: dict[int, str], *, consent: bool = True) -> None:
    async with db.session() as session:
        survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
        assert survey.id is not None
        await surveys.open_survey(survey.id, actor="test", session=session)
        for user_id, language in people.items():
            await citizens.register_citizen(
                NewCitizen(user_id, language, AgeBand.age_35_49, False, None),  # type: ignore[arg-type]
                {p: (consent or p is not Purpose.needs_survey) for p in Purpose},
                session=session,
            )


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(database_url=sqlite_url(tmp_path / "needs.db"))
    async with bot:
        assert bot.db is not None
        await _prepare(bot.db, {7001: "th", 7002: "en"})
        yield bot
    assert [(c.method, c.description) for c in bot.emulator.calls if not c.ok] == []


def _polls(live: LiveBot, chat_id: int) -> list[EmuMessage]:
    return [m for m in live.emulator.sent_to(chat_id) if m.kind == "poll"]


async def _vote(live: LiveBot, user: EmuUser, message: EmuMessage, options: list[int]) -> None:
    await live.emulator.polls.vote(user, message, options)
    await live.settle()
    live.transcript.collect(live.emulator, user.id)


async def _answers(db: Database, user_id: int) -> dict[int, list[str]]:
    async with db.session() as session:
        citizen = await citizens.get_citizen(user_id, session=session)
        assert citizen is not None
        rows = (await session.exec(select(SurveyAnswer).where(
            SurveyAnswer.citizen_id == citizen.id))).all()  # fmt: skip
    return {row.question_id: list(row.option_keys) for row in rows}


async def _answer_all(live: LiveBot, user: EmuUser) -> None:
    """Answer every question with its first option (the first two where several are allowed)."""
    await live.send(user, "/needs")
    for _ in range(20):
        polls = _polls(live, user.id)
        last = polls[-1]
        poll = last.extra["poll"]
        if last.extra.get("answered"):
            break
        last.extra["answered"] = True
        await _vote(live, user, last, [0, 1] if poll["allows_multiple_answers"] else [0])
        if "Finish" in live.emulator.last_sent(user.id).button_texts or "เสร็จสิ้น" in (
            live.emulator.last_sent(user.id).button_texts
        ):
            break


async def test_the_survey_in_thai_and_in_english(live: LiveBot) -> None:
    assert live.db is not None
    thai = live.user(7001, "สมศรี", language_code="th")
    english = live.user(7002, "Anne", language_code="en")
    await _answer_all(live, thai)
    await _answer_all(live, english)
    thai_polls, english_polls = _polls(live, 7001), _polls(live, 7002)
    assert len(thai_polls) == len(english_polls) == 6
    first_th, first_en = thai_polls[0].extra["poll"], english_polls[0].extra["poll"]
    assert first_th["question"].startswith("1/6 ท่านสนใจเรียนรู้เรื่องใดบ้าง")
    assert first_en["question"].startswith("1/6 What would you like to learn?")
    assert first_th["is_anonymous"] is False and first_th["allows_multiple_answers"] is True
    assert live.emulator.last_sent(7001).text == TH["needs.free_text_prompt"]
    answers = await _answers(live.db, 7001)
    assert len(answers) == 6
    assert ["digital_skills", "languages"] in answers.values()  # the multi-select question


async def test_a_changed_vote_replaces_and_a_retracted_vote_removes(live: LiveBot) -> None:
    assert live.db is not None
    user = live.user(7002, "Anne", language_code="en")
    await live.send(user, "/needs")
    [first] = _polls(live, 7002)
    await _vote(live, user, first, [2])
    sent_before = len(live.emulator.sent_to(7002))
    await _vote(live, user, first, [3, 4])
    assert len(live.emulator.sent_to(7002)) == sent_before, "a changed vote sends nothing"
    question_id = next(iter(await _answers(live.db, 7002)))
    assert (await _answers(live.db, 7002))[question_id] == ["health_wellbeing", "environment"]
    await _vote(live, user, first, [])
    assert await _answers(live.db, 7002) == {}
    # Sending /needs again asks the first question again, not a duplicate answer.
    await live.send(user, "/needs")
    assert _polls(live, 7002)[-1].extra["poll"]["question"].startswith("1/6")


async def test_free_text_is_stored_with_its_language(live: LiveBot) -> None:
    assert live.db is not None
    user = live.user(7001, "สมศรี", language_code="th")
    await _answer_all(live, user)
    texts = {
        "อยากเรียนทำขนมเพื่อขายออนไลน์": "th",
        "I would like to learn basic accounting": "en",
        "Saya nak belajar menjahit baju kurung": "ms",
        "อยากเรียน Excel สำหรับทำบัญชีร้าน": "th",
    }
    for text in texts:
        [thanks] = await live.send(user, text)
        assert thanks.text == TH["needs.free_text_thanks"]
    await live.press(user, "เสร็จสิ้น")
    [after] = await live.send(user, "สวัสดี")
    assert after.text == TH["fallback.text"], "after Finish, text is no longer a need"
    async with live.db.session() as session:
        rows = (await session.exec(select(FreeTextNeed))).all()
    assert {row.text: row.language for row in rows} == texts


async def test_without_consent_the_person_is_asked_first(tmp_path: Path) -> None:
    async with LiveBot(database_url=sqlite_url(tmp_path / "c.db"), in_process=True) as live:
        assert live.db is not None
        await _prepare(live.db, {7003: "en"}, consent=False)
        user = live.user(7003, "Ned", language_code="en")
        [ask] = await live.send(user, "/needs")
        assert ask.text == EN["needs.ask_consent"]
        assert _polls(live, 7003) == []
        await live.press(user, "I agree, start the survey")
        assert len(_polls(live, 7003)) == 1


async def test_an_answer_after_a_restart_is_attributed_to_its_question(tmp_path: Path) -> None:
    emulator = Emulator()
    url = sqlite_url(tmp_path / "restart.db")
    async with LiveBot(database_url=url, emulator=emulator) as live:
        assert live.db is not None
        await _prepare(live.db, {7004: "th"})
        user = live.user(7004, "ก้อย", language_code="th")
        await live.send(user, "/needs")
    [poll] = [m for m in emulator.sent_to(7004) if m.kind == "poll"]
    async with LiveBot(database_url=url, emulator=emulator) as again:
        await again.emulator.polls.vote(user, poll, [5])
        await again.settle()
        assert again.db is not None
        answers = await _answers(again.db, 7004)
        assert list(answers.values()) == [["local_culture"]]
        assert len([m for m in emulator.sent_to(7004) if m.kind == "poll"]) == 2


async def test_answers_to_unknown_polls_are_ignored_quietly(live: LiveBot) -> None:
    user = live.user(7002, "Anne", language_code="en")
    await live.send(user, "/needs")
    [first] = _polls(live, 7002)
    poll_id = first.extra["poll"]["id"]
    assert live.db is not None
    async with live.db.session() as session:
        outcome = await surveys.record_poll_answer("no-such-poll", 7002, [0], session=session)
    assert outcome.status == "unknown_poll"
    assert poll_id


async def test_rapid_answers_keep_their_order_while_many_answer_at_once(tmp_path: Path) -> None:
    people = {7100 + i: ("th" if i % 2 else "en") for i in range(30)}
    async with LiveBot(database_url=sqlite_url(tmp_path / "rapid.db")) as live:
        assert live.db is not None
        await _prepare(live.db, people)
        users = {uid: live.user(uid, f"U{uid}", language_code=lang) for uid, lang in people.items()}
        for user in users.values():
            await live.emulator.user_sends(user, "/needs")
        await live.settle()
        firsts = {uid: _polls(live, uid)[0] for uid in users}
        quick = users[7100]
        # Everyone votes at once; one person changes their mind four times in a row.
        for uid, user in users.items():
            await live.emulator.polls.vote(user, firsts[uid], [uid % 9])
        for option in (1, 2, 3, 4):
            await live.emulator.polls.vote(quick, firsts[7100], [option])
        await live.settle()
        for uid in users:
            answers = await _answers(live.db, uid)
            assert len(answers) == 1
        assert list((await _answers(live.db, 7100)).values()) == [["environment"]]  # the last


async def test_a_vote_arriving_before_its_poll_is_recorded_is_still_stored(live: LiveBot) -> None:
    """A group member can vote within milliseconds of the poll's sending: wait, then store."""
    assert live.db is not None
    user = live.user(7002, "Anne", language_code="en")
    await live.send(user, "/needs")
    [first] = _polls(live, 7002)
    poll_id = first.extra["poll"]["id"]
    async with live.db.session() as session:
        record = (await session.exec(select(SentPoll).where(SentPoll.poll_id == poll_id))).one()
        await session.delete(record)
    await live.emulator.polls.vote(user, first, [0])
    await asyncio.sleep(0.3)  # the vote is being handled; the poll's record lands only now
    async with live.db.session() as session:
        session.add(SentPoll(**record.model_dump()))
    await live.settle()
    assert len(await _answers(live.db, 7002)) == 1


async def test_over_long_free_text_is_refused_with_the_limit_even_for_staff(
    live: LiveBot,
) -> None:
    assert live.db is not None
    async with live.db.session() as session:
        await roles.grant_role(7002, Role.facilitator, actor="test", session=session)
    user = live.user(7002, "Anne", language_code="en")
    await _answer_all(live, user)
    [refusal] = await live.send(user, "a" * 1001)
    assert refusal.text == catalogs().text("en", "guard.too_long", limit=1000, length=1001)
    async with live.db.session() as session:
        assert (await session.exec(select(FreeTextNeed))).all() == []
