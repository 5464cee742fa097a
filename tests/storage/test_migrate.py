"""Migrations run on SQLite and PostgreSQL, forwards and back, and match the models."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.migrate
from storage import council
from storage.citizens import consents_of, count_citizens
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import Purpose, ReservationStatus, RsvpAnswer
from storage.migrate import (
    current_revision,
    downgrade,
    head_revision,
    is_empty,
    status,
    upgrade,
)
from storage.need_picks import refresh as refresh_need_picks
from storage.reminders import DEFAULT_LEAD_MINUTES, ReminderPrefs, reminder_prefs
from storage.surveys import record_poll_answer
from storage.tokens import backfill_tokens
from tests.conftest import open_test_database
from tests.storage.council_helpers import monthly_series
from tests.storage.factories import registered
from tests.storage.library_helpers import listed_book, new_event, reserved, with_categories
from tests.storage.migration_data import fill_empty_tables, snapshot
from tests.storage.survey_helpers import opened, sent_privately

TABLES = {
    "citizens",
    "consents",
    "audit_log",
    "invites",
    "chat_groups",
    "button_states",
    "outbox_messages",
    "deliveries",
    "scheduled_events",
    "event_attendees",
    "need_categories",
    "surveys",
    "survey_questions",
    "survey_options",
    "survey_answers",
    "free_text_needs",
    "quick_polls",
    "quick_poll_answers",
    "sent_polls",
    "library_books",
    "library_book_categories",
    "library_events",
    "library_event_facilitators",
    "library_event_books",
    "library_reservations",
    "library_bans",
    "library_feedback_polls",
    "series",
    "series_exceptions",
    "council_facilitators",
    "council_meetings",
    "council_rsvps",
    "council_suggestions",
    "council_agenda_items",
    "council_agenda_polls",
    "council_agenda_votes",
    "council_attendance",
    "council_minutes",
    "council_action_items",
    "free_text_tokens",
    "need_picks",
    "need_picks_state",
}


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


def test_head_is_the_officer_summaries_revision() -> None:
    assert head_revision() == "0007"


async def test_an_empty_database_is_reported_empty(empty_db: Database) -> None:
    assert await is_empty(empty_db)
    assert await status(empty_db) == "empty"
    assert await current_revision(empty_db) is None


async def test_upgrade_brings_an_empty_database_to_head(empty_db: Database) -> None:
    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"
    assert await current_revision(empty_db) == head_revision()
    assert not await is_empty(empty_db)
    assert TABLES <= await table_names(empty_db)


async def test_upgrading_twice_changes_nothing(db: Database) -> None:
    await registered(db)
    await upgrade(db)
    assert await status(db) == "at_head"
    async with db.session() as session:
        assert await count_citizens(session=session) == 1


async def test_downgrade_to_base_drops_the_tables(db: Database) -> None:
    await downgrade(db, "base")
    assert not (TABLES & await table_names(db))
    assert await current_revision(db) is None
    assert await status(db) == "empty"
    await upgrade(db)
    assert await status(db) == "at_head"


async def registered_at_old_revision(db: Database, telegram_user_id: int) -> None:
    """A citizen with every consent, written in SQL: today's models expect newer columns."""
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO citizens (telegram_user_id, language, role, age_band, reachable, "
                "created_at, updated_at) VALUES (:tg, 'th', 'citizen', '35-49', true, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"tg": telegram_user_id},
        )
        for purpose in Purpose:
            await connection.execute(
                text(
                    "INSERT INTO consents (citizen_id, purpose, granted, decided_at) "
                    "SELECT id, :purpose, true, CURRENT_TIMESTAMP FROM citizens "
                    "WHERE telegram_user_id = :tg"
                ),
                {"purpose": purpose.value, "tg": telegram_user_id},
            )


async def free_text_at_old_revision(db: Database, need: str, survey_id: int | None) -> None:
    """A free-text need of every citizen, written in SQL (no tokens: they came with 0007)."""
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO free_text_needs (citizen_id, survey_id, text, language, created_at) "
                "SELECT id, :survey, :need, 'th', CURRENT_TIMESTAMP FROM citizens"
            ),
            {"survey": survey_id, "need": need},
        )


NEW_IN_0002 = {"invites", "chat_groups", "button_states"}


