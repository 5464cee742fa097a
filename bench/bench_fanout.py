"""Fan-out throughput: the dispatcher against an emulator that enforces a global limit L.

    python -m bench.bench_fanout [--messages 10000] [--rate 300] [--concurrency 32] [--check]

A broadcast to N registered citizens (one queued delivery each, in a SQLite file) is sent by
the `Dispatcher` through a python-telegram-bot `Bot` over HTTP to an `EmulatorServer` that
enforces Telegram's flood limits with the overall one raised to L messages a second (bursts of
L; 1 a second per private chat) and answers each call after `--latency` seconds, Telegram's
round trip. The dispatcher's rate is L, with a burst of `--burst` (default L/30). Printed: the
achieved rate and its ratio to L (target ≥ 0.95), the 429s the emulator answered (target 0),
lost and duplicate messages (0), and the most sends in flight.

The baseline is measured in the same run, before and after the dispatcher: the same `Bot`
sending `--baseline` messages at the same concurrency with no limiter, no database and the
emulator's limits off. Achieved / raw capacity tells how much of what the HTTP pipe allows the
dispatcher uses; when the raw capacity is below L, no dispatcher can reach L on this machine.

By default the emulator runs in a child process, as Telegram runs elsewhere: the bot's CPU is
not spent answering itself. `--inline` keeps it in this process. `--check` exits with status 1
unless the targets are met; `--profile` prints a cProfile of the dispatcher's run. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.util
import logging
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from telegram import Bot
from telegram.request import HTTPXRequest

from bench.common import register_citizens
from bot.emulator.emulator import Emulator
from bot.emulator.faults import RateLimits
from bot.emulator.server import EmulatorServer
from schedules.dispatcher import DispatchConfig, Dispatcher
from schedules.rate_limit import Rates
from storage import deliveries, migrate
from storage.database import Database
from storage.deliveries import DeliveryReport

FIRST_CITIZEN = 1_000_000
FIRST_BASELINE = 5_000_000
TARGET_RATIO = 0.95


@dataclass(frozen=True)
class Options:
    """What to run; see `parse_args`."""

    messages: int
    rate: float
    concurrency: int
    latency: float
    baseline: int
    burst: int
    inline: bool
    check: bool
    profile: bool


@dataclass(frozen=True)
class SendStats:
    """What the emulator saw of a range of chats since a mark in its call log."""

    sent: int  # sendMessage calls that succeeded
    too_many: int  # 429 answers (rate limits or injected)
    other_errors: int
    delivered: int  # chats of the range that got at least one message
    duplicates: int  # messages beyond the first per chat
    first_at: float | None  # time.monotonic() of the first and last successful send
    last_at: float | None


# ---------------------------------------------------------------------- the emulator's side


def _make_emulator(user_ids: Sequence[range], limits: RateLimits, latency: float) -> Emulator:
    emulator = Emulator()
    for ids in user_ids:
        for user_id in ids:
            emulator.add_user(user_id, f"U{user_id}")
            emulator.chats[user_id].started = True
    emulator.faults.limits = limits
    emulator.faults.latency = latency
    return emulator


def _handle(emulator: Emulator, command: tuple[Any, ...]) -> Any:
    """One request from the benchmark: ("mark",), ("limits", on), ("stats", mark, ids)."""
    match command:
        case ("mark",):
            return len(emulator.calls)
        case ("limits", bool(enabled)):
            emulator.faults.limits.enabled = enabled
            emulator.faults.refill()
            return None
        case ("stats", int(mark), range() as ids):
            return _stats(emulator, mark, ids)
    raise ValueError(f"unknown command {command!r}")


def _stats(emulator: Emulator, mark: int, ids: range) -> SendStats:
    sends = [c for c in emulator.calls[mark:] if c.method.lower() == "sendmessage"]
    ok = [c for c in sends if c.ok]
    counts = [sum(m.from_bot for m in emulator.messages.get(chat, [])) for chat in ids]
    return SendStats(
        sent=len(ok),
        too_many=sum(c.error_code == 429 for c in sends),
        other_errors=sum(not c.ok and c.error_code != 429 for c in sends),
        delivered=sum(n > 0 for n in counts),
        duplicates=sum(n - 1 for n in counts if n > 1),
        first_at=ok[0].at if ok else None,
        last_at=ok[-1].at if ok else None,
    )


def _serve(conn: Connection, user_ids: list[range], limits: RateLimits, latency: float) -> None:
    """The child process: an EmulatorServer answering the benchmark's commands on `conn`."""

    async def serve() -> None:
        emulator = _make_emulator(user_ids, limits, latency)
        loop = asyncio.get_running_loop()
        async with EmulatorServer(emulator) as server:
            conn.send((server.base_url, emulator.token))
            while (command := await loop.run_in_executor(None, conn.recv)) != ("stop",):
                conn.send(_handle(emulator, command))
        conn.send(None)

    asyncio.run(serve())


