"""`learncity run` as an operator meets it: clear one-line failures, never a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.emulator import Emulator
from bot.emulator.server import EmulatorServer

WRONG_TOKEN = "555555555:AAThisTokenIsNotKnownToTheServer_123456"


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(Emulator()) as running:
        yield running


async def _learncity(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "LOG_LEVEL": "INFO"}
    env.update(extra)
    return env


async def test_a_token_the_server_refuses_exits_with_one_clear_line(
    server: EmulatorServer, tmp_path: Path
) -> None:
    env = _env(tmp_path, TELEGRAM_BOT_TOKEN=WRONG_TOKEN, TELEGRAM_API_BASE_URL=server.base_url)
    code, out, err = await _learncity(env, "run")
    assert code != 0
    assert "Traceback" not in out + err
    assert WRONG_TOKEN not in out + err
    assert err.strip().splitlines()[-1] == (
        "Telegram refused the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN."
    )
    assert [c.ok for c in server.emulator.calls_to("getMe")] == [False]


async def test_no_token_at_all_says_which_variable(tmp_path: Path) -> None:
    code, _, err = await _learncity(_env(tmp_path, TELEGRAM_BOT_TOKEN=""), "run")
    assert code != 0 and "Traceback" not in err
    assert "TELEGRAM_BOT_TOKEN" in err.strip().splitlines()[-1]


async def test_a_malformed_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    code, _, err = await _learncity(_env(tmp_path, ADMIN_IDS="alice"), "run")
    assert code == 2
    assert err.strip().splitlines() == [
        "Configuration error: ADMIN_IDS: expected comma-separated Telegram user ids, e.g. 123,456"
    ]


async def test_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=WRONG_TOKEN,
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9",  # discard port: nothing listens
    )
    code, _, err = await _learncity(env, "run")
    assert code != 0 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Cannot reach the Bot API at http://127.0.0.1:9")


async def test_db_upgrade_then_status(tmp_path: Path) -> None:
    code, out, _ = await _learncity(_env(tmp_path), "db", "upgrade")
    assert code == 0 and out.strip().endswith(": at_head")
