"""`/poll` end to end: quick polls to citizens and groups, a survey question in a group,
votes stored or only counted, results in the facilitator's language, closing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import pytest
from sqlmodel import select

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage
from bot.i18n.catalog import catalogs
from bot.survey_cli import DEFAULT_SURVEY
from storage import citizens, groups, roles, surveys
from storage.citizens import NewCitizen
from storage.enums import AgeBand, PollKind, Purpose, Role
from storage.models import QuickPoll, SentPoll, SurveyAnswer
from storage.survey_spec import load_survey_file

FACILITATOR = 8101  # English
FACILITATOR_TH = 8108  # Thai
CITIZEN_TH, CITIZEN_EN = 8102, 8103  # agreed to the survey
NO_SURVEY = 8104  # registered, did not agree to the survey
MEMBER = 8105  # agreed to the survey, in the group
STRANGER = 8106  # never signed up, in the group
GROUP = -9101
EN, TH = catalogs().messages["en"], catalogs().messages["th"]


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(database_url=sqlite_url(tmp_path / "polls.db"))
    async with bot:
        assert bot.db is not None
        async with bot.db.session() as session:
            survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
            assert survey.id is not None
            await surveys.open_survey(survey.id, actor="test", session=session)
            people = [
                (FACILITATOR, "en", False),
                (FACILITATOR_TH, "th", False),
                (CITIZEN_TH, "th", True),
                (CITIZEN_EN, "en", True),
                (NO_SURVEY, "th", False),
                (MEMBER, "en", True),
            ]
            for user_id, language, survey_consent in people:
                bot.user(user_id, f"P{user_id}", language_code=language)
                bot.emulator.chats[user_id].started = True
                await citizens.register_citizen(
                    NewCitizen(user_id, language, AgeBand.age_35_49, False, None),  # type: ignore[arg-type]
                    {p: survey_consent or p is not Purpose.needs_survey for p in Purpose},
                    session=session,
                )
            for user_id in (FACILITATOR, FACILITATOR_TH):
                await roles.grant_role(user_id, Role.facilitator, actor="system", session=session)
            bot.user(STRANGER, "Visitor", language_code="en")
            group = bot.emulator.add_group(GROUP, "Yala readers")
            group.bot_status = "member"
            await groups.register_group(GROUP, "Yala readers", added_by="tg:8101", session=session)
        yield bot
    assert bot.emulator.unanswered_callback_queries() == []
    refused = [(c.method, c.description) for c in bot.emulator.calls if not c.ok]
    assert refused == [], f"the Bot API refused calls: {refused}"


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _polls(live: LiveBot, chat_id: int) -> list[EmuMessage]:
    return [m for m in live.emulator.sent_to(chat_id) if m.kind == "poll"]


def _text(live: LiveBot, chat_id: int) -> str:
    return live.emulator.last_sent(chat_id).text or ""


async def _vote(live: LiveBot, user_id: int, message: EmuMessage, options: list[int]) -> None:
    await live.emulator.polls.vote(live.emulator.users[user_id], message, options)
    await live.settle()


async def _only_quick_poll(live: LiveBot) -> int:
    assert live.db is not None
    async with live.db.session() as session:
        [quick] = (await session.exec(select(QuickPoll))).all()
    assert quick.id is not None
    return quick.id


async def _type_quick_poll(
    live: LiveBot, user_id: int, lang: Mapping[str, str], question: tuple[str, str],
    options: list[str],
) -> None:  # fmt: skip
    facilitator = live.emulator.users[user_id]
    await live.send(facilitator, "/poll")
    await live.press(facilitator, lang["button.poll_new"])
    await live.send(facilitator, question[0])
    await live.send(facilitator, question[1])
    for option in options:
        await live.send(facilitator, option)
    await live.press(facilitator, lang["button.poll_done"])


async def test_a_quick_poll_reaches_consenting_citizens_in_their_language(live: LiveBot) -> None:
    assert live.db is not None
    facilitator = live.emulator.users[FACILITATOR]
    await live.send(facilitator, "/poll")
    await live.press(facilitator, "New quick poll")
    await live.send(facilitator, "ท่านสะดวกวันใด")
    await live.send(facilitator, "Which day suits you?")
    [refused] = await live.send(facilitator, "Saturday only")
    assert refused.text == EN["poll.option_format"].replace("<b>", "").replace("</b>", "")
    [first] = await live.send(facilitator, "วันเสาร์ / Saturday")
    assert first.buttons == [], "no Done before two options"
    await live.send(facilitator, "วันอาทิตย์ / Sunday")
    await live.press(facilitator, "Done")
    await live.press(facilitator, "One answer")
    await live.press(facilitator, "Survey participants (3)")
    preview = live.emulator.last_sent(FACILITATOR).text or ""
    assert "Recipients: 3" in preview and "• วันเสาร์" in preview and "• Sunday" in preview
    await live.press(facilitator, "Send to 3")
    await _until(lambda: "Poll sent" in _text(live, FACILITATOR))
    assert "Delivered: 3 of 3" in _text(live, FACILITATOR)

    [thai] = _polls(live, CITIZEN_TH)
    [english] = _polls(live, CITIZEN_EN)
    assert _polls(live, NO_SURVEY) == [], "no consent to the survey, no poll"
    assert thai.extra["poll"]["question"] == "ท่านสะดวกวันใด"
    assert [o["text"] for o in thai.extra["poll"]["options"]] == ["วันเสาร์", "วันอาทิตย์"]
    assert english.extra["poll"]["question"] == "Which day suits you?"
    assert [o["text"] for o in english.extra["poll"]["options"]] == ["Saturday", "Sunday"]
    assert english.extra["poll"]["is_anonymous"] is False
    await _vote(live, CITIZEN_TH, thai, [0])
    await _vote(live, CITIZEN_EN, english, [1])
    await _vote(live, MEMBER, _polls(live, MEMBER)[0], [1])

    quick_poll_id = await _only_quick_poll(live)
    async with live.db.session() as session:
        result = await surveys.quick_poll_result(quick_poll_id, session=session)
        languages = {
            poll.recipient_telegram_id: poll.language
            for poll in await surveys.quick_poll_polls(quick_poll_id, session=session)
        }
    assert result.stored_counts == [1, 2] and result.respondents == 3
    assert languages == {CITIZEN_TH: "th", CITIZEN_EN: "en", MEMBER: "en"}

    await live.send(facilitator, "/poll")
    await live.press(facilitator, "Results / close a poll")
    await live.press(facilitator, "Which day suits you?")
    so_far = _text(live, FACILITATOR)
    assert "Open: people can still vote." in so_far
    assert "• Saturday: 1" in so_far and "• Sunday: 2" in so_far
    await live.press(facilitator, "Close this poll")
    final = _text(live, FACILITATOR)
    assert "Closed: no more votes are taken." in final and "• Sunday: 2" in final
    assert "Answers stored (signed up and agreed): 3" in final
    member_poll = _polls(live, MEMBER)[0]
    await _until(lambda: all(m.extra["poll"]["is_closed"] for m in (thai, english, member_poll)))
    with pytest.raises(ValueError, match="closed"):
        await live.emulator.polls.vote(live.emulator.users[CITIZEN_TH], thai, [1])
    await live.settle()
    async with live.db.session() as session:
        assert await surveys.quick_poll_polls(quick_poll_id, session=session) == []
    # Closed polls are no longer offered.
    [menu] = await live.send(facilitator, "/poll")
    assert "Results / close a poll" not in menu.button_texts


async def test_a_quick_poll_to_a_group_shows_both_languages(live: LiveBot) -> None:
    assert live.db is not None
    await _type_quick_poll(
        live, FACILITATOR_TH, TH, ("จะจัดกิจกรรมใด", "Which activity?"),
        ["ห้องสมุดมนุษย์ / Human library", "สภากาแฟ / Coffee council", "ตรวจสุขภาพ / Health check"],
    )  # fmt: skip
    await live.press(live.emulator.users[FACILITATOR_TH], TH["button.poll_multiple"])
    await live.press(live.emulator.users[FACILITATOR_TH], "Yala readers")
    assert "ผู้รับ: 1 ราย" in _text(live, FACILITATOR_TH)
    await live.press(live.emulator.users[FACILITATOR_TH], "ส่งถึง 1 ราย")
    await _until(lambda: "ส่งโพลเรียบร้อยแล้ว" in _text(live, FACILITATOR_TH))

    notice, poll = live.emulator.sent_to(GROUP)[-2:]
    assert "visible to the group" in (notice.text or "") and "ไม่ปิดชื่อผู้ตอบ" in (notice.text or "")
    shown = poll.extra["poll"]
    assert shown["question"] == "จะจัดกิจกรรมใด / Which activity?"
    assert shown["options"][1]["text"] == "สภากาแฟ / Coffee council"
    assert shown["is_anonymous"] is False and shown["allows_multiple_answers"] is True
    await _vote(live, MEMBER, poll, [0, 1])
    await _vote(live, STRANGER, poll, [0])

    async with live.db.session() as session:
        result = await surveys.quick_poll_result(await _only_quick_poll(live), session=session)
    assert result.stored_counts == [1, 1, 0]
    assert result.anonymous_counts == [1, 0, 0] and result.counts == [2, 1, 0]
    assert result.respondents == 1 and result.anonymous_voters == 1

    facilitator = live.emulator.users[FACILITATOR_TH]
    await live.send(facilitator, "/poll")
    await live.press(facilitator, TH["button.poll_open"])
    await live.press(facilitator, "จะจัดกิจกรรมใด")
    results = _text(live, FACILITATOR_TH)
    assert "• ห้องสมุดมนุษย์: 2 (ไม่ได้ลงทะเบียนหรือไม่ได้ยินยอม: 1)" in results
    assert "• สภากาแฟ: 1\n" in results and "เปิดอยู่" in results


async def test_a_poll_too_long_for_a_group_is_refused_for_it(live: LiveBot) -> None:
    facilitator = live.emulator.users[FACILITATOR]
    await _type_quick_poll(
        live, FACILITATOR, EN, ("ก" * 200, "Q" * 150), ["หนึ่ง / One", "สอง / Two"]
    )
    await live.press(facilitator, "One answer")
    await live.press(facilitator, "Yala readers")
    refusal = live.emulator.last_sent(FACILITATOR)
    assert (refusal.text or "").startswith("In a group the poll shows Thai and English together")
    await live.press(facilitator, "Survey participants (3)")
    assert "Recipients: 3" in _text(live, FACILITATOR)
    await live.press(facilitator, "Cancel")
    assert _text(live, FACILITATOR) == EN["poll.cancelled"]
    assert live.emulator.sent_to(GROUP) == [] and _polls(live, CITIZEN_EN) == []


async def test_a_survey_question_in_a_group_stores_only_consented_answers(live: LiveBot) -> None:
    assert live.db is not None
    facilitator = live.emulator.users[FACILITATOR]
    [menu] = await live.send(facilitator, "/poll")
    assert menu.button_texts[:2] == ["New quick poll", "Survey question to a group"]
    await live.press(facilitator, "Survey question to a group")
    await live.press(facilitator, "Yala readers")
    await live.press(facilitator, lambda label: label.startswith("1. "))
    assert _text(live, FACILITATOR) == "Question 1 was sent to “Yala readers”."

    notice, poll = live.emulator.sent_to(GROUP)
    assert notice.text == f"{TH['poll.group_notice']}\n\n{EN['poll.group_notice']}"
    shown = poll.extra["poll"]
    assert shown["question"].startswith("ท่านสนใจเรียนรู้เรื่องใดบ้าง")
    assert " / What would you like to learn?" in shown["question"]
    assert shown["is_anonymous"] is False
    await _vote(live, MEMBER, poll, [0])
    await _vote(live, NO_SURVEY, poll, [1])

    async with live.db.session() as session:
        [sent] = (await session.exec(select(SentPoll).where(SentPoll.kind == PollKind.group))).all()
        result = await surveys.group_poll_result(sent.poll_id, session=session)
        member = await citizens.get_citizen(MEMBER, session=session)
        answers = (await session.exec(select(SurveyAnswer))).all()
    assert sent.language == "both" and sent.chat_id == GROUP
    assert result is not None
    assert result.consented_counts[:2] == [1, 0] and result.anonymous_counts[:2] == [0, 1]
    assert result.consented_voters == 1 and result.anonymous_voters == 1
    assert member is not None
    assert [(a.citizen_id, a.language, a.option_keys) for a in answers] == [
        (member.id, "en", [sent.option_keys[0]])
    ]

    await live.press(facilitator, "Results")
    results = _text(live, FACILITATOR)
    assert "Group: Yala readers" in results and "Voters: 2" in results
    assert "Answers stored (signed up and agreed): 1" in results
    assert "Only counted (not signed up or not agreed): 1" in results
    [menu] = await live.send(facilitator, "/poll")
    await live.press(facilitator, "Group poll results")
    await live.press(facilitator, "1. Yala readers")
    assert "Voters: 2" in _text(live, FACILITATOR)


async def test_a_citizen_cannot_poll_and_forged_buttons_expire(live: LiveBot) -> None:
    citizen = live.emulator.users[CITIZEN_TH]
    [refusal] = await live.send(citizen, "/poll")
    assert refusal.text == TH["guard.refused"]
    query = await live.press_data(citizen, refusal, "v1:poll:new")
    assert query.answer is not None and query.answer.get("text") == TH["guard.refused"]

    facilitator = live.emulator.users[FACILITATOR]
    [menu] = await live.send(facilitator, "/poll")
    for forged in ("v1:poll:show:999", "v1:poll:close:abc", "v1:poll:gres:1", "v1:poll:gs:1:2",
                   "v1:poll:send:AAAAAAAAAAAA", "v1:poll:done", "v1:poll:nothing"):  # fmt: skip
        query = await live.press_data(facilitator, menu, forged)
        assert query.answer is not None and query.answer.get("text") == EN["common.expired"]
