"""Officers' summaries: needs and participation as aggregates, with small cells suppressed.

`parse_period` reads what an officer typed; `summarize` (or `build_summary` on a session)
computes a `Summary` in SQL — GROUP BYs over covering indexes, mostly of `need_picks`; no
answer or text is loaded into Python, only aggregates — and applies the suppression rule
(`storage.suppression`) before returning it, so every renderer shows the same hidden cells.
The contract and the rule: docs/design/officer-summaries.md.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, false, func, select, text
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import TextClause
from sqlmodel import SQLModel

from storage import clock, need_picks
from storage.database import AsyncSession, Database
from storage.enums import AgeBand, Purpose
from storage.need_picks import ANY
from storage.sql import backend_of
from storage.suppression import (
    HIDDEN_TEXT,
    THRESHOLD,
    Cell,
    Suppressed,
    cell_text,
    is_hidden,
    suppress_grid,
    suppress_total,
)

__all__ = [
    "ACCEPTED_PERIODS",
    "DEFAULT_PERIOD",
    "HIDDEN_TEXT",
    "NO_DISTRICT",
    "THRESHOLD",
    "Cell",
    "FeedbackLine",
    "InvalidPeriod",
    "Label",
    "MonthActivity",
    "Participation",
    "Period",
    "Summary",
    "Suppressed",
    "Table",
    "Theme",
    "Topic",
    "TopicOffer",
    "build_summary",
    "cell_text",
    "is_hidden",
    "parse_period",
    "period_months",
    "summarize",
]

ACCEPTED_PERIODS: Final = ("this-month", "last-month", "YYYY-MM", "last-N-days", "YYYY", "all")
DEFAULT_PERIOD: Final = "this-month"
DEFAULT_TZ: Final = "Asia/Bangkok"
NO_DISTRICT: Final = "_none"
MAX_DAYS: Final = 3660
BUDDHIST_ERA_OFFSET: Final = 543
AGE_BANDS: Final = tuple(band.value for band in AgeBand if not band.is_under_10)
BASE_LANGUAGES: Final = ("th", "en")

PeriodKind = Literal["this-month", "last-month", "month", "last-days", "year", "all"]
_MONTH_FORM = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR_FORM = re.compile(r"^(\d{4})$")
_DAYS_FORM = re.compile(r"^last-(\d{1,5})-days?$")


class InvalidPeriod(ValueError):
    """The period text is none of the accepted forms (`accepted`)."""

    def __init__(self, text: str, reason: str | None = None) -> None:
        self.text = text
        self.accepted = ACCEPTED_PERIODS
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"unknown period {text!r}{detail}; use one of: {', '.join(ACCEPTED_PERIODS)} "
            "(e.g. this-month, 2026-11, last-90-days, 2026, all)"
        )


@dataclass(frozen=True)
class Period:
    """A span of local calendar days: [start, end) in UTC; both None for "all"."""

    text: str
    kind: PeriodKind
    tz: str
    start: datetime | None
    end: datetime | None
    first_day: date | None
    last_day: date | None

    def contains(self, moment: datetime) -> bool:
        """True if the (aware) moment falls in the period."""
        if self.start is not None and moment < self.start:
            return False
        return self.end is None or moment < self.end


def parse_period(text: str, *, now: datetime, tz: str | ZoneInfo = DEFAULT_TZ) -> Period:
    """The period an officer means, with boundaries at local midnights in `tz`.

    Accepted (case-insensitive): this-month, last-month, YYYY-MM, last-N-days (N from 1 to
    3660, today included), YYYY, all. A Buddhist-Era year (2569 = 2026) is accepted too.
    Raises InvalidPeriod otherwise.
    """
    zone = _zone(tz)
    name = str(zone.key)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(zone).date()
    given = text.strip().lower()
    if given == "all":
        return Period("all", "all", name, None, None, None, None)
    if given in ("this-month", "last-month"):
        year, month = today.year, today.month
        if given == "last-month":
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        first = date(year, month, 1)
        return _period(given, given, zone, first, _add_months(first, 1))  # type: ignore[arg-type]
    if match := _MONTH_FORM.match(given):
        year, month = _year(match.group(1), text), int(match.group(2))
        if not 1 <= month <= 12:
            raise InvalidPeriod(text, "no such month")
        first = date(year, month, 1)
        return _period(f"{year:04d}-{month:02d}", "month", zone, first, _add_months(first, 1))
    if match := _YEAR_FORM.match(given):
        year = _year(match.group(1), text)
        return _period(f"{year:04d}", "year", zone, date(year, 1, 1), date(year + 1, 1, 1))
    if match := _DAYS_FORM.match(given):
        days = int(match.group(1))
        if not 1 <= days <= MAX_DAYS:
            raise InvalidPeriod(text, f"N must be 1 to {MAX_DAYS}")
        first = today - timedelta(days=days - 1)
        return _period(f"last-{days}-days", "last-days", zone, first, today + timedelta(days=1))
    raise InvalidPeriod(text)


def period_months(period: Period) -> tuple[str, ...]:
    """The local months ("YYYY-MM") the period touches, in order; () for "all"."""
    if period.first_day is None or period.last_day is None:
        return ()
    return _months_between(period.first_day, period.last_day)


# --- the contract ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A row or column: a stable key, and its names where storage knows them."""

    key: str
    name: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """A breakdown: rows × columns of counts, already suppressed, with totals from SQL."""

    key: str
    unit: Literal["people", "loans", "rsvps"]
    rows: tuple[Label, ...]
    columns: tuple[Label, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...] | None
    column_totals: tuple[Cell, ...] | None
    total: Cell | None

    def cell(self, row: str, column: str) -> Cell:
        """The cell at these keys (KeyError if there is none)."""
        rows = [label.key for label in self.rows]
        columns = [label.key for label in self.columns]
        return self.cells[rows.index(row)][columns.index(column)]


