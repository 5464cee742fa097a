"""Registering citizens and changing what they agreed to: the PDPA rules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage import audit
from storage.citizens import (
    ConsentState,
    consenting_telegram_ids,
    consents_of,
    count_citizens,
    get_citizen,
    has_consent,
    register_citizen,
    set_consent,
    set_district,
    set_language,
    set_reachable,
    set_role,
)
from storage.clock import ManualClock
from storage.database import AsyncSession, Database
from storage.enums import AgeBand, Purpose, Role
from storage.errors import (
    AlreadyRegistered,
    ConsentRequired,
    GuardianAgreementRequired,
    NotRegistered,
    StorageError,
    TooYoung,
    UnsupportedLanguage,
)
from storage.models import AuditEntry, Consent
from tests.storage.factories import ALL_GRANTED, new_citizen, registered

ONLY_REMINDERS = {Purpose.reminders: True}


async def nothing_stored(db: Database) -> bool:
    async with db.session() as session:
        return (
            await count_citizens(session=session) == 0
            and (await session.exec(select(Consent))).all() == []
            and (await session.exec(select(AuditEntry))).all() == []
        )


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as session:
        return [e.action for e in reversed(await audit.recent(session=session))]


# --- registration -----------------------------------------------------------------------


async def test_registering_stores_the_citizen_every_consent_and_one_audit_entry(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        citizen = await register_citizen(
            new_citizen(1001, language="en", district="mueang-yala"),
            {Purpose.reminders: True, Purpose.human_library: True, Purpose.needs_survey: False},
            session=session,
        )
    assert citizen.id is not None
    assert citizen.telegram_user_id == 1001
    assert citizen.language == "en"
    assert citizen.role is Role.citizen
    assert citizen.district == "mueang-yala"
    assert citizen.reachable is True
    assert citizen.created_at == citizen.updated_at == clock()
    assert citizen.guardian_confirmed_at is None

    async with db.session() as session:
        stored = await get_citizen(1001, session=session)
        consents = await consents_of(1001, session=session)
        (entry,) = await audit.recent(session=session)
    assert stored is not None and stored.id == citizen.id
    assert consents == {
        Purpose.needs_survey: ConsentState(granted=False, decided_at=clock()),
        Purpose.reminders: ConsentState(granted=True, decided_at=clock()),
        Purpose.human_library: ConsentState(granted=True, decided_at=clock()),
        Purpose.coffee_council: ConsentState(granted=False, decided_at=clock()),
    }
    assert entry.action == "citizen.registered"
    assert entry.actor == entry.target == "tg:1001"
    assert entry.detail == {"purposes": ["reminders", "human_library"]}
    assert entry.at == clock()


async def test_under_10_is_refused_and_nothing_is_stored(db: Database) -> None:
    with pytest.raises(TooYoung):
        async with db.session() as session:
            await register_citizen(
                new_citizen(age_band=AgeBand.age_0_9, guardian_confirmed=True),
                ALL_GRANTED,
                session=session,
            )
    assert await nothing_stored(db)


@pytest.mark.parametrize("band", [AgeBand.age_10_14, AgeBand.age_15_19])
async def test_a_minor_without_a_guardians_agreement_is_refused_and_nothing_is_stored(
    db: Database, band: AgeBand
) -> None:
    with pytest.raises(GuardianAgreementRequired):
        async with db.session() as session:
            await register_citizen(new_citizen(age_band=band), ALL_GRANTED, session=session)
    assert await nothing_stored(db)


async def test_a_minor_with_a_guardians_agreement_is_registered_with_its_time(
    db: Database, clock: ManualClock
) -> None:
    citizen = await registered(db, 12, age_band=AgeBand.age_15_19, guardian_confirmed=True)
    assert citizen.guardian_confirmed_at == clock()


async def test_an_adults_guardian_flag_is_not_stored(db: Database) -> None:
    citizen = await registered(db, 13, age_band=AgeBand.age_20_34, guardian_confirmed=True)
    assert citizen.guardian_confirmed_at is None


@pytest.mark.parametrize(
    "consents",
    [{}, {p: False for p in Purpose}],
    ids=["nothing-asked", "all-declined"],
)
async def test_without_any_consent_nothing_is_stored(
    db: Database, consents: dict[Purpose, bool]
) -> None:
    with pytest.raises(ConsentRequired):
        async with db.session() as session:
            await register_citizen(new_citizen(), consents, session=session)
    assert await nothing_stored(db)


async def test_purposes_left_out_are_stored_as_declined(db: Database) -> None:
    await registered(db, 14, consents=ONLY_REMINDERS)
    async with db.session() as session:
        consents = await consents_of(14, session=session)
    assert {p: s.granted for p, s in consents.items()} == {
        Purpose.needs_survey: False,
        Purpose.reminders: True,
        Purpose.human_library: False,
        Purpose.coffee_council: False,
    }
    assert all(state.decided_at is not None for state in consents.values())


async def test_the_checks_run_in_the_documented_order(db: Database) -> None:
    await registered(db, 15)
    cases: list[tuple[AgeBand, bool, dict[Purpose, bool], type[StorageError]]] = [
        (AgeBand.age_0_9, False, {}, TooYoung),
        (AgeBand.age_10_14, False, {}, GuardianAgreementRequired),
        (AgeBand.age_10_14, True, {}, ConsentRequired),
        (AgeBand.age_10_14, True, ONLY_REMINDERS, AlreadyRegistered),
    ]
    for band, guardian, consents, error in cases:
        with pytest.raises(error):
            async with db.session() as session:
                await register_citizen(
                    new_citizen(15, age_band=band, guardian_confirmed=guardian),
                    consents,
                    session=session,
                )


async def test_registering_twice_is_refused_and_the_first_record_stays(db: Database) -> None:
    await registered(db, 16, language="th")
    with pytest.raises(AlreadyRegistered) as raised:
        await registered(db, 16, language="en")
    assert raised.value.telegram_user_id == 16
    assert "16" not in str(raised.value)
    async with db.session() as session:
        citizen = await get_citizen(16, session=session)
        assert await count_citizens(session=session) == 1
    assert citizen is not None and citizen.language == "th"


async def test_two_simultaneous_registrations_one_wins_the_other_is_told(db: Database) -> None:
    first_inserted = asyncio.Event()

    async def first() -> None:
        async with db.session() as session:
            await register_citizen(new_citizen(17), ALL_GRANTED, session=session)
            first_inserted.set()
            await asyncio.sleep(0.1)  # hold the transaction open

    async def second() -> None:
        await first_inserted.wait()
        async with db.session() as session:
            await register_citizen(new_citizen(17), ALL_GRANTED, session=session)

    results = await asyncio.gather(first(), second(), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], AlreadyRegistered)
    async with db.session() as session:
        assert await count_citizens(session=session) == 1
    assert await audit_actions(db) == ["citizen.registered"]


async def test_an_unsupported_language_is_refused(db: Database) -> None:
    with pytest.raises(UnsupportedLanguage):
        async with db.session() as session:
            await register_citizen(new_citizen(language="fr"), ALL_GRANTED, session=session)  # type: ignore[arg-type]
    assert await nothing_stored(db)


# --- lookups ----------------------------------------------------------------------------


async def test_an_unknown_person_is_not_found(db: Database) -> None:
    async with db.session() as session:
        assert await get_citizen(404, session=session) is None
        assert await has_consent(404, Purpose.reminders, session=session) is False
        assert await count_citizens(session=session) == 0


Change = Callable[[AsyncSession], Awaitable[object]]
CHANGES: dict[str, Change] = {
    "set_language": lambda s: set_language(404, "en", session=s),
    "set_district": lambda s: set_district(404, "betong", session=s),
    "set_role": lambda s: set_role(404, Role.officer, actor="system", session=s),
    "set_reachable": lambda s: set_reachable(404, False, session=s),
    "set_consent": lambda s: set_consent(404, Purpose.reminders, True, session=s),
    "consents_of": lambda s: consents_of(404, session=s),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
async def test_changing_someone_unregistered_raises_not_registered(
    db: Database, change: Change
) -> None:
    with pytest.raises(NotRegistered):
        async with db.session() as session:
            await change(session)
    assert await nothing_stored(db)


# --- changes ----------------------------------------------------------------------------


async def test_changing_language_is_audited_and_bumps_updated_at(
    db: Database, clock: ManualClock
) -> None:
    created = (await registered(db, 20, language="th")).created_at
    clock.advance(minutes=5)
    async with db.session() as session:
        citizen = await set_language(20, "en", session=session)
    assert citizen.language == "en"
    assert citizen.updated_at == created + timedelta(minutes=5)
    async with db.session() as session:
        entry = (await audit.recent(1, session=session))[0]
    assert (entry.action, entry.actor, entry.detail) == (
        "language.changed",
        "tg:20",
        {"from": "th", "to": "en"},
    )


async def test_setting_the_same_language_changes_nothing(db: Database, clock: ManualClock) -> None:
    created = (await registered(db, 21, language="th")).created_at
    clock.advance(minutes=5)
    async with db.session() as session:
        citizen = await set_language(21, "th", session=session)
        with pytest.raises(UnsupportedLanguage):
            await set_language(21, "de", session=session)  # type: ignore[arg-type]
    assert citizen.updated_at == created
    assert await audit_actions(db) == ["citizen.registered"]


async def test_district_is_set_and_cleared_without_logging_the_place(db: Database) -> None:
    await registered(db, 22)
    async with db.session() as session:
        assert (await set_district(22, "  betong ", session=session)).district == "betong"
    async with db.session() as session:
        assert (await set_district(22, "   ", session=session)).district is None
        with pytest.raises(ValueError):
            await set_district(22, "x" * 65, session=session)
    async with db.session() as session:
        entries = await audit.recent(session=session)
    assert [e.action for e in entries] == [
        "district.changed",
        "district.changed",
        "citizen.registered",
    ]
    assert all("betong" not in str(e.detail) for e in entries)


async def test_roles_are_granted_and_revoked_by_a_named_actor(db: Database) -> None:
    await registered(db, 23)
    admin = audit.actor_for(1)
    async with db.session() as session:
        assert (
            await set_role(23, Role.facilitator, actor=admin, session=session)
        ).role is Role.facilitator
        await set_role(23, Role.facilitator, actor=admin, session=session)  # unchanged: no entry
    async with db.session() as session:
        assert (await set_role(23, Role.citizen, actor=admin, session=session)).role is Role.citizen
    async with db.session() as session:
        entries = (await audit.recent(2, session=session))[::-1]
    assert [(e.action, e.actor, e.target, e.detail) for e in entries] == [
        ("role.granted", "tg:1", "tg:23", {"role": "facilitator", "previous": "citizen"}),
        ("role.revoked", "tg:1", "tg:23", {"previous": "facilitator"}),
    ]
    assert await audit_actions(db) == ["citizen.registered", "role.granted", "role.revoked"]


async def test_reachable_is_toggled_quietly(db: Database, clock: ManualClock) -> None:
    await registered(db, 24)
    clock.advance(hours=1)
    async with db.session() as session:
        citizen = await set_reachable(24, False, session=session)
    assert citizen.reachable is False
    assert citizen.updated_at == clock()
    assert await audit_actions(db) == ["citizen.registered"]


async def test_withdrawing_consent_is_as_easy_as_giving_it(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, 25, consents=ONLY_REMINDERS)
    clock.advance(days=1)
    async with db.session() as session:
        consent = await set_consent(25, Purpose.reminders, False, session=session)
    assert consent.granted is False
    assert consent.decided_at == clock()
    clock.advance(days=1)
    async with db.session() as session:
        await set_consent(25, Purpose.coffee_council, True, session=session)
        states = await consents_of(25, session=session)
        citizen = await get_citizen(25, session=session)
    assert states[Purpose.reminders].granted is False
    assert states[Purpose.coffee_council] == ConsentState(granted=True, decided_at=clock())
    assert citizen is not None and citizen.updated_at == clock()
    async with db.session() as session:
        entries = (await audit.recent(2, session=session))[::-1]
    assert [(e.action, e.detail) for e in entries] == [
        ("consent.withdrawn", {"purpose": "reminders"}),
        ("consent.given", {"purpose": "coffee_council"}),
    ]


async def test_repeating_a_consent_decision_changes_nothing(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, 26, consents=ONLY_REMINDERS)
    decided = clock()
    clock.advance(days=1)
    async with db.session() as session:
        consent = await set_consent(26, Purpose.reminders, True, session=session)
        await set_consent(26, Purpose.needs_survey, False, session=session)
    assert consent.decided_at == decided
    assert await audit_actions(db) == ["citizen.registered"]


async def test_a_purpose_added_after_registration_reads_as_never_asked(db: Database) -> None:
    citizen = await registered(db, 27)
    async with db.engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM consents WHERE citizen_id = :id AND purpose = 'coffee_council'"),
            {"id": citizen.id},
        )
    async with db.session() as session:
        states = await consents_of(27, session=session)
        assert states[Purpose.coffee_council] == ConsentState(granted=False, decided_at=None)
        await set_consent(27, Purpose.coffee_council, True, session=session)
    async with db.session() as session:
        assert await has_consent(27, Purpose.coffee_council, session=session)


async def test_only_reachable_citizens_who_consented_are_listed(db: Database) -> None:
    await registered(db, 31, consents=ONLY_REMINDERS)
    await registered(db, 32, consents={Purpose.needs_survey: True})
    await registered(db, 33, consents=ONLY_REMINDERS)
    await registered(db, 34, consents=ALL_GRANTED)
    async with db.session() as session:
        await set_reachable(33, False, session=session)
    async with db.session() as session:
        assert await consenting_telegram_ids(Purpose.reminders, session=session) == [31, 34]
        assert await has_consent(31, Purpose.reminders, session=session)
        assert not await has_consent(32, Purpose.reminders, session=session)
        assert await count_citizens(session=session) == 4
