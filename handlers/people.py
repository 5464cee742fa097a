"""Who is talking: their record (if any), language and role, looked up once per update."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update, User
from telegram.ext import ContextTypes

from bot.outage import outage_of
from bot.services import services_of
from storage import citizens
from storage.enums import LANGUAGES, Language, Role
from storage.models import Citizen

# A language chosen before consent lives only in the conversation (user_data), never on disk.
CHOSEN_LANGUAGE_KEY = "language"


@dataclass(frozen=True)
class Person:
    """The sender of an update as the handlers need them."""

    telegram_user_id: int
    language: Language
    role: Role
    citizen: Citizen | None

    @property
    def registered(self) -> bool:
        """True once they gave consent and a record exists."""
        return self.citizen is not None


def language_from_telegram(user: User | None, default: Language) -> Language:
    """Map Telegram's app `language_code` to a catalog language."""
    code = (user.language_code or "").lower() if user else ""
    if code.startswith("th"):
        return "th"
    if code.startswith("en"):
        return "en"
    return default


def as_language(value: object) -> Language | None:
    """`value` if it is a supported language code, else None."""
    return next((lang for lang in LANGUAGES if lang == value), None)


async def load_person(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Person:
    """Read the sender's record and work out their language and role."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return Person(0, services.settings.default_language, Role.citizen, None)
    async with services.db.session(readonly=True) as session:
        citizen = await citizens.get_citizen(user.id, session=session)
    if citizen is not None and not citizen.reachable:
        # They wrote to us, so Telegram will deliver again: lift the block mark.
        async with services.db.session() as session:
            citizen = await citizens.set_reachable(user.id, True, session=session)
    chosen = context.user_data.get(CHOSEN_LANGUAGE_KEY) if context.user_data is not None else None
    language: Language
    if citizen is not None:
        language = citizen.language
    elif (chosen_language := as_language(chosen)) is not None:
        language = chosen_language
    else:
        language = language_from_telegram(user, services.settings.default_language)
    role = Role(citizen.role) if citizen is not None else Role.citizen
    if (guard := outage_of(context)) is not None:  # whom to spool for while the database is down
        guard.remember_consent(user.id, citizen.language if citizen is not None else None)
    if user.id in services.settings.admin_ids:
        role = Role.admin
    return Person(user.id, language, role, citizen)
