"""Calendar files: they parse back, show Bangkok times, keep Thai text and stable uids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, vGeo

from bot.ics import IcsEvent, calendar_file

BANGKOK = ZoneInfo("Asia/Bangkok")
STAMP = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
# 08:00–08:30 in Yala, given in UTC as storage keeps it.
LOAN = IcsEvent(
    uid="loan-17@learncity",
    title="ห้องสมุดมนุษย์: เรื่องเล่าจากสวนยาง",
    starts_at=datetime(2026, 12, 5, 1, 0, tzinfo=UTC),
    ends_at=datetime(2026, 12, 5, 1, 30, tzinfo=UTC),
    place="ศูนย์การเรียนรู้เทศบาลนครยะลา",
    latitude=6.5411,
    longitude=101.2804,
    description="กรุณามาก่อนเวลา 10 นาที\nขอบคุณที่ร่วมกิจกรรม; ยินดีต้อนรับ, ทุกคน",
    url="https://t.me/learncity_bot?start=loan-17",
)


def _parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_the_file_parses_back_with_the_calendar_headers() -> None:
    calendar = _parse(calendar_file([LOAN], timezone="Asia/Bangkok", stamp=STAMP))
    assert str(calendar["VERSION"]) == "2.0"
    assert "learncity" in str(calendar["PRODID"])
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.events
    assert str(event["UID"]) == "loan-17@learncity"
    assert event.DTSTAMP == STAMP
    assert str(event["URL"]) == LOAN.url


def test_times_are_local_to_bangkok_with_a_vtimezone() -> None:
    data = calendar_file([LOAN], timezone="Asia/Bangkok", stamp=STAMP)
    assert b"DTSTART;TZID=Asia/Bangkok:20261205T080000" in data
    assert b"DTEND;TZID=Asia/Bangkok:20261205T083000" in data
    calendar = _parse(data)
    assert [tz.tz_name for tz in calendar.timezones] == ["Asia/Bangkok"]
    assert calendar.get_missing_tzids() == set()
    [event] = calendar.events
    start = event.start
    assert isinstance(start, datetime)
    assert start.utcoffset() == timedelta(hours=7)
    assert (start.hour, start.minute) == (8, 0)
    assert start == LOAN.starts_at and event.end == LOAN.ends_at


def test_thai_text_round_trips_even_when_lines_are_folded() -> None:
    long_title = "ห้องสมุดมนุษย์ " * 12  # folded over several 75-octet lines
    event = IcsEvent(
        uid="u1", title=long_title.strip(), starts_at=LOAN.starts_at, ends_at=LOAN.ends_at,
        place=LOAN.place, description=LOAN.description,
    )  # fmt: skip
    data = calendar_file([event], timezone="Asia/Bangkok", stamp=STAMP)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    [parsed] = _parse(data).events
    assert str(parsed["SUMMARY"]) == long_title.strip()
    assert str(parsed["LOCATION"]) == LOAN.place
    assert str(parsed["DESCRIPTION"]) == LOAN.description


def test_geo_is_written_only_when_the_place_has_coordinates() -> None:
    with_geo = _parse(calendar_file([LOAN], timezone="Asia/Bangkok", stamp=STAMP)).events[0]
    geo = with_geo["GEO"]
    assert isinstance(geo, vGeo)
    assert (geo.latitude, geo.longitude) == (6.5411, 101.2804)
    plain = IcsEvent(uid="u2", title="สภากาแฟ", starts_at=LOAN.starts_at, ends_at=LOAN.ends_at)
    [event] = _parse(calendar_file([plain], timezone="Asia/Bangkok", stamp=STAMP)).events
    assert "GEO" not in event and "URL" not in event and "LOCATION" not in event


def test_the_same_events_give_the_same_bytes() -> None:
    first = calendar_file([LOAN], timezone="Asia/Bangkok", stamp=STAMP)
    assert calendar_file([LOAN], timezone="Asia/Bangkok", stamp=STAMP) == first


def test_several_events_share_one_vtimezone() -> None:
    later = IcsEvent(
        uid="loan-18@learncity", title="Reading", starts_at=LOAN.starts_at + timedelta(days=400),
        ends_at=LOAN.ends_at + timedelta(days=400),
    )  # fmt: skip
    calendar = _parse(calendar_file([LOAN, later], timezone="Asia/Bangkok", stamp=STAMP))
    assert len(calendar.timezones) == 1
    assert [str(e["UID"]) for e in calendar.events] == ["loan-17@learncity", "loan-18@learncity"]


def test_a_zone_with_daylight_saving_gets_its_rules() -> None:
    summer = IcsEvent(
        uid="u3", title="Call", starts_at=datetime(2026, 7, 1, 8, tzinfo=UTC),
        ends_at=datetime(2026, 7, 1, 9, tzinfo=UTC),
    )  # fmt: skip
    data = calendar_file([summer], timezone="Europe/Berlin", stamp=STAMP)
    assert b"DTSTART;TZID=Europe/Berlin:20260701T100000" in data
    assert b"BEGIN:DAYLIGHT" in data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uid": " "}, "uid"),
        ({"title": ""}, "title"),
        ({"starts_at": datetime(2026, 12, 5, 8)}, "timezone-aware"),
        ({"ends_at": LOAN.starts_at}, "end after"),
        ({"longitude": None}, "both"),
        ({"latitude": 91.0}, "latitude"),
    ],
)
def test_bad_events_are_refused(change: dict[str, object], message: str) -> None:
    fields = {name: getattr(LOAN, name) for name in LOAN.__dataclass_fields__}
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        IcsEvent(**fields)


def test_bad_calendars_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        calendar_file([], timezone="Asia/Bangkok")
    with pytest.raises(ValueError, match="own uid"):
        calendar_file([LOAN, LOAN], timezone="Asia/Bangkok")
    with pytest.raises(ValueError, match="unknown timezone"):
        calendar_file([LOAN], timezone="Asia/Nowhere")
