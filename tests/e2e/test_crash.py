"""A fan-out survives `kill -9`: nobody is missed, and the only duplicates are sends in flight.

The emulator runs in this test process, so it outlives the bot. `learncity run` (a real
subprocess) starts sending a broadcast to 2,000 citizens; about half-way it is killed with
SIGKILL, then started again on the same SQLite file. The emulator's log must show every
citizen got the message, and messages beyond the first per chat only for deliveries that were
`sending` when the process died: at most DISPATCH_CONCURRENCY of them, because the dispatcher
commits `sending` before each send and `sent` right after, and never has more than
`concurrency` deliveries claimed and unfinished at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.emulator.emulator import Emulator
from bot.emulator.server import EmulatorServer
from storage import deliveries
from storage.database import Database
from storage.enums import DeliveryStatus
from storage.models import Delivery
from tests.e2e.fanout_setup import prepare_broadcast

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CITIZENS = 2_000
FIRST_USER_ID = 500_000
CONCURRENCY = 8  # DISPATCH_CONCURRENCY: the bound on duplicates a kill may cause
KILL_AFTER = (800, 1_200)  # kill once this many messages have arrived (the lower end)
PURPOSE = "broadcast:crash"
TEXTS = {"th": "ทดสอบการส่งซ้ำ", "en": "Crash test broadcast"}


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    emulator = Emulator()
    for i in range(CITIZENS):
        user = emulator.add_user(FIRST_USER_ID + i, f"C{i}")
        emulator.chats[user.id].started = True
    async with EmulatorServer(emulator) as running:
        yield running


async def _sending_chats(url: str) -> set[int]:
    """The chats whose delivery is `sending` in the database (read while no bot runs)."""
    db = Database(url)
    try:
        async with db.session() as session:
            statement = select(col(Delivery.chat_id)).where(
                col(Delivery.status) == DeliveryStatus.sending
            )
            return {chat for chat in (await session.exec(statement)).all() if chat is not None}
    finally:
        await db.dispose()


async def _final_counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.session() as session:
            return await deliveries.counts_by_status(session=session)
    finally:
        await db.dispose()


async def _start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=log.parent,  # no stray .env file is read
            env={**os.environ, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )  # fmt: skip


def _delivered(emulator: Emulator) -> Counter[int]:
    """How many bot messages each chat received."""
    return Counter(
        {
            chat: sum(1 for m in messages if m.from_bot)
            for chat, messages in emulator.messages.items()
        }
    )


async def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.002)


async def test_a_killed_fan_out_loses_nobody_and_duplicates_only_sends_in_flight(
    server: EmulatorServer, tmp_path: Path
) -> None:
    emulator = server.emulator
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    recipients = await prepare_broadcast(
        url, citizens=CITIZENS, first_user_id=FIRST_USER_ID, purpose=PURPOSE, texts=TEXTS
    )
    assert recipients == CITIZENS
    env = {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": url,
        "DISPATCH_RATE_PER_SECOND": "1000",
        "DISPATCH_PRIVATE_PER_SECOND": "1",
        "DISPATCH_CONCURRENCY": str(CONCURRENCY),
        "LOG_LEVEL": "WARNING",
        "ADMIN_IDS": "",
    }
    log = tmp_path / "bot.log"
    processes: list[asyncio.subprocess.Process] = []
    try:
        first = await _start_bot(env, log)
        processes.append(first)
        started = time.monotonic()
        await _wait_for(
            lambda: len(emulator.messages) >= KILL_AFTER[0] or first.returncode is not None,
            30,
            "the first bot to send 800 messages",
        )
        assert first.returncode is None, f"the bot exited early:\n{log.read_text()}"
        first.kill()  # SIGKILL: no clean-up at all
        await first.wait()
        killed_at = time.monotonic()
        # The emulator answers each request synchronously: whatever it got, it has delivered.
        at_kill = sum(_delivered(emulator).values())
        in_flight = await _sending_chats(url)
        assert KILL_AFTER[0] <= at_kill <= KILL_AFTER[1], f"killed after {at_kill}, not midway"

        second = await _start_bot(env, log)
        restarted = time.monotonic()
        processes.append(second)
        await _wait_for(
            lambda: len(emulator.messages) >= CITIZENS or second.returncode is not None,
            60,
            "every citizen to get the message",
        )
        assert second.returncode is None, f"the restarted bot exited:\n{log.read_text()}"
        finished = time.monotonic()
        second.terminate()  # SIGTERM: the dispatcher finishes what is in flight
        assert await asyncio.wait_for(second.wait(), 20) == 0, log.read_text()
    finally:
        for process in processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

    received = _delivered(emulator)
    expected = {FIRST_USER_ID + i for i in range(CITIZENS)}
    lost = expected - set(received)
    duplicated = {chat: n - 1 for chat, n in received.items() if n > 1}
    duplicates = sum(duplicated.values())
    sends = [c.at for c in emulator.calls_to("sendMessage")]
    print(
        f"\ncrash test: {CITIZENS} citizens; first bot sending after "
        f"{min(sends) - started:.1f} s, killed (SIGKILL) after {at_kill} messages at "
        f"{killed_at - started:.1f} s with {len(in_flight)} deliveries `sending`; restarted bot "
        f"sending after {min(t for t in sends if t > restarted) - restarted:.1f} s; everyone "
        f"reached at {finished - started:.1f} s. Lost {len(lost)}, duplicates {duplicates} "
        f"(bound: DISPATCH_CONCURRENCY = {CONCURRENCY})"
    )
    assert set(received) == expected and not lost, f"lost {len(lost)} citizens"
    assert len(in_flight) <= CONCURRENCY, "more deliveries were in flight than the concurrency"
    assert set(duplicated) <= in_flight, "a duplicate went to a chat that was not in flight"
    assert duplicates <= CONCURRENCY
    counts = await _final_counts(url)
    assert counts["sent"] == CITIZENS, counts
    assert sum(counts.values()) == CITIZENS, counts
    output = log.read_text()
    assert "Traceback" not in output, output
    if in_flight:
        assert f"resuming {len(in_flight)} sends interrupted by the last stop" in output, output
