"""A broadcast ready to fan out, for the tests that stop the bot mid-way (crash, shutdown)."""

from __future__ import annotations

from collections.abc import Mapping

from storage import deliveries, migrate
from storage.database import Database
from storage.enums import AgeBand, Purpose, Role
from storage.models import Citizen, Consent


async def prepare_broadcast(
    url: str, *, citizens: int, first_user_id: int, purpose: str, texts: Mapping[str, str]
) -> int:
    """Tables, `citizens` consenting citizens and one broadcast to them all; returns recipients.

    The citizens are stored in bulk, as `citizens.register_citizen` stores them (less the
    audit entries): one by one it would take many seconds. The audience comes from the same
    query /broadcast uses.
    """
    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.session() as session:
            people = [
                Citizen(
                    telegram_user_id=first_user_id + i,
                    language="th" if i % 2 else "en",
                    role=Role.citizen,
                    age_band=AgeBand.age_35_49,
                    reachable=True,
                )
                for i in range(citizens)
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                Consent(citizen_id=person.id, purpose=purpose_, granted=True)
                for person in people
                if person.id is not None
                for purpose_ in Purpose
            )
        async with db.session() as session:
            recipients = await deliveries.broadcast_recipients(session=session)
            await deliveries.enqueue(
                purpose, "broadcast", dict(texts), recipients,
                created_by="tg:1", audience="citizens:reminders", session=session,
            )  # fmt: skip
        return len(recipients)
    finally:
        await db.dispose()
