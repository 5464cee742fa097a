"""A Bot API server in memory: the methods a bot calls and the actions a driver takes.

`Emulator.call` answers one Bot API request (used by the HTTP server and by the in-process
request); the `user_*`/`press`/`add_bot_to_group` methods act as people do and queue updates.
It is as strict as Telegram where our bot could get things wrong: HTML parsing, text length,
callback data size, identical edits, unknown chats, unanswered callback queries.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import NOT_FOUND, UNAUTHORIZED, ApiError, DroppedRequest, bad_request, forbidden
from .faults import Faults
from .files import Files
from .html_entities import BadRequest, bot_command_entities, check_message_text
from .model import EmuChat, EmuMessage, EmuUser
from .params import Method, Params
from .params import float_param as _float_param
from .params import int_param as _int_param
from .params import json_param as _json_param
from .polls import Polls
from .validation import check_commands, check_language_code, check_reply_markup, scope_key
from .webhook import Webhook

DEFAULT_TOKEN = "123456789:AAEmulatorTestTokenDoNotUseInProduction0"
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
MAX_CALLBACK_ANSWER = 200


@dataclass
class CallRecord:
    """One Bot API call the bot made, and how the emulator answered it."""

    method: str
    params: Params
    ok: bool
    error_code: int | None = None
    description: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class CallbackQueryState:
    """A button press waiting for answerCallbackQuery."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: Params | None = None


