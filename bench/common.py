"""Setup shared by the benchmarks: citizens stored in bulk."""

from __future__ import annotations

from storage.database import Database
from storage.enums import AgeBand, Purpose, Role
from storage.models import Citizen, Consent

INSERT_CHUNK = 1_000


def language_of(user_id: int) -> str:
    """Odd ids speak Thai, even ones English: both languages in every run."""
    return "th" if user_id % 2 else "en"


async def register_citizens(db: Database, user_ids: range) -> None:
    """Citizens consenting to every purpose, stored in bulk as `register_citizen` stores them
    (less the audit entries: one by one, 10,000 take minutes)."""
    for start in range(0, len(user_ids), INSERT_CHUNK):
        async with db.session() as session:
            people = [
                Citizen(
                    telegram_user_id=user_id,
                    language=language_of(user_id),  # type: ignore[arg-type]
                    role=Role.citizen,
                    age_band=AgeBand.age_35_49,
                    reachable=True,
                )
                for user_id in user_ids[start : start + INSERT_CHUNK]
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                Consent(citizen_id=person.id, purpose=purpose, granted=True)
                for person in people
                if person.id is not None
                for purpose in Purpose
            )
