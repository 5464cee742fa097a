"""`learncity db copy --to URL`: move the data to another database, e.g. SQLite → PostgreSQL.

Prints each table's rows in the source and the target, and exits 1 on any difference or if
the copy is refused (the target is not empty, the source is behind the code, ...).
"""

from __future__ import annotations

import sys

from bot.settings import Settings
from storage.copy import CopyRefused, TableCount, copy_database
from storage.database import Database


async def run_copy_command(
    settings: Settings, to: str, *, schema: str | None = None, batch_size: int = 2000
) -> int:
    """Copy DATABASE_URL's database into `to` (PostgreSQL `schema` if given); the exit code."""
    source = Database(settings.database_url)
    try:
        target = Database(to, schema=schema)
    except ValueError as error:
        await source.dispose()
        print(f"Cannot use the target: {error}", file=sys.stderr)
        return 2
    try:
        print(f"Copying {source.url_for_display} → {target.url_for_display}", flush=True)
        counts = await copy_database(source, target, batch_size=batch_size)
    except CopyRefused as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Cannot open a database: {error}", file=sys.stderr)
        return 1
    finally:
        await source.dispose()
        await target.dispose()
    print(format_counts(counts))
    return 0 if all(count.matches for count in counts) else 1


def format_counts(counts: list[TableCount]) -> str:
    """A table of rows per table, then one line: all equal, or which tables differ."""
    width = max(len(count.table) for count in counts)
    lines = [f"{'table':<{width}}  {'source':>9}  {'target':>9}"]
    for count in counts:
        mark = "" if count.matches else "  MISMATCH"
        lines.append(f"{count.table:<{width}}  {count.source:>9}  {count.target:>9}{mark}")
    differ = [count.table for count in counts if not count.matches]
    total = sum(count.target for count in counts)
    if differ:
        lines.append(f"FAIL: row counts differ in {', '.join(differ)}")
    else:
        lines.append(f"OK: {len(counts)} tables, {total} rows, every count equal")
    return "\n".join(lines)
