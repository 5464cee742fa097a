"""The one error handler: logs the traceback, tells the person plainly, shows no internals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator.harness import LiveBot, sqlite_url
from bot.i18n.catalog import catalogs
from bot.services import AnyApplication


async def _fail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    raise ValueError("internal detail: SELECT * FROM citizens")


async def _answer_then_fail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    raise ValueError("failed after answering the press")


def _failing_flows(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("fail", _fail))
    app.add_handler(CallbackQueryHandler(_answer_then_fail, pattern="^v1:test:answered"))
    app.add_handler(CallbackQueryHandler(_fail, pattern="^v1:test:"))


async def test_failures_are_logged_and_the_person_gets_a_plain_apology(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = LiveBot(
        database_url=sqlite_url(tmp_path / "errors.db"), extra_setup=_failing_flows, in_process=True
    )
    async with live:
        user = live.user(4001, "Somchai", language_code="th")
        with caplog.at_level(logging.ERROR):
            [reply] = await live.send(user, "/fail")
        assert reply.text == catalogs().text("th", "error.generic")
        assert "ValueError: internal detail" in caplog.text

        [start] = await live.send(user, "/start")
        query = await live.press_data(user, start, "v1:test:x")
        assert query.answered, "no spinner left turning"
        assert live.emulator.last_sent(4001).text == catalogs().text("th", "error.generic")
        sent = len(live.emulator.sent_to(4001))

        # A press already answered by the failing handler: Telegram refuses a second answer,
        # and the apology must still come.
        await live.press_data(user, start, "v1:test:answered")
        assert len(live.emulator.sent_to(4001)) == sent + 1
        assert live.emulator.last_sent(4001).text == catalogs().text("th", "error.generic")
    refused = [c for c in live.emulator.calls if not c.ok]
    assert [c.method.lower() for c in refused] in ([], ["answercallbackquery"])
