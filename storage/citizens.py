"""Citizens and their consents: the PDPA rules live here.

Nothing is stored for a child under 10; a minor (10–19) needs a guardian's agreement; nothing
is stored before at least one purpose is consented to. Every change that matters is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import audit, clock
from storage.database import AsyncSession
from storage.enums import LANGUAGES, AgeBand, Language, Purpose, Role
from storage.errors import (
    AlreadyRegistered,
    ConsentRequired,
    GuardianAgreementRequired,
    NotRegistered,
    RoleNotGrantable,
    TooYoung,
    UnsupportedLanguage,
)
from storage.models import Citizen, Consent

DISTRICT_MAX_LENGTH = 64


@dataclass(frozen=True)
class NewCitizen:
    """What onboarding collected, before anything is stored."""

    telegram_user_id: int
    language: Language
    age_band: AgeBand
    guardian_confirmed: bool = False
    district: str | None = None


@dataclass(frozen=True)
class ConsentState:
    """A citizen's current decision on one purpose; `decided_at` is None if never asked."""

    granted: bool
    decided_at: datetime | None


async def register_citizen(
    new: NewCitizen, consents: Mapping[Purpose, bool], *, session: AsyncSession
) -> Citizen:
    """Store a new citizen with one consent row per purpose, or raise why not.

    Checks, in order: TooYoung, GuardianAgreementRequired, ConsentRequired, AlreadyRegistered.
    Purposes missing from `consents` are stored as declined.
    """
    language = _checked_language(new.language)
    age_band = AgeBand(new.age_band)
    if age_band.is_under_10:
        raise TooYoung(new.telegram_user_id)
    if age_band.needs_guardian and not new.guardian_confirmed:
        raise GuardianAgreementRequired(new.telegram_user_id)
    decisions = {purpose: False for purpose in Purpose}
    decisions.update({Purpose(p): bool(granted) for p, granted in consents.items()})
    granted = [purpose.value for purpose in Purpose if decisions[purpose]]
    if not granted:
        raise ConsentRequired(new.telegram_user_id)
    if await get_citizen(new.telegram_user_id, session=session) is not None:
        raise AlreadyRegistered(new.telegram_user_id)

    now = clock.now()
    citizen = Citizen(
        telegram_user_id=new.telegram_user_id,
        language=language,
        role=Role.citizen,
        age_band=age_band,
        guardian_confirmed_at=now if age_band.needs_guardian else None,
        district=_checked_district(new.district),
        reachable=True,
        created_at=now,
        updated_at=now,
    )
    try:
        # A savepoint, so that losing a race to a concurrent registration leaves the
        # session usable and surfaces as AlreadyRegistered.
        async with session.begin_nested():
            session.add(citizen)
            await session.flush()
    except IntegrityError as exc:
        raise AlreadyRegistered(new.telegram_user_id) from exc
    assert citizen.id is not None
    for purpose in Purpose:
        session.add(
            Consent(
                citizen_id=citizen.id, purpose=purpose, granted=decisions[purpose], decided_at=now
            )
        )
    actor = audit.actor_for(new.telegram_user_id)
    await audit.record(
        "citizen.registered",
        actor=actor,
        target=actor,
        detail={"purposes": granted},
        session=session,
    )
    return citizen


async def get_citizen(telegram_user_id: int, *, session: AsyncSession) -> Citizen | None:
    """The citizen with this Telegram user id, or None."""
    statement = select(Citizen).where(Citizen.telegram_user_id == telegram_user_id)
    return (await session.exec(statement)).first()


async def set_language(
    telegram_user_id: int, language: Language, *, session: AsyncSession
) -> Citizen:
    """Change the citizen's language ("th" or "en")."""
    language = _checked_language(language)
    citizen = await _require(telegram_user_id, session)
    if citizen.language != language:
        previous = citizen.language
        citizen.language = language
        await _touch(citizen, session)
        await _audit_self(
            "language.changed", telegram_user_id, {"from": previous, "to": language}, session
        )
    return citizen


async def set_district(
    telegram_user_id: int, district: str | None, *, session: AsyncSession
) -> Citizen:
    """Set or clear (None or blank) the citizen's district code."""
    value = _checked_district(district)
    citizen = await _require(telegram_user_id, session)
    if citizen.district != value:
        citizen.district = value
        await _touch(citizen, session)
        # The district itself stays out of the log: the log outlives /forget.
        await _audit_self("district.changed", telegram_user_id, None, session)
    return citizen


