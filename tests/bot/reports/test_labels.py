"""Keys named in the officer's language: months and periods in the Buddhist Era for Thai."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.reports.labels import Namer
from storage.summary import Label, Period, Suppressed


def _period(kind: str, first: date | None, last: date | None, text: str = "x") -> Period:
    return Period(
        text=text,
        kind=kind,  # type: ignore[arg-type]
        tz="Asia/Bangkok",
        start=datetime(2026, 1, 1, tzinfo=UTC) if first else None,
        end=datetime(2026, 2, 1, tzinfo=UTC) if last else None,
        first_day=first,
        last_day=last,
    )


def test_months(th: Namer, en: Namer) -> None:
    assert th.month("2026-11") == "พ.ย. 2569"
    assert en.month("2026-11") == "Nov 2026"
    assert th.month_long(2026, 12) == "ธันวาคม 2569"


def test_periods(th: Namer, en: Namer) -> None:
    month = _period("month", date(2026, 11, 1), date(2026, 11, 30))
    assert th.period(month) == "พฤศจิกายน 2569 (1 พ.ย. 2569 – 30 พ.ย. 2569)"
    assert en.period(month) == "November 2026 (1 Nov 2026 – 30 Nov 2026)"
    year = _period("year", date(2026, 1, 1), date(2026, 12, 31))
    assert th.period(year) == "ปี 2569 (1 ม.ค. 2569 – 31 ธ.ค. 2569)"
    days = _period("last-days", date(2026, 9, 1), date(2026, 11, 29))
    assert en.period(days) == "Last 90 days (1 Sep 2026 – 29 Nov 2026)"
    assert th.period(_period("all", None, None)) == "ข้อมูลทั้งหมด"


def test_keys_of_each_dimension(th: Namer, en: Namer) -> None:
    assert th.label("needs_by_age_band", 1, Label("60+", {})) == "60 ปีขึ้นไป"
    assert th.label("needs_by_district", 1, Label("betong", {})) == "เบตง"
    assert en.label("loans", 1, Label("_none", {})) == "No district given"
    assert en.label("needs_by_language", 1, Label("ms", {})) == "Malay"
    assert en.label("needs_by_language", 1, Label("xx", {})) == "xx"  # unknown: the key itself
    assert th.label("rsvps", 0, Label("2026-01", {})) == "ม.ค. 2569"
    assert en.label("needs_by_topic", 0, Label("t", {"th": "ไทย", "en": "Thai"})) == "Thai"
    assert en.label("needs_by_district", 1, Label("somewhere-new", {})) == "somewhere-new"


def test_numbers(en: Namer) -> None:
    assert en.cell(1234) == "1,234"
    assert en.cell(Suppressed("complementary")) == "<5"
    assert en.cell(None) == "–"
    assert en.share(0.456) == "46%"
    assert en.share(0.012) == "1.2%"
    assert en.mean(Suppressed("small")) == "<5"
    assert en.mean(4.25) == "4.2"
