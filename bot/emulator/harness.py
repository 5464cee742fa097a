"""The real bot, polling the emulator over HTTP on 127.0.0.1, driven as people would drive it.

Used by the end-to-end tests and by `learncity demo`. `settle()` returns once the bot has
fetched every queued update and finished handling it, so what it sent can be read back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import Setup, build_application
from bot.logging_setup import configure_logging
from bot.services import AnyApplication
from bot.settings import Settings, load_settings
from bot.webhook_server import WebhookServer
from storage import migrate
from storage.database import Database

from .emulator import CallbackQueryState, Emulator
from .inprocess import InProcessRequest
from .model import EmuMessage, EmuUser
from .server import EmulatorServer

logger = logging.getLogger(__name__)

IN_PROCESS_URL = "http://emulator.invalid"
WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class Transcript:
    """What people said and what the bot answered, as readable lines."""

    lines: list[str] = field(default_factory=list)
    _seen: dict[tuple[int, int], int] = field(default_factory=dict)

    def said(self, who: str, text: str) -> None:
        self.lines.append(f"» {who}: {text}")

    def collect(self, emulator: Emulator, chat_id: int) -> list[EmuMessage]:
        """Record the bot's new messages and edits in `chat_id`; return the new ones."""
        new: list[EmuMessage] = []
        for message in emulator.messages.get(chat_id, []):
            if not message.from_bot:
                continue
            key = (chat_id, message.message_id)
            shown = self._seen.get(key, 0)
            for text in message.history[shown:]:
                prefix = "« bot" if shown == 0 else "« bot (edited)"
                self.lines.append(f"{prefix}: {text}")
                if message.buttons and text == message.history[-1]:
                    self.lines.append("   " + "  ".join(f"[{b}]" for b in message.button_texts))
                shown += 1
            if key not in self._seen:
                new.append(message)
            self._seen[key] = len(message.history)
        return new