async def set_role(
    telegram_user_id: int, role: Role, *, actor: str, session: AsyncSession
) -> Citizen:
    """Give the citizen `role`; back to `Role.citizen` is a revocation. Audited with `actor`.

    The one place a stored role changes (`storage.roles` builds on it). `Role.admin` is refused
    with RoleNotGrantable: admins come from configuration only. Unchanged: no audit entry.
    """
    role = Role(role)
    if role is Role.admin:
        raise RoleNotGrantable(role.value)
    citizen = await _require(telegram_user_id, session)
    if citizen.role != role:
        previous = citizen.role
        citizen.role = role
        await _touch(citizen, session)
        detail: dict[str, object] = {"previous": previous.value}
        if role is not Role.citizen:
            detail = {"role": role.value, **detail}
        await audit.record(
            "role.revoked" if role is Role.citizen else "role.granted",
            actor=actor,
            target=audit.actor_for(telegram_user_id),
            detail=detail,
            session=session,
        )
    return citizen


async def set_reachable(
    telegram_user_id: int, reachable: bool, *, session: AsyncSession
) -> Citizen:
    """Mark whether messages reach the citizen (False after they block the bot)."""
    citizen = await _require(telegram_user_id, session)
    if citizen.reachable != reachable:
        citizen.reachable = reachable
        await _touch(citizen, session)
    return citizen


async def set_consent(
    telegram_user_id: int, purpose: Purpose, granted: bool, *, session: AsyncSession
) -> Consent:
    """Give or withdraw consent for one purpose; unchanged decisions are not audited."""
    purpose = Purpose(purpose)
    citizen = await _require(telegram_user_id, session)
    assert citizen.id is not None
    statement = select(Consent).where(Consent.citizen_id == citizen.id, Consent.purpose == purpose)
    consent = (await session.exec(statement)).first()
    if consent is not None and consent.granted == granted:
        return consent
    now = clock.now()
    if consent is None:  # a purpose added after this citizen registered
        consent = Consent(citizen_id=citizen.id, purpose=purpose, granted=granted, decided_at=now)
        session.add(consent)
    else:
        consent.granted = granted
        consent.decided_at = now
    await _touch(citizen, session)
    await _audit_self(
        "consent.given" if granted else "consent.withdrawn",
        telegram_user_id,
        {"purpose": purpose.value},
        session,
    )
    return consent


async def consents_of(
    telegram_user_id: int, *, session: AsyncSession
) -> dict[Purpose, ConsentState]:
    """Every purpose with the citizen's current decision (never asked: not granted)."""
    citizen = await _require(telegram_user_id, session)
    statement = select(Consent).where(Consent.citizen_id == citizen.id)
    stored = {c.purpose: c for c in (await session.exec(statement)).all()}
    return {
        purpose: (
            ConsentState(granted=stored[purpose].granted, decided_at=stored[purpose].decided_at)
            if purpose in stored
            else ConsentState(granted=False, decided_at=None)
        )
        for purpose in Purpose
    }


async def has_consent(telegram_user_id: int, purpose: Purpose, *, session: AsyncSession) -> bool:
    """True if the person is registered and has granted `purpose` (never raises NotRegistered)."""
    statement = (
        select(Consent.id)
        .join(Citizen, col(Citizen.id) == col(Consent.citizen_id))
        .where(
            Citizen.telegram_user_id == telegram_user_id,
            Consent.purpose == Purpose(purpose),
            col(Consent.granted).is_(True),
        )
    )
    return (await session.exec(statement)).first() is not None


async def consenting_telegram_ids(purpose: Purpose, *, session: AsyncSession) -> list[int]:
    """Telegram ids of reachable citizens who granted `purpose`, in registration order."""
    statement = (
        select(Citizen.telegram_user_id)
        .join(Consent, col(Consent.citizen_id) == col(Citizen.id))
        .where(
            Consent.purpose == Purpose(purpose),
            col(Consent.granted).is_(True),
            col(Citizen.reachable).is_(True),
        )
        .order_by(col(Citizen.id))
    )
    return list((await session.exec(statement)).all())


async def count_citizens(*, session: AsyncSession) -> int:
    """How many citizens are stored."""
    statement = select(func.count()).select_from(Citizen)
    return int((await session.exec(statement)).one())


async def _require(telegram_user_id: int, session: AsyncSession) -> Citizen:
    citizen = await get_citizen(telegram_user_id, session=session)
    if citizen is None:
        raise NotRegistered(telegram_user_id)
    return citizen


async def _touch(citizen: Citizen, session: AsyncSession) -> None:
    citizen.updated_at = clock.now()
    session.add(citizen)
    await session.flush()


async def _audit_self(
    action: str, telegram_user_id: int, detail: dict[str, object] | None, session: AsyncSession
) -> None:
    actor = audit.actor_for(telegram_user_id)
    await audit.record(action, actor=actor, target=actor, detail=detail, session=session)


def _checked_language(language: str) -> Language:
    for known in LANGUAGES:
        if language == known:
            return known
    raise UnsupportedLanguage(f"unsupported language {language!r}; expected one of {LANGUAGES}")


def _checked_district(district: str | None) -> str | None:
    if district is None or not district.strip():
        return None
    value = district.strip()
    if len(value) > DISTRICT_MAX_LENGTH:
        raise ValueError(f"district code longer than {DISTRICT_MAX_LENGTH} characters")
    return value
