"""The /schedule wizard's tables hold together (kinds, steps, prompts, actions), the labels of
the /schedule and /events buttons fit a small screen, and the wizard's helpers — monthly rules
read off a date and told in words, dates in the Buddhist Era — hold across the turn of the year
(31 December 2569 → 1 January 2570), with storage's clock travelling in time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from bot.i18n.catalog import LANGUAGES, catalogs
from handlers import calendar_keyboard, schedule
from handlers import callback_data as cb
from storage import clock, recurrence
from storage.clock import ManualClock
from storage.recurrence import SATURDAY, THURSDAY, month_day, nth_weekday

BUTTON_KEYS = [
    key
    for key in catalogs().messages["en"]
    if key.startswith(("schedule.button_", "libev.button_", "schedule.kind_"))
]
YALA = ZoneInfo("Asia/Bangkok")
ZONE = "Asia/Bangkok"
# 23:59 on Thursday 31 December 2569 in Yala (16:59 UTC): one minute before the new year.
NEW_YEARS_EVE = datetime(2026, 12, 31, 16, 59, tzinfo=UTC)
C = catalogs()


@pytest.fixture
def manual() -> Iterator[ManualClock]:
    travelling = ManualClock(NEW_YEARS_EVE)
    clock.set_clock(travelling)
    try:
        yield travelling
    finally:
        clock.set_clock(None)


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=YALA).astimezone(UTC)


# --- the tables -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*schedule.KINDS, schedule.MOVE], ids=lambda kind: kind.key)
def test_every_step_of_a_kind_can_be_shown_and_it_ends_with_the_confirmation(
    kind: schedule.Kind,
) -> None:
    assert kind.steps[-1] == schedule.CONFIRM
    assert len(set(kind.steps)) == len(kind.steps)
    assert all(step in schedule._PROMPTS for step in kind.steps)
    assert kind.label_key in catalogs().messages["th"]
    cb.encode(schedule.FLOW, "kind", kind.key)  # fits in button data


def test_both_kinds_ask_whether_they_repeat_and_moving_is_not_offered() -> None:
    assert [kind.key for kind in schedule.KINDS] == ["library", "council"]
    assert all(schedule.REPEAT in kind.steps for kind in schedule.KINDS)
    assert schedule.MOVE not in schedule.KINDS


def test_every_button_action_belongs_to_known_steps() -> None:
    known = set(schedule._PROMPTS)
    for action, (steps, _) in schedule._ACTIONS.items():
        assert steps <= known, action
    assert set(schedule._TYPED) <= known


def test_an_occurrence_fits_in_button_data() -> None:
    far = int(datetime(2099, 12, 31, tzinfo=UTC).timestamp())
    cb.encode(schedule.COUNCILS_FLOW, "cxy", 999_999_999, far)


@pytest.mark.parametrize("language", LANGUAGES)
def test_button_labels_fit_a_small_screen(language: str) -> None:
    assert BUTTON_KEYS, "the flows have buttons"
    too_long = [k for k in BUTTON_KEYS if len(catalogs().text(language, k)) > 32]
    assert too_long == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_longest_repeat_labels_fit_a_small_screen(language: str) -> None:
    labels = [
        schedule.repeat_label(C, language, rule)
        for weekday in range(7)
        for rule in (nth_weekday(2, weekday, time(8)), nth_weekday(-1, weekday, time(8)))
    ] + [schedule.repeat_label(C, language, month_day(23, time(8)))]
    assert max(len(label) for label in labels) <= 32


# --- repeat choices read off a date -----------------------------------------------------------


def test_the_first_saturday_offers_the_first_saturday_and_the_5th() -> None:
    assert schedule.repeat_rules(date(2026, 12, 5), time(8, 0)) == {
        schedule.ONCE: None,
        schedule.NTH: nth_weekday(1, SATURDAY, time(8, 0)),
        schedule.MONTH_DAY: month_day(5, time(8, 0)),
    }


def test_a_fifth_weekday_is_offered_only_as_the_last() -> None:
    choices = schedule.repeat_rules(date(2026, 12, 31), time(18, 0))  # the 5th Thursday
    assert choices == {
        schedule.ONCE: None,
        schedule.LAST: nth_weekday(-1, THURSDAY, time(18, 0)),
        schedule.MONTH_DAY: month_day(31, time(18, 0)),
    }


def test_a_fourth_weekday_that_is_also_the_last_offers_both() -> None:
    choices = schedule.repeat_rules(date(2027, 1, 28), time(9, 0))  # 4th and last Thursday
    assert list(choices) == [schedule.ONCE, schedule.NTH, schedule.LAST, schedule.MONTH_DAY]
    assert choices[schedule.NTH] == nth_weekday(4, THURSDAY, time(9, 0))
    # 24 December 2569 is the 4th Thursday, but not the last (31 December is one too).
    assert schedule.LAST not in schedule.repeat_rules(date(2026, 12, 24), time(9, 0))


# --- rules in words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "thai", "english"),
    [
        (1, "ทุกวันเสาร์แรกของเดือน เวลา 08:00 น.", "the first Saturday of each month at 08:00"),
        (2, "ทุกวันเสาร์ที่สองของเดือน เวลา 08:00 น.", "the second Saturday of each month at 08:00"),
        (3, "ทุกวันเสาร์ที่สามของเดือน เวลา 08:00 น.", "the third Saturday of each month at 08:00"),
        (4, "ทุกวันเสาร์ที่สี่ของเดือน เวลา 08:00 น.", "the fourth Saturday of each month at 08:00"),
        (-1, "ทุกวันเสาร์สุดท้ายของเดือน เวลา 08:00 น.", "the last Saturday of each month at 08:00"),
    ],
)
def test_an_nth_weekday_rule_in_words(n: int, thai: str, english: str) -> None:
    rule = nth_weekday(n, SATURDAY, time(8, 0))
    assert schedule.describe_rule(C, "th", rule) == thai
    assert schedule.describe_rule(C, "en", rule) == english


@pytest.mark.parametrize(
    ("day", "ordinal"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (23, "23rd"), (28, "28th")],
)  # fmt: skip
def test_a_month_day_rule_in_words(day: int, ordinal: str) -> None:
    rule = month_day(day, time(9, 0))
    assert schedule.describe_rule(C, "en", rule) == f"the {ordinal} of each month at 09:00"
    assert schedule.describe_rule(C, "th", rule) == f"ทุกวันที่ {day} ของเดือน เวลา 09:00 น."


@pytest.mark.parametrize("day", [29, 30, 31])
def test_the_29th_to_31st_say_they_fall_on_the_last_day_of_shorter_months(day: int) -> None:
    rule = month_day(day, time(9, 0))
    english = schedule.describe_rule(C, "en", rule)
    assert english.endswith("(in shorter months, the month's last day)")
    assert f"the {day}" in english
    thai = schedule.describe_rule(C, "th", rule)
    assert thai.endswith(f"(เดือนที่ไม่มีวันที่ {day} ใช้วันสุดท้ายของเดือน)")


def test_a_one_off_in_words() -> None:
    first = _utc(date(2027, 1, 1), time(0, 30))  # 17:30 UTC on 31 December 2026
    assert (
        schedule.describe_repeat(C, "th", None, first, YALA)
        == "ครั้งเดียว วันศุกร์ที่ 1 มกราคม พ.ศ. 2570 เวลา 00:30 น."
    )
    assert (
        schedule.describe_repeat(C, "en", None, first, YALA)
        == "once, on Friday 1 January 2027 at 00:30"
    )


# --- time travel across 31 December 2569 → 1 January 2570 -------------------------------------


def test_today_and_the_typed_date_example_turn_to_2570_at_midnight_in_yala(
    manual: ManualClock,
) -> None:
    today = schedule.local_today(YALA)
    assert today == date(2026, 12, 31), "16:59 UTC is 23:59 in Yala"
    assert schedule.long_date_text(C, "th", today) == "วันพฤหัสบดีที่ 31 ธันวาคม พ.ศ. 2569"
    assert calendar_keyboard.date_example("th", today) == "7/1/2570"
    assert calendar_keyboard.date_example("en", today) == "7/1/2027"

    manual.advance(minutes=1)  # 17:00 UTC: still 31 December in UTC, 1 January in Yala
    today = schedule.local_today(YALA)
    assert clock.now().date() == date(2026, 12, 31)
    assert today == date(2027, 1, 1)
    assert schedule.long_date_text(C, "th", today) == "วันศุกร์ที่ 1 มกราคม พ.ศ. 2570"
    assert schedule.long_date_text(C, "en", today) == "Friday 1 January 2027"
    assert calendar_keyboard.date_example("th", today) == "8/1/2570"


def test_the_31st_from_new_years_eve_falls_on_28_february_2570(manual: ManualClock) -> None:
    rule = schedule.repeat_rules(schedule.local_today(YALA), time(18, 0))[schedule.MONTH_DAY]
    assert rule is not None
    first = recurrence.first_start(rule, on_or_after=date(2026, 12, 31), timezone=ZONE)
    assert first == _utc(date(2026, 12, 31), time(18, 0))
    starts = schedule.upcoming_starts(rule, first, ZONE)
    assert [schedule.when_text(C, "th", start, YALA) for start in starts] == [
        "วันพฤหัสบดีที่ 31 ธันวาคม พ.ศ. 2569 เวลา 18:00 น.",
        "วันอาทิตย์ที่ 31 มกราคม พ.ศ. 2570 เวลา 18:00 น.",
        "วันอาทิตย์ที่ 28 กุมภาพันธ์ พ.ศ. 2570 เวลา 18:00 น.",
    ]
    assert schedule.when_text(C, "en", starts[2], YALA) == "Sunday 28 February 2027, 18:00"


def test_the_last_thursday_from_new_years_eve(manual: ManualClock) -> None:
    rule = schedule.repeat_rules(schedule.local_today(YALA), time(18, 0))[schedule.LAST]
    assert rule is not None
    first = recurrence.first_start(rule, on_or_after=schedule.local_today(YALA), timezone=ZONE)
    starts = schedule.upcoming_starts(rule, first, ZONE)
    assert [start.astimezone(YALA).date() for start in starts] == [
        date(2026, 12, 31),
        date(2027, 1, 28),
        date(2027, 2, 25),
    ]


def test_a_meeting_just_after_midnight_shows_the_new_years_local_date(
    manual: ManualClock,
) -> None:
    """00:30 on 1 January 2570 in Yala is still 31 December in UTC: the local date is shown."""
    manual.advance(minutes=2)
    today = schedule.local_today(YALA)
    rule = schedule.repeat_rules(today, time(0, 30))[schedule.NTH]  # the first Friday
    assert rule == nth_weekday(1, 4, time(0, 30))
    first = recurrence.first_start(rule, on_or_after=today, timezone=ZONE)
    assert first == datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert first > clock.now(), "still ahead of the clock"
    starts = schedule.upcoming_starts(rule, first, ZONE)
    assert [schedule.when_text(C, "th", start, YALA) for start in starts] == [
        "วันศุกร์ที่ 1 มกราคม พ.ศ. 2570 เวลา 00:30 น.",
        "วันศุกร์ที่ 5 กุมภาพันธ์ พ.ศ. 2570 เวลา 00:30 น.",
        "วันศุกร์ที่ 5 มีนาคม พ.ศ. 2570 เวลา 00:30 น.",
    ]
    assert schedule.describe_rule(C, "th", rule) == "ทุกวันศุกร์แรกของเดือน เวลา 00:30 น."


def test_a_one_off_has_one_start() -> None:
    first = _utc(date(2026, 12, 31), time(23, 0))
    assert schedule.upcoming_starts(None, first, ZONE) == [first]


def test_a_rule_gives_as_many_starts_as_asked_from_its_first() -> None:
    rule = month_day(5, time(8, 0))
    first = _utc(date(2026, 12, 5), time(8, 0))
    starts = schedule.upcoming_starts(rule, first, ZONE, count=13)
    assert len(starts) == 13 and starts[0] == first
    assert starts[-1] == _utc(date(2027, 12, 5), time(8, 0))
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert min(gaps) >= timedelta(days=28)
