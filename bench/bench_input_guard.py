"""The input guard's cost per update, beside PTB's own cost of parsing that update.

`python -m bench.bench_input_guard [--updates 200000] [--people 50000]`

Updates are parsed once (`Update.de_json`, timed as the baseline), then judged: first a crowd
of `--people` distinct people, each well under the limit, then one person flooding. The guard
runs for every update before any flow, so its cost should stay a small fraction of parsing.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from telegram import Update

from bot.settings import load_settings
from handlers.input_guard import InputGuard


def _raw(update_id: int, user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "A"}
    chat = {"id": user_id, "type": "private", "first_name": "A"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": user, "text": "สวัสดี"}
    return {"update_id": update_id, "message": message}


def _per_update_us(seconds: float, count: int) -> float:
    return seconds / count * 1e6


def main() -> None:
    """Print µs per update: parsing (baseline), judging a crowd, judging a flood."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=50_000)
    args = parser.parse_args()
    raws = [_raw(i, 1_000_000 + i % args.people) for i in range(args.updates)]
    started = time.perf_counter()
    crowd = [Update.de_json(raw, None) for raw in raws]
    parse = time.perf_counter() - started
    flood = [Update.de_json(_raw(args.updates + i, 42), None) for i in range(args.updates)]
    guard = InputGuard(load_settings())
    started = time.perf_counter()
    for update in crowd:
        guard.judge(update)
    judge_crowd = time.perf_counter() - started
    started = time.perf_counter()
    for update in flood:
        guard.judge(update)
    judge_flood = time.perf_counter() - started
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    print(f"parse (PTB Update.de_json)  {_per_update_us(parse, args.updates):7.2f} µs/update")
    crowd_us = _per_update_us(judge_crowd, args.updates)
    print(f"judge, {args.people:,} people       {crowd_us:7.2f} µs")
    print(f"judge, one person flooding  {_per_update_us(judge_flood, args.updates):7.2f} µs")
    print(f"guard / parse               {judge_crowd / parse:7.1%}")


if __name__ == "__main__":
    main()
