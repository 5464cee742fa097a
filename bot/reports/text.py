"""A `Summary` as chat text: Telegram HTML in messages of at most 4096 characters, or Markdown.

Both come from one small document (sections of lines of plain or bold runs), so `/summary`
and `learncity report --format md` say the same thing. Numbers are shown exactly as the
Summary gives them: hidden cells are "<5", totals are never added up here (that could undo
the suppression).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.reports.labels import Namer
from storage.summary import Cell, FeedbackLine, Summary, Suppressed, Table

MESSAGE_LIMIT = 4096  # Telegram's limit for one message's text


@dataclass(frozen=True)
class Run:
    """A piece of plain text, bold or not."""

    text: str
    bold: bool = False


LineKind = Literal["plain", "item", "detail"]


@dataclass(frozen=True)
class Line:
    """One line of a section: plain, an item of a list, or a detail under the item above."""

    runs: tuple[Run, ...]
    kind: LineKind = "item"


@dataclass
class Section:
    """A titled block of lines (the unit that is never split unless it alone is too long)."""

    title: str
    lines: list[Line] = field(default_factory=list)

    def add(self, *parts: str | Run, kind: LineKind = "item") -> None:
        """Append a line made of plain strings and runs."""
        runs = tuple(part if isinstance(part, Run) else Run(part) for part in parts)
        self.lines.append(Line(runs, kind))


def bold(text: str) -> Run:
    """A bold run."""
    return Run(text, bold=True)


# -- the document --------------------------------------------------------------------------


def summary_document(summary: Summary, namer: Namer) -> list[Section]:
    """Every section of the chat summary, in reading order."""
    sections = [_overview(summary, namer), _topics(summary, namer)]
    for table in (
        summary.needs_by_age_band,
        summary.needs_by_district,
        summary.needs_by_language,
        summary.needs_by_month,
    ):
        section = _column_totals(table, namer)
        if section is not None:
            sections.append(section)
    sections.append(_themes(summary, namer))
    sections.append(_offers(summary, namer))
    sections.append(_participation_by_month(summary, namer))
    by_district = _participation_by_district(summary, namer)
    if by_district is not None:
        sections.append(by_district)
    sections.append(_notes(summary, namer))
    return sections


def _people(namer: Namer, cell: Cell | None) -> str:
    return namer.text("summary.people", count=namer.cell(cell))


def _overview(summary: Summary, namer: Namer) -> Section:
    section = Section(namer.text("summary.title"))
    section.add(
        namer.text("summary.period_line", period=namer.period(summary.period)), kind="plain"
    )
    section.add(namer.text("summary.generated_line", when=namer.generated(summary)), kind="plain")
    section.add(namer.text("summary.respondents"), bold(namer.cell(summary.respondents)))
    section.add(namer.text("summary.answers"), bold(namer.cell(summary.answers)))
    section.add(namer.text("summary.free_texts"), bold(namer.cell(summary.free_texts)))
    return section


def _sort_key(cell: Cell) -> tuple[int, int]:
    # Shown counts first, largest first; hidden ones after, in the survey's order.
    return (1, 0) if isinstance(cell, Suppressed) else (0, -cell)


def _topics(summary: Summary, namer: Namer) -> Section:
    section = Section(namer.text("summary.section.topics"))
    if not summary.topics:
        section.add(namer.text("summary.nothing"), kind="plain")
        return section
    for topic in sorted(summary.topics, key=lambda t: _sort_key(t.people)):
        share = f" ({namer.share(topic.share)})" if topic.share is not None else ""
        section.add(
            bold(namer.topic_name(topic.name, topic.key)),
            f": {_people(namer, topic.people)}{share}",
        )
        detail = f"{namer.unesco(topic.unesco_feature)} · {namer.sdgs(topic.sdgs)}"
        section.add(detail, kind="detail")
    return section


def _column_totals(table: Table, namer: Namer) -> Section | None:
    """A breakdown in chat: the people in each column (the full table is in the files)."""
    if table.column_totals is None or not table.columns:
        return None
    section = Section(namer.optional(f"summary.section.{table.key}", namer.table_title(table)))
    for label, total in zip(table.columns, table.column_totals, strict=True):
        section.add(f"{namer.label(table.key, 1, label)}: ", bold(_people(namer, total)))
    return section


def _themes(summary: Summary, namer: Namer) -> Section:
    section = Section(namer.text("summary.section.themes"))
    if not summary.themes:
        section.add(namer.text("summary.no_themes", threshold=summary.threshold), kind="plain")
        return section
    for theme in summary.themes:
        section.add(
            bold(theme.token),
            ": " + namer.text("summary.theme_counts", people=theme.people, mentions=theme.mentions),
        )
    return section


def _offers(summary: Summary, namer: Namer) -> Section:
    section = Section(namer.text("summary.section.offers"))
    if not summary.offers:
        section.add(namer.text("summary.nothing"), kind="plain")
        return section
    gaps = [o for o in summary.offers if o.gap]
    if gaps:
        names = ", ".join(namer.topic_name(o.name, o.key) for o in gaps)
        section.add(bold(namer.text("summary.gaps", topics=names)), kind="plain")
    for offer in summary.offers:
        section.add(
            bold(namer.topic_name(offer.name, offer.key)),
            ": "
            + namer.text(
                "summary.offer_line",
                people=namer.cell(offer.people),
                books=offer.books,
                events=offer.library_events,
                agenda=offer.agenda_items,
            ),
        )
    return section


def _by_key(table: Table, axis: int) -> dict[str, Cell]:
    """A table's row (axis 0) or column (axis 1) totals by label key."""
    labels, totals = (
        (table.rows, table.row_totals) if axis == 0 else (table.columns, table.column_totals)
    )
    if totals is None:
        return {}
    return {label.key: total for label, total in zip(labels, totals, strict=True)}


