"""A `Summary` as files: one CSV (UTF-8 with BOM) and an XLSX workbook (openpyxl).

Both are made from the same grids, one per breakdown:

- **XLSX**: one sheet per breakdown, laid out wide as people read it (rows × columns, then
  the totals), and a first sheet stating the period, the filters and the suppression rule.
- **CSV**: one file in long form with a breakdown column — `breakdown_key, breakdown,
  row_key, row, column_key, column, unit, value` — so a single download holds everything and
  loads straight into a pivot table, R or pandas (a wide CSV per breakdown would mean a zip
  or eight documents in the chat). The key columns are stable across languages; the name
  columns are in the officer's language. Totals have the key `_total`.

Hidden cells are the text "<5" in both (never a number); totals are written as the Summary
gives them, never summed here.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.reports.labels import HIDDEN, Namer
from storage.summary import FeedbackLine, Summary, Suppressed, Table

TOTAL_KEY = "_total"
Format = Literal["int", "percent", "decimal", "text"]
Value = int | float | str | Suppressed | None


@dataclass(frozen=True)
class Column:
    """A value column of a grid."""

    key: str
    name: str
    format: Format = "int"


@dataclass(frozen=True)
class Row:
    """A row of a grid: its key, its name, one value per column."""

    key: str
    name: str
    values: tuple[Value, ...]
    total: bool = False


@dataclass
class Grid:
    """One breakdown as rows × columns (a sheet, and a slice of the CSV)."""

    key: str
    title: str
    corner: str  # the header of the label column
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    unit: str = ""


# -- from the Summary to grids -------------------------------------------------------------


def _table_grid(table: Table, namer: Namer) -> Grid:
    """A breakdown with its row totals (last column) and column totals (last row)."""
    columns = [Column(label.key, namer.label(table.key, 1, label)) for label in table.columns]
    if table.row_totals is not None:
        columns.append(Column(TOTAL_KEY, namer.text("summary.total")))
    grid = Grid(
        key=table.key,
        title=namer.table_title(table),
        corner=namer.text(
            f"summary.corner.{'topic' if table.key.startswith('needs') else 'month'}"
        ),
        columns=columns,
        unit=namer.unit(table.unit),
    )
    for index, label in enumerate(table.rows):
        values: tuple[Value, ...] = tuple(table.cells[index])
        if table.row_totals is not None:
            values += (table.row_totals[index],)
        grid.rows.append(Row(label.key, namer.label(table.key, 0, label), values))
    if table.column_totals is not None:
        totals: tuple[Value, ...] = tuple(table.column_totals)
        if table.row_totals is not None:
            totals += (table.total,)
        grid.rows.append(Row(TOTAL_KEY, namer.text("summary.total"), totals, total=True))
    return grid


def _about(summary: Summary, namer: Namer) -> Grid:
    period = summary.period
    grid = Grid(
        "about",
        namer.table_title("about"),
        namer.text("summary.col.item"),
        [Column("value", namer.text("summary.col.value"), "text")],
    )
    first = namer.day_range(period.first_day, period.first_day) if period.first_day else "–"
    last = namer.day_range(period.last_day, period.last_day) if period.last_day else "–"
    for key, value in (
        ("report", namer.text("summary.title")),
        ("period", namer.period(period)),
        ("period_key", period.text),
        ("first_day", first),
        ("last_day", last),
        ("time_zone", period.tz),
        ("generated", namer.generated(summary)),
        ("filters", namer.text("summary.filters", period=period.text)),
        ("threshold", str(summary.threshold)),
        ("rule", namer.text("summary.rule", threshold=summary.threshold)),
        ("complementary", namer.text("summary.rule_complementary", threshold=summary.threshold)),
        ("themes_rule", namer.text("summary.themes_rule", threshold=summary.threshold)),
        ("totals", namer.text("summary.totals_note")),
        ("identities", namer.text("summary.identities_note")),
    ):
        grid.rows.append(Row(key, namer.text(f"summary.about.{key}"), (value,)))
    return grid


def _overview(summary: Summary, namer: Namer) -> Grid:
    grid = Grid(
        "overview",
        namer.table_title("overview"),
        namer.text("summary.col.item"),
        [Column("count", namer.text("summary.col.count"))],
    )
    for key, cell in (
        ("respondents", summary.respondents),
        ("answers", summary.answers),
        ("free_texts", summary.free_texts),
    ):
        grid.rows.append(Row(key, namer.text(f"summary.{key}"), (cell,)))
    return grid


def _topics(summary: Summary, namer: Namer) -> Grid:
    grid = Grid(
        "topics",
        namer.table_title("topics"),
        namer.text("summary.corner.topic"),
        [
            Column("people", namer.text("summary.col.people")),
            Column("share", namer.text("summary.col.share"), "percent"),
            Column("unesco_feature", namer.text("summary.col.unesco"), "text"),
            Column("sdgs", namer.text("summary.col.sdgs"), "text"),
        ],
        unit=namer.unit("people"),
    )
    for topic in summary.topics:
        sdgs = ", ".join(str(n) for n in topic.sdgs)
        values = (topic.people, topic.share, namer.unesco(topic.unesco_feature), sdgs)
        grid.rows.append(Row(topic.key, namer.topic_name(topic.name, topic.key), values))
    return grid


def _themes(summary: Summary, namer: Namer) -> Grid:
    grid = Grid(
        "themes",
        namer.table_title("themes"),
        namer.text("summary.col.theme"),
        [
            Column("people", namer.text("summary.col.people")),
            Column("mentions", namer.text("summary.col.mentions")),
        ],
    )
    for theme in summary.themes:
        grid.rows.append(Row(theme.token, theme.token, (theme.people, theme.mentions)))
    return grid


def _offers(summary: Summary, namer: Namer) -> Grid:
    grid = Grid(
        "offers",
        namer.table_title("offers"),
        namer.text("summary.corner.topic"),
        [
            Column("people", namer.text("summary.col.people")),
            Column("books", namer.text("summary.col.books")),
            Column("library_events", namer.text("summary.col.library_events")),
            Column("agenda_items", namer.text("summary.col.agenda_items")),
            Column("gap", namer.text("summary.col.gap"), "text"),
        ],
    )
    for offer in summary.offers:
        gap = namer.text("summary.yes") if offer.gap else ""
        values = (offer.people, offer.books, offer.library_events, offer.agenda_items, gap)
        grid.rows.append(Row(offer.key, namer.topic_name(offer.name, offer.key), values))
    return grid


def _activity(summary: Summary, namer: Namer) -> Grid:
    grid = Grid(
        "activity",
        namer.table_title("activity"),
        namer.text("summary.corner.month"),
        [
            Column("library_events", namer.text("summary.col.library_events_held")),
            Column("council_meetings", namer.text("summary.col.council_meetings_held")),
        ],
    )
    for month in summary.participation.activity:
        values = (month.library_events, month.council_meetings)
        grid.rows.append(Row(month.month, namer.month(month.month), values))
    return grid


def _feedback(
    key: str, lines: Sequence[FeedbackLine], total: FeedbackLine, namer: Namer, dimension: str
) -> Grid:
    grid = Grid(
        key,
        namer.table_title(key),
        namer.text(f"summary.corner.{dimension}"),
        [
            Column("ratings", namer.text("summary.col.ratings")),
            Column("mean", namer.text("summary.col.mean"), "decimal"),
        ],
    )
    for line in lines:
        name = namer.key_name(line.label.key, dimension)
        grid.rows.append(Row(line.label.key, name, (line.ratings, line.mean)))
    grid.rows.append(
        Row(TOTAL_KEY, namer.text("summary.total"), (total.ratings, total.mean), total=True)
    )
    return grid


def summary_grids(summary: Summary, namer: Namer) -> list[Grid]:
    """Every breakdown of the summary as a grid, the about sheet first."""
    part = summary.participation
    return [
        _about(summary, namer),
        _overview(summary, namer),
        _topics(summary, namer),
        *(_table_grid(t, namer) for t in summary.tables()),
        _themes(summary, namer),
        _offers(summary, namer),
        _activity(summary, namer),
        _feedback("feedback_by_month", part.feedback_by_month, part.feedback_total, namer, "month"),
        _feedback(
            "feedback_by_district",
            part.feedback_by_district,
            part.feedback_total,
            namer,
            "district",
        ),
    ]


# -- CSV -----------------------------------------------------------------------------------


def _csv_value(value: Value, fmt: Format) -> str:
    if value is None:
        return ""
    if isinstance(value, Suppressed):
        return HIDDEN
    if isinstance(value, float) and fmt == "percent":
        return f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def summary_csv(summary: Summary, namer: Namer) -> bytes:
    """One long-form CSV of every breakdown, UTF-8 with a BOM (Excel then reads Thai)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            namer.text(f"summary.csv.{name}")
            for name in (
                "breakdown_key",
                "breakdown",
                "row_key",
                "row",
                "column_key",
                "column",
                "unit",
                "value",
            )
        ]
    )
    for grid in summary_grids(summary, namer):
        for row in grid.rows:
            for column, value in zip(grid.columns, row.values, strict=True):
                writer.writerow(
                    [
                        grid.key,
                        grid.title,
                        row.key,
                        row.name,
                        column.key,
                        column.name,
                        grid.unit,
                        _csv_value(value, column.format),
                    ]
                )
    return out.getvalue().encode("utf-8-sig")


