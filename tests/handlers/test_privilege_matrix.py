"""The privilege matrix, built from the registered handlers: every guarded command and button
refuses every lesser role (and a stranger) with a clear message, and changes nothing.

New guarded handlers join the matrix by themselves: nothing here lists them by hand.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.emulator.harness import LiveBot, sqlite_url
from bot.i18n.catalog import catalogs
from bot.services import AnyApplication
from handlers.guard import required_roles
from storage import citizens, roles
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Purpose, Role

ADMIN_ID = 9001
PERSONAS = {"stranger": 7001, "citizen": 7002, "facilitator": 7003, "officer": 7004}


@dataclass(frozen=True)
class Guarded:
    kind: str  # "command" or "button"
    name: str  # command name, or callback-data prefix
    roles: frozenset[Role]


def guarded_handlers(app: AnyApplication) -> list[Guarded]:
    """Every command and button behind the guard, read from the application itself."""
    found: list[Guarded] = []
    for handlers in app.handlers.values():
        for handler in handlers:
            allowed = required_roles(handler.callback)
            if allowed is None:
                continue
            if isinstance(handler, CommandHandler):
                found += [Guarded("command", c, allowed) for c in sorted(handler.commands)]
            elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                pattern = handler.pattern
                text = pattern.pattern if isinstance(pattern, re.Pattern) else str(pattern)
                found.append(Guarded("button", text.lstrip("^").replace("\\", ""), allowed))
    return found


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[LiveBot]:
    live = LiveBot(
        database_url=sqlite_url(tmp_path / "matrix.db"),
        in_process=True,
        settings_overrides={"admin_ids": frozenset({ADMIN_ID})},
    )
    async with live:
        assert live.db is not None
        async with live.db.session() as session:
            for name, user_id in PERSONAS.items():
                live.user(user_id, name.title(), language_code="en")
                if name == "stranger":
                    continue
                await citizens.register_citizen(
                    NewCitizen(user_id, "en", AgeBand.age_35_49, False, None),
                    dict.fromkeys(Purpose, True),
                    session=session,
                )
                if name in ("facilitator", "officer"):
                    await roles.grant_role(user_id, Role(name), actor="system", session=session)
        yield live


async def _snapshot(live: LiveBot) -> dict[str, list[tuple[object, ...]]]:
    assert live.db is not None
    tables: dict[str, list[tuple[object, ...]]] = {}
    async with live.db.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


def test_the_matrix_is_not_empty_and_covers_the_admin_commands(bot: LiveBot) -> None:
    names = {g.name for g in guarded_handlers(bot.app)}
    assert {"invite", "grant", "revoke", "audit", "v1:adm:"} <= names


async def test_every_guarded_handler_refuses_every_lesser_role(bot: LiveBot) -> None:
    refused_text = catalogs().text("en", "guard.refused")
    cases = 0
    for guarded in guarded_handlers(bot.app):
        for persona, user_id in PERSONAS.items():
            if persona != "stranger" and Role(persona) in guarded.roles:
                continue
            user = bot.emulator.users[user_id]
            before = await _snapshot(bot)
            if guarded.kind == "command":
                replies = await bot.send(user, f"/{guarded.name} 7002 facilitator")
                assert [m.text for m in replies] == [refused_text], (guarded, persona)
            else:
                [anchor] = await bot.send(user, "/help")
                query = await bot.press_data(user, anchor, f"{guarded.name}ok:abc")
                assert query.answer is not None, (guarded, persona)
                assert query.answer.get("text") == refused_text, (guarded, persona)
            assert await _snapshot(bot) == before, (guarded, persona)
            cases += 1
    assert cases >= 4 * 4


async def test_an_admin_passes_the_guard(bot: LiveBot) -> None:
    admin = bot.user(ADMIN_ID, "Admin", language_code="en")
    [usage] = await bot.send(admin, "/invite")
    assert usage.text == catalogs().text("en", "admin.invite_usage")