def _feedback(namer: Namer, line: FeedbackLine | None) -> str:
    if line is None or line.mean is None:
        return namer.text("summary.no_ratings")
    return namer.text(
        "summary.rating_line", mean=namer.mean(line.mean), ratings=namer.cell(line.ratings)
    )


def _participation_by_month(summary: Summary, namer: Namer) -> Section:
    part = summary.participation
    section = Section(namer.text("summary.section.participation"))
    loans, rsvps, attended = (_by_key(t, 0) for t in (part.loans, part.rsvps, part.attendance))
    feedback = {line.label.key: line for line in part.feedback_by_month}
    for activity in part.activity:
        month = activity.month
        section.add(
            bold(namer.month(month)),
            ": "
            + namer.text(
                "summary.participation_line",
                events=activity.library_events,
                loans=namer.cell(loans.get(month)),
                meetings=activity.council_meetings,
                rsvps=namer.cell(rsvps.get(month)),
                attended=namer.cell(attended.get(month)),
            )
            + " · "
            + _feedback(namer, feedback.get(month)),
        )
    section.add(
        bold(namer.text("summary.total")),
        ": "
        + namer.text(
            "summary.participation_total",
            loans=namer.cell(part.loans.total),
            rsvps=namer.cell(part.rsvps.total),
            attended=namer.cell(part.attendance.total),
        )
        + " · "
        + _feedback(namer, part.feedback_total),
    )
    return section


def _participation_by_district(summary: Summary, namer: Namer) -> Section | None:
    part = summary.participation
    loans, rsvps, attended = (_by_key(t, 1) for t in (part.loans, part.rsvps, part.attendance))
    if not (loans or rsvps or attended):
        return None
    feedback = {line.label.key: line for line in part.feedback_by_district}
    section = Section(namer.text("summary.section.participation_districts"))
    for label in part.loans.columns:
        section.add(
            bold(namer.label(part.loans.key, 1, label)),
            ": "
            + namer.text(
                "summary.participation_total",
                loans=namer.cell(loans.get(label.key)),
                rsvps=namer.cell(rsvps.get(label.key)),
                attended=namer.cell(attended.get(label.key)),
            )
            + " · "
            + _feedback(namer, feedback.get(label.key)),
        )
    return section


def _notes(summary: Summary, namer: Namer) -> Section:
    section = Section(namer.text("summary.section.notes"))
    section.add(namer.text("summary.rule", threshold=summary.threshold))
    section.add(namer.text("summary.totals_note"))
    section.add(namer.text("summary.files_note"))
    return section


# -- Telegram HTML -------------------------------------------------------------------------


def _html_line(line: Line) -> str:
    body = "".join(
        f"<b>{html.escape(run.text, quote=False)}</b>" if run.bold else html.escape(run.text, False)
        for run in line.runs
    )
    return {"plain": body, "item": f"• {body}", "detail": f"    {body}"}[line.kind]


def _length(text: str) -> int:
    """Telegram counts UTF-16 code units; the HTML source is never shorter than the text."""
    return len(text.encode("utf-16-le")) // 2


def _pack(blocks: Iterable[str], limit: int) -> list[str]:
    """Greedily join blocks (blank line between) into messages of at most `limit`."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if _length(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        current = block
    if current:
        messages.append(current)
    return messages


def _html_blocks(section: Section, limit: int) -> list[str]:
    """A section as one block, or as several (title repeated) when it alone is too long."""
    title = f"<b>{html.escape(section.title, quote=False)}</b>"
    lines = [_html_line(line) for line in section.lines]
    blocks: list[str] = []
    current = title
    for text in lines:
        if _length(text) + _length(title) + 1 > limit:
            text = text[: limit - _length(title) - 2]  # a pathological line: cut, never fail
            text = re.sub(r"<[^>]*$", "", text)
        candidate = f"{current}\n{text}"
        if _length(candidate) <= limit:
            current = candidate
            continue
        blocks.append(current)
        current = f"{title}\n{text}"
    blocks.append(current)
    return blocks


def summary_messages(summary: Summary, namer: Namer, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The summary as Telegram HTML messages, each at most `limit` characters."""
    blocks = [b for s in summary_document(summary, namer) for b in _html_blocks(s, limit)]
    return _pack(blocks, limit)


# -- Markdown ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])|<(?=[A-Za-z/!?])")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(lambda m: "\\" + (m.group(1) or "<"), text)


def _md_line(line: Line) -> str:
    body = "".join(
        f"**{_md_escape(run.text)}**" if run.bold else _md_escape(run.text) for run in line.runs
    )
    # A plain line ends in two spaces (a line break); a detail continues the item above.
    return {"plain": f"{body}  ", "item": f"- {body}", "detail": f"  {body}"}[line.kind]


def to_markdown(sections: Sequence[Section]) -> str:
    """The document as Markdown (a `#` title, then `##` sections)."""
    out: list[str] = []
    for number, section in enumerate(sections):
        out += [f"{'#' if number == 0 else '##'} {_md_escape(section.title)}", ""]
        out += [_md_line(line) for line in section.lines]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def summary_markdown(summary: Summary, namer: Namer) -> str:
    """The summary as one Markdown document (for `learncity report --format md`)."""
    return to_markdown(summary_document(summary, namer))
