"""Button data arguments are read strictly: only the expected count of small non-negative ints."""

from __future__ import annotations

from handlers.press import int_args


def test_int_args_takes_exactly_the_count_of_digit_strings() -> None:
    assert int_args(("4", "12"), 2) == [4, 12]
    assert int_args(("4",), 2) is None
    assert int_args(("4", "x"), 2) is None
    assert int_args(("-4",), 1) is None
    assert int_args(("1" * 13,), 1) is None
