"""A broadcast ready to fan out, for the tests that stop the bot mid-way (crash, shutdown)."""

from __future__ import annotations

from collections.abc import Mapping

from bench.common import register_citizens
from storage import deliveries, migrate
from storage.database import Database


async def prepare_broadcast(
    url: str, *, citizens: int, first_user_id: int, purpose: str, texts: Mapping[str, str]
) -> int:
    """Tables, `citizens` consenting citizens and one broadcast to them all; returns recipients.

    The citizens are stored in bulk as the benchmarks store them (`bench.common`): one by one
    it would take many seconds. The audience comes from the same query /broadcast uses.
    """
    db = Database(url)
    try:
        await migrate.upgrade(db)
        await register_citizens(db, range(first_user_id, first_user_id + citizens))
        async with db.session() as session:
            recipients = await deliveries.broadcast_recipients(session=session)
            await deliveries.enqueue(
                purpose, "broadcast", dict(texts), recipients,
                created_by="tg:1", audience="citizens:reminders", session=session,
            )  # fmt: skip
        return len(recipients)
    finally:
        await db.dispose()
