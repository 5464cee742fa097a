"""After onboarding: language switching, menus, deep links, odd input, groups."""

from __future__ import annotations

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuUser
from bot.i18n.catalog import catalogs


async def _onboard(live: LiveBot, user: EmuUser, language: str = "th") -> None:
    await live.send(user, "/start")
    if language == "th":
        await live.press(user, "ภาษาไทย")
        await live.press(user, "20–34 ปี")
        await live.press(user, "ยินยอมทั้งหมดและไปต่อ")
        await live.press(user, "ข้าม")
    else:
        await live.press(user, "English")
        await live.press(user, "20–34")
        await live.press(user, "Accept all and continue")
        await live.press(user, "Skip")


async def test_language_switch_changes_every_later_reply_and_the_menu(live: LiveBot) -> None:
    user = live.user(2001, "Malee", language_code="th")
    await _onboard(live, user, "th")
    [help_th] = await live.send(user, "/help")
    assert "คำสั่งที่ใช้ได้" in (help_th.text or "")

    await live.send(user, "/language")
    await live.press(user, "English")
    assert live.emulator.last_sent(2001).text == catalogs().text("en", "language.changed")
    [help_en] = await live.send(user, "/help")
    assert "Commands" in (help_en.text or "")
    [unknown] = await live.send(user, "/nonsense")
    assert unknown.text == catalogs().text("en", "fallback.unknown_command")
    [privacy] = await live.send(user, "/privacy")
    assert "Your consents" in (privacy.text or "")
    # Telegram would still pick the Thai default list by the app's language: the per-chat
    # list in the chosen language is what makes the menu follow the switch.
    chat_menu = live.emulator.commands[("chat:2001", "")]
    assert chat_menu[1]["description"] == catalogs().text("en", "menu.help")


async def test_default_menus_per_app_language_and_a_fallback(live: LiveBot) -> None:
    commands = live.emulator.commands
    assert commands[("all_private_chats", "th")][0]["description"] == catalogs().text(
        "th", "menu.start"
    )
    assert commands[("all_private_chats", "en")][0]["description"] == catalogs().text(
        "en", "menu.start"
    )
    assert ("all_private_chats", "") in commands
    newcomer = live.user(2002, "Newcomer", language_code="en")
    assert live.emulator.menu_for(newcomer)[:2] == ["start", "help"]


async def test_choosing_a_language_sets_that_chats_menu(live: LiveBot) -> None:
    user = live.user(2003, "Lina", language_code="th")
    await live.send(user, "/start")
    await live.press(user, "English")
    menu = live.emulator.commands[("chat:2003", "")]
    assert [c["description"] for c in menu][:2] == [
        catalogs().text("en", "menu.start"),
        catalogs().text("en", "menu.help"),
    ]


async def test_unknown_command_and_non_text_messages_get_a_polite_reply(live: LiveBot) -> None:
    user = live.user(2004, "Somsak", language_code="th")
    [reply] = await live.send(user, "/doesnotexist")
    assert reply.text == catalogs().text("th", "fallback.unknown_command")
    for kind in ("sticker", "photo", "voice", "location", "contact"):
        [answer] = await live.send_other(user, kind)
        assert answer.text == catalogs().text("th", "fallback.non_text"), kind
    [text_reply] = await live.send(user, "สวัสดี")
    assert text_reply.text == catalogs().text("th", "fallback.text")


async def test_typing_during_onboarding_points_to_the_buttons(live: LiveBot) -> None:
    user = live.user(2005, "Dan", language_code="en")
    await live.send(user, "/start")
    await live.press(user, "English")
    [hint] = await live.send(user, "I am 30")
    assert hint.text == catalogs().text("en", "fallback.use_buttons")


async def test_a_deep_link_flow_completes_right_after_onboarding(live: LiveBot) -> None:
    user = live.user(2006, "Fatimah", language_code="en")
    await live.send(user, "/start test-42")
    await live.press(user, "English")
    await live.press(user, "35–49")
    await live.press(user, "Accept all and continue")
    await live.press(user, "Yaha")
    texts = [m.text for m in live.emulator.sent_to(2006)]
    assert texts[-1] == "test flow done: test-42 (en)"
    assert "Welcome, you are all set." in (texts[-2] or "")

    # Already registered: the flow runs at once.
    await live.send(user, "/start test-7")
    assert live.emulator.last_sent(2006).text == "test flow done: test-7 (en)"


async def test_an_unknown_deep_link_is_answered_after_onboarding(live: LiveBot) -> None:
    user = live.user(2007, "Ying", language_code="th")
    await _onboard(live, user)
    [_, invalid] = await live.send(user, "/start nosuchflow")
    assert invalid.text == catalogs().text("th", "deeplink.invalid")


async def test_in_a_group_the_bot_speaks_only_when_addressed(live: LiveBot) -> None:
    user = live.user(2008, "Ali", language_code="en")
    group = live.emulator.add_group(-5001, "Yala readers")
    await live.set_membership(user, group.id, "member")
    assert await live.send(user, "good morning everyone", chat_id=group.id) == []
    assert await live.send(user, "/help@other_bot", chat_id=group.id) == []
    assert await live.send(user, "/help", chat_id=group.id) == []  # meant for any bot
    [answer] = await live.send(user, "/help@learncity_test_bot", chat_id=group.id)
    assert answer.text == catalogs().text("en", "group.private_only")
    assert answer.buttons[0]["url"].startswith("https://t.me/learncity_test_bot?start=")
    await live.emulator.user_sends(user, "how?", chat_id=group.id, reply_to=answer)
    await live.settle()
    assert len(live.emulator.sent_to(group.id)) == 3  # not-registered notice, then two answers


async def test_an_edited_message_is_not_acted_on_twice(live: LiveBot) -> None:
    user = live.user(2009, "Edit", language_code="en")
    message = await live.emulator.user_sends(user, "/help")
    await live.settle()
    before = len(live.emulator.sent_to(2009))
    await live.emulator.user_edits(user, message, "/privacy")
    await live.settle()
    # Only the input guard's one notice that edits are not read (handlers/input_guard.py).
    new = [m.text for m in live.emulator.sent_to(2009)[before:]]
    assert new == [catalogs().text("en", "guard.edited")]


async def test_descriptions_are_set_per_app_language(live: LiveBot) -> None:
    assert live.emulator.descriptions["th"] == catalogs().text("th", "bot.description")
    assert live.emulator.descriptions["en"] == catalogs().text("en", "bot.description")
    assert live.emulator.short_descriptions[""] == catalogs().text("th", "bot.short_description")