@dataclass(frozen=True)
class Topic:
    """A need category: what it serves (UNESCO feature, SDGs) and how many chose it."""

    key: str
    name: Mapping[str, str]
    unesco_feature: str
    sdgs: tuple[int, ...]
    people: Cell
    share: float | None


@dataclass(frozen=True)
class Theme:
    """A word many people used in their own words (at least THRESHOLD of them)."""

    token: str
    people: int
    mentions: int


@dataclass(frozen=True)
class TopicOffer:
    """Demand for a topic against what the city offers on it."""

    key: str
    name: Mapping[str, str]
    people: Cell
    books: int
    library_events: int
    agenda_items: int
    gap: bool


@dataclass(frozen=True)
class MonthActivity:
    """Events held in one local month (things, not people: never suppressed)."""

    month: str
    library_events: int
    council_meetings: int


@dataclass(frozen=True)
class FeedbackLine:
    """Loan feedback ratings (1–5) for a month, a district or the whole period."""

    label: Label
    ratings: Cell
    mean: float | Suppressed | None


@dataclass(frozen=True)
class Participation:
    """Library and council participation by month and district."""

    activity: tuple[MonthActivity, ...]
    loans: Table
    rsvps: Table
    attendance: Table
    feedback_by_month: tuple[FeedbackLine, ...]
    feedback_by_district: tuple[FeedbackLine, ...]
    feedback_total: FeedbackLine


@dataclass(frozen=True)
class Summary:
    """Everything an officer's summary shows; safe to render as it is."""

    period: Period
    generated_at: datetime
    threshold: int
    respondents: Cell
    answers: Cell
    free_texts: Cell
    months: tuple[str, ...]
    topics: tuple[Topic, ...]
    needs_by_topic: Table
    needs_by_age_band: Table
    needs_by_district: Table
    needs_by_language: Table
    needs_by_month: Table
    themes: tuple[Theme, ...]
    offers: tuple[TopicOffer, ...]
    participation: Participation

    def tables(self) -> tuple[Table, ...]:
        """Every breakdown table, in a stable order (one sheet each in a workbook)."""
        return (
            self.needs_by_topic,
            self.needs_by_age_band,
            self.needs_by_district,
            self.needs_by_language,
            self.needs_by_month,
            self.participation.loans,
            self.participation.rsvps,
            self.participation.attendance,
        )


# --- building it ----------------------------------------------------------------------------


async def build_summary(
    period: Period,
    *,
    session: AsyncSession,
    districts: Sequence[str] | None = None,
    themes_limit: int = 20,
    refresh: bool = True,
) -> Summary:
    """Compute the summary of `period` (aggregates only, suppressed; see the module doc).

    `districts`: the district codes for the columns, in order (e.g. DISTRICTS_FILE's);
    codes found only in the period's data follow (sorted), then NO_DISTRICT. `refresh`
    first brings `need_picks` up to date (`storage.need_picks.refresh`), which writes: use
    a session that may write (`db.session()`), or refresh elsewhere and pass
    refresh=False on a read-only one.
    """
    now = clock.now()
    if refresh:
        await need_picks.refresh(tz=period.tz, session=session)
    query = _Queries(session, period, now)
    await query.check_consents()
    fetched = await _fetch([query], themes_limit)
    return _assemble(period, now, districts, fetched)


