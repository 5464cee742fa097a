"""When reminders fire: lead times, quiet hours (21:00–07:00 in Yala), zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.planning import (
    DEFAULT_LEADS,
    QuietHours,
    due_reminders,
    parse_quiet_hours,
    reminder_time,
)

BANGKOK = ZoneInfo("Asia/Bangkok")
TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(21), time(7))
NONE = QuietHours(time(0), time(0))
HOUR = timedelta(hours=1)


def bkk(day: int, hour: int, minute: int = 0) -> datetime:
    """A Bangkok wall-clock time in March 2025."""
    return datetime(2025, 3, day, hour, minute, tzinfo=BANGKOK)


def planned(fire: datetime, event: datetime, quiet: QuietHours = NIGHT) -> datetime:
    """Where a reminder meant for `fire` before `event` ends up, shown in Bangkok time."""
    at = reminder_time(event.astimezone(UTC), event - fire, quiet=quiet, tz=BANGKOK)
    assert at is not None
    assert at.utcoffset() == timedelta(0)
    return at.astimezone(BANGKOK)


# --- quiet hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59, 59), True),
        (time(0, 0), True),
        (time(6, 59, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
    ],
)
def test_a_window_across_midnight_includes_its_start_and_excludes_its_end(
    clock: time, quiet: bool
) -> None:
    assert NIGHT.contains(datetime.combine(bkk(10, 0).date(), clock, BANGKOK)) is quiet


def test_a_window_within_one_day() -> None:
    lunch = QuietHours(time(12), time(13))
    assert not lunch.contains(bkk(10, 11, 59))
    assert lunch.contains(bkk(10, 12)) and lunch.contains(bkk(10, 12, 59))
    assert not lunch.contains(bkk(10, 13))
    assert lunch.end_after(bkk(10, 12, 30)) == bkk(10, 13)


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    assert NONE.empty and not NIGHT.empty
    assert not any(NONE.contains(bkk(10, hour)) for hour in range(24))


def test_the_end_of_an_evening_quiet_period_is_the_next_morning() -> None:
    assert NIGHT.end_after(bkk(9, 23, 30)) == bkk(10, 7)
    assert NIGHT.end_after(bkk(9, 21)) == bkk(10, 7)


def test_the_end_of_an_early_morning_quiet_period_is_the_same_morning() -> None:
    assert NIGHT.end_after(bkk(10, 2)) == bkk(10, 7)
    assert NIGHT.end_after(bkk(10, 0)) == bkk(10, 7)


def test_the_end_is_in_the_zone_of_the_time_given() -> None:
    end = NIGHT.end_after(datetime(2025, 3, 10, 2, tzinfo=TOKYO))
    assert end == datetime(2025, 3, 10, 7, tzinfo=TOKYO)
    assert end.tzinfo is TOKYO


def test_end_after_refuses_a_time_outside_quiet_hours_or_without_zone() -> None:
    with pytest.raises(ValueError, match="not in quiet hours"):
        NIGHT.end_after(bkk(10, 12))
    with pytest.raises(ValueError, match="aware"):
        NIGHT.end_after(datetime(2025, 3, 10, 2))


def test_quiet_hours_are_wall_clock_times_without_a_zone() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        QuietHours(time(21, tzinfo=UTC), time(7))


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("21:00-07:00", time(21), time(7)),
        ("21:00–07:00", time(21), time(7)),  # en dash
        (" 21:00 - 07:00 ", time(21), time(7)),
        ("7:30-9:05", time(7, 30), time(9, 5)),
        ("00:00-00:00", time(0), time(0)),
        ("๒๑:๐๐-๐๗:๐๐", time(21), time(7)),  # Thai digits
    ],
)
def test_parse_quiet_hours(text: str, start: time, end: time) -> None:
    assert parse_quiet_hours(text) == QuietHours(start, end)


@pytest.mark.parametrize(
    "text", ["", "21-07", "21:00", "21:00/07:00", "21:00—07:00", "21:00-07:00-08:00", "9pm-7am"]
)
def test_parse_quiet_hours_explains_the_expected_shape(text: str) -> None:
    with pytest.raises(ValueError, match=r"must look like 21:00-07:00"):
        parse_quiet_hours(text)


@pytest.mark.parametrize("text", ["24:00-07:00", "21:00-07:60", "99:99-00:00"])
def test_parse_quiet_hours_refuses_impossible_times(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day"):
        parse_quiet_hours(text)


# --- reminder_time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meant", "fires"),
    [
        (bkk(9, 20, 59), bkk(9, 20, 59)),  # just before quiet hours: stays
        (bkk(9, 21, 0), bkk(10, 7, 0)),  # first quiet minute: next morning
        (bkk(9, 23, 30), bkk(10, 7, 0)),  # before midnight: next day's morning
        (bkk(10, 2, 0), bkk(10, 7, 0)),  # after midnight: the same morning
        (bkk(10, 6, 59), bkk(10, 7, 0)),
        (bkk(10, 7, 0), bkk(10, 7, 0)),  # quiet hours are over: stays
        (bkk(10, 9, 0), bkk(10, 9, 0)),
    ],
)
def test_a_reminder_in_quiet_hours_moves_to_their_end(meant: datetime, fires: datetime) -> None:
    assert planned(meant, event=bkk(10, 12)) == fires


def test_a_reminder_stays_in_quiet_hours_rather_than_fire_after_the_event() -> None:
    assert planned(bkk(10, 5, 30), event=bkk(10, 6, 30)) == bkk(10, 5, 30)
    assert planned(bkk(9, 22), event=bkk(9, 23)) == bkk(9, 22)


def test_a_reminder_is_not_moved_to_the_very_moment_the_event_starts() -> None:
    assert planned(bkk(10, 6), event=bkk(10, 7)) == bkk(10, 6)
    assert planned(bkk(10, 6, 1), event=bkk(10, 7, 1)) == bkk(10, 7)


def test_without_quiet_hours_a_reminder_fires_exactly_lead_before() -> None:
    assert planned(bkk(10, 3), event=bkk(10, 4), quiet=NONE) == bkk(10, 3)


def test_the_defaults_are_a_day_and_an_hour_before() -> None:
    assert DEFAULT_LEADS == (timedelta(hours=24), HOUR)
    event = bkk(10, 12).astimezone(UTC)
    assert [reminder_time(event, lead, quiet=NIGHT, tz=BANGKOK) for lead in DEFAULT_LEADS] == [
        bkk(9, 12),
        bkk(10, 11),
    ]


def test_a_lead_longer_than_the_time_left_still_gives_its_past_time() -> None:
    event = datetime.now(UTC) + timedelta(minutes=30)
    assert reminder_time(event, HOUR, quiet=NONE, tz=BANGKOK) == event - HOUR


@pytest.mark.parametrize("lead", [timedelta(0), -HOUR])
def test_no_reminder_without_a_positive_lead(lead: timedelta) -> None:
    assert reminder_time(bkk(10, 12), lead, quiet=NIGHT, tz=BANGKOK) is None


def test_the_result_is_utc_whatever_the_zone_of_the_event_time() -> None:
    at = reminder_time(bkk(10, 12), HOUR, quiet=NIGHT, tz=BANGKOK)
    assert at == datetime(2025, 3, 10, 4, tzinfo=UTC)
    assert at is not None and at.tzinfo is UTC


def test_a_naive_event_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        reminder_time(datetime(2025, 3, 10, 12), HOUR, quiet=NIGHT, tz=BANGKOK)


def test_quiet_hours_are_judged_in_the_city_zone() -> None:
    event = datetime(2025, 3, 10, 2, 30, tzinfo=UTC)
    # 23:30 UTC is 06:30 in Bangkok (quiet) but 08:30 in Tokyo (awake).
    assert reminder_time(event, 3 * HOUR, quiet=NIGHT, tz=BANGKOK) == datetime(
        2025, 3, 10, 0, 0, tzinfo=UTC
    )  # 07:00 in Bangkok
    assert reminder_time(event, 3 * HOUR, quiet=NIGHT, tz=TOKYO) == datetime(
        2025, 3, 9, 23, 30, tzinfo=UTC
    )
    # 21:00 UTC is 06:00 in Tokyo: moved to 07:00 Tokyo time.
    assert reminder_time(event, 5.5 * HOUR, quiet=NIGHT, tz=TOKYO) == datetime(
        2025, 3, 9, 22, 0, tzinfo=UTC
    )


# --- DST (Europe/Berlin: 30 March 2025, 02:00 CET -> 03:00 CEST; 26 October, back) ------------


def test_quiet_hours_end_on_the_wall_clock_on_a_spring_forward_night() -> None:
    event = datetime(2025, 3, 30, 10, tzinfo=BERLIN)  # 08:00 UTC
    at = reminder_time(event, timedelta(hours=7, minutes=30), quiet=NIGHT, tz=BERLIN)
    assert at == datetime(2025, 3, 30, 5, tzinfo=UTC)  # 01:30 CET moved to 07:00 CEST
    assert at is not None and at.astimezone(BERLIN).hour == 7


def test_quiet_hours_ending_at_a_skipped_time_end_at_the_jump() -> None:
    small_hours = QuietHours(time(1), time(2, 30))  # 02:30 does not happen that night
    end = small_hours.end_after(datetime(2025, 3, 30, 1, 30, tzinfo=BERLIN))
    assert end == datetime(2025, 3, 30, 1, tzinfo=UTC)  # 03:00 CEST, the first minute awake
    assert (end.hour, end.minute, end.utcoffset()) == (3, 0, 2 * HOUR)


def test_quiet_hours_ending_at_a_repeated_time_end_at_the_next_reading() -> None:
    small_hours = QuietHours(time(1), time(2, 30))  # 02:00-03:00 happens twice
    first_pass = datetime(2025, 10, 26, 1, 30, tzinfo=BERLIN)  # CEST
    second_pass = datetime(2025, 10, 26, 2, 10, fold=1, tzinfo=BERLIN)  # CET, clocks went back
    # (Compared in UTC: a repeated wall time never compares equal across zones.)
    ends = [small_hours.end_after(when) for when in (first_pass, second_pass)]
    assert [end.astimezone(UTC) for end in ends] == [
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # 02:30 CEST
        datetime(2025, 10, 26, 1, 30, tzinfo=UTC),  # 02:30 CET, an hour later
    ]
    assert [(end.hour, end.minute) for end in ends] == [(2, 30), (2, 30)]


def test_a_day_ahead_across_dst_is_24_real_hours() -> None:
    event = datetime(2025, 3, 30, 20, tzinfo=BERLIN)  # CEST
    at = reminder_time(event, timedelta(hours=24), quiet=NIGHT, tz=BERLIN)
    assert at == event.astimezone(UTC) - timedelta(hours=24)
    assert at is not None and at.astimezone(BERLIN).hour == 19  # 19:00 CET the day before


# --- due_reminders -------------------------------------------------------------------------


def local_plan(event: datetime, leads: list[timedelta]) -> list[tuple[timedelta, datetime]]:
    plan = due_reminders(event.astimezone(UTC), leads, quiet=NIGHT, tz=BANGKOK)
    return [(lead, at.astimezone(BANGKOK)) for lead, at in plan]


def test_due_reminders_pairs_each_lead_with_its_time_in_firing_order() -> None:
    assert local_plan(bkk(10, 12), [HOUR, timedelta(hours=24)]) == [
        (timedelta(hours=24), bkk(9, 12)),
        (HOUR, bkk(10, 11)),
    ]


def test_due_reminders_for_a_late_evening_event() -> None:
    # 24 h before 22:00 is quiet: moved to 07:00 that morning. 1 h before is quiet too, but its
    # end (07:00 next day) is after the event, so it stays at 21:00.
    assert local_plan(bkk(10, 22), list(DEFAULT_LEADS)) == [
        (timedelta(hours=24), bkk(10, 7)),
        (HOUR, bkk(10, 21)),
    ]


def test_leads_pushed_to_the_same_moment_keep_only_the_shortest() -> None:
    leads = [2 * HOUR, timedelta(minutes=30), 3 * HOUR, HOUR]
    # 05:00, 06:00 and 07:00 all fire at 07:00; the 1 h lead is the one kept.
    assert local_plan(bkk(10, 8), leads) == [
        (HOUR, bkk(10, 7)),
        (timedelta(minutes=30), bkk(10, 7, 30)),
    ]


def test_due_reminders_skips_leads_without_a_time_and_repeated_leads() -> None:
    assert local_plan(bkk(10, 12), [timedelta(0), -HOUR, HOUR, HOUR]) == [(HOUR, bkk(10, 11))]
    assert local_plan(bkk(10, 12), []) == []
