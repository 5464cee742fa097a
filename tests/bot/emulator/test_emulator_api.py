"""The Bot API methods, called through python-telegram-bot 22.8's real `Bot` in-process.

Each test pins one way the emulator is as strict as Telegram, and that PTB parses what it
returns. PTB strips "Bad Request: " and capitalises the rest of the message, so the exact
wording is read back from `emu.calls`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.emulator.emulator import Emulator
from bot.emulator.model import EmuUser

from .support import refused

NOT_MODIFIED = "message is not modified"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
THAI = "ก"  # 3 bytes in UTF-8


def last_error(emu: Emulator) -> str:
    """The description of the newest call, which must have failed."""
    call = emu.calls[-1]
    assert not call.ok, f"{call.method} succeeded"
    assert call.description is not None
    return call.description


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


# ------------------------------------------------------------------ sendMessage


async def test_get_me_is_the_bot(bot: Bot, emu: Emulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (emu.bot.id, "learncity_test_bot", True)


async def test_send_message_returns_a_message_ptb_parses(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    sent = await bot.send_message(user.id, "<b>hello</b>", parse_mode=ParseMode.HTML)
    assert sent.text == "hello"
    assert sent.chat.id == user.id
    assert sent.from_user is not None and sent.from_user.id == emu.bot.id
    assert sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 5),)
    assert emu.last_sent(user.id).text == "hello"


@pytest.mark.parametrize("html", ["<b>x", "<br>", "1 < 2", "<i>a</b>"])
async def test_bad_html_cannot_be_parsed(bot: Bot, emu: Emulator, user: EmuUser, html: str) -> None:
    with refused("can't parse entities"):
        await bot.send_message(user.id, html, parse_mode=ParseMode.HTML)
    assert last_error(emu).startswith("Bad Request: can't parse entities: ")
    assert emu.sent_to(user.id) == []


async def test_escaped_html_is_fine(bot: Bot, user: EmuUser) -> None:
    sent = await bot.send_message(user.id, "1 &lt; 2 &amp; 3", parse_mode=ParseMode.HTML)
    assert sent.text == "1 < 2 & 3"


async def test_message_length_is_counted_after_parsing(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    with refused("message is too long"):
        await bot.send_message(user.id, "a" * 4097)
    assert last_error(emu) == "Bad Request: message is too long"
    # Markup does not count: 4096 visible characters pass.
    sent = await bot.send_message(user.id, "<b></b><b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4096


async def test_length_is_in_utf16_units(bot: Bot, user: EmuUser) -> None:
    # An emoji outside the BMP takes two UTF-16 units.
    with refused("message is too long"):
        await bot.send_message(user.id, "😀" * 2048 + "a")
    await bot.send_message(user.id, "😀" * 2048)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "<b> </b>"])
async def test_empty_text_is_refused(bot: Bot, emu: Emulator, user: EmuUser, text: str) -> None:
    with refused("message text is empty"):
        await bot.send_message(user.id, text, parse_mode=ParseMode.HTML)
    assert last_error(emu) == "Bad Request: message text is empty"


async def test_unknown_chat(bot: Bot, emu: Emulator) -> None:
    with refused("chat not found"):
        await bot.send_message(424242, "hi")
    assert last_error(emu) == "Bad Request: chat not found"


async def test_bot_cannot_write_first(bot: Bot, emu: Emulator) -> None:
    stranger = emu.add_user(2002, "Stranger")
    with pytest.raises(Forbidden) as caught:
        await bot.send_message(stranger.id, "hi")
    assert caught.value.message == "Forbidden: bot can't initiate conversation with a user"
    await emu.user_sends(stranger, "hello")
    await bot.send_message(stranger.id, "hi")


async def test_blocked_until_the_user_writes_again(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    emu.block_bot(user)
    with pytest.raises(Forbidden) as caught:
        await bot.send_message(user.id, "hi")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(Forbidden):
        await bot.send_chat_action(user.id, "typing")
    await emu.user_sends(user, "/start")
    await bot.send_message(user.id, "welcome back")
    assert emu.last_sent(user.id).text == "welcome back"


async def test_group_the_bot_is_not_in(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    group = emu.add_group(-500, "Group")
    supergroup = emu.add_group(-1001500, "Supergroup", supergroup=True)
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(group.id, "hi")
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.send_message(supergroup.id, "hi")
    await emu.set_bot_membership(user, group.id, "member")
    await bot.send_message(group.id, "hi all")
    await emu.set_bot_membership(user, group.id, "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "still here?")


async def test_entities_use_utf16_offsets(bot: Bot, user: EmuUser) -> None:
    sent = await bot.send_message(
        user.id, "<b>สวัสดี</b> 😀 <i>โลก</i> <code>x</code>", parse_mode=ParseMode.HTML
    )
    assert sent.text == "สวัสดี 😀 โลก x"
    # "สวัสดี" is 6 code units, the emoji 2: italic starts at 6 + 1 + 2 + 1.
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        (MessageEntity.BOLD, 0, 6),
        (MessageEntity.ITALIC, 10, 3),
        (MessageEntity.CODE, 14, 1),
    ]
    assert list(sent.parse_entities().values()) == ["สวัสดี", "โลก", "x"]


# ------------------------------------------------------------------ inline keyboards


async def test_callback_data_limit_is_64_utf8_bytes(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    fits = THAI * 21 + "a"  # 64 bytes
    sent = await bot.send_message(user.id, "ok", reply_markup=keyboard(
        InlineKeyboardButton("fits", callback_data=fits)
    ))  # fmt: skip
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == fits
    for data in (THAI * 21 + "ab", THAI * 22):  # 65 and 66 bytes, only 22 characters
        with refused("button_data_invalid"):
            await bot.send_message(
                user.id, "no", reply_markup=keyboard(InlineKeyboardButton("x", callback_data=data))
            )
        assert last_error(emu) == "Bad Request: BUTTON_DATA_INVALID"


async def test_empty_callback_data_is_invalid(bot: Bot, user: EmuUser) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(
            user.id, "no", reply_markup=keyboard(InlineKeyboardButton("x", callback_data=""))
        )


async def test_text_only_button_is_refused(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "no", reply_markup=keyboard(InlineKeyboardButton("x")))
    assert "Text buttons are unallowed in the inline keyboard" in last_error(emu)


async def test_too_many_buttons(bot: Bot, user: EmuUser) -> None:
    def button(n: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(str(n), callback_data=str(n))

    await bot.send_message(user.id, "8 a row", reply_markup=keyboard(*map(button, range(8))))
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "9 a row", reply_markup=keyboard(*map(button, range(9))))
    hundred = [[button(row * 10 + col) for col in range(5)] for row in range(20)]
    await bot.send_message(user.id, "100", reply_markup=InlineKeyboardMarkup(hundred))
    with pytest.raises(BadRequest):
        await bot.send_message(
            user.id, "101", reply_markup=InlineKeyboardMarkup([*hundred, [button(100)]])
        )


async def test_url_buttons(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    link = keyboard(InlineKeyboardButton("site", url="https://example.org/a?b=c"))
    sent = await bot.send_message(user.id, "ok", reply_markup=link)
    assert sent.reply_markup == link
    with refused("button_url_invalid"):
        await bot.send_message(
            user.id, "no", reply_markup=keyboard(InlineKeyboardButton("x", url="not a url"))
        )
    assert last_error(emu) == "Bad Request: BUTTON_URL_INVALID"


# ------------------------------------------------------------------ edits and deletes


async def test_identical_edit_is_not_modified(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    markup = keyboard(InlineKeyboardButton("a", callback_data="a"))
    sent = await bot.send_message(user.id, "<b>hi</b>", parse_mode="HTML", reply_markup=markup)
    with refused("message is not modified"):
        await bot.edit_message_text(
            "<b>hi</b>", user.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    assert last_error(emu).startswith(f"Bad Request: {NOT_MODIFIED}: ")
    # Same text, other buttons: that is a change.
    other = keyboard(InlineKeyboardButton("b", callback_data="b"))
    edited = await bot.edit_message_text(
        "<b>hi</b>", user.id, sent.message_id, parse_mode="HTML", reply_markup=other
    )
    assert not isinstance(edited, bool) and edited.edit_date is not None
    assert emu.last_sent(user.id).button_texts == ["b"]
    # Same text without the markup drops the keyboard, as on Telegram.
    await bot.edit_message_text("<b>hi</b>", user.id, sent.message_id, parse_mode="HTML")
    assert emu.last_sent(user.id).buttons == []


async def test_edit_text_changes_history(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    sent = await bot.send_message(user.id, "one")
    await bot.edit_message_text("two", user.id, sent.message_id)
    assert emu.last_sent(user.id).history == ["one", "two"]


async def test_edit_reply_markup_identical(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    markup = keyboard(InlineKeyboardButton("a", callback_data="a"))
    sent = await bot.send_message(user.id, "hi", reply_markup=markup)
    with refused("message is not modified"):
        await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=markup)
    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=None)
    assert emu.last_sent(user.id).reply_markup is None


async def test_users_message_cannot_be_edited(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    theirs = await emu.user_sends(user, "my words")
    with refused("message can't be edited"):
        await bot.edit_message_text("yours now", user.id, theirs.message_id)
    assert last_error(emu) == "Bad Request: message can't be edited"


async def test_edit_unknown_message(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    with refused("message to edit not found"):
        await bot.edit_message_text("x", user.id, 999)
    assert last_error(emu) == "Bad Request: message to edit not found"


async def test_edit_is_checked_like_a_send(bot: Bot, user: EmuUser) -> None:
    sent = await bot.send_message(user.id, "hi")
    with refused("can't parse entities"):
        await bot.edit_message_text("<b>x", user.id, sent.message_id, parse_mode="HTML")
    with refused("message text is empty"):
        await bot.edit_message_text(" ", user.id, sent.message_id)


async def test_delete_twice(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    sent = await bot.send_message(user.id, "bye")
    assert await bot.delete_message(user.id, sent.message_id) is True
    assert emu.sent_to(user.id) == []
    with refused("message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)
    assert last_error(emu) == "Bad Request: message to delete not found"
    with refused("message to edit not found"):
        await bot.edit_message_text("back?", user.id, sent.message_id)


# ------------------------------------------------------------------ callback queries


async def test_callback_query_is_answered_once(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    sent = await bot.send_message(
        user.id, "pick", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="a"))
    )
    query = await emu.press(user, emu.last_sent(user.id), "a")
    assert sent.message_id == query.message_id
    assert emu.unanswered_callback_queries() == [query]
    assert await bot.answer_callback_query(query.id, text="ok") is True
    assert emu.unanswered_callback_queries() == []
    assert query.answer is not None and query.answer["text"] == "ok"
    with refused("query is too old"):
        await bot.answer_callback_query(query.id)
    assert last_error(emu) == f"Bad Request: {QUERY_TOO_OLD}"


async def test_unknown_callback_query(bot: Bot, emu: Emulator) -> None:
    with refused("query is too old"):
        await bot.answer_callback_query("no-such-query")
    assert last_error(emu) == f"Bad Request: {QUERY_TOO_OLD}"


async def test_callback_answer_text_limit(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    await bot.send_message(user.id, "x")
    query = await emu.press(user, emu.last_sent(user.id), "x")
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(query.id, text="a" * 201, show_alert=True)
    assert emu.unanswered_callback_queries() == [query]
    await bot.answer_callback_query(query.id, text="a" * 200, show_alert=True)
    assert emu.unanswered_callback_queries() == []


# ------------------------------------------------------------------ commands and descriptions


@pytest.mark.parametrize("name", ["Start", "my-command", "привет", "a b"])
async def test_invalid_command_names(bot: Bot, emu: Emulator, name: str) -> None:
    with refused("bot_command_invalid"):
        await bot.set_my_commands([BotCommand(name, "description")])
    assert last_error(emu) == "Bad Request: BOT_COMMAND_INVALID"
    assert emu.commands == {}


async def test_command_name_length(bot: Bot, emu: Emulator) -> None:
    assert await bot.set_my_commands([BotCommand("a" * 32, "fits")])
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("a" * 33, "too long")])
    assert last_error(emu) == "Bad Request: command length must not exceed 32"


async def test_command_descriptions(bot: Bot, emu: Emulator) -> None:
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("start", " ")])
    assert last_error(emu) == "Bad Request: command description must be non-empty"
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("start", "x" * 257)])
    assert last_error(emu) == "Bad Request: command description length must not exceed 256"
    assert await bot.set_my_commands([BotCommand("start", "ก" * 256)])


async def test_at_most_100_commands(bot: Bot, emu: Emulator) -> None:
    commands = [BotCommand(f"c{n}", "d") for n in range(100)]
    assert await bot.set_my_commands(commands)
    with pytest.raises(BadRequest):
        await bot.set_my_commands([*commands, BotCommand("one_more", "d")])
    assert last_error(emu) == "Bad Request: BOT_COMMANDS_TOO_MUCH"


async def test_chat_scope_needs_a_known_chat(bot: Bot, emu: Emulator) -> None:
    with refused("chat not found"):
        await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(777))
    with refused("chat not found"):
        await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat("@nobody"))


async def test_set_get_delete_commands(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    assert await bot.get_my_commands() == ()
    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "เริ่ม")], language_code="th")
    assert await bot.get_my_commands() == (BotCommand("start", "Begin"), BotCommand("help", "Help"))
    assert await bot.get_my_commands(language_code="th") == (BotCommand("start", "เริ่ม"),)
    assert await bot.delete_my_commands(language_code="th")
    assert await bot.get_my_commands(language_code="th") == ()
    assert emu.menu_for(user) == ["start", "help"]
    assert await bot.delete_my_commands()
    assert emu.menu_for(user) == []


async def test_menu_resolves_scopes_as_telegram(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    english = emu.add_user(1002, "Ann", language_code="en-GB")
    await emu.user_sends(english, "/start")

    def cmds(*names: str) -> list[BotCommand]:
        return [BotCommand(name, name) for name in names]

    await bot.set_my_commands(cmds("default"))
    assert emu.menu_for(user) == ["default"]
    await bot.set_my_commands(cmds("default_th"), language_code="th")
    assert emu.menu_for(user) == ["default_th"]
    assert emu.menu_for(english) == ["default"]
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(cmds("private"), scope=private)
    assert emu.menu_for(user) == ["private"]  # a wider scope loses to a narrower one
    await bot.set_my_commands(cmds("private_en"), scope=private, language_code="en")
    assert emu.menu_for(english) == ["private_en"]  # "en-GB" matches "en"
    assert emu.menu_for(user) == ["private"]
    await bot.set_my_commands(cmds("chat"), scope=BotCommandScopeChat(user.id))
    assert emu.menu_for(user) == ["chat"]
    await bot.set_my_commands(
        cmds("chat_th"), scope=BotCommandScopeChat(user.id), language_code="th"
    )
    assert emu.menu_for(user) == ["chat_th"]
    assert emu.menu_for(english) == ["private_en"]


async def test_invalid_language_code(bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("a", "b")], language_code="eng")


async def test_description_limits(bot: Bot, emu: Emulator) -> None:
    assert await bot.set_my_description("d" * 512)
    assert await bot.set_my_short_description("s" * 120, language_code="th")
    assert emu.descriptions[""] == "d" * 512
    assert emu.short_descriptions["th"] == "s" * 120
    with pytest.raises(BadRequest):
        await bot.set_my_description("d" * 513)
    with pytest.raises(BadRequest):
        await bot.set_my_short_description("s" * 121)
    assert emu.descriptions[""] == "d" * 512


# ------------------------------------------------------------------ getUpdates


async def test_offset_confirms_and_limit_caps(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    for n in range(4):
        await emu.user_sends(user, f"m{n}")
    first_two = await bot.get_updates(limit=2)
    assert [u.message.text for u in first_two if u.message] == ["/start", "m0"]
    # Without an offset nothing is confirmed: the same updates come again.
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [u.update_id for u in first_two]
    rest = await bot.get_updates(offset=first_two[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["m1", "m2", "m3"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in rest]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_wait_confirmed_needs_an_offset_past_the_last_update(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    await emu.user_sends(user, "hello")
    waiter = asyncio.create_task(emu.wait_confirmed(timeout=2))

    async def still_waiting() -> bool:
        done, _ = await asyncio.wait({waiter}, timeout=0.02)
        return not done

    updates = await bot.get_updates()
    assert await still_waiting(), "fetching is not confirming"
    await bot.get_updates(offset=updates[-1].update_id)  # confirms all but the last
    assert await still_waiting()
    await bot.get_updates(offset=emu.last_update_id + 1)
    await asyncio.wait_for(waiter, 1)


async def test_allowed_updates_filter_and_are_remembered(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    await bot.send_message(user.id, "pick")
    await emu.press(user, emu.last_sent(user.id), "a")
    only_presses = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in only_presses if u.callback_query] == ["a"]
    assert len(only_presses) == 1
    remembered = await bot.get_updates()
    assert [u.update_id for u in remembered] == [u.update_id for u in only_presses]
    assert emu.allowed_updates == ["callback_query"]
    everything = await bot.get_updates(allowed_updates=[])
    assert len(everything) == 2
    assert emu.allowed_updates is None


async def test_get_updates_timeout_returns_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=timedelta(milliseconds=50)) == ()


# ------------------------------------------------------------------ the call log


async def test_every_call_is_logged(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    await bot.send_message(user.id, "ok")
    with pytest.raises(BadRequest):
        await bot.send_message(-1, "nobody")
    with pytest.raises(Forbidden):
        await bot.send_message(emu.add_user(3003, "New").id, "hi")
    sends = emu.calls_to("sendMessage")
    assert [(c.ok, c.error_code, c.description) for c in sends] == [
        (True, None, None),
        (False, 400, "Bad Request: chat not found"),
        (False, 403, "Forbidden: bot can't initiate conversation with a user"),
    ]
    assert sends[1].params["chat_id"] == "-1"
    assert emu.calls_to("getMe") and all(c.ok for c in emu.calls_to("getme"))


async def test_unknown_method_and_token(emu: Emulator) -> None:
    status, body = await emu.call(emu.token, "sendTelepathy", {})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await emu.call("1:wrong", "getMe", {})
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert [(c.method, c.ok, c.error_code) for c in emu.calls] == [
        ("sendTelepathy", False, 404),
        ("getMe", False, 401),
    ]
