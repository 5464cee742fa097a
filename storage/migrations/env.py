"""Alembic environment for learncity-bot.

Two ways in:
- from code (`storage.migrate`): a sync connection already inside a transaction arrives in
  `config.attributes["connection"]` (the Alembic cookbook pattern for async engines);
- from the `alembic` CLI (`alembic -c storage/alembic.ini upgrade head`): the URL comes from
  `-x url=…`, else `sqlalchemy.url`, else `DATABASE_URL`, else the bot's default SQLite file.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.database import Database, normalize_url
from storage.migrate import migration_connection

DEFAULT_URL = "sqlite+aiosqlite:///learncity.db"

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_URL
    )
    return normalize_url(url)


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER through copy-and-move
        compare_type=True,
        transactional_ddl=True,  # true on SQLite too: storage.database emits BEGIN itself
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_new_database(url: str) -> None:
    db = Database(url)
    try:
        async with migration_connection(db) as connection:
            await connection.run_sync(_run_on)
    finally:
        await db.dispose()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the given connection, or open the database named by the configuration."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_on_new_database(_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