# -- XLSX ----------------------------------------------------------------------------------

SHEET_NAME_LIMIT = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
HEADER_FILL = "1F4E79"
TOTAL_FILL = "DDEBF7"
NUMBER_FORMATS: dict[Format, str] = {"int": "#,##0", "percent": "0.0%", "decimal": "0.0"}


def display_width(text: str) -> int:
    """Columns a text takes on screen: Thai vowel and tone marks above/below take none."""
    return sum(0 if unicodedata.combining(ch) or ch == "\u0e31" else 1 for ch in text)


def _sheet_name(title: str, used: set[str]) -> str:
    name = _BAD_SHEET_CHARS.sub(" ", title).strip()[:SHEET_NAME_LIMIT] or "Sheet"
    candidate, number = name, 2
    while candidate.lower() in used:
        suffix = f" ({number})"
        candidate = name[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        number += 1
    used.add(candidate.lower())
    return candidate


def summary_xlsx(summary: Summary, namer: Namer) -> bytes:
    """The workbook: an about sheet (period, filters, suppression rule), then one sheet per
    breakdown with a styled header, frozen panes and fitted column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    total_fill = PatternFill("solid", fgColor=TOTAL_FILL)
    right = Alignment(horizontal="right")
    used: set[str] = set()
    for grid in summary_grids(summary, namer):
        sheet = workbook.create_sheet(_sheet_name(grid.title, used))
        header = [grid.corner, *(c.name for c in grid.columns)]
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        widths = [display_width(text) for text in header]
        for row in grid.rows:
            values: list[object] = [row.name]
            for value in row.values:
                values.append(HIDDEN if isinstance(value, Suppressed) else value)
            sheet.append(values)
            line = sheet.max_row
            for number, (column, value) in enumerate(
                zip(grid.columns, row.values, strict=True), start=2
            ):
                cell = sheet.cell(line, number)
                if isinstance(value, Suppressed):
                    cell.alignment = right
                elif column.format in NUMBER_FORMATS and isinstance(value, int | float):
                    cell.number_format = NUMBER_FORMATS[column.format]
                elif grid.key == "about":
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                shown = _csv_value(value, column.format)
                widths[number - 1] = max(widths[number - 1], display_width(shown) + 2)
            widths[0] = max(widths[0], display_width(row.name))
            if row.total:
                for cell in sheet[line]:
                    cell.font = Font(bold=True)
                    cell.fill = total_fill
        for number, width in enumerate(widths, start=1):
            limit = 90 if grid.key == "about" else 45
            sheet.column_dimensions[get_column_letter(number)].width = min(width + 2, limit)
        sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
