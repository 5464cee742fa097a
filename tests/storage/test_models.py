"""Column types behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import select

from storage.database import Database
from storage.enums import AgeBand, Purpose, Role
from storage.models import AuditEntry, Citizen, Consent
from tests.storage.factories import registered

BANGKOK = timezone(timedelta(hours=7))


async def test_datetimes_come_back_timezone_aware_utc(db: Database) -> None:
    written = datetime(2026, 1, 5, 8, 30, 15, 123456, tzinfo=BANGKOK)
    async with db.session() as session:
        session.add(AuditEntry(at=written, actor="system", action="test.time"))
    async with db.session() as session:
        entry = (await session.exec(select(AuditEntry))).one()
    assert entry.at == written
    assert entry.at.tzinfo is UTC
    assert entry.at == datetime(2026, 1, 5, 1, 30, 15, 123456, tzinfo=UTC)


async def test_datetimes_order_by_instant_not_by_zone(db: Database) -> None:
    early_in_bangkok = datetime(2026, 1, 5, 8, 0, tzinfo=BANGKOK)  # 01:00 UTC
    later_in_utc = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    async with db.session() as session:
        session.add(AuditEntry(at=later_in_utc, actor="system", action="later"))
        session.add(AuditEntry(at=early_in_bangkok, actor="system", action="earlier"))
    async with db.session() as session:
        rows = (await session.exec(select(AuditEntry).order_by(text("at")))).all()
    assert [r.action for r in rows] == ["earlier", "later"]


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive"):
        async with db.session() as session:
            session.add(AuditEntry(at=datetime(2026, 1, 5, 8, 0), actor="x", action="y"))


async def test_enums_are_stored_as_plain_strings_and_read_back_as_members(db: Database) -> None:
    await registered(db, 7, age_band=AgeBand.age_15_19, guardian_confirmed=True)
    async with db.engine.connect() as connection:
        raw = (await connection.execute(text("SELECT role, age_band FROM citizens"))).one()
        purposes = (await connection.execute(text("SELECT purpose FROM consents"))).scalars()
        assert tuple(raw) == ("citizen", "15-19")
        assert set(purposes) == {p.value for p in Purpose}
    async with db.session() as session:
        citizen = (await session.exec(select(Citizen))).one()
        consents = (await session.exec(select(Consent))).all()
    assert citizen.role is Role.citizen
    assert citizen.age_band is AgeBand.age_15_19
    assert all(isinstance(c.purpose, Purpose) for c in consents)


async def test_telegram_ids_beyond_32_bits_are_kept(db: Database) -> None:
    big = 8_123_456_789
    await registered(db, big)
    async with db.session() as session:
        citizen = (await session.exec(select(Citizen))).one()
    assert citizen.telegram_user_id == big


async def test_audit_detail_is_json_text_and_keeps_thai(db: Database) -> None:
    detail = {"topic": "สภากาแฟ", "count": 3, "tags": ["a", "b"], "nested": {"ok": True}}
    async with db.session() as session:
        session.add(AuditEntry(actor="system", action="test.json", detail=detail))
    async with db.engine.connect() as connection:
        raw = (await connection.execute(text("SELECT detail FROM audit_log"))).scalar()
    assert isinstance(raw, str)
    assert "สภากาแฟ" in raw
    async with db.session() as session:
        entry = (await session.exec(select(AuditEntry))).one()
    assert entry.detail == detail