async def test_0002_adds_invites_groups_and_button_states_and_goes_back_cleanly(
    empty_db: Database,
) -> None:
    await upgrade(empty_db, "0001")
    await registered_at_old_revision(empty_db, 5)
    assert not (NEW_IN_0002 & await table_names(empty_db))
    assert await status(empty_db) == "behind"

    await upgrade(empty_db, "0002")
    assert NEW_IN_0002 <= await table_names(empty_db)
    assert await current_revision(empty_db) == "0002"

    await downgrade(empty_db, "0001")
    assert not (NEW_IN_0002 & await table_names(empty_db))
    assert await current_revision(empty_db) == "0001"
    async with empty_db.session() as session:
        assert await count_citizens(session=session) == 1

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"


NEW_IN_0003 = {"outbox_messages", "deliveries", "scheduled_events", "event_attendees"}
REMINDER_COLUMNS = {"reminders_enabled", "reminder_leads"}


async def citizen_columns(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        columns = await connection.run_sync(lambda c: inspect(c).get_columns("citizens"))
    return {column["name"] for column in columns}


async def test_0003_adds_the_delivery_log_and_reminder_settings_and_goes_back_cleanly(
    empty_db: Database,
) -> None:
    await upgrade(empty_db, "0002")
    await registered_at_old_revision(empty_db, 5)
    assert not (NEW_IN_0003 & await table_names(empty_db))
    assert not (REMINDER_COLUMNS & await citizen_columns(empty_db))

    await upgrade(empty_db, "0003")
    assert NEW_IN_0003 <= await table_names(empty_db)
    assert REMINDER_COLUMNS <= await citizen_columns(empty_db)
    assert await current_revision(empty_db) == "0003"
    async with empty_db.session() as session:
        # An existing citizen gets reminders on, at the default lead times, consents intact.
        assert await reminder_prefs(5, session=session) == ReminderPrefs(
            enabled=True, lead_minutes=DEFAULT_LEAD_MINUTES
        )
        assert all(state.granted for state in (await consents_of(5, session=session)).values())

    await downgrade(empty_db, "0002")
    assert not (NEW_IN_0003 & await table_names(empty_db))
    assert not (REMINDER_COLUMNS & await citizen_columns(empty_db))
    async with empty_db.engine.connect() as connection:
        granted = (
            await connection.execute(text("SELECT count(*) FROM consents WHERE granted"))
        ).scalar()
    assert granted == len(Purpose)  # the batch copy of citizens did not cascade into consents

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"


NEW_IN_0004 = {
    "need_categories",
    "surveys",
    "survey_questions",
    "survey_options",
    "survey_answers",
    "free_text_needs",
    "quick_polls",
    "quick_poll_answers",
    "sent_polls",
}


async def test_0004_adds_surveys_and_polls_and_goes_back_cleanly(empty_db: Database) -> None:
    await upgrade(empty_db, "0003")
    await registered(empty_db, 5)
    assert not (NEW_IN_0004 & await table_names(empty_db))

    await upgrade(empty_db, "0004")
    assert NEW_IN_0004 <= await table_names(empty_db)
    view = await opened(empty_db)
    await sent_privately(empty_db, view.questions[0], 5, "p5")
    async with empty_db.session() as session:
        outcome = await record_poll_answer("p5", 5, [0], session=session)
    # In SQL: today's add_free_text also stores tokens, a table that comes with 0007.
    await free_text_at_old_revision(empty_db, "อยากเรียนภาษามลายู", view.id)
    assert outcome.status == "stored"

    await downgrade(empty_db, "0003")
    assert not (NEW_IN_0004 & await table_names(empty_db))
    async with empty_db.session() as session:
        assert await count_citizens(session=session) == 1
        assert all(state.granted for state in (await consents_of(5, session=session)).values())

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"


NEW_IN_0005 = {
    "library_books",
    "library_book_categories",
    "library_events",
    "library_event_facilitators",
    "library_event_books",
    "library_reservations",
    "library_bans",
    "library_feedback_polls",
}


async def test_0005_adds_the_human_library_and_goes_back_cleanly(
    empty_db: Database, clock: ManualClock
) -> None:
    await upgrade(empty_db, "0004")
    await registered(empty_db, 5)
    assert not (NEW_IN_0005 & await table_names(empty_db))

    await upgrade(empty_db, "0005")
    assert NEW_IN_0005 <= await table_names(empty_db)
    await with_categories(empty_db)
    book = await listed_book(empty_db)
    event = await new_event(empty_db, [book.id])
    place = await reserved(empty_db, event, book, 5)
    assert place.status is ReservationStatus.reserved

    await downgrade(empty_db, "0004")
    assert not (NEW_IN_0005 & await table_names(empty_db))
    async with empty_db.session() as session:
        assert await count_citizens(session=session) == 1
        assert all(state.granted for state in (await consents_of(5, session=session)).values())

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"


NEW_IN_0006 = {
    "series",
    "series_exceptions",
    "council_facilitators",
    "council_meetings",
    "council_rsvps",
    "council_suggestions",
    "council_agenda_items",
    "council_agenda_polls",
    "council_agenda_votes",
    "council_attendance",
    "council_minutes",
    "council_action_items",
}


async def test_0006_adds_the_coffee_council_and_goes_back_cleanly(
    empty_db: Database, clock: ManualClock
) -> None:
    await upgrade(empty_db, "0005")
    await registered(empty_db, 5)
    assert not (NEW_IN_0006 & await table_names(empty_db))

    await upgrade(empty_db, "0006")
    assert NEW_IN_0006 <= await table_names(empty_db)
    series = await monthly_series(empty_db)
    async with empty_db.session() as session:
        meeting = await council.next_meeting(clock(), session=session)
        assert meeting is not None and meeting.series_id == series.id
        answer = await council.rsvp(meeting.id, 5, RsvpAnswer.yes, "th", session=session)
    assert answer.answer is RsvpAnswer.yes

    await downgrade(empty_db, "0005")
    assert not (NEW_IN_0006 & await table_names(empty_db))
    async with empty_db.session() as session:
        assert await count_citizens(session=session) == 1
        assert all(state.granted for state in (await consents_of(5, session=session)).values())

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"


NEW_IN_0007 = {"free_text_tokens", "need_picks", "need_picks_state"}


async def test_0007_adds_tokens_and_need_picks_and_goes_back_cleanly(
    empty_db: Database, clock: ManualClock
) -> None:
    await upgrade(empty_db, "0006")
    await registered(empty_db, 5)
    view = await opened(empty_db)
    # Stored without tokens (their table does not exist yet): the backfill finds it later.
    await free_text_at_old_revision(empty_db, "batik and coding", None)
    assert not (NEW_IN_0007 & await table_names(empty_db))

    await upgrade(empty_db, "0007")
    assert NEW_IN_0007 <= await table_names(empty_db)
    await sent_privately(empty_db, view.questions[0], 5, "p5")
    async with empty_db.session() as session:
        await record_poll_answer("p5", 5, [0], session=session)
        assert await backfill_tokens(session=session) == 1
        assert await refresh_need_picks(tz="Asia/Bangkok", session=session) == 1

    await downgrade(empty_db, "0006")
    assert not (NEW_IN_0007 & await table_names(empty_db))
    async with empty_db.session() as session:
        assert await count_citizens(session=session) == 1

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"


def revisions_in_order() -> list[str]:
    """Every shipped revision, oldest first."""
    script = ScriptDirectory.from_config(storage.migrate.alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


async def walk_up_with_data(
    db: Database, start: str | None = None
) -> dict[str, set[tuple[object, ...]]]:
    """From the first revision (or the one before `start`) to head, rows in every table as it
    appears; at each revision one step down and up again. Fails if a step loses a row; the
    final snapshot."""
    revisions = revisions_in_order()
    kept: dict[str, set[tuple[object, ...]]] = {}
    previous = "base"
    if start is not None:
        previous = revisions[revisions.index(start) - 1]
        revisions = revisions[revisions.index(start) :]
        await upgrade(db, previous)
        kept = await fill_empty_tables(db)
    for revision in revisions:
        await upgrade(db, revision)
        after = await snapshot(db)
        assert {name: after.get(name) for name in kept} == kept, f"rows lost by {revision}"

        await downgrade(db, previous)
        assert await snapshot(db) == kept, f"{revision}'s downgrade lost rows or left tables"
        await upgrade(db, revision)

        kept = await fill_empty_tables(db)
        assert all(kept.values()), f"a table at {revision} has no rows"
        previous = revision
    return kept


async def test_data_in_every_table_survives_each_revision_up_and_one_step_down(
    empty_db: Database,
) -> None:
    kept = await walk_up_with_data(empty_db)
    assert await status(empty_db) == "at_head"
    assert TABLES <= set(kept)

    # Head's downgrade, with every table full, and back.
    await downgrade(empty_db, "-1")
    stepped_back = await snapshot(empty_db)
    assert stepped_back == {name: kept[name] for name in stepped_back}
    await upgrade(empty_db)
    after = await snapshot(empty_db)
    assert {name: rows for name, rows in after.items() if rows} == stepped_back


LOSSY_MIGRATION = '''
"""Test-only: a careless data migration."""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM consents WHERE purpose IN (SELECT min(purpose) FROM consents)")


def downgrade() -> None:
    pass
'''


async def test_the_walk_catches_a_migration_that_loses_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_extra_migration(tmp_path, monkeypatch, LOSSY_MIGRATION)
    async with open_test_database("sqlite", tmp_path, migrated=False) as db:
        with pytest.raises(AssertionError, match="rows lost by 0008"):
            await walk_up_with_data(db, start="0008")


async def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    async with db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_tables_without_history_are_unknown(empty_db: Database) -> None:
    async with empty_db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    assert await status(empty_db) == "unknown"
    assert not await is_empty(empty_db)


async def test_a_revision_from_newer_code_is_unknown(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    assert await status(db) == "unknown"


async def test_sqlite_foreign_keys_are_back_on_after_migrating(sqlite_db: Database) -> None:
    await upgrade(sqlite_db)
    async with sqlite_db.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


NEXT_MIGRATION = '''
"""Test-only: alter citizens in batch mode (SQLite copies and drops the table)."""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("nickname", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.drop_column("nickname")
'''


FAILING_MIGRATION = '''
"""Test-only: creates a table, then fails."""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT * FROM no_such_table")


def downgrade() -> None:
    op.drop_table("half_done")
'''


def with_extra_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Point storage.migrate at a copy of the migrations plus `source` as revision 0008."""
    migrations = tmp_path / "migrations"
    shutil.copytree(
        storage.migrate.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__")
    )
    (migrations / "versions" / "0008_test.py").write_text(source)
    monkeypatch.setattr(storage.migrate, "MIGRATIONS_DIR", migrations)


@pytest.fixture
def next_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 0008 that alters citizens in batch mode."""
    with_extra_migration(tmp_path, monkeypatch, NEXT_MIGRATION)


@pytest.fixture
def failing_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 0008 that fails half-way."""
    with_extra_migration(tmp_path, monkeypatch, FAILING_MIGRATION)


async def test_an_older_database_is_behind_and_a_batch_migration_keeps_consents(
    empty_db: Database, next_migration: None
) -> None:
    await upgrade(empty_db, "0007")
    assert await status(empty_db) == "behind"
    await registered(empty_db, 5)

    await upgrade(empty_db)
    assert await status(empty_db) == "at_head"
    assert await current_revision(empty_db) == "0008"
    async with empty_db.session() as session:
        consents = await consents_of(5, session=session)
    assert all(state.granted for state in consents.values())

    await downgrade(empty_db, "0007")
    async with empty_db.session() as session:
        consents = await consents_of(5, session=session)
    assert all(state.granted for state in consents.values())


async def test_a_failing_migration_leaves_nothing_half_done(
    empty_db: Database, failing_migration: None
) -> None:
    await upgrade(empty_db, "0007")
    with pytest.raises(Exception, match="no_such_table"):
        await upgrade(empty_db)
    assert await current_revision(empty_db) == "0007"
    assert "half_done" not in await table_names(empty_db)


def test_the_cli_ini_finds_the_same_migrations() -> None:
    ini = Path(storage.migrate.__file__).parent / "alembic.ini"
    script = ScriptDirectory.from_config(Config(str(ini)))
    assert script.get_current_head() == head_revision()


def test_alembic_without_a_given_connection_opens_the_url_itself(tmp_path: Path) -> None:
    from alembic import command

    path = tmp_path / "cli" / "learncity.db"
    config = storage.migrate.alembic_config()
    config.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    command.upgrade(config, "head")

    async def check() -> str:
        db = Database(f"sqlite:///{path}")
        try:
            return await status(db)
        finally:
            await db.dispose()

    assert asyncio.run(check()) == "at_head"
