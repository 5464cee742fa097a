"""Officers' summaries at city scale: `build_summary` against one GROUP BY scan of the answers.

Data: `learncity db seed-demo` rows (bot/seed_demo.py) — 100,000 citizens, 1,000,000 survey
answers and 100,000 free texts by default, and a 100,000-answer database for the growth line —
seeded once and cached (SQLite files and PostgreSQL schemas, see --cache-dir), because
seeding takes minutes. Each measurement runs in a fresh child process, so its memory figures
are its own:

- baseline: `SELECT question_id, count(*) FROM survey_answers GROUP BY question_id`, best of
  --repeat, on the same engine in the same run;
- data part: `summarize(db, period)` — what /summary calls: the incremental `need_picks`
  refresh (nothing changed since the last one, as between two officers' requests) and
  `build_summary` in a read-only session — best and median of --repeat;
- one session ("1 conn"): `build_summary` on one session, its queries one after the other
  (for comparison: `summarize` runs them on two connections side by side);
- memory: `tracemalloc` peak of one more `build_summary` run (Python allocations: rows,
  dataclasses, SQLAlchemy), and the growth of the process's peak RSS (`ru_maxrss`) over the
  timed runs (adds SQLite's page cache, which lives in this process; PostgreSQL's memory is
  the server's and is not counted);
- render (optional, `--render module:function`): the rendering engineer's function called
  with the `Summary`; its time and tracemalloc peak get their own columns.

Targets at 1,000,000 answers: data part ≤ 10 × baseline, < 300 MB, growth from 100,000 to
1,000,000 answers no worse than linear (≤ 10 ×); goal < 1.5 s.

    python -m bench.bench_summary [--backends sqlite,postgresql] [--database-url URL]
        [--citizens 100000] [--answers 1000000] [--small-answers 100000]
        [--free-texts 100000] [--seed 1] [--period all] [--repeat 5]
        [--cache-dir /tmp/learncity-bench] [--render module:function] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage import clock
from storage.database import Database
from storage.migrate import status, upgrade

# The seeded data ends here, and the benchmark's clock stands here: figures do not depend on
# the day the benchmark runs.
NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
BASELINE_SQL = "SELECT question_id, count(*) FROM survey_answers GROUP BY question_id"
TARGET_RATIO = 10.0
TARGET_MB = 300.0
GOAL_SECONDS = 1.5


@dataclass(frozen=True)
class Scale:
    """One seeded data set."""

    citizens: int
    answers: int
    free_texts: int
    seed: int

    @property
    def name(self) -> str:
        return f"c{self.citizens}-a{self.answers}-t{self.free_texts}-s{self.seed}"


@dataclass(frozen=True)
class Measure:
    """What one child process measured."""

    backend: str
    answers: int
    seed_seconds: float | None
    derive_seconds: float | None
    baseline: float
    data_best: float
    data_median: float
    one_session: float
    python_peak_mb: float
    rss_growth_mb: float
    rss_peak_mb: float
    render_seconds: float | None
    render_peak_mb: float | None


# --- seeding and caching --------------------------------------------------------------------


def database_for(backend: str, scale: Scale, args: argparse.Namespace) -> tuple[str, str | None]:
    """(url, schema) of the cached database for this backend and scale."""
    if backend == "sqlite":
        path = Path(args.cache_dir) / f"summary-{scale.name}.db"
        return f"sqlite+aiosqlite:///{path}", None
    if not args.database_url:
        raise SystemExit("PostgreSQL needs --database-url or TEST_DATABASE_URL")
    return args.database_url, f"bench_summary_{scale.name.replace('-', '_')}"


def marker_for(backend: str, scale: Scale, args: argparse.Namespace) -> Path:
    """The file that says this database is seeded: named after the database, the migrations
    and the generator's DATA_VERSION, so a change to either seeds again."""
    url, schema = database_for(backend, scale, args)
    digest = hashlib.sha256(f"{url}|{schema}|{code_version()}".encode()).hexdigest()[:12]
    return Path(args.cache_dir) / f"summary-{backend}-{scale.name}-{digest}.json"


