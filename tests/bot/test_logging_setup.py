"""The bot token never reaches a log line."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from bot.logging_setup import REDACTED, configure_logging, protect_secret

TOKEN = "987654321:AAFakeTokenForRedactionTests_1234567890"


def test_the_token_is_redacted_from_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    protect_secret(TOKEN)
    logger = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.DEBUG):
        logger.debug("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("start-up failed")
    assert TOKEN not in caplog.text
    assert REDACTED in caplog.text
    assert "RuntimeError" in caplog.text  # the traceback is still there


def test_anything_shaped_like_a_token_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("DEBUG")
    other = "111222333:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("tests.redaction").info("url /bot%s/sendMessage", other)
    assert other not in caplog.text


def test_http_client_loggers_are_quiet() -> None:
    configure_logging("DEBUG")
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


def test_the_handler_follows_stderr_when_it_is_swapped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = io.StringIO()
    monkeypatch.setattr(sys, "stderr", closed)
    configure_logging("INFO")
    closed.close()  # as pytest closes a test's captured stderr
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    logging.getLogger("tests.stderr").warning("after the swap")
    assert "after the swap" in sys.stderr.getvalue()  # type: ignore[attr-defined]
    assert "Logging error" not in capsys.readouterr().err
