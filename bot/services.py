"""What every handler may use, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext

from bot.districts import District
from bot.i18n.catalog import Catalogs
from bot.settings import Settings
from schedules.dispatcher import Dispatcher
from schedules.engine import TimeEngine
from storage.answer_batcher import AnswerBatcher
from storage.database import Database

SERVICES_KEY = "services"

# PTB's Application is generic in six types we never narrow.
AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Services:
    """Settings, database, catalogs and districts of one running bot."""

    settings: Settings
    db: Database
    catalogs: Catalogs
    districts: tuple[District, ...]
    answers: AnswerBatcher | None = None
    dispatcher: Dispatcher | None = None
    engine: TimeEngine | None = None

    def district(self, code: str | None) -> District | None:
        """The district with `code`, if it is in the configured list."""
        return next((d for d in self.districts if d.code == code), None)


def services_of(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """The services of the application handling this update."""
    return services_from_app(context.application)


def services_from_app(app: AnyApplication) -> Services:
    """The services stored on an application."""
    services = app.bot_data.get(SERVICES_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("services are opened in post_init; the application is not running")
    return services
