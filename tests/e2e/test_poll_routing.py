"""Every vote goes through one handler group, which asks each flow in turn: only the poll's own
flow reads storage, and no other group sees the vote or the poll's counts.

The council agenda and library rating handlers know their poll ids in memory (loaded at
startup, added as polls are sent), so a survey answer costs them no query, and a rating poll
sent before a restart is still the library's after it. A survey's first answer brings the
next question read with the vote's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.emulator.emulator import Emulator
from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage
from bot.i18n.catalog import catalogs
from bot.services import AnyApplication, services_from_app
from bot.survey_cli import DEFAULT_SURVEY
from schedules.library_jobs import FEEDBACK_KEY, FeedbackAsker
from storage import citizens, library, surveys
from storage.citizens import NewCitizen
from storage.database import Database
from storage.enums import AgeBand, Purpose
from storage.models import LibraryReservation, SentPoll
from storage.survey_spec import load_survey_file
from tests.e2e.library_helpers import EVENT_AT, frozen_clock, listed_book, new_event, person

TH, EN = catalogs().messages["th"], catalogs().messages["en"]
OTHER_FLOWS_TABLES = ("library_feedback_polls", "council_agenda_polls")


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements run on `db` inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _survey_and(db: Database, user_id: int, language: str) -> None:
    async with db.session() as session:
        survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
        assert survey.id is not None
        await surveys.open_survey(survey.id, actor="test", session=session)
        await citizens.register_citizen(
            NewCitizen(user_id, language, AgeBand.age_35_49, False, None),  # type: ignore[arg-type]
            {p: True for p in Purpose},
            session=session,
        )


def _polls(emulator: Emulator, chat_id: int) -> list[EmuMessage]:
    return [m for m in emulator.sent_to(chat_id) if m.kind == "poll"]


async def test_a_survey_answer_reads_no_other_flows_polls_and_brings_the_next_question(
    tmp_path: Path,
) -> None:
    async with LiveBot(database_url=sqlite_url(tmp_path / "routing.db")) as live:
        assert live.db is not None
        await _survey_and(live.db, 7301, "en")
        user = live.user(7301, "Anne", language_code="en")
        await live.send(user, "/needs")
        [first] = _polls(live.emulator, 7301)
        with statements(live.db) as seen:
            await live.emulator.polls.vote(user, first, [0])
            await live.settle()
        assert seen, "the vote was stored"
        assert [s for s in seen if any(t in s for t in OTHER_FLOWS_TABLES)] == []
        second = _polls(live.emulator, 7301)[1].extra["poll"]
        total = len(load_survey_file(DEFAULT_SURVEY).questions)
        assert second["question"].startswith(EN["needs.progress"].format(current=2, total=total))
        async with live.db.session() as session:
            recorded = await session.get(SentPoll, second["id"])
        assert recorded is not None and recorded.language == "en"


async def test_votes_and_poll_counts_reach_no_group_after_the_poll_group(tmp_path: Path) -> None:
    seen_later: list[Update] = []

    async def spy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen_later.append(update)

    def add_spy(app: AnyApplication) -> None:
        # Every group from -998 on, where the flows' own handlers live, would see it.
        app.add_handler(TypeHandler(Update, spy), group=-998)

    async with LiveBot(database_url=sqlite_url(tmp_path / "stop.db"), extra_setup=add_spy) as live:
        assert live.db is not None
        await _survey_and(live.db, 7304, "th")
        user = live.user(7304, "นิด", language_code="th")
        await live.send(user, "/needs")
        seen_later.clear()
        await live.emulator.polls.vote(user, _polls(live.emulator, 7304)[0], [1])
        await live.settle()
        assert len(_polls(live.emulator, 7304)) == 2, "the vote was taken: the next question"
        assert [u for u in seen_later if u.poll_answer or u.poll] == []


async def test_someone_marked_unreachable_who_answers_is_reachable_again_and_asked_on(
    tmp_path: Path,
) -> None:
    async with LiveBot(database_url=sqlite_url(tmp_path / "reach.db")) as live:
        assert live.db is not None
        await _survey_and(live.db, 7302, "th")
        user = live.user(7302, "ก้อย", language_code="th")
        await live.send(user, "/needs")
        async with live.db.session() as session:
            await citizens.set_reachable(7302, False, session=session)
        await live.emulator.polls.vote(user, _polls(live.emulator, 7302)[0], [0])
        await live.settle()
        assert len(_polls(live.emulator, 7302)) == 2
        async with live.db.session() as session:
            citizen = await citizens.get_citizen(7302, session=session)
        assert citizen is not None and citizen.reachable


async def test_a_rating_vote_after_a_restart_is_still_taken_by_the_library(
    tmp_path: Path,
) -> None:
    emulator = Emulator()
    url = sqlite_url(tmp_path / "restart.db")
    async with frozen_clock() as clock:
        async with LiveBot(database_url=url, emulator=emulator) as live:
            assert live.db is not None
            book = await listed_book(live.db)
            library_event = await new_event(live.db, [book.id])
            assert library_event.id is not None
            reader = await person(live, 7303, "สมศรี", "th")
            async with live.db.session() as session:
                await library.reserve(
                    library_event.id, book.id, 7303, reader_name="สมศรี", language="th",
                    press_order=1, session=session,
                )  # fmt: skip
            clock.set(EVENT_AT + timedelta(minutes=45))
            asker = live.app.bot_data[FEEDBACK_KEY]
            assert isinstance(asker, FeedbackAsker)
            assert (await asker.run()).asked == 1
            dispatcher = services_from_app(live.app).dispatcher
            assert dispatcher is not None
            await dispatcher.idle()
        [rating_poll] = _polls(emulator, 7303)

        async with LiveBot(database_url=url, emulator=emulator) as again:
            assert again.db is not None
            await again.emulator.polls.vote(reader, rating_poll, [3])
            await again.settle()
            assert emulator.last_sent(7303).text == TH["library.feedback_ask_text"].format(
                minutes=30
            )
            async with again.db.session() as session:
                [loan] = (await session.exec(select(LibraryReservation))).all()
                assert loan.feedback_rating == 4
                rows = await session.exec(select(col(SentPoll.poll_id)))
                assert rows.all() == [], "not taken as a survey answer"
