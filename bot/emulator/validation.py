"""Telegram's limits on what a bot sends: keyboards, commands, descriptions."""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request

MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
MAX_COMMANDS = 100
COMMAND_RE = re.compile(r"^[a-z0-9_]+$")
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION = 256
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
URL_RE = re.compile(r"^(https?|tg)://\S+$")


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup as Telegram does; return it unchanged."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    buttons = [button for row in rows for button in row]
    if len(buttons) > MAX_INLINE_BUTTONS or any(len(row) > MAX_BUTTONS_PER_ROW for row in rows):
        raise bad_request("BUTTONS_TOO_MUCH")
    for button in buttons:
        if not isinstance(button, dict) or not str(button.get("text", "")).strip():
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        actions = [key for key in INLINE_ACTIONS if key in button]
        if len(actions) != 1:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not URL_RE.match(str(button["url"])):
            raise bad_request("BUTTON_URL_INVALID")


def _check_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not rows:
        raise bad_request("keyboard must be non-empty")
    for row in rows:
        if not isinstance(row, list):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for button in row:
            text = button if isinstance(button, str) else (button or {}).get("text")
            if not isinstance(text, str) or not text.strip():
                raise bad_request("can't parse keyboard button: Text must be non-empty")


def check_commands(commands: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' list: ≤ 100 commands, names `[a-z0-9_]{1,32}`, texts 1–256.

    The wording is Telegram's: tdlib checks lengths first ("command length must not exceed 32",
    "command description must be non-empty"), the server then the rest (BOT_COMMAND_INVALID).
    """
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    checked: list[dict[str, str]] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = str(command.get("command", "")).strip().removeprefix("/")
        description = str(command.get("description", "")).strip()
        if not name:
            raise bad_request("command must be non-empty")
        if len(name) > MAX_COMMAND_LENGTH:
            raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > MAX_COMMAND_DESCRIPTION:
            raise bad_request(
                f"command description length must not exceed {MAX_COMMAND_DESCRIPTION}"
            )
        if not COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        checked.append({"command": name, "description": description})
    if len(checked) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    return checked


def check_language_code(value: Any) -> str:
    """Two-letter ISO 639-1 code or empty."""
    code = "" if value is None else str(value)
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code


def scope_key(scope: Any) -> str:
    """A hashable key for a BotCommandScope."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}:
        return str(kind)
    if kind in {"chat", "chat_administrators"}:
        return f"{kind}:{_scope_id(scope, 'chat_id')}"
    if kind == "chat_member":
        return f"{kind}:{_scope_id(scope, 'chat_id')}:{_scope_id(scope, 'user_id')}"
    raise bad_request("wrong scope type specified")


def _scope_id(scope: dict[str, Any], name: str) -> int:
    """A chat or user id in a scope; "@username" and junk name no chat we know."""
    try:
        return int(scope[name])
    except (KeyError, TypeError, ValueError):
        raise bad_request("chat not found" if name == "chat_id" else "user not found") from None
