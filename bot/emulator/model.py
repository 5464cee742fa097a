"""The emulator's world: users, chats and messages, and their Bot API JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]
BotStatus = Literal["member", "administrator", "left", "kicked"]


@dataclass
class EmuUser:
    """A Telegram user the driver acts as."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        """The Bot API `User` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class EmuChat:
    """A private chat with one user, or a group the bot may be a member of."""

    id: int
    type: ChatType
    title: str | None = None
    user: EmuUser | None = None
    bot_status: BotStatus = "left"
    # A private chat exists for the bot only once the user has started it.
    started: bool = False
    blocked_bot: bool = False
    next_message_id: int = 1

    def to_api(self) -> dict[str, Any]:
        """The Bot API `Chat` object."""
        if self.type == "private" and self.user is not None:
            data: dict[str, Any] = {
                "id": self.id,
                "type": "private",
                "first_name": self.user.first_name,
            }
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title or ""}

    def take_message_id(self) -> int:
        """Message ids are counted per chat, as in private chats and basic groups."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class EmuMessage:
    """A message in a chat, from a user or from the bot."""

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"
    extra: dict[str, Any] = field(default_factory=dict)
    edit_date: int | None = None
    deleted: bool = False
    # Every text the message ever showed, oldest first (edits append).
    history: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, flattened."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [button for row in self.reply_markup["inline_keyboard"] for button in row]

    @property
    def button_texts(self) -> list[str]:
        """The labels of the inline buttons."""
        return [str(b["text"]) for b in self.buttons]
