"""Dates as people read them: Buddhist Era and Thai months; English with Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.i18n.dates import buddhist_year, format_date, format_datetime, format_time

BANGKOK = ZoneInfo("Asia/Bangkok")


def test_buddhist_era_is_543_years_ahead() -> None:
    assert buddhist_year(2026) == 2569


def test_thai_dates_use_thai_months_and_the_buddhist_era() -> None:
    assert format_date(date(2026, 12, 5), "th") == "5 ธันวาคม 2569"
    assert format_date(date(2026, 12, 5), "th", "short") == "5 ธ.ค. 2569"


def test_english_dates() -> None:
    assert format_date(date(2026, 12, 5), "en") == "5 December 2026"
    assert format_date(date(2026, 12, 5), "en", "short") == "5 Dec 2026"


def test_times_use_the_24_hour_clock() -> None:
    assert format_time(time(8, 0), "th") == "08:00 น."
    assert format_time(time(20, 5), "en") == "20:05"


def test_a_stored_utc_moment_is_shown_in_the_city_time_zone() -> None:
    moment = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
    assert format_datetime(moment, "en", BANGKOK) == "Sat 5 Dec 2026, 08:00"
    assert format_datetime(moment, "th", BANGKOK) == "เสาร์ 5 ธ.ค. 2569, 08:00 น."


def test_the_date_can_change_across_the_time_zone() -> None:
    moment = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # already 1 January in Bangkok
    assert format_datetime(moment, "th", BANGKOK).startswith("ศุกร์ 1 ม.ค. 2570")
