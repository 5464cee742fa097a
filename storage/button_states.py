"""State behind buttons that need more than Telegram's 64 bytes of callback data.

A flow stashes a small JSON object and puts the returned key in its callback data; when the
button is pressed, `fetch` gives the object back only to its owner, for the same flow, in time.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Final

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import clock
from storage.codes import is_code, random_code
from storage.database import AsyncSession
from storage.models import ButtonState

DEFAULT_TTL: Final = timedelta(days=2)
KEY_LENGTH: Final = 12  # letters and digits: about 71 bits
FLOW_MAX_LENGTH: Final = 16
_FLOW = re.compile(rf"[a-z0-9_.]{{1,{FLOW_MAX_LENGTH}}}")
_KEY_ATTEMPTS: Final = 3


async def stash(
    flow: str,
    payload: dict[str, object],
    *,
    owner_telegram_id: int,
    ttl: timedelta = DEFAULT_TTL,
    session: AsyncSession,
) -> str:
    """Store `payload` for `flow` and its owner until `ttl` passes; return the key.

    The key is at most 12 characters of [A-Za-z0-9]. `flow` is a short name such as "poll"
    (lower-case letters, digits, "_" or ".", up to 16). The payload must be JSON.
    """
    if not _FLOW.fullmatch(flow):
        raise ValueError(f"flow must be 1-{FLOW_MAX_LENGTH} of [a-z0-9_.]: {flow!r}")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    try:
        stored = json.loads(json.dumps(payload))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"button state must be JSON-serialisable: {exc}") from exc
    if not isinstance(stored, dict):
        raise ValueError("button state must be a JSON object")
    now = clock.now()
    for attempt in range(1, _KEY_ATTEMPTS + 1):
        state = ButtonState(
            key=random_code(KEY_LENGTH),
            flow=flow,
            owner_telegram_id=owner_telegram_id,
            payload=stored,
            created_at=now,
            expires_at=now + ttl,
        )
        try:
            async with session.begin_nested():  # a clashing key must not spoil the session
                session.add(state)
                await session.flush()
        except IntegrityError:
            if attempt == _KEY_ATTEMPTS:
                raise
        else:
            return state.key
    raise AssertionError("not reached")


async def fetch(
    key: str, *, flow: str, owner_telegram_id: int, session: AsyncSession
) -> dict[str, object] | None:
    """The stashed payload, or None if the key is unknown, expired, of another flow or owner.

    The presser must be the owner: buttons in a shared chat can be pressed by anyone.
    """
    if not is_code(key, KEY_LENGTH):
        return None
    statement = select(ButtonState).where(
        ButtonState.key == key,
        ButtonState.flow == flow,
        ButtonState.owner_telegram_id == owner_telegram_id,
        col(ButtonState.expires_at) > clock.now(),
    )
    state = (await session.exec(statement)).first()
    return dict(state.payload) if state is not None else None


async def discard(key: str, *, session: AsyncSession) -> bool:
    """Delete the state behind `key` (a finished or cancelled flow); True if there was one."""
    result = await session.exec(delete(ButtonState).where(col(ButtonState.key) == key))
    return result.rowcount > 0


async def purge_expired(*, session: AsyncSession) -> int:
    """Delete every expired state; return how many."""
    statement = delete(ButtonState).where(col(ButtonState.expires_at) <= clock.now())
    return (await session.exec(statement)).rowcount
