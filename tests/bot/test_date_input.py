"""Typed dates and times: Thai digits, the Buddhist Era, and refusals instead of guesses."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.date_input import parse_date, parse_time

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/12/2026", date(2026, 12, 5)),
        ("05/12/2026", date(2026, 12, 5)),
        ("5-12-2026", date(2026, 12, 5)),
        ("5.12.2026", date(2026, 12, 5)),
        ("5/12/2569", date(2026, 12, 5)),  # Buddhist Era
        ("31/12/2569", date(2026, 12, 31)),
        ("1/1/2570", date(2027, 1, 1)),
        ("๕/๑๒/๒๕๖๙", date(2026, 12, 5)),  # Thai digits
        ("๓๑.๑๒.๒๕๖๙", date(2026, 12, 31)),
        ("  5 / 12 / 2569 ", date(2026, 12, 5)),
        ("29/2/2028", date(2028, 2, 29)),
        ("1/1/2399", date(2399, 1, 1)),  # below 2400: Common Era
        ("1/1/2400", date(1857, 1, 1)),
    ],
)
def test_dates_people_type(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "5/12/69",  # two-digit year: 2569 or 2069?
        "5/12/26",
        "31/2/2026",  # no such day
        "29/2/2026",
        "0/1/2026",
        "1/13/2026",
        "5/12-2026",  # mixed separators
        "5/12/02026",
        "5/12/2026/1",
        "2026-12-05",  # ISO order is not what people here type
        "٥/١٢/٢٠٢٦",  # Arabic-Indic digits are not taken for Thai ones
        "5/12/0000",
    ],
)
def test_what_is_refused(text: str) -> None:
    assert parse_date(text, today=TODAY) is None


def test_a_date_without_a_year_is_the_next_one_from_today() -> None:
    assert parse_date("5/12", today=TODAY) == date(2026, 12, 5)
    assert parse_date("20/11", today=TODAY) == date(2026, 11, 20)  # today itself
    assert parse_date("19/11", today=TODAY) == date(2027, 11, 19)
    assert parse_date("๑/๑", today=TODAY) == date(2027, 1, 1)
    assert parse_date("29/2", today=TODAY) == date(2028, 2, 29)
    assert parse_date("31/4", today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:00", time(8, 0)),
        ("8:00", time(8, 0)),
        ("9.30", time(9, 30)),
        ("09.30", time(9, 30)),
        ("9.30 น.", time(9, 30)),
        ("9.30น.", time(9, 30)),
        ("๐๙.๓๐ น.", time(9, 30)),
        ("๑๘:๐๐", time(18, 0)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 13 : 05 ", time(13, 5)),
    ],
)
def test_times_people_type(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "9", "9 น.", "24:00", "12:60", "9.3", "9:300", "123:00", "9:30 am", "น. 9.30"]
)
def test_times_refused(text: str) -> None:
    assert parse_time(text) is None
