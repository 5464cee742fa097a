"""One-time invites: created by an admin, redeemed once by one registered citizen."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from storage import audit
from storage.citizens import get_citizen
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import Role
from storage.errors import (
    InviteExpired,
    InviteInvalid,
    InviteUnknown,
    InviteUsed,
    NotRegistered,
    RoleNotGrantable,
    StorageError,
)
from storage.invites import (
    DEFAULT_INVITE_TTL,
    check_invite,
    create_invite,
    record_invite_refusal,
    redeem_invite,
)
from storage.models import AuditEntry, Invite
from storage.roles import grant_role
from tests.storage.factories import registered

ADMIN = audit.actor_for(1)


async def new_invite(db: Database, role: Role = Role.facilitator, **kwargs: object) -> Invite:
    async with db.session() as session:
        return await create_invite(role, created_by=ADMIN, session=session, **kwargs)  # type: ignore[arg-type]


async def stored_invite(db: Database, invite_id: int | None) -> Invite:
    async with db.session() as session:
        return (await session.exec(select(Invite).where(Invite.id == invite_id))).one()


async def role_of(db: Database, telegram_user_id: int) -> Role:
    async with db.session() as session:
        citizen = await get_citizen(telegram_user_id, session=session)
    assert citizen is not None
    return citizen.role


async def entries(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return await audit.all_entries(session=session)


async def actions(db: Database) -> list[str]:
    return [e.action for e in await entries(db) if e.action != "citizen.registered"]


# --- creating -----------------------------------------------------------------------------


async def test_an_invite_has_a_random_link_safe_code_and_expires_after_three_days(
    db: Database, clock: ManualClock
) -> None:
    invite = await new_invite(db, Role.officer)
    other = await new_invite(db, Role.officer)
    assert invite.id is not None
    assert re.fullmatch(r"[A-Za-z0-9]{16}", invite.code)
    assert len(f"inv-{invite.code}") <= 64  # a Telegram deep-link payload
    assert invite.code != other.code
    assert invite.role is Role.officer
    assert invite.created_by == ADMIN
    assert invite.created_at == clock()
    assert invite.expires_at == clock() + DEFAULT_INVITE_TTL == clock() + timedelta(hours=72)
    assert (invite.used_by, invite.used_at) == (None, None)


async def test_creating_an_invite_is_audited_without_its_code(
    db: Database, clock: ManualClock
) -> None:
    invite = await new_invite(db, Role.facilitator, ttl=timedelta(hours=1))
    (entry,) = await entries(db)
    assert (entry.action, entry.actor, entry.target, entry.detail) == (
        "invite.created",
        ADMIN,
        f"invite:{invite.id}",
        {"role": "facilitator", "expires_at": (clock() + timedelta(hours=1)).isoformat()},
    )
    assert invite.code not in str(entry.detail)


@pytest.mark.parametrize("role", [Role.citizen, Role.admin])
async def test_invites_are_only_for_facilitators_and_officers(db: Database, role: Role) -> None:
    with pytest.raises(RoleNotGrantable):
        await new_invite(db, role)
    assert await entries(db) == []


async def test_an_invite_needs_a_positive_lifetime(db: Database) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await new_invite(db, ttl=timedelta(0))


# --- checking -----------------------------------------------------------------------------


async def test_checking_a_good_code_changes_nothing(db: Database) -> None:
    invite = await new_invite(db)
    async with db.session() as session:
        checked = await check_invite(invite.code, session=session)
    assert checked.id == invite.id
    assert (await stored_invite(db, invite.id)).used_at is None
    assert await actions(db) == ["invite.created"]


@pytest.mark.parametrize("forged", ["Nope1234Nope1234", "", "x" * 200, "inv-../../etc", "ไทย"])
async def test_a_forged_code_is_unknown(db: Database, forged: str) -> None:
    await new_invite(db)
    async with db.session() as session:
        with pytest.raises(InviteUnknown) as raised:
            await check_invite(forged, session=session)
    assert raised.value.reason == "unknown"
    assert isinstance(raised.value, InviteInvalid)
    assert isinstance(raised.value, StorageError)


async def test_codes_are_case_sensitive(db: Database) -> None:
    invite = await new_invite(db)
    swapped = invite.code.swapcase()
    async with db.session() as session:
        with pytest.raises(InviteUnknown):
            await check_invite(swapped, session=session)


async def test_an_invite_expires_at_its_deadline(db: Database, clock: ManualClock) -> None:
    invite = await new_invite(db, ttl=timedelta(hours=2))
    clock.advance(hours=2, seconds=-1)
    async with db.session() as session:
        await check_invite(invite.code, session=session)
    clock.advance(seconds=1)
    async with db.session() as session:
        with pytest.raises(InviteExpired) as raised:
            await check_invite(invite.code, session=session)
    assert (raised.value.reason, raised.value.invite_id) == ("expired", invite.id)


# --- redeeming ----------------------------------------------------------------------------


async def test_redeeming_marks_the_invite_used_and_grants_its_role(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, 30)
    invite = await new_invite(db, Role.officer)
    clock.advance(minutes=10)
    async with db.session() as session:
        redeemed = await redeem_invite(invite.code, 30, session=session)
    assert (redeemed.used_by, redeemed.used_at) == ("tg:30", clock())
    stored = await stored_invite(db, invite.id)
    assert (stored.used_by, stored.used_at) == ("tg:30", clock())
    assert await role_of(db, 30) is Role.officer
    log = [(e.action, e.actor, e.target, e.detail) for e in await entries(db)][1:]
    assert log == [
        ("invite.created", ADMIN, f"invite:{invite.id}", log[0][3]),
        ("invite.redeemed", "tg:30", f"invite:{invite.id}", {"role": "officer"}),
        (
            "role.granted",
            f"invite:{invite.id}",
            "tg:30",
            {"role": "officer", "previous": "citizen"},
        ),
    ]


async def test_an_invite_works_only_once(db: Database) -> None:
    await registered(db, 31)
    invite = await new_invite(db)
    async with db.session() as session:
        await redeem_invite(invite.code, 31, session=session)
    async with db.session() as session:
        with pytest.raises(InviteUsed) as raised:
            await redeem_invite(invite.code, 31, session=session)
        with pytest.raises(InviteUsed):
            await check_invite(invite.code, session=session)
    assert raised.value.reason == "used"
    assert (await stored_invite(db, invite.id)).used_by == "tg:31"


async def test_a_second_person_cannot_use_an_invite_after_the_first(db: Database) -> None:
    await registered(db, 32)
    await registered(db, 33)
    invite = await new_invite(db, Role.officer)
    async with db.session() as session:
        await redeem_invite(invite.code, 32, session=session)
    with pytest.raises(InviteUsed):
        async with db.session() as session:
            await redeem_invite(invite.code, 33, session=session)
    assert await role_of(db, 32) is Role.officer
    assert await role_of(db, 33) is Role.citizen
    assert (await stored_invite(db, invite.id)).used_by == "tg:32"


async def test_an_expired_invite_cannot_be_redeemed(db: Database, clock: ManualClock) -> None:
    await registered(db, 34)
    invite = await new_invite(db)
    clock.advance(DEFAULT_INVITE_TTL)
    with pytest.raises(InviteExpired):
        async with db.session() as session:
            await redeem_invite(invite.code, 34, session=session)
    assert (await stored_invite(db, invite.id)).used_at is None
    assert await role_of(db, 34) is Role.citizen


async def test_a_forged_code_cannot_be_redeemed(db: Database) -> None:
    await registered(db, 35)
    with pytest.raises(InviteUnknown):
        async with db.session() as session:
            await redeem_invite("Forged0Forged000", 35, session=session)
    assert await role_of(db, 35) is Role.citizen


async def test_a_stranger_cannot_redeem_and_the_invite_stays_unused(db: Database) -> None:
    invite = await new_invite(db)
    with pytest.raises(NotRegistered):
        async with db.session() as session:
            await redeem_invite(invite.code, 404, session=session)
    assert (await stored_invite(db, invite.id)).used_at is None
    await registered(db, 404)
    async with db.session() as session:
        await redeem_invite(invite.code, 404, session=session)
    assert await role_of(db, 404) is Role.facilitator


async def test_someone_who_already_has_the_role_still_uses_up_the_invite(db: Database) -> None:
    await registered(db, 36)
    async with db.session() as session:
        await grant_role(36, Role.facilitator, actor=ADMIN, session=session)
    invite = await new_invite(db, Role.facilitator)
    async with db.session() as session:
        await redeem_invite(invite.code, 36, session=session)
    assert (await stored_invite(db, invite.id)).used_by == "tg:36"
    assert await actions(db) == ["role.granted", "invite.created", "invite.redeemed"]


async def test_two_people_redeeming_at_once_exactly_one_wins(db: Database) -> None:
    await registered(db, 37)
    await registered(db, 38)
    invite = await new_invite(db, Role.officer)

    async def redeem(telegram_user_id: int) -> int:
        async with db.session() as session:
            await redeem_invite(invite.code, telegram_user_id, session=session)
            await asyncio.sleep(0.05)  # hold the transaction open while the other one tries
        return telegram_user_id

    results = await asyncio.gather(redeem(37), redeem(38), return_exceptions=True)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], InviteUsed)
    (winner,) = winners
    loser = 38 if winner == 37 else 37
    assert (await stored_invite(db, invite.id)).used_by == audit.actor_for(winner)
    assert await role_of(db, winner) is Role.officer
    assert await role_of(db, loser) is Role.citizen
    assert (await actions(db)).count("invite.redeemed") == 1


async def test_a_redemption_that_checked_before_the_winner_committed_still_loses(
    db: Database,
) -> None:
    await registered(db, 39)
    await registered(db, 40)
    invite = await new_invite(db, Role.officer)

    async def second() -> None:
        async with db.session() as session:
            await redeem_invite(invite.code, 40, session=session)

    async with db.session() as first:
        await redeem_invite(invite.code, 39, session=first)
        # The second one sees the invite unused and waits at the claim (PostgreSQL's row
        # lock) or at BEGIN IMMEDIATE (SQLite) until the first commits.
        late = asyncio.create_task(second())
        await asyncio.sleep(0.2)
        assert not late.done()
    with pytest.raises(InviteUsed):
        await late
    assert (await stored_invite(db, invite.id)).used_by == "tg:39"
    assert await role_of(db, 40) is Role.citizen


# --- refusals -----------------------------------------------------------------------------


async def test_a_refused_forged_code_is_audited_with_only_its_first_four_characters(
    db: Database,
) -> None:
    forged = "AbCdEfGhIjKlMnOp"
    async with db.session() as session:
        await record_invite_refusal(forged, "unknown", actor="tg:50", session=session)
    (entry,) = await entries(db)
    assert (entry.action, entry.actor, entry.target, entry.detail) == (
        "invite.refused",
        "tg:50",
        "invite:unknown",
        {"reason": "unknown", "code_prefix": "AbCd"},
    )
    assert forged not in str(entry.detail)
    assert "AbCdE" not in str(entry.detail)


async def test_garbage_in_a_refused_code_is_not_stored_as_is(db: Database) -> None:
    async with db.session() as session:
        await record_invite_refusal("<b>\n" + "x" * 500, "unknown", actor="tg:51", session=session)
    (entry,) = await entries(db)
    assert entry.detail == {"reason": "unknown", "code_prefix": "?b??"}


async def test_a_refusal_of_a_real_invite_targets_it_and_leaves_the_code_out(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, 52)
    invite = await new_invite(db)
    clock.advance(days=4)
    with pytest.raises(InviteExpired) as raised:
        async with db.session() as session:
            await redeem_invite(invite.code, 52, session=session)
    async with db.session() as session:  # the failed redemption rolled back: a new session
        await record_invite_refusal(
            invite.code, raised.value.reason, actor="tg:52", session=session
        )
    entry = (await entries(db))[-1]
    assert (entry.action, entry.target, entry.detail) == (
        "invite.refused",
        f"invite:{invite.id}",
        {"reason": "expired"},
    )
    assert all(invite.code[:5] not in str(e.detail) for e in await entries(db))


async def test_a_refusal_needs_a_reason(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(ValueError):
            await record_invite_refusal("abcd", "", actor="tg:53", session=session)