class Emulator:
    """The Bot API as one bot sees it, plus a driver that acts as users."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "learncity_test_bot",
        bot_first_name: str = "LearnCity",
    ) -> None:
        self.token = token
        self.bot = EmuUser(
            id=int(token.split(":", 1)[0]),
            first_name=bot_first_name,
            username=bot_username,
            is_bot=True,
        )
        self.users: dict[int, EmuUser] = {}
        self.chats: dict[int, EmuChat] = {}
        self.messages: dict[int, list[EmuMessage]] = {}
        self.calls: list[CallRecord] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.callback_queries: dict[str, CallbackQueryState] = {}
        self.allowed_updates: list[str] | None = None
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._confirmed_up_to = 0  # every update with id < this has been confirmed
        self._changed = asyncio.Condition()
        self._poll_generation = 0
        self._closing = False
        self._query_ids = itertools.count(1)
        self._methods: dict[str, Method] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._set_my_description,
            "setmyshortdescription": self._set_my_short_description,
            "sendchataction": self._send_chat_action,
            "sendlocation": self._send_location,
        }
        # Privacy mode (Telegram's default for bots): in groups the bot receives only commands,
        # replies to its own messages and service messages, not every chat line.
        self.privacy_mode = True
        self.faults = Faults(self)
        self.polls = Polls(self)
        self.files = Files(self)
        self.webhook = Webhook(self)
        for component in (self.faults, self.polls, self.files, self.webhook):
            self._methods.update(component.methods())

    # ------------------------------------------------------------------ the Bot API side

    async def call(self, token: str, method: str, params: Params) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: (HTTP status, JSON body)."""
        try:
            if token != self.token:
                raise UNAUTHORIZED
            handler = self._methods.get(method.lower())
            if handler is None:
                raise NOT_FOUND
            await self.faults.before(method, params)
            result = await handler(params)
            await self.faults.after(method, params)
        except DroppedRequest:
            self.calls.append(CallRecord(method, params, False, None, "dropped"))
            raise
        except ApiError as error:
            self.calls.append(CallRecord(method, params, False, error.code, error.description))
            return error.code, error.envelope()
        except BadRequest as error:
            self.calls.append(CallRecord(method, params, False, 400, error.description))
            return 400, {"ok": False, "error_code": 400, "description": error.description}
        self.calls.append(CallRecord(method, params, True))
        return 200, {"ok": True, "result": result}

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook.active:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", required=False) or 0
        limit = _int_param(params, "limit", required=False) or 100
        timeout = float(params.get("timeout") or 0)
        if not 1 <= limit <= 100:
            limit = 100
        allowed = _json_param(params, "allowed_updates")
        if allowed is not None:
            # Telegram remembers allowed_updates until the next call that names them.
            self.allowed_updates = list(allowed) or None
        async with self._changed:
            if offset > self._confirmed_up_to:
                self._confirmed_up_to = offset
            if offset:
                # Telegram returns only ids >= offset: a repeated old update is confirmed too.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()
            deadline = time.monotonic() + max(timeout, 0.0)
            while True:
                if self.webhook.active:
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                ready = [u for u in self._updates if self._wanted(u)][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing:
                    return ready
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    def _wanted(self, update: dict[str, Any]) -> bool:
        kinds = self.allowed_updates
        # Telegram's default leaves out chat_member and reactions; we never send those.
        return kinds is None or any(kind in update for kind in kinds)

    async def drop_pending_updates(self) -> None:
        """Forget every queued update (deleteWebhook/setWebhook with drop_pending_updates)."""
        async with self._changed:
            self._updates.clear()
            self._confirmed_up_to = self._next_update_id
            self._changed.notify_all()

    @property
    def pending_update_count(self) -> int:
        """Updates queued and not yet confirmed."""
        return len(self._updates)

    def take_pending_updates(self, limit: int = 100) -> list[dict[str, Any]]:
        """The oldest queued updates (webhook delivery reads them in order)."""
        return [u for u in self._updates if self._wanted(u)][:limit]

    async def confirm_updates(self, up_to: int) -> None:
        """Mark every update with an id below `up_to` as delivered."""
        async with self._changed:
            if up_to > self._confirmed_up_to:
                self._confirmed_up_to = up_to
                self._updates = [u for u in self._updates if u["update_id"] >= up_to]
            self._changed.notify_all()

    def _chat_for_sending(self, params: Params) -> EmuChat:
        chat_id = _int_param(params, "chat_id")
        assert chat_id is not None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.type == "private":
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
            if chat.blocked_bot:
                raise forbidden("bot was blocked by the user")
        elif chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        elif chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat_for_sending(params)
        text, entities = self._parse_text(params, "text")
        markup = check_reply_markup(_json_param(params, "reply_markup"))
        message = EmuMessage(
            chat_id=chat.id,
            message_id=chat.take_message_id(),
            sender_id=self.bot.id,
            from_bot=True,
            date=int(time.time()),
            text=text,
            entities=entities,
            reply_markup=markup,
            history=[text],
        )
        self.messages.setdefault(chat.id, []).append(message)
        return self._message_to_api(message)

    def _parse_text(self, params: Params, name: str) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise bad_request("message text is empty")
        entities = _json_param(params, "entities")
        parse_mode = params.get("parse_mode") or None
        if entities and parse_mode:
            parse_mode = None  # Telegram ignores parse_mode when entities are given
        text, parsed = check_message_text(str(raw), parse_mode)
        return text, list(entities) if entities else parsed

    def _own_message(self, params: Params) -> EmuMessage:
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")
        chat_id = _int_param(params, "chat_id")
        message_id = _int_param(params, "message_id")
        assert chat_id is not None
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                if not message.from_bot:
                    raise bad_request("message can't be edited")
                return message
        raise bad_request("message to edit not found")

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._own_message(params)
        text, entities = self._parse_text(params, "text")
        markup = check_reply_markup(_json_param(params, "reply_markup"))
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise self._not_modified()
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.edit_date = int(time.time())
        message.history.append(text)
        return self._message_to_api(message)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._own_message(params)
        markup = check_reply_markup(_json_param(params, "reply_markup"))
        if markup == message.reply_markup:
            raise self._not_modified()
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return self._message_to_api(message)

    @staticmethod
    def _not_modified() -> ApiError:
        return bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )

    async def _delete_message(self, params: Params) -> bool:
        chat_id = _int_param(params, "chat_id")
        message_id = _int_param(params, "message_id")
        for message in self.messages.get(chat_id or 0, []):
            if message.message_id == message_id and not message.deleted:
                message.deleted = True
                return True
        raise bad_request("message to delete not found")

    async def _answer_callback_query(self, params: Params) -> bool:
        query = self.callback_queries.get(str(params.get("callback_query_id", "")))
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = dict(params)
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        commands = check_commands(_json_param(params, "commands"))
        key = (
            scope_key(_json_param(params, "scope")),
            check_language_code(params.get("language_code")),
        )
        self._check_scope_chat(key[0])
        self.commands[key] = commands
        return True

    def _check_scope_chat(self, key: str) -> None:
        parts = key.split(":")
        if len(parts) > 1 and int(parts[1]) not in self.chats:
            raise bad_request("chat not found")

    async def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        key = (
            scope_key(_json_param(params, "scope")),
            check_language_code(params.get("language_code")),
        )
        return self.commands.get(key, [])

    async def _delete_my_commands(self, params: Params) -> bool:
        key = (
            scope_key(_json_param(params, "scope")),
            check_language_code(params.get("language_code")),
        )
        self.commands.pop(key, None)
        return True

    async def _set_my_description(self, params: Params) -> bool:
        text = str(params.get("description") or "")
        if len(text) > MAX_DESCRIPTION:
            raise bad_request("description is too long")
        self.descriptions[check_language_code(params.get("language_code"))] = text
        return True

    async def _set_my_short_description(self, params: Params) -> bool:
        text = str(params.get("short_description") or "")
        if len(text) > MAX_SHORT_DESCRIPTION:
            raise bad_request("short description is too long")
        self.short_descriptions[check_language_code(params.get("language_code"))] = text
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._chat_for_sending(params)
        return True

    async def _send_location(self, params: Params) -> dict[str, Any]:
        """A map point (kind "location"); Telegram refuses coordinates off the globe."""
        chat = self._chat_for_sending(params)
        latitude = _float_param(params, "latitude")
        longitude = _float_param(params, "longitude")
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise bad_request("wrong latitude or longitude specified")
        markup = check_reply_markup(_json_param(params, "reply_markup"))
        message = EmuMessage(
            chat_id=chat.id,
            message_id=chat.take_message_id(),
            sender_id=self.bot.id,
            from_bot=True,
            date=int(time.time()),
            reply_markup=markup,
            kind="location",
            extra={"location": {"latitude": latitude, "longitude": longitude}},
        )
        self.messages.setdefault(chat.id, []).append(message)
        return self._message_to_api(message)

    def _message_to_api(self, message: EmuMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        sender = self.bot if message.from_bot else self.users[message.sender_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender.to_api(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edit_date:
            data["edit_date"] = message.edit_date
        data.update(message.extra)
        return data

    # ------------------------------------------------------------------ the driver side

    def add_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        language_code: str | None = "th",
        username: str | None = None,
        last_name: str | None = None,
        is_bot: bool = False,
    ) -> EmuUser:
        """A person (or another bot) who can talk to the bot; their private chat has the same
        id."""
        user = EmuUser(user_id, first_name, last_name, username, language_code, is_bot)
        self.users[user_id] = user
        self.chats.setdefault(user_id, EmuChat(id=user_id, type="private", user=user))
        return user

    def add_group(self, chat_id: int, title: str, *, supergroup: bool = False) -> EmuChat:
        """A group chat (negative id) the bot is not yet a member of."""
        if chat_id >= 0:
            raise ValueError("group ids are negative")
        chat = EmuChat(id=chat_id, type="supergroup" if supergroup else "group", title=title)
        self.chats[chat_id] = chat
        return chat

    def add_channel(self, chat_id: int, title: str) -> EmuChat:
        """A channel (negative id) where the bot is an administrator, so it gets every post."""
        chat = EmuChat(id=chat_id, type="channel", title=title, bot_status="administrator")
        self.chats[chat_id] = chat
        return chat

    async def channel_posts(self, chat_id: int, text: str, *, edited: bool = False) -> None:
        """A post in a channel the bot administers (channel_post, or edited_channel_post)."""
        chat = self.chats[chat_id]
        now = int(time.time())
        payload: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "sender_chat": chat.to_api(),
            "chat": chat.to_api(),
            "date": now,
            "text": text,
        }
        if edited:
            payload["edit_date"] = now
        await self._push("edited_channel_post" if edited else "channel_post", payload)

    async def user_forwards(
        self, user: EmuUser, text: str, *, chat_id: int | None = None, from_name: str = "Somchai"
    ) -> EmuMessage:
        """`user` forwards someone's text (the author hides their account: a hidden_user origin)."""
        chat = self._chat(user, chat_id)
        origin = {"type": "hidden_user", "sender_user_name": from_name, "date": int(time.time())}
        message = self._user_message(
            user, chat, text=text, entities=bot_command_entities(text), history=[text],
            extra={"forward_origin": origin},
        )  # fmt: skip
        if self._bot_receives(chat, text, None):
            await self._push("message", self._message_to_api(message))
        return message

    async def repeat_update(self, update: dict[str, Any]) -> None:
        """Deliver `update` again with its own update_id, as Telegram does when a webhook
        answer timed out or a poll's offset was lost."""
        async with self._changed:
            self._updates.append(dict(update))
            self._updates.sort(key=lambda u: int(u["update_id"]))  # stable: the copy goes after
            self._changed.notify_all()
        self.webhook.on_update()

    async def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue a raw update of `kind` (for fuzzing); returns it, with its update_id."""
        return await self._push(kind, payload)

    async def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update, unless the bot's allowed_updates leave its kind out (then Telegram
        never stores it)."""
        async with self._changed:
            update = {"update_id": self._next_update_id, kind: payload}
            if not self._wanted(update):
                return None
            self._next_update_id += 1
            self._updates.append(update)
            self._changed.notify_all()
        self.webhook.on_update()
        return update

    def _user_message(self, user: EmuUser, chat: EmuChat, **fields: Any) -> EmuMessage:
        if chat.type == "private":
            chat.started = True
            chat.blocked_bot = False
        message = EmuMessage(
            chat_id=chat.id,
            message_id=chat.take_message_id(),
            sender_id=user.id,
            from_bot=False,
            date=int(time.time()),
            **fields,
        )
        self.messages.setdefault(chat.id, []).append(message)
        return message

    def _chat(self, user: EmuUser, chat_id: int | None) -> EmuChat:
        return self.chats[user.id if chat_id is None else chat_id]

    async def user_sends(
        self,
        user: EmuUser,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: EmuMessage | None = None,
    ) -> EmuMessage:
        """`user` types `text` (commands get their bot_command entity, as Telegram adds it)."""
        chat = self._chat(user, chat_id)
        message = self._user_message(
            user, chat, text=text, entities=bot_command_entities(text), history=[text]
        )
        payload = self._message_to_api(message)
        if reply_to is not None:
            payload["reply_to_message"] = self._message_to_api(reply_to)
        if self._bot_receives(chat, text, reply_to):
            await self._push("message", payload)
        return message

    def _bot_receives(self, chat: EmuChat, text: str | None, reply_to: EmuMessage | None) -> bool:
        """Whether Telegram would deliver a message in `chat` to the bot at all."""
        if chat.type == "private":
            return True
        if chat.bot_status not in ("member", "administrator"):
            return False
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        if reply_to is not None and reply_to.from_bot:
            return True
        if text and text.startswith("/"):
            command = text.split()[0]
            target = command.partition("@")[2]
            return not target or target.lower() == (self.bot.username or "").lower()
        return False

    async def user_sends_other(
        self, user: EmuUser, kind: str, *, chat_id: int | None = None
    ) -> EmuMessage:
        """`user` sends a sticker, photo, voice note, location or contact."""
        chat = self._chat(user, chat_id)
        extra = _NON_TEXT_SAMPLES[kind](user)
        message = self._user_message(user, chat, kind=kind, extra=extra)
        if self._bot_receives(chat, None, None):
            await self._push("message", self._message_to_api(message))
        return message

    async def user_edits(self, user: EmuUser, message: EmuMessage, text: str) -> None:
        """`user` edits an earlier text message of theirs."""
        message.text = text
        message.entities = bot_command_entities(text)
        message.edit_date = int(time.time())
        message.history.append(text)
        await self._push("edited_message", self._message_to_api(message))

    async def press(self, user: EmuUser, message: EmuMessage, data: str) -> CallbackQueryState:
        """`user` presses a button carrying `data` on `message` (forged data is allowed)."""
        query = CallbackQueryState(
            id=str(next(self._query_ids)),
            user_id=user.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
        )
        self.callback_queries[query.id] = query
        await self._push(
            "callback_query",
            {
                "id": query.id,
                "from": user.to_api(),
                "message": self._message_to_api(message),
                "chat_instance": str(message.chat_id),
                "data": data,
            },
        )
        return query

    async def set_bot_membership(self, user: EmuUser, chat_id: int, status: str) -> None:
        """`user` adds the bot to a group ("member"), or removes it ("left"/"kicked")."""
        chat = self.chats[chat_id]
        old = chat.bot_status
        chat.bot_status = status  # type: ignore[assignment]
        await self._push(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": int(time.time()),
                "old_chat_member": self._bot_member(old),
                "new_chat_member": self._bot_member(status),
            },
        )

    def _bot_member(self, status: str) -> dict[str, Any]:
        """The bot's ChatMember object: "kicked" and "administrator" carry required fields."""
        member: dict[str, Any] = {"status": status, "user": self.bot.to_api()}
        if status == "kicked":
            member["until_date"] = 0  # banned forever
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, False))
            member.update(can_manage_chat=True, can_delete_messages=True)
        return member

    def block_bot(self, user: EmuUser) -> None:
        """`user` blocks the bot: every send to them is refused with 403 until they write."""
        self.chats[user.id].blocked_bot = True

    # ------------------------------------------------------------------ reading back

    def sent_to(self, chat_id: int) -> list[EmuMessage]:
        """Every message the bot sent to `chat_id` that is still there, oldest first."""
        return [m for m in self.messages.get(chat_id, []) if m.from_bot and not m.deleted]

    def last_sent(self, chat_id: int) -> EmuMessage:
        """The bot's newest message in `chat_id`."""
        sent = self.sent_to(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def menu_for(self, user: EmuUser, chat_id: int | None = None) -> list[str]:
        """The command names Telegram would show `user` in a chat, resolving scopes as it does."""
        chat = self._chat(user, chat_id)
        lang = (user.language_code or "")[:2]
        scopes = [f"chat:{chat.id}"]
        scopes += ["all_private_chats"] if chat.type == "private" else ["all_group_chats"]
        scopes.append("default")
        for scope in scopes:
            for key in ((scope, lang), (scope, "")):
                if key in self.commands:
                    return [c["command"] for c in self.commands[key]]
        return []

    def unanswered_callback_queries(self) -> list[CallbackQueryState]:
        """Button presses the bot never answered (a spinner still turning on the phone)."""
        return [q for q in self.callback_queries.values() if not q.answered]

    def sends_to(self, chat_id: int) -> list[CallRecord]:
        """Every send* call aimed at `chat_id`, whatever its outcome (for counting per chat)."""
        return [
            c
            for c in self.calls
            if c.method.lower().startswith("send") and str(c.params.get("chat_id")) == str(chat_id)
        ]

    def calls_to(self, method: str) -> list[CallRecord]:
        """The log of calls to one method."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def last_update_id(self) -> int:
        """The id of the newest update queued so far (0 if none)."""
        return self._next_update_id - 1

    async def wait_confirmed(self, timeout: float = 10.0) -> None:
        """Wait until the bot has fetched and confirmed every queued update."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: not self._updates),
                timeout,
            )

    async def close(self) -> None:
        """Answer every waiting getUpdates at once (used on shutdown)."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        await self.webhook.close()


# The rights every ChatMemberAdministrator object carries (the Bot API marks them required).
_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)

_NON_TEXT_SAMPLES: dict[str, Callable[[EmuUser], dict[str, Any]]] = {
    "sticker": lambda u: {
        "sticker": {
            "file_id": f"sticker-{u.id}",
            "file_unique_id": f"s{u.id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
    },
    "photo": lambda u: {
        "photo": [
            {"file_id": f"photo-{u.id}", "file_unique_id": f"p{u.id}", "width": 90, "height": 90}
        ]
    },
    "voice": lambda u: {
        "voice": {"file_id": f"voice-{u.id}", "file_unique_id": f"v{u.id}", "duration": 3}
    },
    "location": lambda u: {"location": {"latitude": 6.5411, "longitude": 101.2804}},
    "contact": lambda u: {
        "contact": {"phone_number": "+66800000000", "first_name": u.first_name, "user_id": u.id}
    },
}
