"""One-time invites to a role: an admin creates one, one registered citizen redeems it.

The code travels in a deep link (`t.me/<bot>?start=inv-<code>`) and is a bearer secret, so it
never goes into the audit log; a refused code leaves at most its first four characters there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import audit, citizens, clock, roles
from storage.codes import is_code, random_code
from storage.database import AsyncSession
from storage.enums import Role
from storage.errors import (
    InviteExpired,
    InviteUnknown,
    InviteUsed,
    NotRegistered,
    RoleNotGrantable,
)
from storage.models import Invite

DEFAULT_INVITE_TTL: Final = timedelta(hours=72)
INVITE_CODE_LENGTH: Final = 16  # letters and digits: about 95 bits
INVITE_CODE_MAX_LENGTH: Final = 24  # the column; longer input is unknown without a query
REFUSED_CODE_PREFIX: Final = 4
_CODE_ATTEMPTS: Final = 3


def invite_target(invite: Invite) -> str:
    """The audit target for an invite: "invite:<id>"."""
    return f"invite:{invite.id}"


async def create_invite(
    role: Role,
    *,
    created_by: str,
    ttl: timedelta = DEFAULT_INVITE_TTL,
    session: AsyncSession,
) -> Invite:
    """Create a one-time invite to facilitator or officer that expires after `ttl`.

    Raises RoleNotGrantable for other roles and ValueError for a ttl that is not positive.
    Audited as "invite.created" (without the code).
    """
    role = Role(role)
    if role not in roles.GRANTABLE_ROLES:
        raise RoleNotGrantable(role.value)
    if ttl <= timedelta(0):
        raise ValueError("an invite's ttl must be positive")
    if not created_by:
        raise ValueError("an invite needs a creator")
    now = clock.now()
    for attempt in range(1, _CODE_ATTEMPTS + 1):
        invite = Invite(
            code=random_code(INVITE_CODE_LENGTH),
            role=role,
            created_by=created_by,
            created_at=now,
            expires_at=now + ttl,
        )
        try:
            async with session.begin_nested():  # a clashing code must not spoil the session
                session.add(invite)
                await session.flush()
            break
        except IntegrityError:
            if attempt == _CODE_ATTEMPTS:
                raise
    await audit.record(
        "invite.created",
        actor=created_by,
        target=invite_target(invite),
        detail={"role": role.value, "expires_at": invite.expires_at.isoformat()},
        session=session,
    )
    return invite


async def check_invite(code: str, *, session: AsyncSession) -> Invite:
    """The invite with this code if it can still be redeemed; changes nothing.

    Raises InviteUnknown, InviteUsed or InviteExpired (checked in that order).
    """
    invite = await _find(code, session)
    if invite is None:
        raise InviteUnknown()
    _raise_unless_usable(invite, clock.now())
    return invite


async def redeem_invite(code: str, telegram_user_id: int, *, session: AsyncSession) -> Invite:
    """Use the invite: mark it used by this registered citizen and grant its role.

    Raises what `check_invite` raises, and NotRegistered for strangers (the invite stays
    unused). Race-safe: of two concurrent redemptions exactly one wins, the other gets
    InviteUsed. Someone who already has the role still uses up the invite. Audited as
    "invite.redeemed" (and "role.granted" by actor "invite:<id>" when the role changes).
    """
    invite = await check_invite(code, session=session)
    if await citizens.get_citizen(telegram_user_id, session=session) is None:
        raise NotRegistered(telegram_user_id)
    now = clock.now()
    redeemer = audit.actor_for(telegram_user_id)
    # A conditional UPDATE, not read-then-write: a concurrent winner's row lock makes this
    # one wait (PostgreSQL) and then match nothing; SQLite serialises the whole transaction.
    claim = (
        update(Invite)
        .where(
            col(Invite.id) == invite.id,
            col(Invite.used_at).is_(None),
            col(Invite.expires_at) > now,
        )
        .values(used_by=redeemer, used_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = (await session.exec(claim)).rowcount == 1
    await session.refresh(invite)
    if not claimed:
        _raise_unless_usable(invite, now)
        raise InviteUsed(invite.id)  # not reached: the row exists, so it was used or expired
    await audit.record(
        "invite.redeemed",
        actor=redeemer,
        target=invite_target(invite),
        detail={"role": invite.role.value},
        session=session,
    )
    await roles.grant_role(
        telegram_user_id, invite.role, actor=invite_target(invite), session=session
    )
    return invite


async def record_invite_refusal(
    code: str, reason: str, *, actor: str, session: AsyncSession
) -> None:
    """Audit a refused invite as "invite.refused" with `reason` (e.g. an InviteInvalid.reason).

    The target is the invite when the code exists, else "invite:unknown" with at most the first
    four characters of the code. Call it in its own session: a failed redemption rolls back.
    """
    if not reason:
        raise ValueError("a refusal needs a reason")
    invite = await _find(code, session)
    detail: dict[str, object] = {"reason": reason}
    if invite is None:
        detail["code_prefix"] = _printable_prefix(code)
    await audit.record(
        "invite.refused",
        actor=actor,
        target=invite_target(invite) if invite is not None else "invite:unknown",
        detail=detail,
        session=session,
    )


async def _find(code: str, session: AsyncSession) -> Invite | None:
    if not is_code(code, INVITE_CODE_MAX_LENGTH):
        return None
    return (await session.exec(select(Invite).where(Invite.code == code))).first()


def _raise_unless_usable(invite: Invite, now: datetime) -> None:
    if invite.used_at is not None:
        raise InviteUsed(invite.id)
    if invite.expires_at <= now:
        raise InviteExpired(invite.id)


def _printable_prefix(code: str) -> str:
    prefix = code[:REFUSED_CODE_PREFIX]
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "?" for c in prefix)
