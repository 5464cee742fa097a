"""Logging: one format, quiet HTTP libraries, and the bot token kept out of every record."""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import TextIO

# httpx and httpcore log request URLs at INFO/DEBUG, and Bot API URLs carry the token.
_NOISY_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "apscheduler", "alembic")
_TOKEN_SHAPE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
REDACTED = "[redacted-token]"


class _Redactor:
    """Replaces known secrets and anything shaped like a bot token."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                self.secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)


redact = _Redactor()
_installed = False


def _install_record_factory() -> None:
    """Redact when a record is made, so every handler (ours, pytest's, a supervisor's) is safe."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg = redact(record.getMessage())
            record.args = None
        except Exception:  # a broken format string must not lose the record
            record.msg = redact(str(record.msg))
            record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print exc_text when it is set; the exception object itself (which may
            # carry the token in its args) is dropped so no handler can format it afresh.
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes, not the one at set-up: a caller
    that swapped it and closed its own (pytest's capture, for one) must not leave a handler
    writing to a closed file, whose "Logging error" report prints unredacted tracebacks."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def protect_secret(secret: str | None) -> None:
    """Keep `secret` out of every log record from now on."""
    redact.add(secret)
    _install_record_factory()


def configure_logging(level: str, secrets: list[str] | None = None) -> None:
    """Set up the root logger and redaction; safe to call more than once."""
    for secret in secrets or []:
        redact.add(secret)
    _install_record_factory()
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_learncity", False) for h in root.handlers):
        handler = _CurrentStderrHandler()
        handler._learncity = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
