"""Officers' summaries on a hand-built dataset: every number below is counted by hand.

Thirteen citizens answer a small survey (four topics) around November 2026 in Yala; one of
them withdraws consent. The tables in the comments are the expected counts before
suppression; "S" is a small cell (<5), "C" a complementary one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from storage import need_picks
from storage.citizens import set_consent, set_district
from storage.clock import ManualClock
from storage.database import Database
from storage.enums import AgeBand, Language, Purpose, RsvpAnswer
from storage.models import (
    CouncilAgendaItem,
    CouncilAttendance,
    CouncilMeeting,
    CouncilRsvp,
    LibraryBook,
    LibraryBookCategory,
    LibraryEvent,
    LibraryEventBook,
    LibraryReservation,
    NeedPick,
    Series,
    SurveyAnswer,
)
from storage.summary import (
    NO_DISTRICT,
    FeedbackLine,
    InvalidPeriod,
    Label,
    MonthActivity,
    Summary,
    Suppressed,
    Table,
    Theme,
    build_summary,
    parse_period,
    period_months,
    summarize,
)
from storage.surveys import SurveyView, add_free_text, import_survey, parse_survey_file
from storage.surveys import survey_view as view_of
from tests.storage.factories import registered

S = Suppressed("small")
C = Suppressed("complementary")
TZ = "Asia/Bangkok"
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 12:00 on 1 December 2569 in Yala
NOV_FIRST_SECOND = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 00:00:00, 1 November
OCT_LAST_SECOND = NOV_FIRST_SECOND - timedelta(seconds=1)  # 23:59:59, 31 October
NOV_LAST_SECOND = datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)  # 23:59:59, 30 November
MID_NOVEMBER = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
DISTRICTS = ["mueang-yala", "betong", "kabang"]
TOPICS = ["digital", "languages", "health", "money"]
AGES = ["10-14", "15-19", "20-34", "35-49", "50-59", "60+"]

SURVEY: dict[str, Any] = {
    "key": "summary_test",
    "title": {"th": "สำรวจ", "en": "Survey"},
    "categories": [
        {
            "key": key,
            "name": {"th": f"หัวข้อ {key}", "en": key.title()},
            "unesco_feature": feature,
            "sdgs": sdgs,
        }
        for key, feature, sdgs in (
            ("digital", "learning_technologies", [4, 9]),
            ("languages", "inclusive_learning", [4, 10]),
            ("health", "families_communities", [3]),
            ("money", "workplace", [1, 8]),
        )
    ],
    "questions": [
        {
            "key": "topics",
            "multiple": True,
            "text": {"th": "หัวข้อ", "en": "Topics"},
            "options": [
                {"key": key, "category": key, "label": {"th": key, "en": key}} for key in TOPICS
            ],
        },
        {
            "key": "digital_topics",
            "multiple": True,
            "text": {"th": "ดิจิทัล", "en": "Digital"},
            "options": [
                {"key": "phone", "category": "digital", "label": {"th": "โทรศัพท์", "en": "Phone"}},
                {"key": "safety", "category": "digital", "label": {"th": "ปลอดภัย", "en": "Safe"}},
                {"key": "not_for_me", "label": {"th": "ไม่สนใจ", "en": "Not for me"}},
            ],
        },
        {
            "key": "format",
            "text": {"th": "รูปแบบ", "en": "Format"},
            "options": [
                {"key": "class", "label": {"th": "ห้องเรียน", "en": "Class"}},
                {"key": "online", "label": {"th": "ออนไลน์", "en": "Online"}},
            ],
        },
    ],
}

# telegram id: (age band, district, language)
PEOPLE: dict[int, tuple[AgeBand, str | None, Language]] = {
    101: (AgeBand.age_20_34, "mueang-yala", "th"),
    102: (AgeBand.age_20_34, "mueang-yala", "th"),
    103: (AgeBand.age_20_34, "mueang-yala", "th"),
    104: (AgeBand.age_20_34, "mueang-yala", "th"),
    105: (AgeBand.age_20_34, "mueang-yala", "th"),
    106: (AgeBand.age_20_34, "mueang-yala", "th"),
    107: (AgeBand.age_20_34, "betong", "th"),
    108: (AgeBand.age_35_49, "betong", "th"),
    109: (AgeBand.age_35_49, "betong", "th"),
    110: (AgeBand.age_35_49, None, "en"),
    111: (AgeBand.age_35_49, None, "en"),
    112: (AgeBand.age_35_49, None, "en"),
    113: (AgeBand.age_50_59, "kabang", "th"),  # withdraws consent to the needs survey
}
# (telegram id, question key, options, answered at)
ANSWERS: list[tuple[int, str, list[str], datetime]] = [
    (101, "topics", ["digital", "languages"], MID_NOVEMBER),
    (102, "topics", ["digital", "languages"], MID_NOVEMBER),
    (103, "topics", ["digital", "health"], MID_NOVEMBER),
    (104, "topics", ["digital"], MID_NOVEMBER),
    (105, "topics", ["digital", "languages"], MID_NOVEMBER),
    (106, "topics", ["languages", "health"], MID_NOVEMBER),
    (107, "topics", ["digital"], MID_NOVEMBER),
    (108, "topics", ["digital", "health"], MID_NOVEMBER),
    (109, "topics", ["languages"], MID_NOVEMBER),
    (110, "topics", ["digital", "languages", "health"], NOV_LAST_SECOND),
    (111, "topics", ["digital"], NOV_FIRST_SECOND),
    (112, "topics", ["languages"], OCT_LAST_SECOND),  # October in Yala
    (113, "topics", ["digital", "money"], MID_NOVEMBER),
    (104, "digital_topics", ["phone"], MID_NOVEMBER),  # digital twice: one person
    (106, "digital_topics", ["safety"], MID_NOVEMBER),  # digital only here
    (109, "digital_topics", ["not_for_me"], MID_NOVEMBER),  # no category
    (101, "format", ["class"], MID_NOVEMBER),
    (102, "format", ["online"], MID_NOVEMBER),
]
FREE_TEXTS: list[tuple[int, str]] = [
    (101, "I want to learn batik painting"),
    (102, "Batik for my shop"),
    (103, "batik, batik!"),
    (104, "Batik and coding"),
    (105, "batik patterns"),
    (106, "coding club"),
    (107, "coding"),
    (108, "coding for kids"),
    (108, "more coding please"),
    (113, "coding"),  # withdrawn later: does not count
]


@pytest.fixture
async def dataset(db: Database, clock: ManualClock) -> Database:
    """The hand-built dataset, with the clock standing at NOW."""
    clock.set(datetime(2026, 10, 1, tzinfo=UTC))
    for telegram_user_id, (age_band, district, language) in PEOPLE.items():
        await registered(
            db, telegram_user_id, age_band=age_band, district=district, language=language
        )
    async with db.session() as session:
        survey = await import_survey(parse_survey_file(SURVEY), session=session)
        assert survey.id is not None
        view = await view_of(survey.id, session=session)
    assert view is not None
    await _answers(db, view)
    clock.set(datetime(2026, 11, 15, 3, 0, tzinfo=UTC))
    async with db.session() as session:
        for telegram_user_id, text in FREE_TEXTS:
            await add_free_text(telegram_user_id, text, "en", survey_id=None, session=session)
        await set_consent(113, Purpose.needs_survey, False, session=session)
    await _library_and_council(db)
    clock.set(NOW)
    return db


async def _answers(db: Database, view: SurveyView) -> None:
    questions = {question.key: question for question in view.questions}
    ids = await _citizen_ids(db)
    async with db.session() as session:
        for telegram_user_id, key, options, at in ANSWERS:
            order = questions[key].option_keys
            session.add(
                SurveyAnswer(
                    question_id=questions[key].id,
                    citizen_id=ids[telegram_user_id],
                    option_keys=sorted(options, key=order.index),
                    language=PEOPLE[telegram_user_id][2],
                    answered_at=at,
                    updated_at=at,
                )
            )


async def _citizen_ids(db: Database) -> dict[int, int]:
    from sqlmodel import select

    from storage.models import Citizen

    async with db.session() as session:
        rows = (await session.exec(select(Citizen.telegram_user_id, Citizen.id))).all()
    return {telegram_user_id: citizen_id for telegram_user_id, citizen_id in rows if citizen_id}


async def _library_and_council(db: Database) -> None:
    """One listed book on languages (and an unlisted one on money), one event held in
    November with six loans (five rated), a cancelled one; a council meeting in November
    with seven "yes", one "no", five present, and an agenda item on health."""
    created = datetime(2026, 10, 1, tzinfo=UTC)
    event_at = datetime(2026, 11, 14, 2, 0, tzinfo=UTC)  # Saturday 09:00
    meeting_at = datetime(2026, 11, 7, 1, 0, tzinfo=UTC)  # Saturday 08:00
    names = {"th": "หนังสือ", "en": "Book"}
    async with db.session() as session:
        listed = LibraryBook(
            title=names,
            blurb=names,
            tags=["t"],
            languages=["th"],
            telegram_user_id=900,
            linked_at=created,
            consented_at=created,
            created_by=7,
        )
        unlisted = LibraryBook(title=names, blurb=names, tags=["t"], languages=["th"], created_by=7)
        held = LibraryEvent(starts_at=event_at, place_text="ห้องสมุด", slots_per_book=8, created_by=7)
        cancelled = LibraryEvent(
            starts_at=event_at + timedelta(days=7),
            place_text="ห้องสมุด",
            slots_per_book=8,
            created_by=7,
            cancelled_at=event_at,
        )
        series = Series(
            kind="council",
            title=names,
            place_text="ร้านกาแฟ",
            local_time="08:00",
            timezone=TZ,
            first_start=meeting_at,
            duration_minutes=120,
            created_by=7,
        )
        session.add_all([listed, unlisted, held, cancelled, series])
        await session.flush()
        assert listed.id and unlisted.id and held.id and cancelled.id and series.id
        meeting = CouncilMeeting(
            series_id=series.id,
            original_start=meeting_at,
            starts_at=meeting_at,
            ends_at=meeting_at + timedelta(hours=2),
            title=names,
            place_text="ร้านกาแฟ",
        )
        session.add(meeting)
        session.add_all(
            [
                LibraryBookCategory(book_id=listed.id, category_key="languages"),
                LibraryBookCategory(book_id=unlisted.id, category_key="money"),
                LibraryEventBook(event_id=held.id, book_id=listed.id),
                LibraryEventBook(event_id=cancelled.id, book_id=listed.id),
            ]
        )
        await session.flush()
        assert meeting.id is not None
        ratings = {101: 4, 102: 5, 103: 5, 104: 3, 105: 4, 106: None}
        for slot, (reader, rating) in enumerate(ratings.items()):
            session.add(_loan(held.id, listed.id, reader, slot, "reserved", rating))
        session.add(_loan(held.id, listed.id, 107, None, "cancelled", None))
        session.add(_loan(cancelled.id, listed.id, 108, None, "released", None))
        for reader in range(101, 108):
            session.add(_rsvp(meeting.id, reader, RsvpAnswer.yes))
        session.add(_rsvp(meeting.id, 108, RsvpAnswer.no))
        for reader in range(101, 106):
            session.add(
                CouncilAttendance(
                    meeting_id=meeting.id, telegram_user_id=reader, checked_in_at=meeting_at
                )
            )
        for position, category in enumerate(("health", None)):
            session.add(
                CouncilAgendaItem(
                    meeting_id=meeting.id,
                    position=position,
                    label=names,
                    category_key=category,
                    source="manual",
                )
            )


def _loan(
    event_id: int, book_id: int, reader: int, slot: int | None, status: str, rating: int | None
) -> LibraryReservation:
    return LibraryReservation(
        event_id=event_id,
        book_id=book_id,
        telegram_user_id=reader,
        reader_name=f"Reader {reader}",
        language="th",
        status=status,  # type: ignore[arg-type]
        slot_index=slot,
        seat=None if slot is None else 0,
        press_order=reader,
        feedback_rating=rating,
    )


def _rsvp(meeting_id: int, reader: int, answer: RsvpAnswer) -> CouncilRsvp:
    return CouncilRsvp(meeting_id=meeting_id, telegram_user_id=reader, answer=answer, language="th")


async def summary_of(db: Database, text: str = "2026-11", **kwargs: Any) -> Summary:
    async with db.session() as session:
        return await build_summary(
            parse_period(text, now=NOW, tz=TZ), session=session, districts=DISTRICTS, **kwargs
        )


def grid(table: Table) -> list[list[object]]:
    return [list(row) for row in table.cells]


# --- the hand-computed summary of November 2569 ---------------------------------------------


async def test_totals_topics_and_shares(dataset: Database) -> None:
    summary = await summary_of(dataset)
    # 112 answered in October (Yala time), 113 withdrew consent: people 101–111.
    assert summary.respondents == 11
    assert summary.answers == 16  # 11 topics, 3 digital topics, 2 formats
    assert summary.free_texts == 9  # 113's text is left out
    assert summary.months == ("2026-11",)
    assert summary.threshold == 5
    topics = {topic.key: topic for topic in summary.topics}
    assert [topic.key for topic in summary.topics] == TOPICS
    # digital: 101–108, 110, 111 (104 twice, 106 through the digital question) = 10
    assert topics["digital"].people == 10
    assert topics["digital"].share == pytest.approx(10 / 11)
    assert topics["languages"].people == 6  # 101, 102, 105, 106, 109, 110
    assert topics["languages"].share == pytest.approx(6 / 11)
    assert topics["health"].people == S  # 103, 106, 108, 110
    assert topics["health"].share is None
    assert topics["money"].people == S  # only 113, who withdrew
    assert topics["digital"].unesco_feature == "learning_technologies"
    assert topics["digital"].sdgs == (4, 9)
    assert topics["money"].name == {"th": "หัวข้อ money", "en": "Money"}
    assert grid(summary.needs_by_topic) == [[10], [6], [S], [S]]
    assert summary.needs_by_topic.column_totals == (11,)
    assert summary.needs_by_topic.row_totals is None


async def test_summarize_refreshes_then_reads(dataset: Database) -> None:
    period = parse_period("2026-11", now=NOW, tz=TZ)
    assert await summarize(dataset, period, districts=DISTRICTS) == await summary_of(dataset)


async def test_needs_by_language_hides_the_next_smallest_cell(dataset: Database) -> None:
    table = (await summary_of(dataset)).needs_by_language
    # th  en
    # 8   2    digital: one small cell in the row → 8 hidden too
    # 5   1    languages: likewise → 5 hidden
    # 3   1    health
    # 0   0    money
    assert [label.key for label in table.columns] == ["th", "en"]
    assert grid(table) == [[C, S], [C, S], [S, S], [S, S]]
    assert table.row_totals == (10, 6, S, S)
    assert table.column_totals == (9, S)  # 101–109; 110, 111
    assert table.total == 11
    assert table.unit == "people"


async def test_needs_by_age_band_and_district(dataset: Database) -> None:
    summary = await summary_of(dataset)
    by_age = summary.needs_by_age_band
    assert [label.key for label in by_age.columns] == AGES
    # digital [0 0 7 3 0 0]: the hidden cells hold 3 people (< 5) → 7 is hidden too
    assert by_age.cell("digital", "20-34") == C
    assert all(isinstance(cell, Suppressed) for row in by_age.cells for cell in row)
    assert by_age.column_totals == (S, S, 7, S, S, S)
    assert by_age.row_totals == (10, 6, S, S)

    by_district = summary.needs_by_district
    assert [label.key for label in by_district.columns] == [*DISTRICTS, NO_DISTRICT]
    # digital [6 2 0 2] → 6 hidden (the others hold 4 people)
    assert by_district.cell("digital", "mueang-yala") == C
    assert by_district.column_totals == (6, S, S, S)
    assert by_district.total == 11


async def test_needs_by_month_of_a_one_month_period(dataset: Database) -> None:
    table = (await summary_of(dataset)).needs_by_month
    # One column [10 6 4 0]: hidden 4 + 0 < 5 people → the next smallest (6) is hidden.
    assert grid(table) == [[10], [C], [S], [S]]
    # A row's total is its only cell, so it is hidden where the cell is.
    assert table.row_totals == (10, C, S, S)
    assert table.column_totals == (11,)


async def test_month_boundaries_are_midnights_in_yala(dataset: Database) -> None:
    november = parse_period("2026-11", now=NOW, tz=TZ)
    assert november.start == NOV_FIRST_SECOND
    assert november.end == NOV_LAST_SECOND + timedelta(seconds=1)
    year = await summary_of(dataset, "2026")
    assert year.respondents == 12  # 112's last second of October counts in the year
    assert {t.key: t.people for t in year.topics}["languages"] == 7
    assert year.months == tuple(f"2026-{m:02d}" for m in range(1, 13))
    assert year.needs_by_month.column_totals is not None
    totals = dict(zip(year.months, year.needs_by_month.column_totals, strict=True))
    assert totals["2026-11"] == 11 and totals["2026-10"] == S
    last_month = await summary_of(dataset, "last-month")
    assert replace(last_month, period=year.period) == replace(
        await summary_of(dataset), period=year.period
    )
    this_month = await summary_of(dataset, "this-month")
    assert this_month.respondents == S
    assert this_month.themes == ()


async def test_free_text_themes_need_five_people(dataset: Database) -> None:
    summary = await summary_of(dataset)
    # batik: 101–105 (5 people); coding: 104, 106, 107, 108 (4 people, 5 texts), 113 left out
    assert summary.themes == (Theme("batik", 5, 5),)


async def test_needs_against_what_is_offered(dataset: Database) -> None:
    offers = {offer.key: offer for offer in (await summary_of(dataset)).offers}
    assert (offers["digital"].books, offers["digital"].agenda_items) == (0, 0)
    assert offers["digital"].gap  # asked for by 10, nothing offered
    assert offers["languages"].books == 1 and offers["languages"].library_events == 1
    assert not offers["languages"].gap
    assert offers["health"].agenda_items == 1 and not offers["health"].gap
    assert offers["money"].books == 0  # its book never consented to be listed
    assert not offers["money"].gap  # demand too small to show
    assert offers["money"].people == S


async def test_participation(dataset: Database) -> None:
    part = (await summary_of(dataset)).participation
    assert part.activity == (MonthActivity("2026-11", 1, 1),)
    # Six loans, all by Mueang Yala readers: [6 0 0 0] → all hidden; the total stays.
    assert part.loans.unit == "loans"
    assert grid(part.loans) == [[C, S, S, S]]
    assert part.loans.row_totals == (6,)
    assert part.loans.column_totals == (C, S, S, S)
    assert part.loans.total == 6
    # Seven "yes" (six Mueang Yala, one Betong) against five present.
    assert grid(part.rsvps) == [[C, S, S, S]]
    assert part.rsvps.total == 7
    assert part.attendance.total == 5
    assert part.feedback_total == FeedbackLine(Label("all"), 5, 4.2)
    assert part.feedback_by_month == (FeedbackLine(Label("2026-11"), 5, 4.2),)
    by_district = {line.label.key: line for line in part.feedback_by_district}
    assert by_district["mueang-yala"].ratings == C  # else the zeros elsewhere would show
    assert by_district["mueang-yala"].mean == C
    assert by_district["betong"].mean is None


async def test_no_identity_reaches_a_summary(dataset: Database) -> None:
    rendered = repr(await summary_of(dataset, "all"))
    for telegram_user_id in PEOPLE:
        assert str(telegram_user_id) not in rendered
    assert "Reader" not in rendered and "batik painting" not in rendered


async def test_need_picks_follow_changes(dataset: Database) -> None:
    await summary_of(dataset)
    ids = await _citizen_ids(dataset)
    later = NOW + timedelta(minutes=30)
    async with dataset.session() as session:
        # 109 changes the answer: languages → money; 101 moves to Kabang.
        await session.exec(  # type: ignore[call-overload]
            update(SurveyAnswer)
            .where(SurveyAnswer.citizen_id == ids[109])  # type: ignore[arg-type]
            .where(SurveyAnswer.answered_at == MID_NOVEMBER)  # type: ignore[arg-type]
            .values(option_keys=["money"], updated_at=later)
        )
    async with dataset.session() as session:
        await set_district(101, "kabang", session=session)
    summary = await summary_of(dataset)
    topics = {topic.key: topic.people for topic in summary.topics}
    assert topics["languages"] == 5
    assert summary.needs_by_district.column_totals == (5, S, S, S)
    async with dataset.session() as session:
        await session.exec(delete(SurveyAnswer).where(SurveyAnswer.citizen_id == ids[101]))  # type: ignore[call-overload,arg-type]
    summary = await summary_of(dataset)
    assert summary.respondents == 10
    async with dataset.session() as session:
        assert await need_picks.refresh(tz="Europe/London", session=session) > 0
        rows = (await session.exec(__import__("sqlmodel").select(NeedPick))).all()
    assert rows and all(row.answer_id for row in rows)


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("this-month", "2026-12-01", "2026-12-31"),
        ("last-month", "2026-11-01", "2026-11-30"),
        ("2026-02", "2026-02-01", "2026-02-28"),
        ("2569-02", "2026-02-01", "2026-02-28"),  # Buddhist Era
        ("last-90-days", "2026-09-03", "2026-12-01"),
        ("last-1-day", "2026-12-01", "2026-12-01"),
        ("2026", "2026-01-01", "2026-12-31"),
        (" LAST-MONTH ", "2026-11-01", "2026-11-30"),
    ],
)
def test_periods(text: str, first: str, last: str) -> None:
    period = parse_period(text, now=NOW, tz=TZ)
    assert (str(period.first_day), str(period.last_day)) == (first, last)
    assert period.start is not None and period.end is not None
    assert period.start.astimezone(period.end.tzinfo).hour == 17  # local midnight in UTC


def test_the_whole_history() -> None:
    period = parse_period("all", now=NOW, tz=TZ)
    assert (period.kind, period.start, period.end) == ("all", None, None)
    assert period_months(period) == ()
    assert period.contains(datetime(1999, 1, 1, tzinfo=UTC))


def test_january_after_december() -> None:
    period = parse_period("last-month", now=datetime(2027, 1, 3, tzinfo=UTC), tz=TZ)
    assert period.text == "last-month" and str(period.first_day) == "2026-12-01"
    assert period_months(parse_period("last-40-days", now=NOW, tz=TZ)) == (
        "2026-10",
        "2026-11",
        "2026-12",
    )


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13", "last-0-days", "last-x-days", "26"])
def test_other_periods_are_refused_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidPeriod) as raised:
        parse_period(text, now=NOW, tz=TZ)
    message = str(raised.value)
    for form in ("this-month", "last-month", "YYYY-MM", "last-N-days", "YYYY", "all"):
        assert form in message
    assert raised.value.text == text


# --- local days and months in SQL ------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Asia/Bangkok", "Europe/London", "America/Sao_Paulo"])
async def test_local_days_and_months_in_sqlite_match_python(sqlite_db: Database, tz: str) -> None:
    # Around London's spring and autumn changes, and Bangkok's midnight.
    moments = [
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 31, 16, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 31, 17, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 2, 30, tzinfo=UTC),
    ]
    span = (moments[0] - timedelta(days=40), moments[-1])
    zone = __import__("zoneinfo").ZoneInfo(tz)
    async with sqlite_db.engine.connect() as connection:
        for moment in moments:
            stamp = f"'{moment.strftime('%Y-%m-%d %H:%M:%S.%f')}'"
            day = need_picks.local_day_sql(stamp, backend="sqlite", tz=tz, span=span)
            month = need_picks.local_month_sql(stamp, backend="sqlite", tz=tz, span=span)
            found = (await connection.exec_driver_sql(f"SELECT {day}, {month}")).one()
            local = moment.astimezone(zone)
            assert tuple(found) == (int(local.strftime("%Y%m%d")), local.strftime("%Y-%m"))
