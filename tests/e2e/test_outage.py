"""A database outage on PostgreSQL: answers given while it is cut are stored afterwards, once.

The bot reaches the shared PostgreSQL server through a TCP proxy the test controls; the
proxy is cut for 10 s while citizens answer `/needs` polls, then restored.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from bot.emulator import harness
from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage
from bot.i18n.catalog import catalogs
from bot.outage import OUTAGE_KEY, OutageGuard
from bot.survey_cli import DEFAULT_SURVEY
from handlers import needs
from storage import citizens, surveys
from storage.citizens import NewCitizen
from storage.database import Database, normalize_url
from storage.enums import AgeBand, Purpose
from storage.models import SurveyAnswer
from storage.survey_spec import load_survey_file
from tests.conftest import open_test_database, postgresql_test_url
from tests.e2e.tcp_proxy import TcpProxy

TEXTS = catalogs().messages
OUTAGE_SECONDS = 10.0
CITIZENS = {7101: "th", 7102: "en", 7103: "th", 7104: "en", 7105: "th", 7106: "en"}
STRANGER = 7199  # never registered: nothing of theirs may be spooled


@dataclass
class Outage:
    """The running bot, the proxy in front of its database, and a direct way to check it."""

    live: LiveBot
    proxy: TcpProxy
    direct: Database

    @property
    def guard(self) -> OutageGuard:
        guard = self.live.app.bot_data[OUTAGE_KEY]
        assert isinstance(guard, OutageGuard)
        return guard


@pytest.fixture
async def outage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Outage]:
    url = make_url(normalize_url(postgresql_test_url()))
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with open_test_database("postgresql", tmp_path, migrated=False) as direct:
            # The bot's own Database goes through the proxy, confined to this test's schema.
            monkeypatch.setattr(harness, "Database", lambda u: Database(u, schema=direct.schema))
            live = LiveBot(
                database_url=proxied,
                settings_overrides={
                    "spool_dir": tmp_path / "spool",
                    "db_retry_seconds": 2.0,
                    "spool_replay_seconds": 0.5,
                },
            )
            async with live:
                await _prepare(direct)
                yield Outage(live, proxy, direct)
    finally:
        await proxy.stop()


async def _prepare(db: Database) -> None:
    async with db.session() as session:
        survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
        assert survey.id is not None
        await surveys.open_survey(survey.id, actor="test", session=session)
        for user_id, language in CITIZENS.items():
            await citizens.register_citizen(
                NewCitizen(user_id, language, AgeBand.age_35_49, False, None),  # type: ignore[arg-type]
                dict.fromkeys(Purpose, True),
                session=session,
            )


def _polls(live: LiveBot, chat_id: int) -> list[EmuMessage]:
    return [m for m in live.emulator.sent_to(chat_id) if m.kind == "poll"]


def _texts(live: LiveBot, chat_id: int) -> list[str]:
    return [m.text or "" for m in live.emulator.sent_to(chat_id)]


async def _stored(db: Database, user_id: int) -> list[tuple[int, list[str]]]:
    async with db.session(readonly=True) as session:
        citizen = await citizens.get_citizen(user_id, session=session)
        assert citizen is not None
        rows = (await session.exec(select(SurveyAnswer).where(
            SurveyAnswer.citizen_id == citizen.id))).all()  # fmt: skip
    return [(row.question_id, list(row.option_keys)) for row in rows]


async def _wait_for_empty_spool(outage: Outage, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while outage.guard.spool.pending():
        assert loop.time() < deadline, f"still spooled: {outage.guard.spool.pending()}"
        await asyncio.sleep(0.1)
    await outage.live.settle()


async def test_answers_given_during_a_cut_are_stored_once_when_the_database_is_back(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    live = outage.live
    people = {uid: live.user(uid, f"p{uid}", language_code=lang) for uid, lang in CITIZENS.items()}
    for user in people.values():
        await live.send(user, "/needs")
        assert len(_polls(live, user.id)) == 1
    stranger = live.user(STRANGER, "Stranger", language_code="en")
    await live.send(stranger, "/start")  # seen, but never registered
    caplog.clear()
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()

    await outage.proxy.cut()
    cut_at = loop.time()
    final: dict[int, list[int]] = {}
    for index, user in enumerate(people.values()):
        [poll] = _polls(live, user.id)
        await live.emulator.polls.vote(user, poll, [0])
        final[user.id] = [0]
        if index % 2 == 0:  # half of them change their mind: the later vote must win
            await live.emulator.polls.vote(user, poll, [1, 2])
            final[user.id] = [1, 2]
    await live.emulator.user_sends(stranger, "/needs")
    await live.settle(timeout=15)

    votes = len(people) + len(people) // 2
    assert len(outage.guard.spool.pending()) == votes, "every vote waits in the spool"
    spool_files = list((live.app.bot_data["settings"].spool_dir).iterdir())
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in spool_files)
    for user_id, language in CITIZENS.items():
        told = [t for t in _texts(live, user_id) if t == TEXTS[language]["outage.delayed"]]
        assert len(told) == 1, "each person is told once that their answer is delayed"
    assert _texts(live, STRANGER)[-1] == TEXTS["en"]["outage.try_later"]
    assert not outage.guard.spool.has_pending(STRANGER)

    await asyncio.sleep(max(0.0, cut_at + OUTAGE_SECONDS - loop.time()))
    await outage.proxy.restore()
    await _wait_for_empty_spool(outage, timeout=15)

    first_question = load_survey_file(DEFAULT_SURVEY).questions[0]
    for user_id, options in final.items():
        stored = await _stored(outage.direct, user_id)
        assert len(stored) == 1, f"{user_id}: one answer, stored once: {stored}"
        expected = [first_question.options[i].key for i in options]
        assert stored[0][1] == expected, "the last vote is the one stored"
        assert len(_polls(live, user_id)) == 2, "the survey went on to the next question"
    async with outage.direct.session(readonly=True) as session:
        total = (await session.exec(select(func.count()).select_from(SurveyAnswer))).one()
    assert total == len(CITIZENS)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def test_a_vote_stored_just_before_the_database_failed_still_brings_the_next_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveBot(
        database_url=sqlite_url(tmp_path / "outage.db"),
        settings_overrides={"spool_dir": tmp_path / "spool", "db_retry_seconds": 2.0},
    )
    async with live:
        assert live.db is not None
        await _prepare(live.db)
        user = live.user(7101, "สมศรี", language_code="th")
        await live.send(user, "/needs")
        real_send_step = needs._send_step
        failures = [ConnectionDoesNotExistError("connection was closed in the middle of operation")]

        async def send_step_failing_once(*args: Any, **kwargs: Any) -> Any:
            if failures:  # the vote is committed; the connection drops right after
                raise failures.pop()
            return await real_send_step(*args, **kwargs)

        monkeypatch.setattr(needs, "_send_step", send_step_failing_once)
        [poll] = _polls(live, user.id)
        await live.emulator.polls.vote(user, poll, [0])
        await live.settle()
        assert failures == []
        assert len(_polls(live, user.id)) == 2, "handled again: the next question is sent"
        assert len(await _stored(live.db, user.id)) == 1
        assert live.app.bot_data[OUTAGE_KEY].spool.pending() == []
