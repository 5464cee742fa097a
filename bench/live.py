"""The real bot against a Bot API server that runs elsewhere (the benchmark's child process).

`LiveBot` (bot/emulator/harness.py) starts its own `EmulatorServer` in the bot's process;
`BenchBot` does what `LiveBot.start` and `LiveBot.stop` do for the bot alone, against any base
URL and token, and leaves polling to the caller.
"""

from __future__ import annotations

from typing import Any

from bot.app import build_application
from bot.emulator.harness import stop_application
from bot.logging_setup import configure_logging
from bot.services import AnyApplication
from bot.settings import Settings, load_settings
from storage import migrate
from storage.database import Database


class BenchBot:
    """The real Application, initialised and started but not polling."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        database_url: str,
        settings_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.database_url = database_url
        self.overrides = settings_overrides or {}
        self._app: AnyApplication | None = None
        self._db: Database | None = None
        self.settings: Settings | None = None

    @property
    def app(self) -> AnyApplication:
        assert self._app is not None, "BenchBot is not started"
        return self._app

    @property
    def db(self) -> Database:
        assert self._db is not None, "BenchBot is not started"
        return self._db

    async def start(self) -> None:
        """Migrate the database, build, initialise (post_init included) and start the bot."""
        self.settings = load_settings(
            telegram_bot_token=self.token,
            telegram_api_base_url=self.base_url,
            database_url=self.database_url,
            **self.overrides,
        )
        configure_logging(self.settings.log_level)
        self._db = Database(self.settings.database_url)
        await migrate.upgrade(self._db)
        self._app = build_application(self.settings, database=self._db)
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()

    async def stop(self) -> None:
        """Stop polling and the bot, and close the database."""
        if self._app is not None:
            await stop_application(self.app)
            self._app = None
        if self._db is not None:
            await self._db.dispose()
            self._db = None
