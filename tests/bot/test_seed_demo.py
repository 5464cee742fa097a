"""`learncity db seed-demo`: reproducible synthetic data (same seed, same rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.seed_demo import seed_demo
from storage.citizens import register_citizen
from storage.clock import ManualClock, set_clock
from storage.database import Database
from storage.enums import Purpose
from storage.migrate import upgrade
from storage.summary import build_summary, parse_period
from tests.storage.factories import new_citizen

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
SIZES: dict[str, Any] = {"citizens": 60, "answers": 400, "free_texts": 40}

FINGERPRINT = [
    "SELECT age_band, district, language, count(*) FROM citizens GROUP BY 1, 2, 3",
    "SELECT q.position, a.option_keys, a.language, a.answered_at, count(*) "
    "FROM survey_answers a JOIN survey_questions q ON q.id = a.question_id GROUP BY 1, 2, 3, 4",
    "SELECT text, language, created_at, count(*) FROM free_text_needs GROUP BY 1, 2, 3",
    "SELECT token, count(*) FROM free_text_tokens GROUP BY 1",
    "SELECT status, feedback_rating, count(*) FROM library_reservations GROUP BY 1, 2",
    "SELECT answer, count(*) FROM council_rsvps GROUP BY 1",
    "SELECT count(*) FROM council_attendance",
    "SELECT category_key, count(*) FROM council_agenda_items GROUP BY 1",
    "SELECT category_key, month, age_band, district, count(*) FROM need_picks GROUP BY 1, 2, 3, 4",
]


async def fingerprint(db: Database) -> list[list[tuple[Any, ...]]]:
    """What was seeded, as sorted aggregates (ids and backend spellings aside)."""
    found: list[list[tuple[Any, ...]]] = []
    async with db.engine.connect() as connection:
        for sql in FINGERPRINT:
            rows = (await connection.execute(text(sql))).all()
            found.append(sorted((tuple(str(v)[:19] for v in row) for row in rows), key=repr))
    return found


@pytest.fixture
async def other_sqlite(tmp_path: Path) -> Any:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'other' / 'seeded.db'}")
    await upgrade(db)
    yield db
    await db.dispose()


async def test_the_same_seed_gives_the_same_data(db: Database, other_sqlite: Database) -> None:
    first = await seed_demo(db, seed=7, now=NOW, **SIZES)
    second = await seed_demo(other_sqlite, seed=7, now=NOW, **SIZES)
    assert (first.citizens, first.answers, first.free_texts) == (60, 400, 40)
    assert first.surveys == second.surveys >= 2  # 400 answers need more than one wave
    assert await fingerprint(db) == await fingerprint(other_sqlite)
    set_clock(ManualClock(NOW))
    try:
        period = parse_period("all", now=NOW)
        async with db.session() as session:
            mine = await build_summary(period, session=session)
        async with other_sqlite.session() as session:
            theirs = await build_summary(period, session=session)
    finally:
        set_clock(None)
    assert mine.tables() == theirs.tables() and mine.themes == theirs.themes
    assert mine.answers == 400


async def test_another_seed_gives_other_data(sqlite_db: Database, other_sqlite: Database) -> None:
    await seed_demo(sqlite_db, seed=1, now=NOW, **SIZES)
    await seed_demo(other_sqlite, seed=2, now=NOW, **SIZES)
    assert await fingerprint(sqlite_db) != await fingerprint(other_sqlite)


async def test_seeding_twice_is_refused_and_real_ids_still_work(db: Database) -> None:
    await seed_demo(db, citizens=10, answers=20, now=NOW)
    with pytest.raises(ValueError, match="already"):
        await seed_demo(db, citizens=10, answers=20, now=NOW)
    async with db.session() as session:  # the id sequences moved past the seeded rows
        await register_citizen(new_citizen(5), {Purpose.needs_survey: True}, session=session)


async def test_too_many_answers_are_refused(sqlite_db: Database) -> None:
    with pytest.raises(ValueError, match="waves"):
        await seed_demo(sqlite_db, citizens=2, answers=1000, now=NOW)


def test_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    argv = ["db", "seed-demo", "--citizens", "30", "--answers", "90", "--free-texts", "5"]
    assert main(argv) == 0
    assert "30 citizens, 90 answers" in capsys.readouterr().out
    assert main(argv) == 1  # already seeded
