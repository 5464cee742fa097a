"""SIGTERM during a fan-out: the bot exits within SHUTDOWN_TIMEOUT_SECONDS, and after a restart
every recipient has exactly one message.

`learncity run` (a real subprocess) sends a broadcast to 400 citizens through an emulator slowed
to 50 ms a call, so sends are in flight when SIGTERM arrives. A graceful stop lets those finish
and gives back the deliveries it had claimed but not sent: nothing is left `sending`, so the
restart has nothing to resend blindly. The restart runs `learncity run --webhook`, so the
shutdown of both modes is exercised: a person's /start reaches it by webhook, SIGTERM follows
at once, and the answer still goes out (the update in hand is finished).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.emulator import Emulator
from bot.emulator.server import EmulatorServer
from tests.e2e.fanout_setup import prepare_broadcast
from tests.e2e.test_crash import PROJECT_ROOT, _delivered, _final_counts, _start_bot, _wait_for

CITIZENS = 400
FIRST_USER_ID = 700_000
STOP_AFTER = 100  # SIGTERM once this many messages have arrived
BOUND = 5.0  # SHUTDOWN_TIMEOUT_SECONDS
CONCURRENCY = 8  # DISPATCH_CONCURRENCY
# Python's own exit after the bot has stopped (interpreter teardown), on a busy machine.
EXIT_SLACK = 2.0
PURPOSE = "broadcast:shutdown"
TEXTS = {"th": "ทดสอบการหยุดระบบ", "en": "Shutdown test broadcast"}
SECRET = "shutdown-test_secret"


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    emulator = Emulator()
    for i in range(CITIZENS):
        emulator.chats[emulator.add_user(FIRST_USER_ID + i, f"C{i}").id].started = True
    emulator.faults.latency = 0.05  # a slow Telegram: sends are in flight when SIGTERM comes
    emulator.webhook.local_mode = True  # the restart's webhook is plain HTTP on 127.0.0.1
    async with EmulatorServer(emulator) as running:
        yield running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _terminate(
    process: asyncio.subprocess.Process, bound: float = BOUND
) -> tuple[int, float]:
    """SIGTERM; the exit code and how long the process took to exit (within the bound)."""
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), bound + EXIT_SLACK)
    return code, time.monotonic() - sent


def _env(emulator: Emulator, server: EmulatorServer, url: str, bound: float) -> dict[str, str]:
    return {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": url,
        "DISPATCH_RATE_PER_SECOND": "1000",
        "DISPATCH_CONCURRENCY": str(CONCURRENCY),
        "SHUTDOWN_TIMEOUT_SECONDS": str(bound),
        "LOG_LEVEL": "INFO",
        "ADMIN_IDS": "",
    }


async def test_sigterm_mid_fan_out_stops_within_the_bound_and_nobody_gets_two(
    server: EmulatorServer, tmp_path: Path
) -> None:
    emulator = server.emulator
    url = f"sqlite+aiosqlite:///{tmp_path / 'shutdown.db'}"
    await prepare_broadcast(
        url, citizens=CITIZENS, first_user_id=FIRST_USER_ID, purpose=PURPOSE, texts=TEXTS
    )
    env = _env(emulator, server, url, BOUND)
    log = tmp_path / "bot.log"
    processes: list[asyncio.subprocess.Process] = []
    try:
        first = await _start_bot(env, log)
        processes.append(first)
        await _wait_for(
            lambda: len(emulator.messages) >= STOP_AFTER or first.returncode is not None,
            30,
            f"the first bot to send {STOP_AFTER} messages",
        )
        assert first.returncode is None, f"the bot exited early:\n{log.read_text()}"
        code, took = await _terminate(first)
        assert code == 0, log.read_text()
        at_stop = sum(_delivered(emulator).values())
        counts = await _final_counts(url)
        assert STOP_AFTER <= at_stop < CITIZENS, f"stopped after {at_stop}, not midway"
        assert counts.get("sending", 0) == 0, f"claims left `sending`: {counts}"
        assert counts["sent"] == at_stop and counts["pending"] == CITIZENS - at_stop, counts

        port = _free_port()
        hooked = {
            **env,
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/hook",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(port),
        }
        second = await _start_bot_webhook(hooked, log)
        processes.append(second)
        await _wait_for(
            lambda: len(emulator.messages) >= CITIZENS or second.returncode is not None,
            60,
            "every citizen to get the message",
        )
        assert second.returncode is None, f"the restarted bot exited:\n{log.read_text()}"
        somchai = emulator.add_user(1_001, "สมชาย", language_code="th")
        await emulator.user_sends(somchai, "/start")
        # SIGTERM as soon as the bot has taken the update (200), while it is being handled.
        await _wait_for(lambda: emulator.pending_update_count == 0, 20, "the webhook to take it")
        second_code, second_took = await _terminate(second)
        assert second_code == 0, log.read_text()
        assert "กรุณาเลือกภาษา" in (emulator.last_sent(1_001).text or ""), "the update in hand"
    finally:
        for process in processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

    print(
        f"\nshutdown test: SIGTERM after {at_stop} of {CITIZENS} messages; polling bot exited "
        f"in {took:.2f} s, webhook bot in {second_took:.2f} s (bound {BOUND:.0f} s)"
    )
    received = _delivered(emulator)
    assert {FIRST_USER_ID + i: 1 for i in range(CITIZENS)} == {
        chat: n for chat, n in received.items() if chat >= FIRST_USER_ID
    }, "someone got no message or two"
    counts = await _final_counts(url)
    assert {status: n for status, n in counts.items() if n} == {"sent": CITIZENS}, counts
    assert emulator.calls_to("getUpdates"), "the first bot polled"
    info = emulator.webhook
    assert info.url.endswith("/telegram/hook") and emulator.pending_update_count == 0
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "interrupted by the last stop" not in output, "a clean stop leaves nothing to resume"
    assert "shutdown took longer" not in output, output


async def test_sends_that_overrun_the_bound_are_cancelled_and_sent_once_after_restart(
    server: EmulatorServer, tmp_path: Path
) -> None:
    """Telegram swallows every send (no answer): the stop cannot finish them, so at the bound
    they are cancelled, the exit code is 1, and they stay `sending` for the next start."""
    emulator = server.emulator
    emulator.faults.latency = 0.0
    citizens, bound = 20, 1.0
    url = f"sqlite+aiosqlite:///{tmp_path / 'forced.db'}"
    await prepare_broadcast(
        url, citizens=citizens, first_user_id=FIRST_USER_ID, purpose=PURPOSE, texts=TEXTS
    )
    env = _env(emulator, server, url, bound)
    log = tmp_path / "bot.log"
    hang = emulator.faults.inject("drop", method="sendMessage", times=None)
    processes: list[asyncio.subprocess.Process] = []
    try:
        first = await _start_bot(env, log)
        processes.append(first)
        await _wait_for(
            lambda: len(emulator.faults.injected) >= CONCURRENCY or first.returncode is not None,
            30,
            "the first bot to have every send in flight",
        )
        code, took = await _terminate(first, bound)
        assert code == 1, log.read_text()
        counts = await _final_counts(url)
        assert (counts["sending"], counts["pending"]) == (CONCURRENCY, citizens - CONCURRENCY)
        assert emulator.messages == {}

        hang.cancel()
        second = await _start_bot(env, log)
        processes.append(second)
        await _wait_for(
            lambda: len(emulator.messages) >= citizens or second.returncode is not None,
            30,
            "every citizen to get the message",
        )
        assert (await _terminate(second, bound))[0] == 0, log.read_text()
    finally:
        for process in processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
    print(f"\nforced shutdown: exited with 1 in {took:.2f} s (bound {bound:.0f} s)")
    assert _delivered(emulator) == {FIRST_USER_ID + i: 1 for i in range(citizens)}
    output = log.read_text()
    assert "shutdown took longer than 1.0 s" in output, output
    assert f"resuming {CONCURRENCY} sends interrupted by the last stop" in output, output
    assert "Traceback" not in output, output


async def _start_bot_webhook(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """`learncity run --webhook`, as _start_bot runs `learncity run`."""
    import sys

    with log.open("ab") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--webhook",
            cwd=log.parent, env={**os.environ, **env},
            stdin=asyncio.subprocess.DEVNULL, stdout=stderr, stderr=stderr,
        )  # fmt: skip