class LiveBot:
    """Starts the emulator server and the real Application against it."""

    def __init__(
        self,
        *,
        database_url: str,
        emulator: Emulator | None = None,
        extra_setup: Setup | None = None,
        settings_overrides: dict[str, Any] | None = None,
        in_process: bool = False,
        webhook_secret: str | None = None,
    ) -> None:
        self.emulator = emulator or Emulator()
        self.server = EmulatorServer(self.emulator)
        # in_process: no sockets, the same emulator answers through InProcessRequest (fast).
        self.in_process = in_process
        self.database_url = database_url
        self.extra_setup = extra_setup
        # A driver acts at machine speed, faster than the per-person input limit allows a
        # human (handlers/input_guard.py); tests of that limit set their own.
        self.overrides = {
            "input_burst": 1_000_000,
            "gc_freeze_at_start": False,  # one process starts many bots: nothing may pile up
            **(settings_overrides or {}),
        }
        self.transcript = Transcript()
        self._app: AnyApplication | None = None
        self.db: Database | None = None
        self.settings: Settings | None = None
        # webhook_secret: updates come by webhook (local mode) to our WebhookServer.
        self.webhook_secret = webhook_secret
        self.webhook_server: WebhookServer | None = None

    @property
    def app(self) -> AnyApplication:
        """The running Application."""
        assert self._app is not None, "LiveBot is not started"
        return self._app

    async def start(self) -> None:
        """Listen, migrate the database, initialise and start polling."""
        if not self.in_process:
            await self.server.start()
        self.settings = load_settings(
            telegram_bot_token=self.emulator.token,
            telegram_api_base_url=IN_PROCESS_URL if self.in_process else self.server.base_url,
            database_url=self.database_url,
            **self.overrides,
        )
        configure_logging(self.settings.log_level)
        self.db = Database(self.settings.database_url)
        await migrate.upgrade(self.db)
        self._app = build_application(
            self.settings,
            database=self.db,
            extra_setup=self.extra_setup,
            request_factory=(lambda: InProcessRequest(self.emulator)) if self.in_process else None,
        )
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        if self.webhook_secret is not None:
            await self._start_webhook(self.webhook_secret)
            return
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0, timeout=timedelta(seconds=5), allowed_updates=Update.ALL_TYPES
        )

    async def _start_webhook(self, secret: str) -> None:
        """Our webhook server on a free port, and setWebhook to it (as `run --webhook`)."""
        assert self.db is not None
        self.emulator.webhook.local_mode = True  # plain HTTP on 127.0.0.1
        self.webhook_server = WebhookServer(
            self.app, secret=secret, path=WEBHOOK_PATH, database=self.db
        )
        await self.webhook_server.start()
        await self.app.bot.set_webhook(
            self.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )

    @property
    def webhook_url(self) -> str:
        """Where the emulator delivers updates in webhook mode."""
        assert self.webhook_server is not None
        return f"http://127.0.0.1:{self.webhook_server.port}{WEBHOOK_PATH}"

    async def stop(self) -> None:
        """Stop polling and the bot, close the database and the server."""
        if self.webhook_server is not None:
            await self.webhook_server.close()
            self.webhook_server = None
        if self._app is not None:
            await stop_application(self.app)
            self._app = None
        if self.db is not None:
            await self.db.dispose()
        if self.in_process:
            await self.emulator.close()
        else:
            await self.server.stop()

    async def __aenter__(self) -> LiveBot:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every queued update was fetched and fully handled."""
        await self.emulator.wait_confirmed(timeout)
        await self.app.update_queue.join()

    def user(self, user_id: int, first_name: str, **kwargs: Any) -> EmuUser:
        """A person to act as (see `Emulator.add_user`)."""
        return self.emulator.add_user(user_id, first_name, **kwargs)

    async def send(
        self, user: EmuUser, text: str, *, chat_id: int | None = None
    ) -> list[EmuMessage]:
        """`user` sends `text`; returns the bot's new messages in that chat."""
        chat = user.id if chat_id is None else chat_id
        self.transcript.said(user.first_name, text)
        await self.emulator.user_sends(user, text, chat_id=chat_id)
        await self.settle()
        return self.transcript.collect(self.emulator, chat)

    async def send_other(self, user: EmuUser, kind: str) -> list[EmuMessage]:
        """`user` sends a sticker, photo, voice note, location or contact."""
        self.transcript.said(user.first_name, f"<{kind}>")
        await self.emulator.user_sends_other(user, kind)
        await self.settle()
        return self.transcript.collect(self.emulator, user.id)

    async def set_membership(self, user: EmuUser, chat_id: int, status: str) -> list[EmuMessage]:
        """`user` adds the bot to a group ("member") or removes it; returns the bot's replies."""
        await self.emulator.set_bot_membership(user, chat_id, status)
        await self.settle()
        return self.transcript.collect(self.emulator, chat_id)

    async def press(
        self, user: EmuUser, label: str | Callable[[str], bool], *, chat_id: int | None = None
    ) -> CallbackQueryState:
        """`user` taps the newest button whose label is `label` (or matches it)."""
        chat = user.id if chat_id is None else chat_id
        matches = (lambda text: text == label) if isinstance(label, str) else label
        for message in reversed(self.emulator.sent_to(chat)):
            for button in message.buttons:
                if matches(str(button["text"])) and "callback_data" in button:
                    self.transcript.said(user.first_name, f"[{button['text']}]")
                    return await self.press_data(user, message, str(button["callback_data"]))
        raise AssertionError(f"no button {label!r} in chat {chat}")

    async def press_data(self, user: EmuUser, message: EmuMessage, data: str) -> CallbackQueryState:
        """`user` presses a button with exactly `data` (which may be forged)."""
        query = await self.emulator.press(user, message, data)
        await self.settle()
        self.transcript.collect(self.emulator, message.chat_id)
        return query


async def stop_application(app: AnyApplication) -> None:
    """Stop a started application as `Application.run_polling` would: polling, the app, its
    post_shutdown hook, then shutdown."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_shutdown:
        await app.post_shutdown(app)
    await app.shutdown()


def sqlite_url(path: Path) -> str:
    """An aiosqlite URL for a database file."""
    return f"sqlite+aiosqlite:///{path}"
