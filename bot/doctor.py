"""`learncity doctor`: is this installation ready to run? One line per check.

Checks, in order: configuration, database (reachable, migrations at head), token (getMe
against TELEGRAM_API_BASE_URL), scheduler (PTB's job queue as `learncity run` builds it) and
webhook (getWebhookInfo). Each line is `OK`, `WARN` or `FAIL` with a short detail; the exit
code is 1 if any check failed. Nothing secret is printed: not the token, not a database
password, not the webhook secret. The lines are for the operator's terminal, in English like
the rest of the command line.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url
from telegram import Bot, WebhookInfo
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.http_request import AiohttpRequest
from bot.settings import Settings
from storage import migrate
from storage.database import Database, normalize_url

Status = Literal["OK", "WARN", "FAIL"]
# A check that has not answered by then is reported as failed, not waited for.
CHECK_TIMEOUT_SECONDS = 15.0
# A probe job this far ahead proves the scheduler accepts and plans jobs.
_PROBE_DELAY = timedelta(hours=1)


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        """`OK   database      sqlite+aiosqlite:///learncity.db at 0007 (latest)`."""
        return f"{self.status:<4} {self.name:<13} {self.detail}"


def configuration_failure(message: str) -> str:
    """The doctor's line when the settings do not even load."""
    return Check("configuration", "FAIL", message).line()


async def run_doctor_command(settings: Settings, *, webhook: bool = False) -> int:
    """Print one line per check; 0 if none failed, else 1."""
    failed = False
    async for check in run_checks(settings, webhook=webhook):
        print(check.line(), flush=True)
        failed = failed or check.status == "FAIL"
    return 1 if failed else 0


async def run_checks(settings: Settings, *, webhook: bool = False) -> AsyncIterator[Check]:
    """Yield each `Check` as it completes, so a slow one shows where it is stuck."""
    yield check_configuration(settings, webhook=webhook)
    yield await _guarded("database", lambda: check_database(settings))
    token = await _guarded("token", lambda: check_token(settings))
    yield token
    yield await _guarded("scheduler", lambda: check_scheduler(settings))
    if token.status != "OK":
        yield Check("webhook", "WARN", "not checked: the token check failed")
    else:
        yield await _guarded("webhook", lambda: fetch_webhook_check(settings, webhook=webhook))


def check_configuration(settings: Settings, *, webhook: bool) -> Check:
    """Settings loaded; the token is present; webhook mode has its URL."""
    if settings.telegram_bot_token is None:
        return Check("configuration", "FAIL", "TELEGRAM_BOT_TOKEN is not set (ask @BotFather)")
    webhook_url = getattr(settings, "webhook_url", None)
    if webhook and not webhook_url:
        return Check("configuration", "FAIL", "WEBHOOK_URL is not set (needed for --webhook)")
    if webhook and getattr(settings, "webhook_secret", None) is None:
        return Check("configuration", "FAIL", "WEBHOOK_SECRET is not set (needed for --webhook)")
    backend = make_url(normalize_url(settings.database_url)).get_backend_name()
    admins = len(settings.admin_ids)
    detail = (
        f"token set, {backend} database, time zone {settings.timezone}, "
        f"default language {settings.default_language}, {admins} admin(s)"
    )
    if not admins:
        detail += "; ADMIN_IDS is empty: nobody can grant roles"
        return Check("configuration", "WARN", detail)
    return Check("configuration", "OK", detail)


async def check_database(settings: Settings) -> Check:
    """The database answers and its migrations are at the code's head."""
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        detail = f"{missing} does not exist yet: `learncity run` creates it"
        return Check("database", "WARN", detail)
    db = Database(settings.database_url)
    where = db.url_for_display
    try:
        state = await migrate.status(db)
        revision = await migrate.current_revision(db) if state != "unknown" else None
    except Exception as error:  # unreachable, refused login, not a database: one line
        return Check("database", "FAIL", f"cannot use {where}: {_first_line(error)}")
    finally:
        await db.dispose()
    head = migrate.head_revision()
    if state == "at_head":
        return Check("database", "OK", f"{where} at {revision} (latest)")
    if state == "empty":
        return Check("database", "WARN", f"{where} is empty: `learncity run` creates the tables")
    if state == "behind":
        detail = f"{where} at {revision}, the code needs {head}: run `learncity db upgrade`"
        return Check("database", "FAIL", detail)
    return Check(
        "database",
        "FAIL",
        f"{where} has tables this code does not know (no or newer migration history)",
    )


async def check_token(settings: Settings) -> Check:
    """getMe with the token, against TELEGRAM_API_BASE_URL."""
    server = settings.telegram_api_base_url
    try:
        async with _bot(settings) as bot:
            user = await bot.get_me()
    except _NoToken:
        return Check("token", "FAIL", "not checked: TELEGRAM_BOT_TOKEN is not set")
    except InvalidToken:
        return Check("token", "FAIL", f"{server} refused the token (401): check TELEGRAM_BOT_TOKEN")
    except NetworkError as error:
        return Check("token", "FAIL", f"cannot reach the Bot API at {server}: {error.message}")
    except TelegramError as error:
        return Check("token", "FAIL", f"{server} answered: {error.message}")
    return Check("token", "OK", f"@{user.username} (id {user.id}) via {server}")


