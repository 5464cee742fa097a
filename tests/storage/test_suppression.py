"""Primary and complementary suppression, worked by hand."""

from __future__ import annotations

from storage.suppression import (
    Suppressed,
    cell_text,
    is_hidden,
    suppress_grid,
    suppress_total,
)

S = Suppressed("small")
C = Suppressed("complementary")


def test_small_cells_and_zeros_are_hidden_alike() -> None:
    assert [suppress_grid([[n]]) for n in (0, 4, 5)] == [((S,),), ((S,),), ((5,),)]
    assert cell_text(S) == cell_text(C) == "<5"
    assert cell_text(12) == "12"
    assert is_hidden(C) and not is_hidden(0)


def test_a_single_hidden_cell_takes_the_next_smallest_with_it() -> None:
    assert suppress_grid([[20, 3, 12, 40]]) == ((20, S, C, 40),)


def test_hidden_cells_holding_fewer_than_five_take_another() -> None:
    # Two hidden cells (0 and 2) hold 2 people: with the total shown they would be known
    # to be tiny, so the next smallest (10) is hidden too.
    assert suppress_grid([[10, 0, 2, 30]]) == ((C, S, S, 30),)
    assert suppress_grid([[10, 3, 2, 30]]) == ((10, S, S, 30),)


def test_rows_and_columns_until_nothing_changes() -> None:
    values = [
        [20, 3, 12, 40],
        [15, 9, 25, 30],
        [18, 11, 22, 35],
    ]
    # Pass 1: row 0 hides 12 (its 3 is alone); column 1 hides 9; column 2 (12 alone) hides 22.
    # Pass 2: row 1 (9 alone) hides 15; row 2 (22 alone) hides 11; column 0 (15 alone) hides
    # 18. Pass 3: every line has none or at least two hidden cells holding at least 5.
    assert suppress_grid(values) == (
        (20, S, C, 40),
        (C, C, 25, 30),
        (C, C, C, 35),
    )


def test_ties_take_the_first_cell() -> None:
    assert suppress_grid([[7, 7, 1]]) == ((C, 7, S),)


def test_events_are_hidden_by_the_people_behind_them() -> None:
    # Six loans by two readers are hidden; then 12 goes with them (a single hidden cell).
    assert suppress_grid([[6, 12, 30]], people=[[2, 6, 9]]) == ((S, C, 30),)


def test_totals() -> None:
    assert suppress_total(4) == S
    assert suppress_total(5) == 5
    assert suppress_total(40, people=3) == S
