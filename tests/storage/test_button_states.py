"""Button state: what a button needs beyond 64 bytes, only for its owner, flow and time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from storage.button_states import DEFAULT_TTL, discard, fetch, purge_expired, stash
from storage.clock import ManualClock
from storage.database import Database

OWNER = 5_000_000_001  # beyond 32 bits: BIGINT
STRANGER = 42
PAYLOAD: dict[str, object] = {"action": "grant", "target": 123, "role": "officer", "note": "ยะลา"}


async def stashed(db: Database, flow: str = "adm", **kwargs: object) -> str:
    async with db.session() as session:
        return await stash(flow, PAYLOAD, owner_telegram_id=OWNER, session=session, **kwargs)  # type: ignore[arg-type]


async def fetched(
    db: Database, key: str, *, flow: str = "adm", owner: int = OWNER
) -> dict[str, object] | None:
    async with db.session() as session:
        return await fetch(key, flow=flow, owner_telegram_id=owner, session=session)


async def test_the_owner_gets_the_payload_back_for_the_same_flow(db: Database) -> None:
    key = await stashed(db)
    assert re.fullmatch(r"[A-Za-z0-9_]{1,12}", key)
    assert len(f"v1:adm:ok:{key}".encode()) <= 64  # fits in callback data with room to spare
    assert await fetched(db, key) == PAYLOAD
    assert await fetched(db, key) == PAYLOAD  # fetching does not use it up


async def test_keys_differ(db: Database) -> None:
    assert len({await stashed(db) for _ in range(20)}) == 20


async def test_someone_else_pressing_the_button_gets_nothing(db: Database) -> None:
    key = await stashed(db)
    assert await fetched(db, key, owner=STRANGER) is None


async def test_a_key_from_another_flow_gets_nothing(db: Database) -> None:
    key = await stashed(db, "adm")
    assert await fetched(db, key, flow="poll") is None


@pytest.mark.parametrize("key", ["nope", "", "x" * 100, "a'b;--", "ไทย"])
async def test_an_unknown_or_forged_key_gets_nothing(db: Database, key: str) -> None:
    await stashed(db)
    assert await fetched(db, key) is None


async def test_state_expires_after_its_ttl(db: Database, clock: ManualClock) -> None:
    key = await stashed(db)
    short = await stashed(db, ttl=timedelta(minutes=10))
    clock.advance(minutes=10)
    assert await fetched(db, short) is None
    clock.advance(DEFAULT_TTL - timedelta(minutes=10, seconds=1))
    assert await fetched(db, key) == PAYLOAD
    clock.advance(seconds=1)
    assert await fetched(db, key) is None
    assert DEFAULT_TTL == timedelta(days=2)


async def test_discarding_removes_the_state(db: Database) -> None:
    key = await stashed(db)
    async with db.session() as session:
        assert await discard(key, session=session) is True
        assert await discard(key, session=session) is False
    assert await fetched(db, key) is None


async def test_purging_deletes_only_expired_state(db: Database, clock: ManualClock) -> None:
    old = await stashed(db, ttl=timedelta(hours=1))
    young = await stashed(db, ttl=timedelta(hours=3))
    clock.advance(hours=2)
    async with db.session() as session:
        assert await purge_expired(session=session) == 1
        assert await purge_expired(session=session) == 0
    clock.advance(hours=-2)  # back in time: the purged row is really gone
    assert await fetched(db, old) is None
    assert await fetched(db, young) == PAYLOAD


@pytest.mark.parametrize(
    ("flow", "payload", "ttl"),
    [
        ("", PAYLOAD, DEFAULT_TTL),
        ("x" * 17, PAYLOAD, DEFAULT_TTL),
        ("Bad Flow", PAYLOAD, DEFAULT_TTL),
        ("adm", {"when": object()}, DEFAULT_TTL),
        ("adm", PAYLOAD, timedelta(0)),
    ],
    ids=["empty-flow", "long-flow", "odd-flow", "not-json", "no-ttl"],
)
async def test_bad_input_is_refused(
    db: Database, flow: str, payload: dict[str, object], ttl: timedelta
) -> None:
    async with db.session() as session:
        with pytest.raises(ValueError):
            await stash(flow, payload, owner_telegram_id=OWNER, ttl=ttl, session=session)
