"""The driver side: what people do becomes updates that python-telegram-bot 22.8 parses."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
)

from bot.emulator.emulator import Emulator
from bot.emulator.model import EmuUser


async def test_start_with_payload(bot: Bot, emu: Emulator) -> None:
    person = emu.add_user(1, "Ann", language_code="en", username="ann", last_name="Lee")
    await emu.user_sends(person, "/start hl_42")
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.text == "/start hl_42"
    assert message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
    assert message.parse_entity(message.entities[0]) == "/start"
    assert message.chat.type == "private" and message.chat.id == 1
    assert message.from_user is not None
    assert (message.from_user.username, message.from_user.language_code) == ("ann", "en")
    assert message.from_user.last_name == "Lee"
    assert update.effective_user is not None and update.effective_user.id == 1


async def test_command_entities_count_utf16_units(bot: Bot, emu: Emulator) -> None:
    person = emu.add_user(1, "Ann")
    await emu.user_sends(person, "😀 /help@learncity_test_bot ครับ")
    (update,) = await bot.get_updates()
    assert update.message is not None
    (entity,) = update.message.entities
    assert (entity.type, entity.offset) == (MessageEntity.BOT_COMMAND, 3)
    assert update.message.parse_entity(entity) == "/help@learncity_test_bot"


async def test_plain_text_has_no_entities(bot: Bot, emu: Emulator) -> None:
    await emu.user_sends(emu.add_user(1, "Ann"), "สวัสดีครับ")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.entities == ()


async def test_press_gives_a_callback_query(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("ใช่", callback_data="yes:1")]])
    sent = await bot.send_message(user.id, "ตกลงไหม", reply_markup=markup)
    state = await emu.press(user, emu.last_sent(user.id), "yes:1")
    update = (await bot.get_updates())[-1]
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (state.id, "yes:1", user.id)
    assert query.message is not None and query.message.message_id == sent.message_id
    assert isinstance(query.message, Message) and query.message.reply_markup == markup
    assert emu.unanswered_callback_queries() == [state]
    await query.answer()
    assert emu.unanswered_callback_queries() == []


async def test_forged_callback_data_arrives_as_is(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    await bot.send_message(user.id, "x")
    await emu.press(user, emu.last_sent(user.id), "../../admin")
    update = (await bot.get_updates())[-1]
    assert update.callback_query is not None and update.callback_query.data == "../../admin"


@pytest.mark.parametrize("supergroup", [False, True])
async def test_bot_membership_changes(
    bot: Bot, emu: Emulator, user: EmuUser, supergroup: bool
) -> None:
    group = emu.add_group(-1001234 if supergroup else -1234, "ชมรม", supergroup=supergroup)
    statuses = ["member", "administrator", "kicked", "member", "left"]
    for status in statuses:
        await emu.set_bot_membership(user, group.id, status)
    updates = [u for u in await bot.get_updates() if u.my_chat_member]
    assert len(updates) == len(statuses)
    olds = ["left", *statuses[:-1]]
    for update, old, new in zip(updates, olds, statuses, strict=True):
        change = update.my_chat_member
        assert change is not None
        assert change.chat.id == group.id and change.chat.title == "ชมรม"
        assert change.chat.type == ("supergroup" if supergroup else "group")
        assert change.from_user.id == user.id
        assert change.old_chat_member.status == old
        assert change.new_chat_member.status == new
        assert change.new_chat_member.user.id == emu.bot.id
    banned = updates[2].my_chat_member
    assert banned is not None and banned.new_chat_member.status == ChatMember.BANNED


async def test_user_edits(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    message = await emu.user_sends(user, "helo")
    await emu.user_edits(user, message, "/help")
    update = (await bot.get_updates())[-1]
    edited = update.edited_message
    assert edited is not None and update.message is None
    assert edited.message_id == message.message_id
    assert edited.text == "/help" and edited.edit_date is not None
    assert edited.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 5),)


async def test_group_message(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    group = emu.add_group(-77, "Club")
    await emu.set_bot_membership(user, group.id, "member")
    await emu.user_sends(user, "/help@learncity_test_bot", chat_id=group.id)
    update = (await bot.get_updates())[-1]
    assert update.message is not None
    assert update.message.chat.id == group.id and update.message.chat.title == "Club"
    assert update.message.from_user is not None and update.message.from_user.id == user.id


async def test_non_text_messages(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    kinds = ["sticker", "photo", "voice", "location", "contact"]
    for kind in kinds:
        await emu.user_sends_other(user, kind)
    messages = [u.message for u in (await bot.get_updates())[1:]]
    assert len(messages) == len(kinds)
    sticker, photo, voice, location, contact = messages
    assert sticker is not None and sticker.sticker is not None and sticker.text is None
    assert sticker.sticker.emoji == "👍"
    assert photo is not None and photo.photo and photo.photo[-1].width == 90
    assert voice is not None and voice.voice is not None
    assert voice.voice.file_id == f"voice-{user.id}"
    assert location is not None and location.location is not None
    assert location.location.latitude == pytest.approx(6.5411)
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == user.id
    # Each message takes the next id in the chat, after the user's "/start".
    assert [m.message_id for m in messages if m] == [2, 3, 4, 5, 6]
