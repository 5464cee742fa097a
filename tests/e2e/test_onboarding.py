"""Onboarding end to end: the real bot over HTTP, the emulator as Telegram, a SQLite file."""

from __future__ import annotations

from bot.emulator.harness import LiveBot
from storage import citizens
from storage.enums import AgeBand, Purpose


async def _count(live: LiveBot) -> int:
    assert live.db is not None
    async with live.db.session() as session:
        return await citizens.count_citizens(session=session)


async def _consents(live: LiveBot, user_id: int) -> dict[Purpose, bool]:
    assert live.db is not None
    async with live.db.session() as session:
        states = await citizens.consents_of(user_id, session=session)
    return {purpose: state.granted for purpose, state in states.items()}


async def test_onboarding_in_thai_stores_only_the_chosen_consents(live: LiveBot) -> None:
    somchai = live.user(1001, "สมชาย", language_code="th")
    [welcome] = await live.send(somchai, "/start")
    assert welcome.button_texts == ["ภาษาไทย", "English"]  # the app's language first
    assert "กรุณาเลือกภาษา" in (welcome.text or "")

    await live.press(somchai, "ภาษาไทย")
    assert "ช่วงอายุ" in (live.emulator.last_sent(1001).text or "")
    await live.press(somchai, "35–49 ปี")
    consent = live.emulator.last_sent(1001)
    assert "ความยินยอม" in (consent.text or "")
    assert await _count(live) == 0, "nothing is stored before consent"

    await live.press(somchai, lambda label: "สำรวจความต้องการเรียนรู้" in label)
    await live.press(somchai, lambda label: "สภากาแฟ" in label)
    assert "☑ สภากาแฟ" in live.emulator.last_sent(1001).button_texts
    await live.press(somchai, "บันทึกตัวเลือก")
    assert "อำเภอ" in (live.emulator.last_sent(1001).text or "")
    await live.press(somchai, "เบตง")

    welcome_text = live.emulator.last_sent(1001).text or ""
    assert "ยินดีต้อนรับ" in welcome_text and "/help" in welcome_text
    assert live.db is not None
    async with live.db.session() as session:
        citizen = await citizens.get_citizen(1001, session=session)
    assert citizen is not None
    assert (citizen.language, citizen.age_band, citizen.district) == (
        "th",
        AgeBand.age_35_49,
        "betong",
    )
    assert await _consents(live, 1001) == {
        Purpose.needs_survey: True,
        Purpose.reminders: False,
        Purpose.human_library: False,
        Purpose.coffee_council: True,
    }


async def test_onboarding_in_english_with_accept_all_and_no_district(live: LiveBot) -> None:
    alice = live.user(1002, "Alice", language_code="en")
    [first] = await live.send(alice, "/start")
    assert first.button_texts == ["English", "ภาษาไทย"]
    await live.press(alice, "English")
    await live.press(alice, "60 or over")
    await live.press(alice, "Accept all and continue")
    await live.press(alice, "Skip")
    text = live.emulator.last_sent(1002).text or ""
    assert "Welcome, you are all set." in text
    assert all((await _consents(live, 1002)).values())
    assert live.db is not None
    async with live.db.session() as session:
        citizen = await citizens.get_citizen(1002, session=session)
    assert citizen is not None and citizen.language == "en" and citizen.district is None


async def test_declining_every_purpose_stores_nothing(live: LiveBot) -> None:
    bob = live.user(1003, "Bob", language_code="en")
    await live.send(bob, "/start")
    await live.press(bob, "English")
    await live.press(bob, "20–34")
    await live.press(bob, "Decline all")
    assert "Nothing has been saved" in (live.emulator.last_sent(1003).text or "")
    assert "/start" in (live.emulator.last_sent(1003).text or "")
    assert await _count(live) == 0


async def test_saving_with_nothing_ticked_is_a_decline(live: LiveBot) -> None:
    bob = live.user(1004, "Bob", language_code="en")
    await live.send(bob, "/start")
    await live.press(bob, "English")
    await live.press(bob, "20–34")
    await live.press(bob, "Save my choices")
    assert "Nothing has been saved" in (live.emulator.last_sent(1004).text or "")
    assert await _count(live) == 0


async def test_under_10_stores_nothing_and_asks_for_a_guardian(live: LiveBot) -> None:
    child = live.user(1005, "เด็ก", language_code="th")
    await live.send(child, "/start")
    await live.press(child, "ภาษาไทย")
    await live.press(child, "ต่ำกว่า 10 ปี")
    text = live.emulator.last_sent(1005).text or ""
    assert "ผู้ปกครอง" in text and "ไม่ได้บันทึกข้อมูล" in text
    assert live.emulator.last_sent(1005).buttons == []
    assert await _count(live) == 0


async def test_teenager_needs_a_guardians_agreement(live: LiveBot) -> None:
    teen = live.user(1006, "Nur", language_code="en")
    await live.send(teen, "/start")
    await live.press(teen, "English")
    await live.press(teen, "15–19")
    assert "parent or guardian" in (live.emulator.last_sent(1006).text or "")
    await live.press(teen, "Not yet")
    assert await _count(live) == 0

    await live.send(teen, "/start")
    await live.press(teen, "English")
    await live.press(teen, "15–19")
    await live.press(teen, "Yes, they agree")
    await live.press(teen, "Accept all and continue")
    assert live.db is not None
    async with live.db.session() as session:
        citizen = await citizens.get_citizen(1006, session=session)
    assert citizen is not None and citizen.guardian_confirmed_at is not None


async def test_a_button_from_an_abandoned_onboarding_has_expired(live: LiveBot) -> None:
    ana = live.user(1007, "Ana", language_code="en")
    [old] = await live.send(ana, "/start")
    await live.send(ana, "/start")  # starts afresh: the first message's buttons are stale
    query = await live.press_data(ana, old, str(old.buttons[0]["callback_data"]))
    assert query.answer is not None and query.answer.get("text") == "This button has expired."


async def test_forged_button_data_is_refused_politely(live: LiveBot) -> None:
    ana = live.user(1008, "Ana", language_code="en")
    [first] = await live.send(ana, "/start")
    for data in (
        "v1:onb:age:age_0_9",
        "v1:onb:lang:xx",
        "v9:onb:lang:en",
        "garbage",
        "v1:onb:save",
    ):
        query = await live.press_data(ana, first, data)
        assert query.answer is not None and "expired" in str(query.answer.get("text"))
    assert await _count(live) == 0
    assert live.emulator.last_sent(1008).message_id == first.message_id
