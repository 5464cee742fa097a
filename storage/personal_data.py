"""A person's data: everything about them (`/mydata`) and erasing it (`/forget`).

Both walk `storage.person_columns`, so they cover the same rows. Erasure keeps aggregates
true without keeping the person: answers, loans, RSVPs, attendance and votes move to a
pseudonym — a fresh citizens row with a random negative Telegram id and only the person's
age band, district and language (what summaries break down by) — while logs (audit,
deliveries, polls sent, "who did it" columns) get a separate random tombstone id, so the two
cannot be joined to each other or to the person. Real Telegram user ids are positive.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Final

from sqlalchemy import Table, Text, case, cast, delete, false, func, or_, select, update
from sqlalchemy.engine import Result
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from storage import audit, clock, library
from storage.database import AsyncSession
from storage.enums import DeliveryStatus, Purpose
from storage.library import Promotion
from storage.models import Citizen, Consent
from storage.person_columns import PERSON_COLUMNS, Erase, Link, PersonColumn, columns_of, tables

FORMAT: Final = "learncity-mydata/1"
# What stands in an export for someone else's id (a facilitator who checked them in, …).
SOMEONE_ELSE: Final = "someone-else"
ERASED_NAME: Final = "-"
_ANSWER_TABLES: Final = (
    "need_picks",
    "survey_answers",
    "quick_poll_answers",
    "free_text_tokens",
    "free_text_needs",
)
_ACTOR: Final = re.compile(r"^tg:-?\d+$")


def tombstone() -> int:
    """A random id below every real Telegram id (and every group id): -2^63 < t ≤ -2^62."""
    return -(2**62 + secrets.randbelow(2**62 - 1))


@dataclass(frozen=True)
class _Ids:
    telegram_user_id: int
    citizen_id: int | None

    @property
    def actor(self) -> str:
        return audit.actor_for(self.telegram_user_id)

    def matches(self, column: PersonColumn, table: Table) -> ColumnElement[bool]:
        """The condition "this column names the person"."""
        target = table.c[column.column]
        if column.link is Link.actor:
            return target == self.actor
        if column.link is Link.citizen:
            return target == self.citizen_id if self.citizen_id is not None else false()
        return target == self.telegram_user_id

    def owns(self, column: PersonColumn, value: object) -> bool:
        """Whether a value of this column is the person's own."""
        if column.link is Link.actor:
            return value == self.actor or not (isinstance(value, str) and _ACTOR.match(value))
        if column.link is Link.citizen:
            return value == self.citizen_id
        return value == self.telegram_user_id


async def export_person(telegram_user_id: int, *, session: AsyncSession) -> dict[str, Any]:
    """Every row about the person, table by table, JSON-able; nothing about anyone else.

    Rows about them are whole (other people's ids in them read SOMEONE_ELSE); rows where they
    only acted (e.g. created an event) are listed under "acted_on" by table, column and key.
    """
    ids = await _ids(telegram_user_id, session)
    found: dict[str, list[dict[str, Any]]] = {}
    acted_on: list[dict[str, Any]] = []
    for name in tables():
        table = _table(name)
        columns = columns_of(name)
        conditions = [ids.matches(c, table) for c in columns if c.subject]
        if name == "audit_log":
            conditions.append(_detail_mentions(table, ids))
        found[name] = []
        if conditions:
            statement = select(table).where(or_(*conditions))
            rows = (await _run(session, statement)).mappings().all()
            found[name] = [_redacted(dict(row), columns, ids) for row in rows]
        for column in (c for c in columns if not c.subject):
            keys = list(table.primary_key.columns)
            refs = await _run(session, select(*keys).where(ids.matches(column, table)))
            acted_on.extend(
                {"table": name, "column": column.column, "row": _jsonable(dict(ref))}
                for ref in refs.mappings().all()
            )
    return {
        "format": FORMAT,
        "telegram_user_id": telegram_user_id,
        "generated_at": clock.now().isoformat(),
        "tables": found,
        "acted_on": acted_on,
    }


