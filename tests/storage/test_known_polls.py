"""A flow's poll ids in memory: loaded from storage at startup, added to as polls are sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from storage import council, library, library_lib
from storage.clock import ManualClock
from storage.council import AgendaInput
from storage.database import AsyncSession, Database
from storage.enums import AgendaSource
from storage.known_polls import KnownPolls
from tests.storage.council_helpers import FACILITATOR, FEB_MEETING, first_meeting, monthly_series
from tests.storage.library_helpers import (
    listed_book,
    new_event,
    readers,
    reserved,
    with_categories,
)


@pytest.fixture(autouse=True)
def frozen(clock: ManualClock) -> ManualClock:
    return clock


async def _stored_ids(session: AsyncSession) -> list[str]:
    return ["open-1", "open-2"]


async def test_until_loaded_every_poll_may_be_the_flows_then_only_its_own(db: Database) -> None:
    known = KnownPolls(_stored_ids)
    assert not known.loaded
    assert known.may_own("anything"), "not loaded: the flow must still ask the database"
    known.add("sent-before-loading")
    await known.load(db)
    assert known.loaded and len(known) == 3
    assert known.may_own("open-1") and known.may_own("sent-before-loading")
    assert not known.may_own("a-survey-poll")
    known.add("sent-now")
    assert known.may_own("sent-now")
    known.discard("open-2")
    assert not known.may_own("open-2")


async def test_a_database_that_cannot_answer_leaves_every_poll_to_be_looked_up(
    db: Database,
) -> None:
    async def broken(session: AsyncSession) -> list[str]:
        raise OperationalError("SELECT poll_id", {}, Exception("database is down"))

    known = KnownPolls(broken)
    assert not await known.try_load(db)
    assert not known.loaded and known.may_own("any-poll")
    known = KnownPolls(_stored_ids)
    assert await known.try_load(db) and not known.may_own("any-poll")


async def test_every_rating_poll_is_loaded(db: Database) -> None:
    await with_categories(db)
    book = await listed_book(db)
    event = await new_event(db, [book.id], slots_per_book=2)
    await readers(db, 1001, 1002)
    loans = [await reserved(db, event, book, tg) for tg in (1001, 1002)]
    async with db.session() as session:
        assert await library_lib.feedback_poll_ids(session=session) == []
        for n, loan in enumerate(loans):
            await library.record_feedback_poll(f"rating-{n}", loan.id, session=session)
    async with db.session() as session:
        assert sorted(await library_lib.feedback_poll_ids(session=session)) == [
            "rating-0",
            "rating-1",
        ]


async def test_agenda_polls_are_loaded_until_their_meeting_is_over_or_cancelled(
    db: Database, clock: ManualClock
) -> None:
    await with_categories(db)
    series = await monthly_series(db)
    feb = await first_meeting(db, series)
    assert feb.starts_at == FEB_MEETING
    label = {"th": "ห้องเรียนดิจิทัล", "en": "Digital classroom"}
    async with db.session() as session:
        await council.set_agenda(
            feb.id,
            [AgendaInput(label, "digital_skills", AgendaSource.need)],
            by=FACILITATOR,
            session=session,
        )
        await council.record_agenda_poll("agenda-th", feb.id, "th", session=session)
        await council.record_agenda_poll("agenda-en", feb.id, "en", session=session)
    async with db.session() as session:
        assert sorted(await council.open_agenda_poll_ids(session=session)) == [
            "agenda-en",
            "agenda-th",
        ]
    clock.set(feb.ends_at + timedelta(minutes=1))
    async with db.session() as session:
        assert await council.open_agenda_poll_ids(session=session) == []
    clock.set(feb.starts_at - timedelta(days=1))
    async with db.session() as session:
        await council.cancel_meeting(feb.id, by=FACILITATOR, session=session)
    async with db.session() as session:
        assert await council.open_agenda_poll_ids(session=session) == []