class EmulatorHandle(Protocol):
    """The emulator, wherever it runs."""

    base_url: str
    token: str
    where: str

    async def ask(self, *command: Any) -> Any: ...
    async def close(self) -> None: ...


class InlineEmulator:
    """The emulator in this process."""

    where = "in this process"

    def __init__(self, user_ids: list[range], limits: RateLimits, latency: float) -> None:
        self.emulator = _make_emulator(user_ids, limits, latency)
        self.server = EmulatorServer(self.emulator)
        self.base_url = ""
        self.token = self.emulator.token

    async def start(self) -> None:
        await self.server.start()
        self.base_url = self.server.base_url

    async def ask(self, *command: Any) -> Any:
        return _handle(self.emulator, command)

    async def close(self) -> None:
        await self.server.stop()


class ProcessEmulator:
    """The emulator in a child process, driven through a pipe."""

    where = "in a child process"

    def __init__(self, user_ids: list[range], limits: RateLimits, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, user_ids, limits, latency), daemon=True
        )
        self.base_url = ""
        self.token = ""

    async def start(self) -> None:
        self._process.start()
        self.base_url, self.token = await self._recv()

    async def ask(self, *command: Any) -> Any:
        self._conn.send(command)
        return await self._recv()

    async def _recv(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)

    async def close(self) -> None:
        if self._process.is_alive():
            try:
                await asyncio.wait_for(self.ask("stop"), 5)
            finally:
                self._process.join(5)
                if self._process.is_alive():
                    self._process.kill()


# ---------------------------------------------------------------------- the bot's side


async def queue_broadcast(db: Database) -> int:
    """One broadcast to every citizen, as /broadcast queues it; its message id."""
    async with db.session() as session:
        recipients = await deliveries.broadcast_recipients(session=session)
        message = await deliveries.enqueue(
            "broadcast:bench", "broadcast", {"th": "ทดสอบ", "en": "Benchmark"}, recipients,
            created_by="tg:1", audience="citizens:reminders", session=session,
        )  # fmt: skip
    assert message.id is not None
    return message.id


async def raw_capacity(bot: Bot, chat_ids: range, concurrency: int) -> Throughput:
    """How fast the bot gets messages through with `concurrency` senders, each sending one
    message after the other with nothing else to do."""
    queue = iter(chat_ids)

    async def sender() -> None:
        for chat_id in queue:
            await bot.send_message(chat_id, "baseline", parse_mode="HTML")

    with Throughput.measure(len(chat_ids)) as throughput:
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return throughput


