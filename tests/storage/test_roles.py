"""Roles: admins from configuration, facilitators and officers granted, everyone else a citizen."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage import audit
from storage.citizens import get_citizen, set_role
from storage.database import Database
from storage.enums import Role
from storage.errors import NotRegistered, RoleNotGrantable, StorageError
from storage.roles import GRANTABLE_ROLES, effective_role, grant_role, revoke_role
from tests.storage.factories import registered

ADMIN = audit.actor_for(1)
ADMINS = frozenset({1, 2})


async def role_entries(db: Database) -> list[tuple[str, str, str | None, object]]:
    async with db.session() as session:
        entries = await audit.all_entries(session=session)
    return [
        (e.action, e.actor, e.target, e.detail) for e in entries if e.action.startswith("role.")
    ]


# --- the effective role -------------------------------------------------------------------


async def test_a_stranger_is_a_citizen_and_a_configured_admin_is_an_admin(db: Database) -> None:
    async with db.session() as session:
        assert await effective_role(404, admin_ids=ADMINS, session=session) is Role.citizen
        assert await effective_role(1, admin_ids=ADMINS, session=session) is Role.admin
        assert await effective_role(1, admin_ids=frozenset(), session=session) is Role.citizen


async def test_a_registered_person_has_their_stored_role_unless_configured_as_admin(
    db: Database,
) -> None:
    await registered(db, 10)
    await registered(db, 2)
    async with db.session() as session:
        assert await effective_role(10, admin_ids=ADMINS, session=session) is Role.citizen
        await grant_role(10, Role.officer, actor=ADMIN, session=session)
        await grant_role(2, Role.facilitator, actor=ADMIN, session=session)
    async with db.session() as session:
        assert await effective_role(10, admin_ids=ADMINS, session=session) is Role.officer
        assert await effective_role(2, admin_ids=ADMINS, session=session) is Role.admin


async def test_a_stored_admin_is_only_a_citizen_once_configuration_drops_them(
    db: Database,
) -> None:
    citizen = await registered(db, 11)
    async with db.engine.begin() as connection:  # storage never writes this; older data might
        await connection.execute(
            text("UPDATE citizens SET role = 'admin' WHERE id = :id"), {"id": citizen.id}
        )
    async with db.session() as session:
        assert await effective_role(11, admin_ids=ADMINS, session=session) is Role.citizen
        assert await effective_role(11, admin_ids=frozenset({11}), session=session) is Role.admin


# --- granting and revoking ----------------------------------------------------------------


async def test_granting_a_role_stores_it_and_audits_who_gave_it(db: Database) -> None:
    await registered(db, 20)
    async with db.session() as session:
        citizen = await grant_role(20, Role.facilitator, actor=ADMIN, session=session)
    assert citizen.role is Role.facilitator
    async with db.session() as session:
        assert (await get_citizen(20, session=session)).role is Role.facilitator  # type: ignore[union-attr]
    assert await role_entries(db) == [
        ("role.granted", "tg:1", "tg:20", {"role": "facilitator", "previous": "citizen"}),
    ]


async def test_granting_another_role_replaces_the_first(db: Database) -> None:
    await registered(db, 21)
    async with db.session() as session:
        await grant_role(21, Role.facilitator, actor=ADMIN, session=session)
        citizen = await grant_role(21, Role.officer, actor=ADMIN, session=session)
    assert citizen.role is Role.officer
    assert [entry[3] for entry in await role_entries(db)] == [
        {"role": "facilitator", "previous": "citizen"},
        {"role": "officer", "previous": "facilitator"},
    ]


async def test_granting_the_same_role_again_changes_nothing_and_is_not_audited(
    db: Database,
) -> None:
    await registered(db, 22)
    async with db.session() as session:
        await grant_role(22, Role.officer, actor=ADMIN, session=session)
        await grant_role(22, Role.officer, actor=ADMIN, session=session)
    assert len(await role_entries(db)) == 1


@pytest.mark.parametrize("role", [Role.citizen, Role.admin])
async def test_only_facilitator_and_officer_can_be_granted(db: Database, role: Role) -> None:
    await registered(db, 23)
    async with db.session() as session:
        with pytest.raises(RoleNotGrantable) as raised:
            await grant_role(23, role, actor=ADMIN, session=session)
    assert isinstance(raised.value, StorageError)
    assert isinstance(raised.value, ValueError)
    assert raised.value.role == role.value
    assert GRANTABLE_ROLES == {Role.facilitator, Role.officer}
    assert await role_entries(db) == []


async def test_admin_cannot_be_stored_even_through_set_role(db: Database) -> None:
    await registered(db, 24)
    async with db.session() as session:
        with pytest.raises(RoleNotGrantable):
            await set_role(24, Role.admin, actor=ADMIN, session=session)
        assert (await get_citizen(24, session=session)).role is Role.citizen  # type: ignore[union-attr]


async def test_a_stranger_cannot_be_granted_or_revoked_a_role(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(NotRegistered):
            await grant_role(404, Role.officer, actor=ADMIN, session=session)
        with pytest.raises(NotRegistered):
            await revoke_role(404, actor=ADMIN, session=session)
    assert await role_entries(db) == []


async def test_revoking_puts_the_person_back_to_citizen_and_audits_the_previous_role(
    db: Database,
) -> None:
    await registered(db, 25)
    admin_two = audit.actor_for(2)
    async with db.session() as session:
        await grant_role(25, Role.officer, actor=ADMIN, session=session)
    async with db.session() as session:
        citizen = await revoke_role(25, actor=admin_two, session=session)
    assert citizen.role is Role.citizen
    assert await role_entries(db) == [
        ("role.granted", "tg:1", "tg:25", {"role": "officer", "previous": "citizen"}),
        ("role.revoked", "tg:2", "tg:25", {"previous": "officer"}),
    ]


async def test_revoking_from_a_plain_citizen_changes_nothing(db: Database) -> None:
    await registered(db, 26)
    async with db.session() as session:
        assert (await revoke_role(26, actor=ADMIN, session=session)).role is Role.citizen
    assert await role_entries(db) == []
