"""Monthly rules: RRULE text in and out, occurrences in local time, and exceptions applied.

Time travel: month ends, 31 December 2026 → 1 January 2027 (2569 → 2570 in the Buddhist Era),
"the 31st" in short months, the first Saturday across a year, the last Friday, moved and
cancelled occurrences; Asia/Bangkok has no DST, so one DST zone is checked for safety.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.recurrence import (
    DEFAULT_TIMEZONE,
    FRIDAY,
    SATURDAY,
    SUNDAY,
    Change,
    MonthlyRule,
    Occurrence,
    RuleKind,
    apply_changes,
    check_timezone,
    first_start,
    is_occurrence,
    month_day,
    next_occurrence,
    nth_weekday,
    occurrences,
    parse_rrule,
    to_utc,
)

BANGKOK = ZoneInfo("Asia/Bangkok")
FIRST_SATURDAY = nth_weekday(1, SATURDAY, time(8, 0))
LAST_FRIDAY = nth_weekday(-1, FRIDAY, time(18, 30))
THE_31ST = month_day(31, time(9, 0))
THE_15TH = month_day(15, time(9, 0))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Bangkok wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=BANGKOK)


def in_bangkok(moments: list[datetime]) -> list[tuple[int, int, int, int, int]]:
    """(year, month, day, hour, minute) of each moment on Bangkok's wall clock."""
    shown = [m.astimezone(BANGKOK) for m in moments]
    return [(m.year, m.month, m.day, m.hour, m.minute) for m in shown]


def all_of(rule: MonthlyRule, year: int, timezone: str = DEFAULT_TIMEZONE) -> list[datetime]:
    """Every occurrence in a local calendar year, the rule counting from 1 January."""
    zone = ZoneInfo(timezone)
    first = datetime(year, 1, 1, tzinfo=zone)
    return occurrences(
        rule,
        first=first,
        timezone=timezone,
        start=first,
        end=datetime(year + 1, 1, 1, tzinfo=zone),
    )


# --- building, parsing, writing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (FIRST_SATURDAY, "FREQ=MONTHLY;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0;BYSECOND=0"),
        (LAST_FRIDAY, "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=18;BYMINUTE=30;BYSECOND=0"),
        (THE_15TH, "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
        (
            THE_31ST,
            "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
        ),
        (
            month_day(29, time(7, 5)),
            "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1;BYHOUR=7;BYMINUTE=5;BYSECOND=0",
        ),
    ],
)
def test_a_rule_is_written_as_rrule_text_and_read_back(rule: MonthlyRule, text: str) -> None:
    assert rule.to_rrule() == text
    assert parse_rrule(text) == rule
    assert parse_rrule("RRULE:" + text) == rule


def test_a_rule_exposes_its_parts_for_handlers_to_describe_it() -> None:
    assert FIRST_SATURDAY.kind is RuleKind.nth_weekday
    assert (FIRST_SATURDAY.n, FIRST_SATURDAY.weekday, FIRST_SATURDAY.day) == (1, SATURDAY, None)
    assert FIRST_SATURDAY.local_time == "08:00"
    assert LAST_FRIDAY.n == -1 and LAST_FRIDAY.local_time == "18:30"
    assert THE_31ST.kind is RuleKind.month_day
    assert (THE_31ST.day, THE_31ST.weekday, THE_31ST.n) == (31, None, None)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("FREQ=MONTHLY;BYDAY=SA;BYSETPOS=1;BYHOUR=8;BYMINUTE=0", FIRST_SATURDAY),
        ("freq=monthly;byday=1sa;byhour=8;byminute=0;bysecond=0", FIRST_SATURDAY),
        ("FREQ=MONTHLY;INTERVAL=1;WKST=MO;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0", FIRST_SATURDAY),
        ("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0", THE_31ST),
        ("FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9;BYMINUTE=0", THE_31ST),
    ],
)
def test_equivalent_rrule_spellings_are_understood(text: str, rule: MonthlyRule) -> None:
    assert parse_rrule(text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "",
        "FREQ=WEEKLY;BYDAY=SA;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0;COUNT=3",
        "FREQ=MONTHLY;BYDAY=+1SA,+3SA;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYDAY=SA;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYDAY=+5SA;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYDAY=+1XX;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=15;BYDAY=+1SA;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=15;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=25;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=8;BYMINUTE=0;BYSECOND=30",
        "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=8;BYHOUR=9;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY",
    ],
)
def test_other_rules_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rrule(text)


