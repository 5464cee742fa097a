"""Rendering an officer's `Summary` (storage/summary.py): chat text, PNG charts, CSV, XLSX.

Renderers only display what the Summary holds; they never query the database and never add
cells up (the suppression is already applied in storage). `render_report` makes every output
at once for `/summary`, `/export` and `learncity report`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from bot.districts import District
from bot.i18n.catalog import Catalogs, catalogs
from bot.reports.labels import Namer
from storage.summary import Summary

FileKind = Literal["md", "csv", "xlsx", "png"]
FORMATS: tuple[FileKind, ...] = ("md", "csv", "xlsx", "png")
FILE_STEM = "learncity-summary"


@dataclass(frozen=True)
class ReportFile:
    """One file of a report: its name, its bytes and its kind."""

    name: str
    data: bytes
    kind: FileKind


@dataclass(frozen=True)
class Report:
    """Everything rendered for one summary in one language."""

    messages: tuple[str, ...] = ()
    files: tuple[ReportFile, ...] = field(default_factory=tuple)

    def of_kind(self, *kinds: FileKind) -> list[ReportFile]:
        """The files of the given kinds, in rendering order."""
        return [f for f in self.files if f.kind in kinds]


def file_stem(summary: Summary) -> str:
    """`learncity-summary-2026-11` (also for this-month), `…-last-90-days-to-2026-11-20`:
    dated, so archived files do not overwrite each other; ASCII, for e-mail and any disk."""
    period = summary.period
    if period.kind in ("this-month", "last-month", "month") and period.first_day:
        return f"{FILE_STEM}-{period.first_day:%Y-%m}"
    if period.kind == "last-days" and period.last_day:
        return f"{FILE_STEM}-{period.text}-to-{period.last_day:%Y-%m-%d}"
    return f"{FILE_STEM}-{period.text}"


def render_report(
    summary: Summary,
    namer: Namer,
    formats: Collection[FileKind] = FORMATS,
    *,
    messages: bool = False,
) -> Report:
    """Render the chosen formats (CPU-bound: call it in a worker thread from the bot)."""
    from bot.reports import chart, tables, text

    stem = file_stem(summary)
    files: list[ReportFile] = []
    if "md" in formats:
        markdown = text.summary_markdown(summary, namer).encode("utf-8")
        files.append(ReportFile(f"{stem}.md", markdown, "md"))
    if "png" in formats:
        files.append(ReportFile(f"{stem}-topics.png", chart.topics_chart(summary, namer), "png"))
        files.append(ReportFile(f"{stem}-trend.png", chart.trend_chart(summary, namer), "png"))
    if "csv" in formats:
        files.append(ReportFile(f"{stem}.csv", tables.summary_csv(summary, namer), "csv"))
    if "xlsx" in formats:
        files.append(ReportFile(f"{stem}.xlsx", tables.summary_xlsx(summary, namer), "xlsx"))
    chat = tuple(text.summary_messages(summary, namer)) if messages else ()
    return Report(chat, tuple(files))


def render_for_bench(summary: Summary) -> Report:
    """The bench hook (`bench.bench_summary --render bot.reports:render_for_bench`): the chat
    text, both charts, the CSV and the XLSX in Thai, with the shipped districts."""
    from bot.districts import load_districts
    from bot.settings import DEFAULT_DISTRICTS_FILE

    namer = Namer("th", catalogs(), load_districts(DEFAULT_DISTRICTS_FILE))
    return render_report(summary, namer, ("png", "csv", "xlsx"), messages=True)


def namer_for(
    language: str, districts: tuple[District, ...], messages: Catalogs | None = None
) -> Namer:
    """A Namer with the shipped catalogs unless others are given."""
    return Namer(language, messages or catalogs(), districts)
