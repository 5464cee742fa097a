"""The audit log: who did what, when. Actors are strings so /forget can tombstone them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Final

from sqlmodel import col, select

from storage import clock
from storage.database import AsyncSession
from storage.models import AuditEntry

SYSTEM: Final = "system"


def actor_for(telegram_user_id: int) -> str:
    """The actor string for a Telegram user: "tg:<id>"."""
    return f"tg:{telegram_user_id}"


async def record(
    action: str,
    *,
    actor: str,
    target: str | None = None,
    detail: dict[str, object] | None = None,
    session: AsyncSession,
) -> AuditEntry:
    """Append one entry (stamped with the storage clock) and return it."""
    if not action or not actor:
        raise ValueError("an audit entry needs an action and an actor")
    if detail is not None:
        try:
            json.dumps(detail)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"audit detail must be JSON-serialisable: {exc}") from exc
    entry = AuditEntry(at=clock.now(), actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    await session.flush()
    return entry


async def recent(limit: int = 50, *, session: AsyncSession) -> list[AuditEntry]:
    """The latest `limit` entries, newest first."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    statement = (
        select(AuditEntry)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def all_entries(*, since: datetime | None = None, session: AsyncSession) -> list[AuditEntry]:
    """Every entry (from `since` on, inclusive, when given), oldest first: for the file export."""
    statement = select(AuditEntry).order_by(col(AuditEntry.at), col(AuditEntry.id))
    if since is not None:
        statement = statement.where(col(AuditEntry.at) >= since)
    return list((await session.exec(statement)).all())
