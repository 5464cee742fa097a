"""Roles: who may do what. Admins come from configuration; other roles are stored.

A stored role changes only through `citizens.set_role` (one audit entry per real change);
this module adds the rules on which roles may be granted and the effective role of anyone.
"""

from __future__ import annotations

from typing import Final

from storage import citizens
from storage.database import AsyncSession
from storage.enums import Role
from storage.errors import RoleNotGrantable
from storage.models import Citizen

GRANTABLE_ROLES: Final = frozenset({Role.facilitator, Role.officer})


async def effective_role(
    telegram_user_id: int, *, admin_ids: frozenset[int], session: AsyncSession
) -> Role:
    """Admin when named in `admin_ids`, else the stored role, else citizen (strangers too).

    A stored `admin` (which storage never writes) counts as citizen: admin rights come from
    configuration alone, so removing someone from it takes them away.
    """
    if telegram_user_id in admin_ids:
        return Role.admin
    citizen = await citizens.get_citizen(telegram_user_id, session=session)
    if citizen is None or citizen.role is Role.admin:
        return Role.citizen
    return Role(citizen.role)


async def grant_role(
    telegram_user_id: int, role: Role, *, actor: str, session: AsyncSession
) -> Citizen:
    """Give a registered citizen the facilitator or officer role; audited as "role.granted".

    Raises RoleNotGrantable for citizen or admin, NotRegistered for strangers. Granting the
    role someone already has changes nothing and is not audited.
    """
    role = Role(role)
    if role not in GRANTABLE_ROLES:
        raise RoleNotGrantable(role.value)
    return await citizens.set_role(telegram_user_id, role, actor=actor, session=session)


async def revoke_role(telegram_user_id: int, *, actor: str, session: AsyncSession) -> Citizen:
    """Put a citizen back to the plain citizen role; audited as "role.revoked" when it changes.

    Raises NotRegistered for strangers.
    """
    return await citizens.set_role(telegram_user_id, Role.citizen, actor=actor, session=session)