@dataclass(frozen=True)
class Erasure:
    """What `/forget` did: the language the person used (gone from the database now), the
    waitlisted readers promoted into their freed seats (to tell), and the two ids used."""

    language: str | None
    promotions: list[Promotion] = field(default_factory=list)
    log_tombstone: int = 0
    pseudonym: int = 0


async def erase_person(telegram_user_id: int, *, session: AsyncSession) -> Erasure:
    """Erase the person in the session's transaction; afterwards no row names their id.

    Upcoming reservations are cancelled through the reader's own path (the waitlist moves
    up), RSVPs to meetings not yet held are dropped, and answers go with them when they had
    withdrawn consent to the needs survey (they no longer count anyway).
    """
    ids = await _ids(telegram_user_id, session)
    now = clock.now()
    citizen = await session.get(Citizen, ids.citizen_id) if ids.citizen_id else None
    language = citizen.language if citizen is not None else None
    promotions = []
    for loan in await library.my_loans(telegram_user_id, now=now, session=session):
        promotion = await library.cancel_reservation(loan.id, telegram_user_id, session=session)
        if promotion is not None:
            promotions.append(promotion)
    rsvps = _table("council_rsvps")
    meetings = _table("council_meetings")
    upcoming = select(meetings.c.id).where(meetings.c.starts_at > now)
    await _run(
        session,
        delete(rsvps).where(
            rsvps.c.telegram_user_id == telegram_user_id, rsvps.c.meeting_id.in_(upcoming)
        ),
    )
    log_id, pseudo_id = tombstone(), tombstone()
    pseudo_citizen = None
    if citizen is not None:
        consented = await _consented_to_needs(citizen, session)
        if consented is None:
            for name in _ANSWER_TABLES:
                table = _table(name)
                await _run(session, delete(table).where(table.c.citizen_id == citizen.id))
        pseudo_citizen = await _pseudonym(citizen, pseudo_id, consented, session)
    await _scrub(ids, session)
    for column in PERSON_COLUMNS:
        if column.table == "citizens":
            continue  # last: its foreign keys would take rows moved above with it
        await _erase_column(column, ids, log_id, pseudo_id, pseudo_citizen, session)
    await _tombstone_details(ids, log_id, session)
    if citizen is not None:
        citizens = _table("citizens")
        await _run(session, delete(citizens).where(citizens.c.id == citizen.id))
    await audit.record("privacy.erased", actor=audit.actor_for(log_id), session=session)
    return Erasure(language, promotions, log_id, pseudo_id)


async def _ids(telegram_user_id: int, session: AsyncSession) -> _Ids:
    citizens = _table("citizens")
    citizen_id = (
        await _run(
            session, select(citizens.c.id).where(citizens.c.telegram_user_id == telegram_user_id)
        )
    ).scalar_one_or_none()
    return _Ids(telegram_user_id, citizen_id)


async def _consented_to_needs(citizen: Citizen, session: AsyncSession) -> datetime | None:
    """When the person consented to the needs survey, or None (their answers do not count)."""
    consents = _table("consents")
    row = (
        await _run(
            session,
            select(consents.c.decided_at).where(
                consents.c.citizen_id == citizen.id,
                consents.c.purpose == Purpose.needs_survey.value,
                consents.c.granted.is_(True),
            ),
        )
    ).first()
    return None if row is None else row[0]