async def summarize(
    db: Database,
    period: Period,
    *,
    districts: Sequence[str] | None = None,
    themes_limit: int = 20,
) -> Summary:
    """What `/summary`, `/export` and `learncity report` should call.

    Brings `need_picks` up to date in a short writing session, then reads in two read-only
    sessions side by side (two connections: the GROUP BYs run on two cores; on SQLite they
    neither wait for nor block the bot's writers). Each read sees the database as committed
    when it began.
    """
    now = clock.now()
    async with db.session() as session:
        await need_picks.refresh(tz=period.tz, session=session)
    async with db.session(readonly=True) as first, db.session(readonly=True) as second:
        queries = [_Queries(first, period, now), _Queries(second, period, now)]
        await asyncio.gather(*(query.check_consents() for query in queries))
        fetched = await _fetch(queries, themes_limit)
    return _assemble(period, now, districts, fetched)


@dataclass(frozen=True)
class _Fetched:
    """Everything the SQL of one summary returned (aggregates only)."""

    categories: list[_Category]
    months: tuple[str, ...]
    respondents: tuple[int, int]
    place: _Counts
    languages: _Counts
    by_month: _Counts
    free_texts: Cell
    themes: tuple[Theme, ...]
    offered: _Offered
    participation: _ParticipationRows


async def _fetch(queries: Sequence[_Queries], themes_limit: int) -> _Fetched:
    """Run the queries: one after the other on one session, or in two lanes on two."""
    first = queries[0]
    second = queries[-1]
    period = first.period

    async def lane_one() -> tuple[Any, ...]:
        return (
            await first.people_by("age_band", "district"),
            await first.themes(themes_limit),
            await first.categories(),
            await first.offered(),
            await first.free_texts(),
        )

    async def lane_two() -> tuple[Any, ...]:
        return (
            await second.respondents(),
            await second.people_by("language"),
            await second.people_by("month"),
            await second.participation_rows(),
            period_months(period) or await second.all_months(),
        )

    if first is second:
        one, two = await lane_one(), await lane_two()
    else:
        one, two = await asyncio.gather(lane_one(), lane_two())
    place, themes, categories, offered, free_texts = one
    respondents, languages, by_month, participation, months = two
    return _Fetched(
        categories=categories,
        months=tuple(months),
        respondents=respondents,
        place=place,
        languages=languages,
        by_month=by_month,
        free_texts=free_texts,
        themes=themes,
        offered=offered,
        participation=participation,
    )


def _assemble(
    period: Period, now: datetime, districts: Sequence[str] | None, fetched: _Fetched
) -> Summary:
    """Tables, suppression and totals from what the SQL returned."""
    categories, months, place = fetched.categories, fetched.months, fetched.place
    respondents, answers = fetched.respondents
    district_keys = _district_axis(districts or (), {key[2] for key in place})
    by_age = _rollup(place, 0)
    by_district = _rollup(place, 1, none=NO_DISTRICT)
    topic_people = {key: count for (key, *_), count in _rollup(place, None).items()}
    found_languages = {key[1] for key in fetched.languages}
    language_keys = [*BASE_LANGUAGES, *sorted(found_languages - set(BASE_LANGUAGES))]

    topic_rows = tuple(Label(c.key, c.name) for c in categories)
    named = topic_people.get(ANY, 0)
    needs_by_topic = Table(
        key="needs_by_topic",
        unit="people",
        rows=topic_rows,
        columns=(Label("people"),),
        # No complementary suppression here: people choose several topics, so no total is
        # the sum of this column; these counts are the row totals of every other needs table.
        cells=tuple((suppress_total(topic_people.get(c.key, 0)),) for c in categories),
        row_totals=None,
        column_totals=(suppress_total(named),),
        total=suppress_total(named),
    )
    tables = {
        "needs_by_age_band": (by_age, [Label(band) for band in AGE_BANDS]),
        "needs_by_district": (by_district, [Label(code) for code in district_keys]),
        "needs_by_language": (_plain(fetched.languages), [Label(c) for c in language_keys]),
        "needs_by_month": (_plain(fetched.by_month), [Label(month) for month in months]),
    }
    built = {
        key: _needs_table(key, topic_rows, columns, counts, topic_people)
        for key, (counts, columns) in tables.items()
    }
    topics = tuple(
        Topic(
            key=c.key,
            name=c.name,
            unesco_feature=c.unesco_feature,
            sdgs=c.sdgs,
            people=row[0],
            share=_share(row[0], respondents),
        )
        for c, row in zip(categories, needs_by_topic.cells, strict=True)
    )
    return Summary(
        period=period,
        generated_at=now,
        threshold=THRESHOLD,
        respondents=suppress_total(respondents),
        answers=suppress_total(answers, people=respondents),
        free_texts=fetched.free_texts,
        months=months,
        topics=topics,
        needs_by_topic=needs_by_topic,
        needs_by_age_band=built["needs_by_age_band"],
        needs_by_district=built["needs_by_district"],
        needs_by_language=built["needs_by_language"],
        needs_by_month=built["needs_by_month"],
        themes=fetched.themes,
        offers=_offers(topics, fetched.offered),
        participation=_participation(fetched.participation, months, district_keys),
    )


