"""`learncity doctor` against the Bot API emulator: one line per check, the right verdicts."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import WebhookInfo

from bot.cli import main
from bot.doctor import Check, check_webhook, run_checks, run_doctor_command
from bot.emulator.emulator import DEFAULT_TOKEN, Emulator
from bot.emulator.harness import sqlite_url
from bot.emulator.server import EmulatorServer
from bot.settings import Settings, load_settings
from storage.database import Database
from storage.migrate import head_revision, upgrade

WRONG_TOKEN = "555555555:AAThisTokenIsNotKnownToTheServer_123456"
NAMES = ["configuration", "database", "token", "scheduler", "webhook"]


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(Emulator()) as running:
        yield running


async def migrated(path: Path, revision: str = "head") -> str:
    url = sqlite_url(path)
    db = Database(url)
    try:
        await upgrade(db, revision)
    finally:
        await db.dispose()
    return url


def settings_for(server: EmulatorServer, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": DEFAULT_TOKEN,
        "telegram_api_base_url": server.base_url,
        "database_url": database_url,
        "admin_ids": "42",
    }
    values.update(extra)
    return load_settings(**values)


async def checks(settings: Settings, *, webhook: bool = False) -> dict[str, Check]:
    found = {check.name: check async for check in run_checks(settings, webhook=webhook)}
    assert list(found) == NAMES
    return found


async def test_a_ready_installation_is_all_ok_and_exits_0(
    server: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(server, await migrated(tmp_path / "ok.db"))

    assert await run_doctor_command(settings) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == NAMES
    assert [line.split()[0] for line in lines] == ["OK"] * 5
    assert "@learncity_test_bot" in lines[2]
    assert lines[1].endswith(f"at {head_revision()} (latest)")
    assert "Asia/Bangkok" in lines[3] and "21:00-07:00" in lines[3]
    assert "none set (polling mode); 0 update(s) pending" in lines[4]
    assert DEFAULT_TOKEN not in "\n".join(lines)
    assert DEFAULT_TOKEN.split(":")[1] not in "\n".join(lines)
    assert [call.method for call in server.emulator.calls] == ["getMe", "getWebhookInfo"]


async def test_a_refused_token_fails_and_skips_the_webhook(
    server: EmulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(
        server, await migrated(tmp_path / "ok.db"), telegram_bot_token=WRONG_TOKEN
    )
    found = await checks(settings)
    assert found["token"].status == "FAIL"
    assert "refused the token (401)" in found["token"].detail
    assert found["webhook"].status == "WARN"
    assert found["webhook"].detail == "not checked: the token check failed"
    assert await run_doctor_command(settings) == 1


async def test_an_unreachable_server_fails_in_one_line(tmp_path: Path) -> None:
    settings = load_settings(
        telegram_bot_token=DEFAULT_TOKEN,
        telegram_api_base_url="http://127.0.0.1:9",  # discard port: nothing listens
        database_url=await migrated(tmp_path / "ok.db"),
    )
    found = await checks(settings)
    assert found["token"].status == "FAIL"
    assert found["token"].detail.startswith("cannot reach the Bot API at http://127.0.0.1:9")
    assert found["configuration"].status == "WARN"  # and no ADMIN_IDS
    assert "ADMIN_IDS is empty" in found["configuration"].detail


async def test_a_database_behind_the_code_fails_and_an_empty_one_warns(
    server: EmulatorServer, tmp_path: Path
) -> None:
    behind = await checks(settings_for(server, await migrated(tmp_path / "old.db", "0006")))
    assert behind["database"].status == "FAIL"
    assert "at 0006" in behind["database"].detail
    assert behind["database"].detail.endswith("run `learncity db upgrade`")

    empty = await checks(settings_for(server, await migrated(tmp_path / "new.db", "base")))
    assert empty["database"].status == "WARN"
    assert "is empty" in empty["database"].detail

    missing = tmp_path / "none" / "learncity.db"
    absent = await checks(settings_for(server, sqlite_url(missing)))
    assert absent["database"].status == "WARN"
    assert absent["database"].detail.endswith("does not exist yet: `learncity run` creates it")
    assert not missing.parent.exists()  # the doctor changes nothing


async def test_a_database_password_is_never_shown(server: EmulatorServer) -> None:
    url = "postgresql+asyncpg://learncity:hunter2-secret@127.0.0.1:9/learncity"
    found = await checks(settings_for(server, url))
    assert found["database"].status == "FAIL"
    assert "hunter2-secret" not in " ".join(check.detail for check in found.values())


async def test_a_webhook_left_set_in_polling_mode_warns_with_its_last_error(
    server: EmulatorServer, tmp_path: Path
) -> None:
    emulator = server.emulator
    emulator.webhook.local_mode = True  # a local Bot API server: plain HTTP to loopback
    emulator.webhook.retry_delays = (0.05,)
    status, _ = await emulator.call(DEFAULT_TOKEN, "setWebhook", {"url": "http://127.0.0.1:9/hook"})
    assert status == 200
    await emulator.user_sends(emulator.add_user(7), "/start")
    for _ in range(200):  # delivery to a closed port fails at once; wait for it to be noted
        if emulator.webhook.last_error_message:
            break
        await asyncio.sleep(0.01)

    found = await checks(settings_for(server, await migrated(tmp_path / "ok.db")))

    webhook = found["webhook"]
    assert webhook.status == "WARN"
    assert webhook.detail.startswith("set to http://127.0.0.1:9/hook while in polling mode")
    assert "1 update(s) pending" in webhook.detail
    assert "last error at " in webhook.detail
    assert await run_doctor_command(settings_for(server, await migrated(tmp_path / "a.db"))) == 0


def webhook_settings(url: str | None) -> Any:
    return SimpleNamespace(telegram_bot_token=SecretStr(DEFAULT_TOKEN), webhook_url=url)


def test_webhook_mode_compares_telegram_s_url_with_webhook_url() -> None:
    mine = "https://bot.city.example/telegram"
    info = WebhookInfo(url=mine, has_custom_certificate=False, pending_update_count=2)
    ok = check_webhook(webhook_settings(mine), info, webhook=True)
    assert (ok.status, ok.detail) == ("OK", f"{mine}; 2 update(s) pending")

    other = check_webhook(webhook_settings("https://new.example/t"), info, webhook=True)
    assert other.status == "WARN" and "but WEBHOOK_URL is https://new.example/t" in other.detail

    unset = WebhookInfo(url="", has_custom_certificate=False, pending_update_count=0)
    none = check_webhook(webhook_settings(mine), unset, webhook=True)
    assert none.status == "WARN" and "`learncity run --webhook` sets it" in none.detail


def test_a_token_inside_a_webhook_url_is_hidden() -> None:
    url = f"https://bot.city.example/{DEFAULT_TOKEN}"
    info = WebhookInfo(url=url, has_custom_certificate=False, pending_update_count=0)
    check = check_webhook(webhook_settings(None), info, webhook=False)
    assert DEFAULT_TOKEN not in check.detail
    assert "https://bot.city.example/***" in check.detail


def test_settings_that_do_not_load_are_one_fail_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "x.db"))
    monkeypatch.setenv("ADMIN_IDS", "alice")
    assert main(["doctor"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "FAIL configuration Configuration error: ADMIN_IDS: expected comma-separated "
        "Telegram user ids, e.g. 123,456"
    ]


def test_no_token_fails_without_touching_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "x.db"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9")
    assert main(["doctor"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["FAIL", "WARN", "FAIL", "WARN", "WARN"]
    assert "TELEGRAM_BOT_TOKEN is not set" in lines[0]


async def test_the_command_as_an_operator_runs_it(server: EmulatorServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": await migrated(tmp_path / "ok.db"),
        "ADMIN_IDS": "42",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert [(line.split()[0], line.split()[1]) for line in lines] == [("OK", n) for n in NAMES]
    assert DEFAULT_TOKEN not in out.decode() + err.decode()
