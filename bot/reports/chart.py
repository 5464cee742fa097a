"""PNG charts of a `Summary`: needs by topic (horizontal bars) and month by month (trend).

Every text is drawn in the shipped Sarabun (bot/reports/fonts.py). A hidden cell is drawn as
a hatched stub labelled "<5" — never at its true length, which the chart does not know anyway.
Figures are made with the object API (no pyplot state) under one lock, so rendering may run in
a worker thread while the bot keeps answering.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.reports.fonts import FONT_FAMILY, RENDER_LOCK, prepare_matplotlib
from bot.reports.labels import HIDDEN, Namer
from storage.summary import Cell, Summary, Suppressed, Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 150
WIDTH_INCHES = 10.0
TOP_TOPICS = 5  # series in the trend chart; more would be unreadable
BARS_UP_TO_MONTHS = 12  # beyond this the trend is drawn as lines
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
HIDDEN_FACE = "#eeeeee"
HIDDEN_EDGE = "#777777"


@dataclass(frozen=True)
class Series:
    """One coloured series of the trend chart."""

    name: str
    values: tuple[Cell | None, ...]


def _figure(height: float) -> Figure:
    prepare_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _header(figure: Figure, title: str, subtitle: str, footnote: str) -> None:
    figure.suptitle(f"{title}\n{subtitle}", fontsize=13, fontweight="bold", family=FONT_FAMILY)
    # supxlabel, unlike a free text, gets its own room from the constrained layout.
    figure.supxlabel(footnote, x=0.01, ha="left", fontsize=8, color="#555555")


def _shown(cell: Cell | None) -> int | None:
    return cell if isinstance(cell, int) else None


def _stub(top: int) -> float:
    """Length of a hidden cell's stub: the threshold, but visible next to large bars."""
    return max(5.0, top * 0.03)


# -- needs by topic ------------------------------------------------------------------------


def topics_chart(summary: Summary, namer: Namer) -> bytes:
    """The needs-by-topic chart as PNG."""
    with RENDER_LOCK:
        return _png(topics_figure(summary, namer))


