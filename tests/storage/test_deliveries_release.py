"""Claims given back by a stopping dispatcher: pending again, and not counted as an attempt."""

from __future__ import annotations

from storage.database import Database
from storage.deliveries import release_claimed
from tests.storage.test_deliveries import ANNA, BEN, GROUP, claim, enqueue_to, stored_deliveries


async def test_released_claims_are_pending_again_with_their_attempt_undone(db: Database) -> None:
    await enqueue_to(db, [ANNA, BEN, GROUP])
    claimed = await claim(db, 2)
    unclaimed = next(d.id for d in await stored_deliveries(db) if d.status == "pending")
    assert unclaimed is not None
    async with db.session() as session:
        # Only `sending` rows move: an unclaimed id is left alone.
        assert await release_claimed([claimed[0].id, unclaimed], session=session) == 1
        assert await release_claimed([], session=session) == 0
    rows = {d.id: (d.status, d.attempts) for d in await stored_deliveries(db)}
    assert rows[claimed[0].id] == ("pending", 0)
    assert rows[claimed[1].id] == ("sending", 1)
    assert rows[unclaimed] == ("pending", 0)
    retaken = await claim(db)
    assert sorted(t.attempt for t in retaken) == [1, 1]
