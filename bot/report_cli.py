"""`learncity report`: the officers' summary as files, without Telegram (for scheduled runs).

`learncity report --period 2026-11 --format md,csv,xlsx,png --out reports/` writes
`learncity-summary-2026-11.md`, `…-topics.png`, `…-trend.png`, `….csv` and `….xlsx`: the same
text, charts and files that `/summary` sends, in the chosen language.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from bot.districts import load_districts
from bot.reports import FORMATS, FileKind, Report, render_report
from bot.reports.labels import Namer
from bot.settings import Settings
from storage import clock
from storage.database import Database
from storage.summary import ACCEPTED_PERIODS, InvalidPeriod, parse_period, summarize


class FormatError(ValueError):
    """A --format value names no known format."""


def parse_formats(values: Sequence[str] | None) -> tuple[FileKind, ...]:
    """`["md,csv", "png"]` → ("md", "csv", "png"); nothing given → every format."""
    if not values:
        return FORMATS
    chosen: list[FileKind] = []
    for value in values:
        for name in (part.strip().lower() for part in value.split(",")):
            kind = next((k for k in FORMATS if k == name), None)
            if kind is None:
                raise FormatError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
            if kind not in chosen:
                chosen.append(kind)
    return tuple(chosen)


async def run_report_command(
    settings: Settings,
    *,
    period: str,
    formats: Sequence[str] | None,
    out: Path,
    language: str | None = None,
) -> int:
    """Write the report's files into `out`; returns the exit code (2: bad arguments)."""
    try:
        kinds = parse_formats(formats)
        chosen = parse_period(period, now=clock.now(), tz=settings.timezone)
    except FormatError as error:
        print(error, file=sys.stderr)
        return 2
    except InvalidPeriod as error:
        print(f"unknown period {error.text!r}; accepted: {', '.join(ACCEPTED_PERIODS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    districts = load_districts(settings.districts_file)
    db = Database(settings.database_url)
    try:
        summary = await summarize(db, chosen, districts=[d.code for d in districts])
    finally:
        await db.dispose()
    from bot.i18n.catalog import catalogs

    namer = Namer(language or settings.default_language, catalogs(), districts)
    report = render_report(summary, namer, kinds)
    for path in _write(report, out):
        print(path)
    return 0


def _write(report: Report, out: Path) -> list[Path]:
    """Save the report's files in `out` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for file in report.files:
        path = out / file.name
        path.write_bytes(file.data)
        paths.append(path)
    return paths
