"""The token never appears in logs, even at DEBUG and with a traceback in the log, nor in
what the bot sends: /mydata's file, /summary's charts and /export's files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.emulator.harness import LiveBot, sqlite_url
from bot.i18n.catalog import catalogs
from bot.services import AnyApplication
from storage import citizens, roles
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Purpose, Role
from storage.surveys import add_free_text


async def _boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A test-only command that fails with the token inside the exception text."""
    raise RuntimeError(f"failure while using {context.bot.token}")


def _add_boom(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("boom", _boom))


@pytest.fixture
async def debug_live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(
        database_url=sqlite_url(tmp_path / "secrets.db"),
        extra_setup=_add_boom,
        settings_overrides={"log_level": "DEBUG"},
    )
    async with bot:
        yield bot


async def test_a_whole_conversation_at_debug_level_never_logs_the_token(
    debug_live: LiveBot, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    token = debug_live.emulator.token
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        user = debug_live.user(3001, "Debug", language_code="en")
        await debug_live.send(user, "/start")
        await debug_live.press(user, "English")
        await debug_live.press(user, "20–34")
        await debug_live.press(user, "Accept all and continue")
        await debug_live.press(user, "Skip")
        [apology] = await debug_live.send(user, "/boom")
        await debug_live.send(user, "/privacy")

    assert apology.text == catalogs().text("en", "error.generic")
    assert token not in (apology.text or "")
    assert "getUpdates" in caplog.text or "get_updates" in caplog.text, "DEBUG lines were captured"
    assert "RuntimeError" in caplog.text, "the traceback was logged"
    captured = capfd.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert token not in text
    assert all(token not in str(record.__dict__) for record in caplog.records)


async def test_mydata_summaries_and_exports_at_debug_level_never_carry_the_token(
    debug_live: LiveBot, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    token = debug_live.emulator.token
    officer = debug_live.user(3002, "Officer", language_code="en")
    assert debug_live.db is not None
    async with debug_live.db.session() as session:
        await citizens.register_citizen(
            NewCitizen(3002, "en", AgeBand.age_35_49, False, "betong"),
            dict.fromkeys(Purpose, True),
            session=session,
        )
        await roles.grant_role(3002, Role.officer, actor="system", session=session)
        await add_free_text(3002, "I would like to learn coding", "en", survey_id=None,
                            session=session)  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        await debug_live.send(officer, "/mydata")
        await debug_live.send(officer, "/summary")
        await debug_live.send(officer, "/export")

    sent = debug_live.emulator.sent_to(3002)
    with_files = [m for m in sent if m.kind in ("document", "photo")]
    files = [debug_live.emulator.files.content_of(m) for m in with_files]
    names = [name for name, _ in files]
    assert any(name.startswith("mydata-") for name in names), names
    assert any(name.endswith(".xlsx") for name in names) and len(files) > 3, names
    assert "getUpdates" in caplog.text or "get_updates" in caplog.text, "DEBUG lines were captured"
    for _, data in files:
        assert token.encode() not in data
    assert all(token not in text for m in sent for text in m.history)
    captured = capfd.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert token not in text
    assert all(token not in str(record.__dict__) for record in caplog.records)