async def fetch_webhook_check(settings: Settings, *, webhook: bool) -> Check:
    """getWebhookInfo, judged by `check_webhook`."""
    async with _bot(settings) as bot:
        info = await bot.get_webhook_info()
    return check_webhook(settings, info, webhook=webhook)


class _NoToken(Exception):
    """TELEGRAM_BOT_TOKEN is not set."""


@asynccontextmanager
async def _bot(settings: Settings) -> AsyncIterator[Bot]:
    """A Bot on its own small HTTP session, closed afterwards (no getMe of its own)."""
    token = settings.telegram_bot_token
    if token is None:
        raise _NoToken
    request = AiohttpRequest(connection_pool_size=2)
    await request.initialize()
    try:
        yield Bot(token.get_secret_value(), base_url=settings.bot_api_url, request=request)
    finally:
        await request.shutdown()


async def check_scheduler(settings: Settings) -> Check:
    """Build the application as `learncity run` does; its job queue must plan a job."""
    from bot.app import build_application

    if settings.telegram_bot_token is None:
        return Check("scheduler", "WARN", "not checked: the application needs a token")
    app = build_application(settings)
    job_queue = app.job_queue
    if job_queue is None:
        return Check("scheduler", "FAIL", "no job queue: install python-telegram-bot[job-queue]")
    scheduler = job_queue.scheduler
    scheduler.start(paused=True)
    try:
        at = datetime.now(UTC) + _PROBE_DELAY
        job = scheduler.add_job(_probe, "date", run_date=at, id="doctor-probe")
        planned = job.next_run_time
        job.remove()
        # APScheduler 3 has no public list of job stores; PTB leaves the in-memory one.
        stores = sorted(type(store).__name__ for store in scheduler._jobstores.values())
    finally:
        scheduler.shutdown(wait=False)
    if planned is None or abs(planned - at) > timedelta(seconds=1):
        return Check("scheduler", "FAIL", f"a job for {at:%H:%M} UTC was planned for {planned}")
    local = datetime.now(settings.tz)
    return Check(
        "scheduler",
        "OK",
        f"job queue plans jobs ({', '.join(stores)}: rebuilt from the database at start); "
        f"people's time {settings.timezone} {local:%H:%M}, quiet hours {settings.quiet_hours}, "
        f"reminder sweep every {settings.reminder_sweep_seconds:g} s",
    )


def check_webhook(settings: Settings, info: WebhookInfo, *, webhook: bool) -> Check:
    """What Telegram holds for this bot, against the mode it will run in."""
    token = settings.telegram_bot_token
    url = info.url or ""
    if token is not None:
        url = url.replace(token.get_secret_value(), "***")
    pending = f"{info.pending_update_count} update(s) pending"
    error = ""
    if info.last_error_message:
        when = f" at {info.last_error_date:%Y-%m-%d %H:%M} UTC" if info.last_error_date else ""
        error = f"; last error{when}: {info.last_error_message}"
    if not webhook:
        if url:
            return Check(
                "webhook",
                "WARN",
                f"set to {url} while in polling mode: `learncity run` removes it, "
                f"`learncity run --webhook` uses it; {pending}{error}",
            )
        return Check("webhook", "OK", f"none set (polling mode); {pending}")
    expected = getattr(settings, "webhook_url", None) or ""
    if not url:
        return Check(
            "webhook", "WARN", f"none set yet: `learncity run --webhook` sets it; {pending}"
        )
    if url != expected:
        return Check("webhook", "WARN", f"set to {url}, but WEBHOOK_URL is {expected}; {pending}")
    return Check("webhook", "WARN" if error else "OK", f"{url}; {pending}{error}")


async def _guarded(name: str, check: Callable[[], Awaitable[Check]]) -> Check:
    """Run one check; a timeout or an unexpected error is its FAIL line, not a traceback."""
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return Check(name, "FAIL", f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except Exception as error:  # the operator gets one line; the detail names the error
        return Check(name, "FAIL", f"{type(error).__name__}: {_first_line(error)}")


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file that does not exist (opening it would create it)."""
    parsed = make_url(normalize_url(url))
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    if path.startswith("file:"):
        return None
    return None if Path(path).expanduser().exists() else path


def _first_line(error: BaseException) -> str:
    """The error's message without SQLAlchemy's "(driver.Error) " prefix and later lines."""
    lines = str(error).strip().splitlines()
    message = re.sub(r"^\([\w.]+\) ", "", lines[0]) if lines else type(error).__name__
    return message[:300]


def _probe() -> None:
    """The scheduler's probe job: removed before it could run."""
