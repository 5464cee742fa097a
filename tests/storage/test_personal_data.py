"""/mydata and /forget in storage: everything about a person, and nothing left after erasure."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Integer, String, cast, func, select
from sqlmodel import SQLModel

from storage import library
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import ReservationStatus
from storage.person_columns import PERSON_COLUMNS, tables
from storage.personal_data import SOMEONE_ELSE, erase_person, export_person
from tests.storage.personal_data_helpers import ME, OTHER, everything
from tests.storage.test_summary import dataset, summary_of  # noqa: F401  (fixture)


async def _export(db: Database, telegram_user_id: int) -> dict[str, Any]:
    async with db.session(readonly=True) as session:
        return await export_person(telegram_user_id, session=session)


async def _rows_naming(db: Database, telegram_user_id: int) -> list[str]:
    """Every (table.column) of the whole schema with a value that is or contains the id."""
    found = []
    async with db.session(readonly=True) as session:
        for table in SQLModel.metadata.sorted_tables:
            checks = []
            for column in table.columns:
                if isinstance(column.type, Integer | BigInteger):
                    checks.append((column.name, cast(column, BigInteger) == telegram_user_id))
                else:  # text, JSON, enums: as stored
                    checks.append((column.name, cast(column, String).like(f"%{telegram_user_id}%")))
            for name, condition in checks:
                count = (
                    await session.exec(select(func.count()).select_from(table).where(condition))  # type: ignore[call-overload]
                ).scalar_one()
                if count:
                    found.append(f"{table.name}.{name}")
    return found


async def test_the_export_holds_every_flow_and_nothing_of_anyone_else(
    db: Database, clock: ManualClock
) -> None:
    await everything(db)
    export = await _export(db, ME)
    # A row about ME in every table where a person can be the subject.
    subject_tables = {c.table for c in PERSON_COLUMNS if c.subject}
    empty = sorted(t for t in subject_tables if not export["tables"][t])
    assert empty == []
    assert set(export["tables"]) == set(tables())
    # Every column where ME only acted is referenced.
    acted = {(ref["table"], ref["column"]) for ref in export["acted_on"]}
    assert acted == {(c.table, c.column) for c in PERSON_COLUMNS if not c.subject}
    text = json.dumps(export, ensure_ascii=False)
    assert str(OTHER) not in text
    assert "Other Reader" not in text and "อยากเรียนทำขนม" not in text
    # ME's own words, with their detected language, and the attendance checked by OTHER.
    (need,) = export["tables"]["free_text_needs"]
    assert (need["text"], need["language"]) == ("I want to learn batik painting", "en")
    (present,) = export["tables"]["council_attendance"]
    assert present["telegram_user_id"] == ME and present["checked_in_by"] == SOMEONE_ELSE
    (granted,) = [e for e in export["tables"]["audit_log"] if e["action"] == "role.granted"]
    assert granted["target"] == SOMEONE_ELSE and granted["detail"]["about"] == [SOMEONE_ELSE]
    (citizen,) = export["tables"]["citizens"]
    assert citizen["district"] == "betong" and citizen["reminders_enabled"] is True


async def test_after_erasure_no_column_of_any_table_names_the_person(
    db: Database, clock: ManualClock
) -> None:
    built = await everything(db)
    before_other = await _export(db, OTHER)
    assert await _rows_naming(db, ME) != []  # the check can see them
    async with db.session() as session:
        erasure = await erase_person(ME, session=session)
    assert erasure.language == "en"
    assert await _rows_naming(db, ME) == []
    # ME's upcoming seat went to OTHER, who is told.
    assert [p.telegram_user_id for p in erasure.promotions] == [OTHER]
    async with db.session(readonly=True) as session:
        promoted = await library.my_loans(OTHER, now=clock(), session=session)
        mine = await library.get_reservation(built.upcoming_loan.id, session=session)
    assert [loan.status for loan in promoted] == [ReservationStatus.reserved]
    assert mine is not None and mine.status is ReservationStatus.cancelled
    assert mine.reader_name == "-"
    # OTHER keeps their own rows (the promotion changed their loan and the audit log).
    after_other = await _export(db, OTHER)
    for table in ("citizens", "survey_answers", "free_text_needs", "council_rsvps"):
        assert after_other["tables"][table] == before_other["tables"][table], table
    # The logs keep their shape: a tombstone where ME was.
    assert (await _export(db, ME))["tables"]["audit_log"] == []
    tombstone = await _export(db, erasure.log_tombstone)
    assert tombstone["tables"]["deliveries"] and tombstone["tables"]["audit_log"]
    [delivery] = tombstone["tables"]["deliveries"]
    assert (delivery["chat_id"], delivery["status"]) == (None, "dropped")  # never sent now


async def test_erasing_a_stranger_finds_nothing_to_erase(db: Database, clock: ManualClock) -> None:
    async with db.session() as session:
        erasure = await erase_person(ME, session=session)
    assert erasure.language is None and erasure.promotions == []


async def test_summaries_count_the_same_after_erasure(dataset: Database) -> None:  # noqa: F811
    before = await summary_of(dataset)
    async with dataset.session() as session:
        await erase_person(101, session=session)  # answers, free text, loan, RSVP, attendance
        await erase_person(113, session=session)  # had withdrawn: answers already left out
        await erase_person(110, session=session)  # no district
    assert await summary_of(dataset) == before
    assert await _rows_naming_small(dataset, (101, 113, 110)) == []


async def _rows_naming_small(db: Database, ids: tuple[int, ...]) -> list[str]:
    """The small ids of the summary dataset, in the columns that hold people only."""
    found = []
    async with db.session(readonly=True) as session:
        for column in PERSON_COLUMNS:
            table = SQLModel.metadata.tables[column.table]
            target = table.c[column.column]
            if column.link.value == "citizen":
                continue  # internal ids: the citizens row is gone, checked by the join below
            values: list[Any] = (
                [f"tg:{i}" for i in ids] if column.link.value == "actor" else list(ids)
            )
            statement = select(func.count()).select_from(table).where(target.in_(values))
            if (await session.exec(statement)).scalar_one():  # type: ignore[call-overload]
                found.append(f"{column.table}.{column.column}")
    return found