@dataclass
class Throughput:
    """Messages over wall time, and the share of one CPU this process used meanwhile."""

    messages: int
    seconds: float = 0.0
    cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @classmethod
    @contextlib.contextmanager
    def measure(cls, messages: int) -> Iterator[Throughput]:
        result = cls(messages)
        started, cpu = time.monotonic(), time.process_time()
        yield result
        result.seconds = time.monotonic() - started
        result.cpu = (time.process_time() - cpu) / result.seconds


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    baseline: tuple[Throughput, Throughput]  # before and after the dispatcher's run
    dispatcher: Throughput
    stats: SendStats
    report: DeliveryReport
    max_in_flight: int
    finished: bool  # False: idle() did not come within the time-out (the run is cut short)

    @property
    def raw(self) -> float:
        """The raw capacity: the better of the two baselines (a busy machine only slows)."""
        return max(b.per_second for b in self.baseline)


async def measure(options: Options, emulator: EmulatorHandle, db: Database) -> Figures:
    """Set up, measure the baseline, run the dispatcher, measure the baseline again."""
    citizens = range(FIRST_CITIZEN, FIRST_CITIZEN + options.messages)
    baseline_chats = range(FIRST_BASELINE, FIRST_BASELINE + options.baseline)
    started = time.monotonic()
    await migrate.upgrade(db)
    await register_citizens(db, citizens)
    message_id = await queue_broadcast(db)
    print(f"  setup: {options.messages} citizens and one broadcast queued in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    request = HTTPXRequest(
        connection_pool_size=options.concurrency + 8,
        read_timeout=30,
        write_timeout=30,
        pool_timeout=30,
    )
    config = DispatchConfig(
        rates=Rates(
            global_per_second=options.rate,
            global_burst=options.burst,
            private_per_second=1.0,
            private_burst=1,
        ),
        concurrency=options.concurrency,
    )
    url = f"{emulator.base_url}/bot"
    async with Bot(emulator.token, base_url=url, request=request) as bot:
        # Warm up: open the connections and take the first-call costs out of the baseline.
        await raw_capacity(bot, baseline_chats[: options.concurrency * 2], options.concurrency)
        before = await raw_capacity(bot, baseline_chats, options.concurrency)
        await emulator.ask("limits", True)
        mark = await emulator.ask("mark")
        dispatcher = Dispatcher(bot, db, config)
        profiler = cProfile.Profile() if options.profile else None
        timeout, finished = max(60.0, 5 * options.messages / options.rate), True
        with Throughput.measure(options.messages) as dispatched:
            if profiler is not None:
                profiler.enable()
            await dispatcher.start()
            try:
                await asyncio.wait_for(dispatcher.idle(), timeout)
            except TimeoutError:
                finished = False
            if profiler is not None:
                profiler.disable()
        await dispatcher.stop()
        stats: SendStats = await emulator.ask("stats", mark, citizens)
        await emulator.ask("limits", False)
        after = await raw_capacity(bot, baseline_chats, options.concurrency)
    async with db.session() as session:
        report = await deliveries.report(message_id, session=session)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return Figures(
        (before, after), dispatched, stats, report, dispatcher.max_in_flight_seen, finished
    )


def _line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<26}{value:>12}  {note}".rstrip())