async def _pseudonym(
    citizen: Citizen, pseudo_id: int, consented_at: datetime | None, session: AsyncSession
) -> int:
    """A citizens row that keeps only what summaries break down by; never reachable."""
    pseudo = Citizen(
        telegram_user_id=pseudo_id,
        language=citizen.language,
        age_band=citizen.age_band,
        district=citizen.district,
        reachable=False,
        reminders_enabled=False,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(pseudo)
    await session.flush()
    assert pseudo.id is not None
    if consented_at is not None:  # quick poll results count consenting people's answers only
        session.add(
            Consent(
                citizen_id=pseudo.id,
                purpose=Purpose.needs_survey,
                granted=True,
                decided_at=consented_at,
            )
        )
        await session.flush()
    return pseudo.id


async def _scrub(ids: _Ids, session: AsyncSession) -> None:
    """Personal values beside the id columns: names, own words, the link of a human book."""
    reservations = _table("library_reservations")
    await _run(
        session,
        update(reservations)
        .where(reservations.c.telegram_user_id == ids.telegram_user_id)
        .values(reader_name=ERASED_NAME, feedback_text=None, feedback_language=None),
    )
    rsvps = _table("council_rsvps")
    await _run(
        session,
        update(rsvps)
        .where(rsvps.c.telegram_user_id == ids.telegram_user_id)
        .values(display_name=None),
    )
    actions = _table("council_action_items")
    await _run(
        session,
        update(actions)
        .where(actions.c.owner_telegram_user_id == ids.telegram_user_id)
        .values(owner_name=ERASED_NAME),
    )
    books = _table("library_books")
    await _run(
        session,
        update(books)
        .where(books.c.telegram_user_id == ids.telegram_user_id)
        .values(linked_at=None, consented_at=None),  # no longer listed: the consent was theirs
    )


async def _erase_column(
    column: PersonColumn,
    ids: _Ids,
    log_id: int,
    pseudo_id: int,
    pseudo_citizen: int | None,
    session: AsyncSession,
) -> None:
    table = _table(column.table)
    condition = ids.matches(column, table)
    if column.erase is Erase.delete:
        await _run(session, delete(table).where(condition))
        return
    values: dict[str, Any]
    if column.erase is Erase.null:
        values = {column.column: None}
    elif column.erase is Erase.pseudonym:
        replacement = pseudo_citizen if column.link is Link.citizen else pseudo_id
        values = {column.column: replacement}
    else:
        values = {column.column: audit.actor_for(log_id) if column.link is Link.actor else log_id}
    if column.table == "deliveries" and column.column == "recipient":
        # The key is "<purpose>|<recipient>": it must not keep the id either.
        values["key"] = func.replace(table.c.key, f"|{ids.actor}", f"|{audit.actor_for(log_id)}")
        values["chat_id"] = None
        # Never sent now: dropped, so the message's report is not held open by it.
        pending = table.c.status == DeliveryStatus.pending.value
        values["status"] = case((pending, DeliveryStatus.dropped.value), else_=table.c.status)
    await _run(session, update(table).where(condition).values(**values))


async def _tombstone_details(ids: _Ids, log_id: int, session: AsyncSession) -> None:
    """Audit details naming the person ("facilitator": "tg:…") get the log tombstone."""
    table = _table("audit_log")
    rows = await _run(
        session, select(table.c.id, table.c.detail).where(_detail_mentions(table, ids))
    )
    for entry_id, detail in [tuple(row) for row in rows.all()]:
        replaced = _replace_actor(detail, ids.actor, audit.actor_for(log_id))
        await _run(session, update(table).where(table.c.id == entry_id).values(detail=replaced))


def _detail_mentions(table: Table, ids: _Ids) -> ColumnElement[bool]:
    # Details are compact JSON text: the person's actor string appears quoted.
    return cast(table.c.detail, Text).like(f'%"{ids.actor}"%')


def _replace_actor(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replace_actor(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_actor(v, old, new) for v in value]
    return new if value == old else value


def _redacted(row: dict[str, Any], columns: tuple[PersonColumn, ...], ids: _Ids) -> dict[str, Any]:
    """The row with other people's ids replaced, JSON-able."""
    for column in columns:
        value = row.get(column.column)
        if value is not None and not ids.owns(column, value):
            row[column.column] = SOMEONE_ELSE
    if isinstance(row.get("detail"), dict):
        row["detail"] = _foreign_actors_hidden(row["detail"], ids.actor)
    return _jsonable(row)


def _foreign_actors_hidden(value: Any, own: str) -> Any:
    if isinstance(value, dict):
        return {k: _foreign_actors_hidden(v, own) for k, v in value.items()}
    if isinstance(value, list):
        return [_foreign_actors_hidden(v, own) for v in value]
    if isinstance(value, str) and _ACTOR.match(value) and value != own:
        return SOMEONE_ELSE
    return value


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _value(value) for key, value in row.items()}


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


async def _run(session: AsyncSession, statement: Executable) -> Result[Any]:
    """A Core statement through SQLModel's session (its `execute` is deprecated)."""
    return await session.exec(statement)  # type: ignore[call-overload,no-any-return]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]
