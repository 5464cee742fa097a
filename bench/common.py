"""Setup shared by the benchmarks: citizens stored in bulk; errors logged during a run."""

from __future__ import annotations

import logging

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


class ErrorLog(logging.Handler):
    """Keeps what is logged at ERROR or above (a handler that failed, for instance)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        detail = f": {record.exc_info[1]!r}"[:160] if record.exc_info else ""
        self.messages.append(f"{record.name}: {record.getMessage()}{detail}")

    def problems(self) -> list[str]:
        if not self.messages:
            return []
        return [f"{len(self.messages)} errors logged, e.g. {self.messages[0]}"]