@dataclass(frozen=True)
class _Category:
    key: str
    name: Mapping[str, str]
    unesco_feature: str
    sdgs: tuple[int, ...]


# (category, column value, …) → distinct people
_Counts = dict[tuple[str, ...], int]


class _Queries:
    """The SQL of one summary: one method per GROUP BY, all on the same period."""

    def __init__(self, session: AsyncSession, period: Period, now: datetime) -> None:
        self.session = session
        self.period = period
        self.now = now
        self.backend = backend_of(session)
        self.anyone_withdrew = True  # until check_consents() knows better

    # -- filters

    def within(self, column: Any) -> list[ColumnElement[bool]]:
        """The period's bounds on a timestamp column."""
        bounds: list[ColumnElement[bool]] = []
        if self.period.start is not None:
            bounds.append(column >= self.period.start)
        if self.period.end is not None:
            bounds.append(column < self.period.end)
        return bounds

    def held(self, column: Any) -> list[ColumnElement[bool]]:
        """In the period and already begun (events still to come were not held)."""
        return [*self.within(column), column < self.now]

    def days(self) -> list[ColumnElement[bool]]:
        """The period's bounds on need_picks' local day (periods are whole local days)."""
        bounds: list[ColumnElement[bool]] = []
        if self.period.first_day is not None:
            bounds.append(_PICKS.c.day >= _day_number(self.period.first_day))
        if self.period.last_day is not None:
            bounds.append(_PICKS.c.day <= _day_number(self.period.last_day))
        return bounds

    def consenting(self, column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """Leaves out people who withdrew consent to the needs survey (nothing to do, and
        no per-row test, when nobody did)."""
        if not self.anyone_withdrew:
            return []
        return [column.not_in(_WITHDRAWN)]

    async def check_consents(self) -> None:
        """Whether anyone withdrew consent to the needs survey (one index seek)."""
        found = await self.rows(select(_WITHDRAWN.exists()))
        self.anyone_withdrew = bool(found[0][0])

    def month_of(self, column: str) -> TextClause:
        """The local month of a timestamp column of a small table."""
        span = (self.period.start or _EPOCH, self.period.end or self.now)
        sql = need_picks.local_month_sql(column, backend=self.backend, tz=self.period.tz, span=span)
        return text(sql)

    async def rows(self, statement: Executable) -> list[tuple[Any, ...]]:
        """Run a SELECT; its rows as tuples (aggregates: a few hundred at most)."""
        result = await self.session.exec(statement)  # type: ignore[call-overload]
        return [tuple(row) for row in result.all()]

    # -- needs

    async def categories(self) -> list[_Category]:
        """Every need category, in the order the surveys ask them (then by key)."""
        first_asked = (
            select(
                _OPTIONS.c.category_key,
                func.min(_QUESTIONS.c.position * 1000 + _OPTIONS.c.position).label("at"),
            )
            .join(_QUESTIONS, _QUESTIONS.c.id == _OPTIONS.c.question_id)
            .where(_OPTIONS.c.category_key.is_not(None))
            .group_by(_OPTIONS.c.category_key)
            .subquery()
        )
        statement = (
            select(
                _CATEGORIES.c.key,
                _CATEGORIES.c.name,
                _CATEGORIES.c.unesco_feature,
                _CATEGORIES.c.sdgs,
            )
            .outerjoin(first_asked, first_asked.c.category_key == _CATEGORIES.c.key)
            .order_by(func.coalesce(first_asked.c.at, 1_000_000_000), _CATEGORIES.c.key)
        )
        return [
            _Category(key, dict(name), str(feature), tuple(int(s) for s in sdgs))
            for key, name, feature, sdgs in await self.rows(statement)
        ]

    async def respondents(self) -> tuple[int, int]:
        """(people with any answer, answers) in the period."""
        per_person = (
            select(_ANSWERS.c.citizen_id, func.count().label("n"))
            .where(*self.within(_ANSWERS.c.answered_at), *self.consenting(_ANSWERS.c.citizen_id))
            .group_by(_ANSWERS.c.citizen_id)
            .subquery()
        )
        statement = select(func.count(), func.coalesce(func.sum(per_person.c.n), 0))
        ((people, answers),) = await self.rows(statement)
        return int(people), int(answers)

    async def people_by(self, *dimensions: str) -> _Counts:
        """Distinct people per (category, *dimensions) in the period, "*" included.

        One scan of the need_picks index that starts with these columns.
        """
        columns = [_PICKS.c.category_key, *(_PICKS.c[d] for d in dimensions)]
        # In index order both backends count distinct people group by group, streaming
        # (PostgreSQL's hash of DISTINCT rows spills to disk at this size: 4× slower).
        people = func.count(func.distinct(_PICKS.c.citizen_id))
        statement = (
            select(*columns, people)
            .where(*self.days(), *self.consenting(_PICKS.c.citizen_id))
            .group_by(*columns)
        )
        return {
            tuple("" if v is None else str(v) for v in row[:-1]): int(row[-1])
            for row in await self.rows(statement)
        }

    async def all_months(self) -> tuple[str, ...]:
        """For "all": every local month from the first data to now (indexed minimums only)."""
        zone = ZoneInfo(self.period.tz)
        today = self.now.astimezone(zone).date()
        first_day = today
        (first_month,) = (
            await self.rows(select(func.min(_PICKS.c.month)).where(_PICKS.c.category_key == ANY))
        )[0]
        if first_month:
            year, month = (int(part) for part in str(first_month).split("-"))
            first_day = min(first_day, date(year, month, 1))
        for table, column in (
            (_FREE_TEXTS, "created_at"),
            (_EVENTS, "starts_at"),
            (_MEETINGS, "starts_at"),
        ):
            (first,) = (await self.rows(select(func.min(table.c[column]))))[0]
            if first is not None:
                first_day = min(first_day, _aware(first).astimezone(zone).date())
        return _months_between(first_day, today)

    async def free_texts(self) -> Cell:
        """Free-text needs in the period: hidden unless at least THRESHOLD people wrote them."""
        statement = select(func.count(), func.count(func.distinct(_FREE_TEXTS.c.citizen_id))).where(
            *self.within(_FREE_TEXTS.c.created_at),
            *self.consenting(func.coalesce(_FREE_TEXTS.c.citizen_id, -1)),
        )
        ((texts, writers),) = await self.rows(statement)
        return suppress_total(int(texts), people=int(writers))

    async def themes(self, limit: int) -> tuple[Theme, ...]:
        """The words most people used (each by at least THRESHOLD people), most first."""
        people = func.count(func.distinct(_TOKENS.c.citizen_id))
        statement = (
            select(_TOKENS.c.token, people, func.count())
            .where(
                *self.within(_TOKENS.c.created_at),
                _TOKENS.c.citizen_id.is_not(None),
                *self.consenting(_TOKENS.c.citizen_id),
            )
            .group_by(_TOKENS.c.token)
            .having(people >= THRESHOLD)
            .order_by(people.desc(), _TOKENS.c.token)
            .limit(limit)
        )
        return tuple(
            Theme(str(token), int(n), int(mentions))
            for token, n, mentions in await self.rows(statement)
        )

    async def offered(self) -> _Offered:
        """Per topic: books listed now, library events and agenda items in the period."""
        books = dict(
            await self.rows(
                select(_BOOK_CATEGORIES.c.category_key, func.count(func.distinct(_BOOKS.c.id)))
                .join(_BOOKS, _BOOKS.c.id == _BOOK_CATEGORIES.c.book_id)
                .where(_BOOKS.c.consented_at.is_not(None), _BOOKS.c.retired_at.is_(None))
                .group_by(_BOOK_CATEGORIES.c.category_key)
            )
        )
        events = dict(
            await self.rows(
                select(_BOOK_CATEGORIES.c.category_key, func.count(func.distinct(_EVENTS.c.id)))
                .join(_EVENT_BOOKS, _EVENT_BOOKS.c.book_id == _BOOK_CATEGORIES.c.book_id)
                .join(_EVENTS, _EVENTS.c.id == _EVENT_BOOKS.c.event_id)
                .where(
                    _EVENT_BOOKS.c.withdrawn_at.is_(None),
                    _EVENTS.c.cancelled_at.is_(None),
                    *self.within(_EVENTS.c.starts_at),
                )
                .group_by(_BOOK_CATEGORIES.c.category_key)
            )
        )
        agenda = dict(
            await self.rows(
                select(_AGENDA.c.category_key, func.count())
                .join(_MEETINGS, _MEETINGS.c.id == _AGENDA.c.meeting_id)
                .where(
                    _AGENDA.c.category_key.is_not(None),
                    _MEETINGS.c.status == "scheduled",
                    *self.within(_MEETINGS.c.starts_at),
                )
                .group_by(_AGENDA.c.category_key)
            )
        )
        return _Offered(books, events, agenda)

    # -- participation

    async def participation_rows(self) -> _ParticipationRows:
        """Events held, loans, RSVPs, attendance and feedback, by month and district."""
        event_month = self.month_of("library_events.starts_at")
        meeting_month = self.month_of("council_meetings.starts_at")
        library_events: dict[str, int] = dict(
            await self.rows(
                select(event_month, func.count())
                .select_from(_EVENTS)
                .where(_EVENTS.c.cancelled_at.is_(None), *self.held(_EVENTS.c.starts_at))
                .group_by(event_month)
            )
        )
        meetings: dict[str, int] = dict(
            await self.rows(
                select(meeting_month, func.count())
                .select_from(_MEETINGS)
                .where(_MEETINGS.c.status == "scheduled", *self.held(_MEETINGS.c.starts_at))
                .group_by(meeting_month)
            )
        )
        district = func.coalesce(_CITIZENS.c.district, NO_DISTRICT)
        loans_held = and_(
            _RESERVATIONS.c.status == "reserved",
            _EVENTS.c.cancelled_at.is_(None),
            *self.held(_EVENTS.c.starts_at),
        )
        reader = _RESERVATIONS.c.telegram_user_id
        loans = await self.rows(
            select(event_month, district, func.count(), func.count(func.distinct(reader)))
            .select_from(_RESERVATIONS)
            .join(_EVENTS, _EVENTS.c.id == _RESERVATIONS.c.event_id)
            .outerjoin(_CITIZENS, _CITIZENS.c.telegram_user_id == reader)
            .where(loans_held)
            .group_by(event_month, district)
        )
        meeting_held = and_(_MEETINGS.c.status == "scheduled", *self.held(_MEETINGS.c.starts_at))
        rsvps = await self.rows(
            select(
                meeting_month,
                district,
                func.count(),
                func.count(func.distinct(_RSVPS.c.telegram_user_id)),
            )
            .select_from(_RSVPS)
            .join(_MEETINGS, _MEETINGS.c.id == _RSVPS.c.meeting_id)
            .outerjoin(_CITIZENS, _CITIZENS.c.telegram_user_id == _RSVPS.c.telegram_user_id)
            .where(meeting_held, _RSVPS.c.answer == "yes")
            .group_by(meeting_month, district)
        )
        attendance = await self.rows(
            select(
                meeting_month,
                district,
                func.count(),
                func.count(func.distinct(_ATTENDANCE.c.telegram_user_id)),
            )
            .select_from(_ATTENDANCE)
            .join(_MEETINGS, _MEETINGS.c.id == _ATTENDANCE.c.meeting_id)
            .outerjoin(_CITIZENS, _CITIZENS.c.telegram_user_id == _ATTENDANCE.c.telegram_user_id)
            .where(meeting_held)
            .group_by(meeting_month, district)
        )
        rating = _RESERVATIONS.c.feedback_rating
        feedback = await self.rows(
            select(
                event_month,
                district,
                func.count(rating),
                func.coalesce(func.sum(rating), 0),
                func.count(func.distinct(reader)),
            )
            .select_from(_RESERVATIONS)
            .join(_EVENTS, _EVENTS.c.id == _RESERVATIONS.c.event_id)
            .outerjoin(_CITIZENS, _CITIZENS.c.telegram_user_id == reader)
            .where(loans_held, rating.is_not(None))
            .group_by(event_month, district)
        )
        return _ParticipationRows(library_events, meetings, loans, rsvps, attendance, feedback)


@dataclass(frozen=True)
class _Offered:
    """Per category key: books listed, library events and agenda items in the period."""

    books: dict[str, int]
    library_events: dict[str, int]
    agenda_items: dict[str, int]


@dataclass(frozen=True)
class _ParticipationRows:
    """Events held per month, and (month, district, events, people, …) rows."""

    library_events: dict[str, int]
    meetings: dict[str, int]
    loans: list[tuple[Any, ...]]
    rsvps: list[tuple[Any, ...]]
    attendance: list[tuple[Any, ...]]
    feedback: list[tuple[Any, ...]]


def _offers(topics: Sequence[Topic], offered: _Offered) -> tuple[TopicOffer, ...]:
    """Demand against offer per topic; a gap is shown demand with nothing offered."""
    offers: list[TopicOffer] = []
    for topic in topics:
        counts = (
            int(offered.books.get(topic.key, 0)),
            int(offered.library_events.get(topic.key, 0)),
            int(offered.agenda_items.get(topic.key, 0)),
        )
        offers.append(
            TopicOffer(
                key=topic.key,
                name=topic.name,
                people=topic.people,
                books=counts[0],
                library_events=counts[1],
                agenda_items=counts[2],
                gap=isinstance(topic.people, int) and not any(counts),
            )
        )
    return tuple(offers)


def _participation(
    rows: _ParticipationRows, months: Sequence[str], district_keys: Sequence[str]
) -> Participation:
    """The participation tables and feedback lines, suppressed."""
    activity = tuple(
        MonthActivity(m, int(rows.library_events.get(m, 0)), int(rows.meetings.get(m, 0)))
        for m in months
    )
    districts = _district_axis(district_keys, {str(row[1]) for row in rows.loans + rows.rsvps})
    return Participation(
        activity=activity,
        loans=_event_table("loans", "loans", months, districts, rows.loans),
        rsvps=_event_table("rsvps", "rsvps", months, districts, rows.rsvps),
        attendance=_event_table("attendance", "people", months, districts, rows.attendance),
        feedback_by_month=_feedback_lines(rows.feedback, 0, months),
        feedback_by_district=_feedback_lines(rows.feedback, 1, districts),
        feedback_total=_feedback_lines(rows.feedback, None, ["all"])[0],
    )


# --- tables ---------------------------------------------------------------------------------


def _needs_table(
    key: str,
    rows: Sequence[Label],
    columns: Sequence[Label],
    counts: Mapping[tuple[str, str], int],
    topic_people: Mapping[str, int],
) -> Table:
    """Topics × columns of distinct people; totals: per topic, per column ("*"), overall."""
    values = [[counts.get((row.key, column.key), 0) for column in columns] for row in rows]
    return _single_lines(
        Table(
            key=key,
            unit="people",
            rows=tuple(rows),
            columns=tuple(columns),
            cells=suppress_grid(values) if rows and columns else tuple(() for _ in rows),
            row_totals=tuple(suppress_total(topic_people.get(row.key, 0)) for row in rows),
            column_totals=tuple(suppress_total(counts.get((ANY, c.key), 0)) for c in columns),
            total=suppress_total(topic_people.get(ANY, 0)),
        )
    )


def _single_lines(table: Table) -> Table:
    """A total of a line holding one cell is that cell: it is hidden where the cell is.

    (A one-month period has one month column; a cell hidden by complementary suppression in
    it must not reappear as its row's total.)
    """
    row_totals, column_totals, total = table.row_totals, table.column_totals, table.total
    if len(table.columns) == 1 and row_totals is not None:
        row_totals = tuple(row[0] for row in table.cells)
    if len(table.rows) == 1 and column_totals is not None:
        column_totals = tuple(table.cells[0])
    if len(table.rows) == 1 and len(table.columns) == 1:
        total = table.cells[0][0]
    return replace(table, row_totals=row_totals, column_totals=column_totals, total=total)


def _event_table(
    key: str,
    unit: Literal["people", "loans", "rsvps"],
    months: Sequence[str],
    districts: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
) -> Table:
    """Months × districts of (events, distinct people) rows; totals summed from the events.

    Row and column totals of events are sums (an event is in one month and one district);
    they are hidden when fewer than THRESHOLD people stand behind them — counted as the sum of
    the cells' people, an upper bound, so a total near the limit may show where the exact
    number of people would hide it; the cells themselves use exact distinct counts.
    """
    events: dict[tuple[str, str], int] = defaultdict(int)
    people: dict[tuple[str, str], int] = defaultdict(int)
    for month, district, count, distinct_people in rows:
        events[(str(month), str(district))] += int(count)
        people[(str(month), str(district))] += int(distinct_people)
    values = [[events[(m, d)] for d in districts] for m in months]
    who = [[people[(m, d)] for d in districts] for m in months]
    row_people = [sum(line) for line in who]
    column_people = [sum(who[i][j] for i in range(len(months))) for j in range(len(districts))]
    return _single_lines(
        Table(
            key=key,
            unit=unit,
            rows=tuple(Label(m) for m in months),
            columns=tuple(Label(d) for d in districts),
            cells=suppress_grid(values, people=who) if months and districts else (),
            row_totals=tuple(
                suppress_total(sum(line), people=n)
                for line, n in zip(values, row_people, strict=True)
            ),
            column_totals=tuple(
                suppress_total(
                    sum(values[i][j] for i in range(len(months))), people=column_people[j]
                )
                for j in range(len(districts))
            ),
            total=suppress_total(sum(map(sum, values)), people=sum(row_people)),
        )
    )


def _feedback_lines(
    rows: Iterable[tuple[Any, ...]], position: int | None, keys: Sequence[str]
) -> tuple[FeedbackLine, ...]:
    """Ratings per month (position 0), district (1) or overall (None): count and mean.

    The counts of one breakdown form one line, suppressed like a table's row: with the
    overall count and mean shown, a single hidden group's ratings could be worked out.
    """
    count: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    people: dict[str, int] = defaultdict(int)
    for row in rows:
        key = "all" if position is None else str(row[position])
        count[key] += int(row[2])
        total[key] += int(row[3])
        people[key] += int(row[4])
    if not keys:
        return ()
    (cells,) = suppress_grid([[count[key] for key in keys]], people=[[people[k] for k in keys]])
    lines: list[FeedbackLine] = []
    for key, ratings in zip(keys, cells, strict=True):
        mean: float | Suppressed | None
        if count[key] == 0:
            mean = None
        elif isinstance(ratings, Suppressed):
            mean = ratings
        else:
            mean = round(total[key] / count[key], 2)
        lines.append(FeedbackLine(Label(key), ratings, mean))
    return tuple(lines)


def _rollup(counts: _Counts, position: int | None, *, none: str = "") -> dict[tuple[str, str], int]:
    """Sum (category, age band, district) counts over the other column.

    Exact, not an estimate: each person's picks carry one age band and one district, so the
    groups being added are disjoint sets of people.
    """
    summed: dict[tuple[str, str], int] = defaultdict(int)
    for (category, age_band, district), people in counts.items():
        if position is None:
            summed[(category, "")] += people
        elif position == 0:
            summed[(category, age_band)] += people
        else:
            summed[(category, district or none)] += people
    return dict(summed)


def _plain(counts: _Counts) -> dict[tuple[str, str], int]:
    return {(key[0], key[1]): value for key, value in counts.items()}


def _district_axis(given: Sequence[str], found: Iterable[str]) -> list[str]:
    """The given codes in order, then codes only the data has (sorted), then NO_DISTRICT."""
    axis = [code for code in dict.fromkeys(given) if code and code != NO_DISTRICT]
    extra = sorted({code for code in found if code and code not in axis} - {NO_DISTRICT})
    return [*axis, *extra, NO_DISTRICT]


def _share(people: Cell, respondents: int) -> float | None:
    if isinstance(people, Suppressed) or respondents < THRESHOLD or respondents == 0:
        return None
    return people / respondents


# --- periods --------------------------------------------------------------------------------


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tz!r}") from error