def topics_figure(summary: Summary, namer: Namer) -> Figure:
    """Horizontal bars: people who chose each topic, most first; hidden ones hatched "<5"."""
    topics = sorted(
        summary.topics,
        key=lambda t: (1, 0) if isinstance(t.people, Suppressed) else (0, -t.people),
    )
    figure = _figure(2.2 + 0.5 * max(len(topics), 1))
    axes = figure.subplots()
    top = max((p for t in topics if (p := _shown(t.people)) is not None), default=0)
    stub = _stub(top)
    names = [namer.topic_name(t.name, t.key) for t in topics]
    positions = list(range(len(topics)))[::-1]  # the first topic at the top
    for y, topic in zip(positions, topics, strict=True):
        shown = _shown(topic.people)
        if shown is None:
            axes.barh(y, stub, color=HIDDEN_FACE, edgecolor=HIDDEN_EDGE, hatch="///")
            axes.text(stub, y, f"  {HIDDEN}", va="center", fontsize=10, color="#333333")
            continue
        axes.barh(y, shown, color=COLOURS[0])
        share = f" ({namer.share(topic.share)})" if topic.share is not None else ""
        axes.text(shown, y, f"  {namer.cell(shown)}{share}", va="center", fontsize=10)
    axes.set_yticks(positions, names, fontsize=11)
    axes.set_xlim(0, max(top, stub) * 1.3 or 10)
    axes.set_xlabel(namer.text("summary.chart.people_axis"), fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#dddddd")
    axes.set_axisbelow(True)
    if not topics:
        axes.text(0.5, 0.5, namer.text("summary.nothing"), transform=axes.transAxes,
                  ha="center", va="center")  # fmt: skip
    _header(
        figure,
        namer.text("summary.chart.topics_title"),
        namer.text(
            "summary.chart.subtitle",
            period=namer.period(summary.period),
            respondents=namer.cell(summary.respondents),
        ),
        namer.text("summary.rule", threshold=summary.threshold),
    )
    return figure


# -- month by month ------------------------------------------------------------------------


def _row(table: Table, key: str, months: Sequence[str]) -> tuple[Cell | None, ...]:
    """One row of a topics × months table, aligned to `months`."""
    index = next((i for i, r in enumerate(table.rows) if r.key == key), None)
    if index is None:
        return tuple(None for _ in months)
    by_month = dict(zip((c.key for c in table.columns), table.cells[index], strict=True))
    return tuple(by_month.get(month) for month in months)


def _row_totals(table: Table, months: Sequence[str]) -> tuple[Cell | None, ...]:
    """A months × districts table's row totals, aligned to `months`."""
    if table.row_totals is None:
        return tuple(None for _ in months)
    by_month = dict(zip((r.key for r in table.rows), table.row_totals, strict=True))
    return tuple(by_month.get(month) for month in months)


def _need_series(summary: Summary, namer: Namer) -> list[Series]:
    """The most wanted topics (by their shown total), each month's people."""
    shown = [(people, t) for t in summary.topics if (people := _shown(t.people))]
    chosen = [t for _, t in sorted(shown, key=lambda pair: -pair[0])[:TOP_TOPICS]]
    return [
        Series(namer.topic_name(t.name, t.key), _row(summary.needs_by_month, t.key, summary.months))
        for t in chosen
    ]


def _participation_series(summary: Summary, namer: Namer) -> list[Series]:
    part, months = summary.participation, summary.months
    return [
        Series(namer.text("summary.chart.loans"), _row_totals(part.loans, months)),
        Series(namer.text("summary.chart.rsvps"), _row_totals(part.rsvps, months)),
        Series(namer.text("summary.chart.attended"), _row_totals(part.attendance, months)),
    ]


def _draw(axes: Axes, series: Sequence[Series], months: int, hidden_label: str) -> None:
    """Grouped bars (or lines for long periods); hidden cells as hatched "<5" stubs."""
    top = max((v for s in series for c in s.values if (v := _shown(c)) is not None), default=0)
    stub = _stub(top)
    as_bars = months <= BARS_UP_TO_MONTHS
    width = 0.8 / max(len(series), 1)
    for number, one in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        if not as_bars:
            ys = [float(v) if (v := _shown(c)) is not None else float("nan") for c in one.values]
            axes.plot(range(months), ys, color=colour, marker="o", markersize=3)
        for x, cell in enumerate(one.values):
            # Side by side within the month, so hidden cells of several series never overlap.
            offset = x - 0.4 + width * (number + 0.5)
            if isinstance(cell, Suppressed):
                axes.bar(offset, stub, width=width, color=HIDDEN_FACE, edgecolor=colour,
                         hatch="///")  # fmt: skip
                if as_bars or len(series) <= 3:
                    axes.text(offset, stub, HIDDEN, ha="center", va="bottom", fontsize=7)
            elif cell is not None and as_bars:
                axes.bar(offset, cell, width=width, color=colour)
                if months * len(series) <= 36:
                    axes.text(offset, cell, f"{cell:,}", ha="center", va="bottom", fontsize=7)
    axes.set_ylim(0, max(top, stub) * 1.35 or 10)  # headroom for the legend
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#dddddd")
    axes.set_axisbelow(True)
    if series:
        from matplotlib.patches import Patch

        handles = [
            Patch(color=COLOURS[n % len(COLOURS)], label=one.name) for n, one in enumerate(series)
        ]
        handles.append(Patch(facecolor=HIDDEN_FACE, edgecolor=HIDDEN_EDGE, hatch="///",
                             label=hidden_label))  # fmt: skip
        axes.legend(handles=handles, fontsize=8, loc="upper left", frameon=False,
                    ncols=min(len(handles), 3))  # fmt: skip


def _draw_held(axes: Axes, summary: Summary, namer: Namer) -> None:
    """Library events and council meetings held, on a second axis (counts of things)."""
    from matplotlib.ticker import MaxNLocator

    held = axes.twinx()
    activity = {a.month: a for a in summary.participation.activity}
    months = [activity.get(m) for m in summary.months]
    xs = range(len(months))
    events = [a.library_events if a else 0 for a in months]
    meetings = [a.council_meetings if a else 0 for a in months]
    for values, marker, key in ((events, "^", "events"), (meetings, "v", "meetings")):
        held.plot(xs, values, color="#444444", marker=marker, linestyle=":", linewidth=1,
                  label=namer.text(f"summary.chart.{key}"))  # fmt: skip
    held.set_ylim(0, max([1, *events, *meetings]) * 1.4)
    held.yaxis.set_major_locator(MaxNLocator(integer=True))
    held.set_ylabel(namer.text("summary.chart.held_axis"), fontsize=9)
    held.legend(fontsize=8, loc="upper right", frameon=False)
    held.spines[["top"]].set_visible(False)


def trend_chart(summary: Summary, namer: Namer) -> bytes:
    """The month-by-month chart as PNG."""
    with RENDER_LOCK:
        return _png(trend_figure(summary, namer))


def trend_figure(summary: Summary, namer: Namer) -> Figure:
    """Month by month: people per top topic, and loans, RSVPs and attendance."""
    months = list(summary.months)
    count = max(len(months), 1)
    figure = _figure(8.5)
    figure.set_figwidth(max(WIDTH_INCHES, min(0.45 * count, 40.0)))
    needs, participation = figure.subplots(2, 1, sharex=True)
    _draw(needs, _need_series(summary, namer), len(months), namer.text("summary.chart.hidden"))
    needs.set_title(namer.text("summary.chart.needs_by_month"), fontsize=11, loc="left")
    needs.set_ylabel(namer.text("summary.unit.people"), fontsize=9)
    _draw(participation, _participation_series(summary, namer), len(months),
          namer.text("summary.chart.hidden"))  # fmt: skip
    participation.set_title(namer.text("summary.chart.participation"), fontsize=11,
                            loc="left")  # fmt: skip
    _draw_held(participation, summary, namer)
    step = max(1, len(months) // 24)
    participation.set_xticks(
        range(0, len(months), step),
        [namer.month(m) for m in months[::step]],
        rotation=45 if len(months) > 6 else 0,
        ha="right" if len(months) > 6 else "center",
        fontsize=9,
    )
    pad = max(0.0, (4 - count) * 0.5)  # a single month is not one huge block
    participation.set_xlim(-0.6 - pad, count - 0.4 + pad)
    _header(
        figure,
        namer.text("summary.chart.trend_title"),
        namer.period(summary.period),
        namer.text("summary.rule", threshold=summary.threshold),
    )
    return figure
