"""`/broadcast` and `/reminders` end to end, through the dispatcher and the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot, sqlite_url
from bot.i18n.catalog import catalogs
from storage import citizens, groups, reminders, roles
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Purpose, Role

FACILITATOR = 8001
EN, TH = catalogs().messages["en"], catalogs().messages["th"]


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(database_url=sqlite_url(tmp_path / "broadcast.db"))
    async with bot:
        assert bot.db is not None
        async with bot.db.session() as session:
            people = [
                (FACILITATOR, "en", True),
                (8002, "th", True),
                (8003, "en", True),
                (8004, "th", False),  # did not agree to news
            ]
            for user_id, language, news in people:
                bot.user(user_id, f"P{user_id}", language_code=language)
                bot.emulator.chats[user_id].started = True
                await citizens.register_citizen(
                    NewCitizen(user_id, language, AgeBand.age_35_49, False, None),
                    {p: (news or p is not Purpose.reminders) for p in Purpose},
                    session=session,
                )
            await roles.grant_role(FACILITATOR, Role.facilitator, actor="system", session=session)
        yield bot
    assert bot.emulator.unanswered_callback_queries() == []
    refused = [c for c in bot.emulator.calls if not c.ok and c.error_code != 429]  # 429: injected
    assert [(c.method, c.description) for c in refused] == []


async def _until(condition: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_broadcast_reaches_consenting_citizens_in_their_language(live: LiveBot) -> None:
    facilitator = live.emulator.users[FACILITATOR]
    [question] = await live.send(facilitator, "/broadcast")
    assert question.button_texts[0] == "Citizens who agreed to news (3)"
    await live.press(facilitator, question.button_texts[0])
    await live.send(facilitator, "ขอเชิญร่วมสภากาแฟ <วันเสาร์> & ตรวจสุขภาพฟรี")
    [preview] = await live.send(facilitator, "Join the coffee council on Saturday")
    assert "Recipients: 3" in (preview.text or "")
    assert "<วันเสาร์> & ตรวจสุขภาพฟรี" in (preview.text or ""), "typed text shown as typed"
    await live.press(facilitator, "Send to 3")
    assert live.emulator.last_sent(FACILITATOR).text == EN["broadcast.queued"].format(count=3)

    await _until(lambda: "Announcement sent" in (live.emulator.last_sent(FACILITATOR).text or ""))
    assert live.emulator.last_sent(8002).text == "ขอเชิญร่วมสภากาแฟ <วันเสาร์> & ตรวจสุขภาพฟรี"
    assert live.emulator.last_sent(8003).text == "Join the coffee council on Saturday"
    assert live.emulator.sent_to(8004) == [], "no consent to news, no announcement"
    report = live.emulator.last_sent(FACILITATOR).text or ""
    assert "Delivered: 3 of 3" in report


async def test_a_broadcast_to_a_registered_group_sends_both_languages(live: LiveBot) -> None:
    assert live.db is not None
    group = live.emulator.add_group(-9001, "Yala readers")
    group.bot_status = "member"
    async with live.db.session() as session:
        await groups.register_group(-9001, "Yala readers", added_by="tg:8001", session=session)
    facilitator = live.emulator.users[FACILITATOR]
    await live.send(facilitator, "/broadcast")
    await live.press(facilitator, "Yala readers")
    await live.send(facilitator, "สวัสดี")
    await live.send(facilitator, "Hello")
    await live.press(facilitator, "Send to 1")
    await _until(lambda: bool(live.emulator.sent_to(-9001)))
    assert live.emulator.last_sent(-9001).text == "สวัสดี\n\nHello"


async def test_cancelling_a_broadcast_sends_nothing(live: LiveBot) -> None:
    facilitator = live.emulator.users[FACILITATOR]
    await live.send(facilitator, "/broadcast")
    await live.press(facilitator, "Citizens who agreed to news (3)")
    await live.send(facilitator, "ทดสอบ")
    await live.send(facilitator, "test")
    await live.press(facilitator, "Cancel")
    await asyncio.sleep(0.3)
    assert live.emulator.sent_to(8002) == []
    assert live.emulator.last_sent(FACILITATOR).text == EN["broadcast.cancelled"]


async def test_a_citizen_cannot_broadcast(live: LiveBot) -> None:
    citizen = live.emulator.users[8002]
    [refusal] = await live.send(citizen, "/broadcast")
    assert refusal.text == TH["guard.refused"]


async def test_reminder_settings_change_with_buttons(live: LiveBot) -> None:
    citizen = live.emulator.users[8003]
    [screen] = await live.send(citizen, "/reminders")
    assert "are on" in (screen.text or "") and "1 day, 1 hour" in (screen.text or "")
    await live.press(citizen, "☐ 3 hours")
    await live.press(citizen, "☑ 1 day")
    await live.press(citizen, "Turn reminders off")
    assert live.db is not None
    async with live.db.session() as session:
        prefs = await reminders.reminder_prefs(8003, session=session)
    assert prefs.enabled is False and set(prefs.lead_minutes) == {60, 180}
    await live.press(citizen, "☑ 1 hour")
    query = await live.press(citizen, "☑ 3 hours")  # the last one: refused
    assert query.answer is not None and query.answer["text"] == EN["reminders.need_one"]


async def test_reminders_without_consent_explain_why(live: LiveBot) -> None:
    [answer] = await live.send(live.emulator.users[8004], "/reminders")
    assert answer.text == TH["reminders.no_consent"]


async def test_an_interactive_reply_waits_out_a_429(live: LiveBot) -> None:
    live.emulator.faults.inject("429", method="sendMessage", retry_after=1)
    [reply] = await live.send(live.emulator.users[8003], "/help")
    assert "Commands" in (reply.text or "")
    assert [c.error_code for c in live.emulator.calls_to("sendMessage")][-2:] == [429, None]
