"""Small-cell suppression for officers' summaries (pure functions, no database).

The rule (docs/design/officer-summaries.md, "The suppression rule"):

1. Primary: a cell standing for fewer than `THRESHOLD` people (zero included) is hidden.
2. Complementary: in every row and every column with at least two cells, when the hidden
   cells are exactly one, or together hold fewer than `THRESHOLD`, the smallest cell still
   shown in that line (the first, on a tie) is hidden too; repeated over all rows and
   columns until nothing changes.
3. Totals are shown from `THRESHOLD` up; below it they are hidden.

Hidden cells are all shown the same ("<5"): the reason is kept for tests and audits only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

__all__ = [
    "HIDDEN_TEXT",
    "THRESHOLD",
    "Cell",
    "Suppressed",
    "cell_text",
    "is_hidden",
    "suppress_grid",
    "suppress_total",
]

THRESHOLD: Final = 5
HIDDEN_TEXT: Final = "<5"


@dataclass(frozen=True)
class Suppressed:
    """A hidden count. `reason` is for tests and audits; every renderer shows `text`."""

    reason: Literal["small", "complementary"]
    text: ClassVar[str] = HIDDEN_TEXT

    def __str__(self) -> str:
        return HIDDEN_TEXT


SMALL: Final = Suppressed("small")
COMPLEMENTARY: Final = Suppressed("complementary")

Cell = int | Suppressed


def is_hidden(value: object) -> bool:
    """True for a suppressed cell, share or mean."""
    return isinstance(value, Suppressed)


def cell_text(cell: Cell) -> str:
    """What a renderer shows: the number, or "<5"."""
    return HIDDEN_TEXT if isinstance(cell, Suppressed) else str(cell)


def suppress_total(value: int, *, people: int | None = None) -> Cell:
    """A total (or a lone count): shown from THRESHOLD people up."""
    return SMALL if (value if people is None else people) < THRESHOLD else value


def suppress_grid(
    values: Sequence[Sequence[int]],
    *,
    people: Sequence[Sequence[int]] | None = None,
) -> tuple[tuple[Cell, ...], ...]:
    """Apply primary and complementary suppression to a rows × columns grid of counts.

    `people` (same shape) is how many distinct people stand behind each value, when a value
    counts events (loans, RSVPs) rather than people; primary suppression looks at it, while
    the complementary sums look at `values`, which is what a total would give away.
    """
    rows = len(values)
    columns = len(values[0]) if rows else 0
    who = people if people is not None else values
    reason: dict[tuple[int, int], Suppressed] = {
        (i, j): SMALL for i in range(rows) for j in range(columns) if who[i][j] < THRESHOLD
    }
    lines = [[(i, j) for j in range(columns)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(columns)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if len(line) < 2:
                continue
            hidden = [cell for cell in line if cell in reason]
            if not hidden:
                continue
            hidden_sum = sum(values[i][j] for i, j in hidden)
            if len(hidden) > 1 and hidden_sum >= THRESHOLD:
                continue
            shown = [cell for cell in line if cell not in reason]
            if not shown:
                continue
            smallest = min(shown, key=lambda cell: values[cell[0]][cell[1]])
            reason[smallest] = COMPLEMENTARY
            changed = True
    return tuple(
        tuple(reason.get((i, j), values[i][j]) for j in range(columns)) for i in range(rows)
    )
