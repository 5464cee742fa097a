"""Small builders for storage tests."""

from __future__ import annotations

from collections.abc import Mapping

from storage.citizens import NewCitizen, register_citizen
from storage.database import Database
from storage.enums import AgeBand, Language, Purpose
from storage.models import Citizen

ALL_GRANTED: Mapping[Purpose, bool] = {purpose: True for purpose in Purpose}


def new_citizen(
    telegram_user_id: int = 1001,
    *,
    language: Language = "th",
    age_band: AgeBand = AgeBand.age_35_49,
    guardian_confirmed: bool = False,
    district: str | None = None,
) -> NewCitizen:
    """A NewCitizen with sensible defaults (an adult, Thai)."""
    return NewCitizen(
        telegram_user_id=telegram_user_id,
        language=language,
        age_band=age_band,
        guardian_confirmed=guardian_confirmed,
        district=district,
    )


async def registered(
    db: Database,
    telegram_user_id: int = 1001,
    consents: Mapping[Purpose, bool] = ALL_GRANTED,
    **fields: object,
) -> Citizen:
    """Register a citizen in its own committed session and return it."""
    async with db.session() as session:
        return await register_citizen(
            new_citizen(telegram_user_id, **fields),  # type: ignore[arg-type]
            consents,
            session=session,
        )