@pytest.mark.parametrize(
    "build",
    [
        lambda: nth_weekday(0, SATURDAY, time(8)),
        lambda: nth_weekday(5, SATURDAY, time(8)),
        lambda: nth_weekday(-2, SATURDAY, time(8)),
        lambda: nth_weekday(1, 7, time(8)),
        lambda: month_day(0, time(8)),
        lambda: month_day(32, time(8)),
        lambda: month_day(15, time(8, 0, 30)),
        lambda: month_day(15, time(8, tzinfo=UTC)),
        lambda: MonthlyRule(RuleKind.month_day, at=time(8), day=15, weekday=SATURDAY),
        lambda: MonthlyRule(RuleKind.nth_weekday, at=time(8), weekday=SATURDAY, n=1, day=3),
    ],
)
def test_invalid_parts_are_refused(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_time_zones_are_checked_and_local_times_converted() -> None:
    assert check_timezone("Asia/Bangkok") == "Asia/Bangkok"
    with pytest.raises(ValueError):
        check_timezone("Mars/Olympus_Mons")
    assert to_utc(datetime(2026, 2, 7, 8, 0), "Asia/Bangkok") == utc(2026, 2, 7, 1, 0)
    with pytest.raises(ValueError):
        to_utc(utc(2026, 2, 7, 8, 0), "Asia/Bangkok")


# --- occurrences ----------------------------------------------------------------------------


def test_the_first_saturday_across_a_year() -> None:
    days = [3, 7, 7, 4, 2, 6, 4, 1, 5, 3, 7, 5]
    assert in_bangkok(all_of(FIRST_SATURDAY, 2026)) == [
        (2026, month, day, 8, 0) for month, day in enumerate(days, start=1)
    ]
    # 08:00 in Bangkok is 01:00 UTC, every month (no DST).
    assert all(
        m.tzinfo is UTC and (m.hour, m.minute) == (1, 0) for m in all_of(FIRST_SATURDAY, 2026)
    )


def test_the_last_friday_of_every_month() -> None:
    days = [30, 27, 27, 24, 29, 26, 31, 28, 25, 30, 27, 25]
    assert in_bangkok(all_of(LAST_FRIDAY, 2026)) == [
        (2026, month, day, 18, 30) for month, day in enumerate(days, start=1)
    ]


def test_the_31st_falls_on_the_last_day_of_shorter_months() -> None:
    last_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert in_bangkok(all_of(THE_31ST, 2026)) == [
        (2026, month, day, 9, 0) for month, day in enumerate(last_days, start=1)
    ]


def test_the_31st_in_a_leap_february_is_the_29th() -> None:
    found = in_bangkok(all_of(THE_31ST, 2028))
    assert found[1] == (2028, 2, 29, 9, 0)
    assert found[3] == (2028, 4, 30, 9, 0)


def test_the_30th_and_the_29th_in_february() -> None:
    assert in_bangkok(all_of(month_day(30, time(9)), 2026))[1:4] == [
        (2026, 2, 28, 9, 0),
        (2026, 3, 30, 9, 0),
        (2026, 4, 30, 9, 0),
    ]
    assert in_bangkok(all_of(month_day(29, time(9)), 2026))[1] == (2026, 2, 28, 9, 0)
    assert in_bangkok(all_of(month_day(29, time(9)), 2028))[1] == (2028, 2, 29, 9, 0)


def test_a_plain_day_of_the_month_is_every_month() -> None:
    assert [d for (_, _, d, _, _) in in_bangkok(all_of(THE_15TH, 2026))] == [15] * 12


def test_month_ends_and_the_new_year_2569_to_2570() -> None:
    found = occurrences(
        THE_31ST,
        first=local(2026, 1, 1),
        timezone=DEFAULT_TIMEZONE,
        start=local(2026, 12, 1),
        end=local(2027, 3, 1),
    )
    assert in_bangkok(found) == [(2026, 12, 31, 9, 0), (2027, 1, 31, 9, 0), (2027, 2, 28, 9, 0)]
    buddhist_years = [m.astimezone(BANGKOK).year + 543 for m in found]
    assert buddhist_years == [2569, 2570, 2570]


def test_new_year_morning_in_bangkok_is_still_the_old_year_in_utc() -> None:
    first_of_month = month_day(1, time(6, 0))
    found = occurrences(
        first_of_month,
        first=local(2026, 12, 1),
        timezone=DEFAULT_TIMEZONE,
        start=utc(2026, 12, 15),
        end=utc(2027, 1, 15),
    )
    # 1 January 2570 BE, 06:00 in Bangkok = 31 December 2026, 23:00 UTC.
    assert found == [utc(2026, 12, 31, 23, 0)]
    assert found[0].astimezone(BANGKOK).year + 543 == 2570


def test_the_window_is_half_open_and_the_first_start_bounds_it() -> None:
    first = utc(2026, 2, 7, 1, 0)
    in_window = occurrences(
        FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, start=first, end=utc(2026, 3, 7, 1)
    )
    assert in_window == [first]  # the start is included, the end is not
    before_first = occurrences(
        FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, start=utc(2025, 1, 1), end=first
    )
    assert before_first == []
    assert (
        occurrences(FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, start=first, end=first)
        == []
    )


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        occurrences(
            FIRST_SATURDAY,
            first=datetime(2026, 1, 1),
            timezone=DEFAULT_TIMEZONE,
            start=utc(2026, 1, 1),
            end=utc(2026, 2, 1),
        )


def test_a_one_off_has_one_occurrence() -> None:
    when = utc(2026, 2, 10, 2, 0)
    window = {"timezone": DEFAULT_TIMEZONE, "start": utc(2026, 1, 1), "end": utc(2027, 1, 1)}
    assert occurrences(None, first=when, **window) == [when]  # type: ignore[arg-type]
    assert is_occurrence(None, first=when, timezone=DEFAULT_TIMEZONE, when=when)
    assert not is_occurrence(
        None, first=when, timezone=DEFAULT_TIMEZONE, when=when + timedelta(days=1)
    )
    assert next_occurrence(None, first=when, timezone=DEFAULT_TIMEZONE, after=when) is None
    assert (
        next_occurrence(None, first=when, timezone=DEFAULT_TIMEZONE, after=utc(2026, 1, 1)) == when
    )


def test_first_start_next_occurrence_and_is_occurrence() -> None:
    first = first_start(FIRST_SATURDAY, on_or_after=date(2026, 1, 5), timezone=DEFAULT_TIMEZONE)
    assert first == utc(2026, 2, 7, 1, 0)
    assert (
        first_start(FIRST_SATURDAY, on_or_after=date(2026, 2, 7), timezone=DEFAULT_TIMEZONE)
        == first
    )
    assert next_occurrence(
        FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, after=first
    ) == utc(2026, 3, 7, 1, 0)
    assert is_occurrence(FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, when=first)
    assert not is_occurrence(
        FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, when=first + timedelta(minutes=1)
    )
    # Before the first start there is none, even on a first Saturday.
    assert not is_occurrence(
        FIRST_SATURDAY, first=first, timezone=DEFAULT_TIMEZONE, when=utc(2026, 1, 3, 1, 0)
    )


# --- a zone with daylight saving time -------------------------------------------------------


def test_local_wall_clock_time_is_kept_across_dst() -> None:
    first_sunday = nth_weekday(1, SUNDAY, time(10, 0))
    found = occurrences(
        first_sunday,
        first=utc(2026, 1, 1),
        timezone="Europe/London",
        start=utc(2026, 2, 1),
        end=utc(2026, 5, 1),
    )
    # 10:00 GMT in February and March, 10:00 BST (09:00 UTC) after the clocks go forward on
    # 29 March.
    assert found == [utc(2026, 2, 1, 10, 0), utc(2026, 3, 1, 10, 0), utc(2026, 4, 5, 9, 0)]


def test_a_time_in_the_spring_forward_gap_takes_the_offset_before_it() -> None:
    # 8 March 2026: New York skips 02:00–03:00; "02:30" is read as 02:30 EST (07:30 UTC).
    second_sunday = nth_weekday(2, SUNDAY, time(2, 30))
    found = occurrences(
        second_sunday,
        first=utc(2026, 1, 1),
        timezone="America/New_York",
        start=utc(2026, 3, 1),
        end=utc(2026, 4, 1),
    )
    assert found == [utc(2026, 3, 8, 7, 30)]


# --- exceptions -----------------------------------------------------------------------------

FIRST = utc(2026, 2, 7, 1, 0)
MAR = utc(2026, 3, 7, 1, 0)
APR = utc(2026, 4, 4, 1, 0)
MAY = utc(2026, 5, 2, 1, 0)


def changed(
    changes: list[Change], start: datetime, end: datetime, *, include_cancelled: bool = False
) -> list[Occurrence]:
    return apply_changes(
        FIRST_SATURDAY,
        first=FIRST,
        timezone=DEFAULT_TIMEZONE,
        start=start,
        end=end,
        changes=changes,
        include_cancelled=include_cancelled,
    )


def test_no_changes_gives_the_rule() -> None:
    assert changed([], FIRST, utc(2026, 4, 1)) == [Occurrence(FIRST, FIRST), Occurrence(MAR, MAR)]


def test_a_moved_occurrence_is_where_it_was_moved_to() -> None:
    moved_to = utc(2026, 3, 14, 2, 0)  # the second Saturday, 09:00
    found = changed([Change(MAR, moved_to)], FIRST, utc(2026, 5, 1))
    assert found == [Occurrence(FIRST, FIRST), Occurrence(MAR, moved_to), Occurrence(APR, APR)]
    assert found[1].moved and not found[0].moved


def test_a_moved_occurrence_enters_and_leaves_windows_by_its_new_start() -> None:
    later = utc(2026, 4, 10, 2, 0)  # March's meeting pushed into April
    assert changed([Change(MAR, later)], FIRST, utc(2026, 4, 1)) == [Occurrence(FIRST, FIRST)]
    assert changed([Change(MAR, later)], utc(2026, 4, 1), utc(2026, 5, 1)) == [
        Occurrence(APR, APR),
        Occurrence(MAR, later),
    ]
    earlier = utc(2026, 4, 25, 2, 0)  # May's meeting brought forward into April
    assert changed([Change(MAY, earlier)], utc(2026, 4, 1), utc(2026, 5, 1)) == [
        Occurrence(APR, APR),
        Occurrence(MAY, earlier),
    ]


def test_a_cancelled_occurrence_is_left_out_unless_asked_for() -> None:
    assert changed([Change(MAR, None)], FIRST, utc(2026, 4, 1)) == [Occurrence(FIRST, FIRST)]
    assert changed([Change(MAR, None)], FIRST, utc(2026, 4, 1), include_cancelled=True) == [
        Occurrence(FIRST, FIRST),
        Occurrence(MAR, MAR, cancelled=True),
    ]
    assert Change(MAR, None).cancelled


def test_a_change_to_a_time_that_is_not_an_occurrence_is_ignored() -> None:
    not_one = utc(2026, 3, 8, 1, 0)
    assert changed(
        [Change(not_one, utc(2026, 3, 20, 1, 0)), Change(utc(2026, 3, 9, 1), None)],
        FIRST,
        utc(2026, 4, 1),
    ) == [Occurrence(FIRST, FIRST), Occurrence(MAR, MAR)]