def print_figures(options: Options, figures: Figures) -> bool:
    """Print the figures; True if the targets are met."""
    before, after = figures.baseline
    dispatched, stats = figures.dispatcher, figures.stats
    ratio = dispatched.per_second / options.rate
    lost = options.messages - stats.delivered
    _line(
        "baseline raw capacity",
        f"{figures.raw:.1f}/s",
        f"(best of {before.per_second:.1f} before and {after.per_second:.1f} after, "
        f"{options.baseline} messages each: no limiter, no database; CPU {before.cpu:.0%})",
    )
    _line(
        "dispatcher",
        f"{dispatched.per_second:.1f}/s",
        f"({options.messages} messages in {dispatched.seconds:.2f} s, start to idle; "
        f"CPU {dispatched.cpu:.0%})",
    )
    if stats.first_at is not None and stats.last_at is not None and stats.last_at > stats.first_at:
        steady = (stats.sent - 1) / (stats.last_at - stats.first_at)
        _line("  first to last send", f"{steady:.1f}/s", "(as the emulator saw them)")
    _line("achieved / L", f"{ratio:.3f}", f"(target >= {TARGET_RATIO})")
    _line("achieved / raw capacity", f"{dispatched.per_second / figures.raw:.3f}")
    _line("429s received", str(stats.too_many), "(target 0)")
    _line("other errors", str(stats.other_errors))
    _line("lost / duplicates", f"{lost} / {stats.duplicates}")
    report = figures.report
    _line(
        "delivery log", f"{report.sent} sent", f"({report.failed} failed, {report.pending} pending)"
    )
    _line("max in flight", str(figures.max_in_flight), f"(concurrency {options.concurrency})")
    if not figures.finished:
        print(f"  NOT FINISHED: the dispatcher was not idle after {dispatched.seconds:.0f} s")
    if figures.raw < options.rate:
        print(
            "  note: the raw capacity is below L: on this machine no dispatcher can reach L "
            "(try a lower --rate, a lower --latency or a quieter machine)"
        )
    return (
        figures.finished
        and ratio >= TARGET_RATIO
        and stats.too_many == 0
        and lost == 0
        and stats.duplicates == 0
    )


async def run(options: Options) -> bool:
    """Run the benchmark and print the figures; True if the targets are met."""
    limits = RateLimits(
        enabled=False,  # off for the baselines
        global_per_second=options.rate,
        global_burst=options.rate,
        private_per_second=1.0,
        private_burst=3.0,
    )
    users = [
        range(FIRST_CITIZEN, FIRST_CITIZEN + options.messages),
        range(FIRST_BASELINE, FIRST_BASELINE + options.baseline),
    ]
    emulator = (InlineEmulator if options.inline else ProcessEmulator)(
        users, limits, options.latency
    )
    print(
        f"fan-out benchmark: {options.messages} messages, L = {options.rate:g}/s "
        f"(dispatcher burst {options.burst}), concurrency {options.concurrency}, "
        f"latency {options.latency * 1000:g} ms, emulator {emulator.where}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    if importlib.util.find_spec("sniffio") is None:
        print(
            "  note: sniffio is not installed, so httpcore retries a failed import for every "
            "lock it sets up (encode/httpcore#1103): HTTP calls cost more CPU than they should"
        )
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await emulator.start()
        try:
            figures = await measure(options, emulator, db)
        finally:
            await emulator.close()
            await db.dispose()
    return print_figures(options, figures)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_fanout", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=10_000, help="citizens to send to")
    parser.add_argument("--rate", type=float, default=300.0, help="L: the global limit, per s")
    parser.add_argument("--concurrency", type=int, default=32, help="sends in flight at most")
    parser.add_argument("--latency", type=float, default=0.05, help="the emulator's answer time")
    parser.add_argument("--baseline", type=int, default=1_000, help="messages for the baseline")
    parser.add_argument(
        "--burst", type=int, default=None, help="the dispatcher's global burst (default L/30)"
    )
    parser.add_argument("--inline", action="store_true", help="run the emulator in-process")
    parser.add_argument("--check", action="store_true", help="exit 1 unless targets are met")
    parser.add_argument("--profile", action="store_true", help="cProfile the dispatcher run")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rate <= 0 or args.concurrency < 1 or args.baseline < 1:
        parser.error("--messages, --rate, --concurrency and --baseline must be positive")
    if args.latency < 0:
        parser.error("--latency may not be negative")
    burst = args.burst if args.burst is not None else max(1, round(args.rate / 30))
    if not 1 <= burst <= max(1.0, args.rate):
        parser.error("--burst must be between 1 and the rate")
    return Options(
        messages=args.messages,
        rate=args.rate,
        concurrency=args.concurrency,
        latency=args.latency,
        baseline=args.baseline,
        burst=burst,
        inline=args.inline,
        check=args.check,
        profile=args.profile,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    met = asyncio.run(run(options))
    if options.check and not met:
        print("targets not met", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
