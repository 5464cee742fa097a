"""`learncity db copy` at scale: a seeded SQLite file copied into PostgreSQL (or SQLite).

    python -m bench.bench_copy [--citizens 20000] [--answers 200000] [--free-texts 5000]
                               [--to URL] [--batch-size 2000] [--check]

The source is seeded once (kept in bench/.data, reused by later runs with the same numbers);
the target is a fresh schema in TEST_DATABASE_URL (or `--to`, which must be empty), dropped
afterwards. Prints rows per second and how much the process's peak memory grew during the
copy: streaming in batches should keep that near a batch's worth, whatever the size.
`--check` exits 1 if the counts differ or the peak grew by more than 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from bot.seed_demo import seed_demo
from storage.copy import copy_database
from storage.database import Database
from storage.migrate import upgrade

DATA = Path(__file__).resolve().parent / ".data"
MAX_GROWTH_MB = 200


def peak_mb() -> float:
    """The process's peak resident memory so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seeded_source(args: argparse.Namespace) -> Path:
    path = DATA / f"copy-{args.citizens}-{args.answers}-{args.free_texts}.db"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = Database(f"sqlite+aiosqlite:///{partial}")
    try:
        await upgrade(db)
        await seed_demo(
            db, citizens=args.citizens, answers=args.answers, free_texts=args.free_texts
        )
    finally:
        await db.dispose()
    partial.rename(path)
    return path


async def run(args: argparse.Namespace) -> int:
    source_path = await seeded_source(args)
    url = args.to or os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        print("set TEST_DATABASE_URL or give --to URL", file=sys.stderr)
        return 2
    schema = None if args.to else f"bench_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    if schema is not None:
        async with admin.engine.begin() as connection:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    source = Database(f"sqlite+aiosqlite:///{source_path}")
    target = Database(url, schema=schema)
    try:
        before = peak_mb()
        started = time.perf_counter()
        counts = await copy_database(source, target, batch_size=args.batch_size)
        seconds = time.perf_counter() - started
        growth = peak_mb() - before
    finally:
        await source.dispose()
        await target.dispose()
        if schema is not None:
            async with admin.engine.begin() as connection:
                await connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()
    rows = sum(count.target for count in counts)
    biggest = max(counts, key=lambda count: count.target)
    ok = all(count.matches for count in counts)
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; batch {args.batch_size}")
    print(
        f"{rows} rows in {len(counts)} tables ({biggest.table}: {biggest.target}) "
        f"in {seconds:.1f} s = {rows / seconds:,.0f} rows/s; counts "
        f"{'equal' if ok else 'DIFFER'}; peak memory +{growth:.0f} MB during the copy"
    )
    if args.check and (not ok or growth > MAX_GROWTH_MB):
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_copy")
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--free-texts", type=int, default=5_000)
    parser.add_argument("--to", default=None, help="an empty target (default: a fresh schema)")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--check", action="store_true")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