def code_version() -> str:
    """A digest of the migrations and of the generator's data version."""
    from bot.seed_demo import DATA_VERSION

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"data {DATA_VERSION}".encode())
    for path in sorted((root / "storage" / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


async def ensure_seeded(backend: str, scale: Scale, args: argparse.Namespace) -> dict[str, Any]:
    """Seed the database unless the marker says it is done; returns the seed report."""
    from bot.seed_demo import seed_demo

    marker = marker_for(backend, scale, args)
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at setup)
    url, schema = database_for(backend, scale, args)
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite+aiosqlite:///"))
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    else:
        admin = Database(url)
        try:
            async with admin.engine.begin() as connection:
                await connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        finally:
            await admin.dispose()
    db = Database(url, schema=schema)
    try:
        await upgrade(db)
        print(f"  seeding {backend} {scale.name} (cached for later runs) …", flush=True)
        report = await seed_demo(
            db,
            citizens=scale.citizens,
            answers=scale.answers,
            free_texts=scale.free_texts,
            seed=scale.seed,
            now=NOW,
        )
        if backend == "postgresql":
            # What autovacuum does to a live database: statistics and the visibility map
            # (index-only scans).
            async with db.engine.connect() as connection:
                auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await auto.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await db.dispose()
    data = asdict(report)
    marker.write_text(json.dumps(data))
    return data


# --- one measurement (child process) --------------------------------------------------------


def load_render(spec: str | None) -> Callable[[Any], Any] | None:
    """The `module:function` render hook, or None."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise SystemExit(f"--render {spec} is not callable")
    return function  # type: ignore[no-any-return]


async def measure(backend: str, scale: Scale, args: argparse.Namespace) -> Measure:
    """Baseline, data part and memory for one database (run in a child process)."""
    from storage.summary import build_summary, parse_period, summarize

    clock.set_clock(lambda: NOW)
    url, schema = database_for(backend, scale, args)
    db = Database(url, schema=schema)
    try:
        if await status(db) != "at_head":
            raise SystemExit(f"{backend} {scale.name}: not migrated to head; delete the cache")
        period = parse_period(args.period, now=NOW)
        baseline = []
        for _ in range(args.repeat):
            async with db.session(readonly=True) as session:
                started = time.perf_counter()
                await session.exec(text(BASELINE_SQL))  # type: ignore[call-overload]
                baseline.append(time.perf_counter() - started)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times = []
        summary = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            summary = await summarize(db, period)
            times.append(time.perf_counter() - started)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sequential = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            async with db.session() as session:
                await build_summary(period, session=session)
            sequential.append(time.perf_counter() - started)
        tracemalloc.start()
        summary = await summarize(db, period)
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        render_seconds = render_peak = None
        render = load_render(args.render)
        if render is not None:
            started = time.perf_counter()
            render(summary)
            render_seconds = time.perf_counter() - started
            tracemalloc.start()
            render(summary)
            render_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    finally:
        await db.dispose()
    seeded = json.loads(marker_for(backend, scale, args).read_text())
    return Measure(
        backend=backend,
        answers=scale.answers,
        seed_seconds=seeded.get("seconds"),
        derive_seconds=seeded.get("derive_seconds"),
        baseline=min(baseline),
        data_best=min(times),
        data_median=statistics.median(times),
        one_session=min(sequential),
        python_peak_mb=python_peak / 2**20,
        rss_growth_mb=(rss_after - rss_before) / 1024,  # ru_maxrss is in KiB on Linux
        rss_peak_mb=rss_after / 1024,
        render_seconds=render_seconds,
        render_peak_mb=render_peak,
    )


def run_child(backend: str, scale: Scale, args: argparse.Namespace) -> Measure:
    """Measure in a fresh interpreter: its peak RSS is this measurement's alone."""
    command = [
        sys.executable,
        "-m",
        "bench.bench_summary",
        "--child",
        backend,
        "--citizens",
        str(scale.citizens),
        "--answers",
        str(scale.answers),
        "--free-texts",
        str(scale.free_texts),
        "--seed",
        str(scale.seed),
        "--period",
        args.period,
        "--repeat",
        str(args.repeat),
        "--cache-dir",
        str(args.cache_dir),
    ]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if args.render:
        command += ["--render", args.render]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring {backend} {scale.name} failed:\n{done.stderr}")
    return Measure(**json.loads(done.stdout.strip().splitlines()[-1]))


# --- the report -----------------------------------------------------------------------------


def report(measures: Sequence[Measure], args: argparse.Namespace) -> list[str]:
    """Print the table; return the targets missed."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nbench_summary: period {args.period!r}, {args.citizens:,} citizens, "
        f"{args.free_texts:,} free texts; {os.cpu_count()} CPUs, load average {load}"
    )
    header = (
        f"{'backend':<10} {'answers':>9} {'baseline s':>10} {'data s best':>11} "
        f"{'median':>7} {'× base':>7} {'1 conn s':>8} {'× base':>6} "
        f"{'py peak MB':>10} {'RSS Δ MB':>9} {'RSS MB':>7} "
        f"{'render s':>8} {'render MB':>9} {'seed s':>7} {'derive s':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in measures:
        render = f"{m.render_seconds:8.3f}" if m.render_seconds is not None else f"{'—':>8}"
        render_mb = f"{m.render_peak_mb:9.1f}" if m.render_peak_mb is not None else f"{'—':>9}"
        seed = f"{m.seed_seconds:7.0f}" if m.seed_seconds is not None else f"{'—':>7}"
        derive = f"{m.derive_seconds:8.1f}" if m.derive_seconds is not None else f"{'—':>8}"
        print(
            f"{m.backend:<10} {m.answers:>9,} {m.baseline:10.3f} {m.data_best:11.3f} "
            f"{m.data_median:7.3f} {m.data_best / m.baseline:7.1f} {m.one_session:8.3f} "
            f"{m.one_session / m.baseline:6.1f} {m.python_peak_mb:10.1f} "
            f"{m.rss_growth_mb:9.1f} {m.rss_peak_mb:7.0f} {render} {render_mb} {seed} {derive}"
        )
    missed: list[str] = []
    print()
    for backend in dict.fromkeys(m.backend for m in measures):
        mine = sorted((m for m in measures if m.backend == backend), key=lambda m: m.answers)
        big = mine[-1]
        ratio = big.data_best / big.baseline
        memory = max(big.python_peak_mb, big.rss_growth_mb)
        checks = [
            (f"data ≤ {TARGET_RATIO:.0f}× baseline", ratio <= TARGET_RATIO),
            (f"memory < {TARGET_MB:.0f} MB", memory < TARGET_MB),
        ]
        if len(mine) > 1:
            small = mine[0]
            growth = big.data_best / small.data_best
            scale = big.answers / small.answers
            base_growth = big.baseline / small.baseline
            print(f"{backend}: growth {small.answers:,} → {big.answers:,} answers (×{scale:.0f}): "
                  f"data ×{growth:.2f}, baseline ×{base_growth:.2f}")  # fmt: skip
            checks.append((f"growth ≤ ×{scale:.0f} (linear)", growth <= scale))
        verdict = ", ".join(f"{name}: {'ok' if good else 'MISSED'}" for name, good in checks)
        goal = "ok" if big.data_best < GOAL_SECONDS else "missed"
        print(f"{backend}: {verdict}; goal < {GOAL_SECONDS} s: {goal} ({big.data_best:.3f} s)")
        missed += [f"{backend}: {name}" for name, good in checks if not good]
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    """Seed (once), measure each backend and scale in a child process, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_summary")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL") or None)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--small-answers", type=int, default=100_000, help="0: no growth line")
    parser.add_argument("--free-texts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period", default="all")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/learncity-bench"))
    parser.add_argument("--render", default=None, help="module:function taking a Summary")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if args.child:
        scale = Scale(args.citizens, args.answers, args.free_texts, args.seed)
        print(json.dumps(asdict(asyncio.run(measure(args.child, scale, args)))))
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "postgresql" in backends and not args.database_url:
        print("PostgreSQL skipped: no --database-url / TEST_DATABASE_URL", file=sys.stderr)
        backends.remove("postgresql")
    sizes = [args.small_answers, args.answers] if args.small_answers else [args.answers]
    measures: list[Measure] = []
    for backend in backends:
        for answers in sizes:
            scale = Scale(args.citizens, answers, args.free_texts, args.seed)
            asyncio.run(ensure_seeded(backend, scale, args))
            print(f"  measuring {backend} {scale.name} …", flush=True)
            measures.append(run_child(backend, scale, args))
    missed = report(measures, args)
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