def _year(digits: str, text: str) -> int:
    year = int(digits)
    if year >= 2400:  # a Buddhist-Era year, as Thai officers write it
        year -= BUDDHIST_ERA_OFFSET
    if not 1900 <= year <= 2399:
        raise InvalidPeriod(text, "year out of range")
    return year


def _period(text: str, kind: PeriodKind, zone: ZoneInfo, first: date, after: date) -> Period:
    """[first, after) as local days → a Period with UTC boundaries."""
    return Period(
        text=text,
        kind=kind,
        tz=str(zone.key),
        start=_midnight(first, zone),
        end=_midnight(after, zone),
        first_day=first,
        last_day=after - timedelta(days=1),
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(first: date, last: date) -> tuple[str, ...]:
    months: list[str] = []
    cursor = date(first.year, first.month, 1)
    while cursor <= last:
        months.append(f"{cursor.year:04d}-{cursor.month:02d}")
        cursor = _add_months(cursor, 1)
    return tuple(months)


def _day_number(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_TABLES = SQLModel.metadata.tables
_ANSWERS: Final = _TABLES["survey_answers"]
_PICKS: Final = _TABLES["need_picks"]
_CITIZENS: Final = _TABLES["citizens"]
_CONSENTS: Final = _TABLES["consents"]
_CATEGORIES: Final = _TABLES["need_categories"]
_OPTIONS: Final = _TABLES["survey_options"]
_QUESTIONS: Final = _TABLES["survey_questions"]
_FREE_TEXTS: Final = _TABLES["free_text_needs"]
_TOKENS: Final = _TABLES["free_text_tokens"]
_BOOKS: Final = _TABLES["library_books"]
_BOOK_CATEGORIES: Final = _TABLES["library_book_categories"]
_EVENTS: Final = _TABLES["library_events"]
_EVENT_BOOKS: Final = _TABLES["library_event_books"]
_RESERVATIONS: Final = _TABLES["library_reservations"]
_MEETINGS: Final = _TABLES["council_meetings"]
_RSVPS: Final = _TABLES["council_rsvps"]
_ATTENDANCE: Final = _TABLES["council_attendance"]
_AGENDA: Final = _TABLES["council_agenda_items"]
_WITHDRAWN: Final = select(_CONSENTS.c.citizen_id).where(
    _CONSENTS.c.purpose == Purpose.needs_survey.value, _CONSENTS.c.granted == false()
)
