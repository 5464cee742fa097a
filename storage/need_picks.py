"""`need_picks`: which need categories each survey answer chose, derived in SQL for summaries.

A survey answer stores its chosen option keys as a JSON list, and the category of an option
lives in `survey_options`. Decoding that for a million answers at report time takes seconds
(measured on SQLite: 6–50 s whichever way it is written), so it is decoded once into one row
per (answer, category) — plus one "*" row per answer that chose any category — with the
citizen's age band and district and the answer's local month copied in, so every breakdown
is one scan of a covering index.

`refresh` brings the table up to date incrementally, in SQL (INSERT … SELECT over
`json_each` / `json_array_elements_text`): answers changed since the last refresh (their
`updated_at`), and every answer of a citizen changed since then (district moved), are derived
again; a deleted answer takes its rows with it (ON DELETE CASCADE). It looks back a margin
(`OVERLAP`) before the last refresh, so an answer whose transaction committed late is not
missed. A new time zone re-derives everything (the months change).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, text
from sqlmodel import SQLModel, col, select

from storage import clock
from storage.columns import UtcDateTime
from storage.database import AsyncSession
from storage.models import NeedPick, NeedPickState, SurveyAnswer
from storage.sql import backend_of, insert_ignoring_conflicts

__all__ = ["ANY", "OVERLAP", "local_day_sql", "local_month_sql", "refresh"]

ANY: Final = "*"
OVERLAP: Final = timedelta(minutes=10)
_STATE_ID: Final = 1
_ZONE_NAME: Final = re.compile(r"[A-Za-z0-9_/+-]{1,64}")
_NEVER: Final = datetime(1970, 1, 1, tzinfo=UTC)
_STATE: Final = SQLModel.metadata.tables["need_picks_state"]

_CATEGORY_QUESTIONS = (
    "SELECT DISTINCT question_id FROM survey_options WHERE category_key IS NOT NULL"
)
# Answers to derive again: changed since :since, or of a citizen changed since then.
_CHANGED = (
    "SELECT id FROM survey_answers WHERE updated_at >= :since "
    "UNION SELECT id FROM survey_answers WHERE citizen_id IN "
    "(SELECT id FROM citizens WHERE updated_at >= :since)"
)
# Unary plus keeps SQLite from driving a refresh by question (every answer to it) instead of
# by the few changed ids; a no-op on PostgreSQL.
_NO_INDEX: Final = "+"
_JSON_KEYS = {
    "sqlite": "json_each(a.option_keys) AS j",
    "postgresql": "LATERAL json_array_elements_text(CAST(a.option_keys AS json)) AS j(value)",
}


async def refresh(*, tz: str, session: AsyncSession) -> int:
    """Bring `need_picks` up to date for months in `tz`; returns how many answers were derived.

    Needs a session that may write. Concurrent refreshes take turns on the state row.
    """
    started = clock.now()
    await session.exec(
        insert_ignoring_conflicts(session, _STATE, ["id"]),
        params=[{"id": _STATE_ID, "timezone": "", "refreshed_at": _NEVER}],
    )
    state = (
        await session.exec(
            select(NeedPickState)
            .where(col(NeedPickState.id) == _STATE_ID)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    full = state.timezone != tz
    since = _NEVER if full else state.refreshed_at - OVERLAP
    changed: str | None = None
    if full:
        await session.exec(delete(NeedPick))
    elif not await _anything_changed(session, since):
        state.refreshed_at = started
        session.add(state)
        await session.flush()
        return 0
    else:
        changed = _CHANGED
        await session.exec(  # type: ignore[call-overload]
            text(f"DELETE FROM need_picks WHERE answer_id IN ({_CHANGED})").bindparams(
                bindparam("since", type_=UtcDateTime())
            ),
            params={"since": since},
        )
    derived = await _derive(session, tz=tz, changed=changed, since=since)
    state.timezone = tz
    state.refreshed_at = started
    session.add(state)
    await session.flush()
    return derived


async def _anything_changed(session: AsyncSession, since: datetime) -> bool:
    """Two index seeks: did any answer or citizen change since `since`?"""
    for table in ("survey_answers", "citizens"):
        found = await session.exec(  # type: ignore[call-overload]
            text(f"SELECT 1 FROM {table} WHERE updated_at >= :since LIMIT 1").bindparams(
                bindparam("since", type_=UtcDateTime())
            ),
            params={"since": since},
        )
        if found.first() is not None:
            return True
    return False


async def _derive(session: AsyncSession, *, tz: str, changed: str | None, since: datetime) -> int:
    """INSERT … SELECT the rows of the changed answers (all when `changed` is None)."""
    backend = backend_of(session)
    span = None
    if backend == "sqlite" and _fixed_offset_minutes(tz) is None:
        low, high = (
            await session.exec(
                select(func.min(col(SurveyAnswer.answered_at)), func.max(SurveyAnswer.answered_at))
            )
        ).one()
        span = (low or _NEVER, high or _NEVER)
    month = local_month_sql("a.answered_at", backend=backend, tz=tz, span=span)
    day = local_day_sql("a.answered_at", backend=backend, tz=tz, span=span)
    # Driven from the changed ids, so a small refresh never scans every answer.
    answers = (
        f"({changed}) AS ch JOIN survey_answers AS a ON a.id = ch.id"
        if changed
        else ("survey_answers AS a")
    )
    columns = "answer_id, category_key, citizen_id, language, day, month, age_band, district"
    categories = (
        f"INSERT INTO need_picks ({columns}) "
        "SELECT DISTINCT a.id, o.category_key, a.citizen_id, a.language, "
        f"{day}, {month}, c.age_band, c.district "
        f"FROM {answers} JOIN citizens AS c ON c.id = a.citizen_id "
        f"CROSS JOIN {_JSON_KEYS[backend]} "
        "JOIN survey_options AS o ON o.question_id = a.question_id AND o.key = j.value "
        f"WHERE o.category_key IS NOT NULL AND {_NO_INDEX}a.question_id IN ({_CATEGORY_QUESTIONS})"
    )
    # One "*" row per answer that chose any category: the rows just inserted say which.
    anything = (
        f"INSERT INTO need_picks ({columns}) "
        f"SELECT a.id, '{ANY}', a.citizen_id, a.language, {day}, {month}, "
        f"c.age_band, c.district FROM {answers} JOIN citizens AS c ON c.id = a.citizen_id "
        f"WHERE {_NO_INDEX}a.question_id IN ({_CATEGORY_QUESTIONS}) "
        "AND EXISTS (SELECT 1 FROM need_picks AS p WHERE p.answer_id = a.id)"
    )
    params: dict[str, object] = {}
    if changed:
        params["since"] = since
    derived = 0
    for sql in (categories, anything):
        statement = text(sql)
        if changed:
            statement = statement.bindparams(bindparam("since", type_=UtcDateTime()))
        result = await session.exec(statement, params=params)  # type: ignore[call-overload]
        derived = int(result.rowcount)
    return derived


def local_month_sql(
    column: str,
    *,
    backend: str,
    tz: str,
    span: tuple[datetime, datetime] | None = None,
) -> str:
    """SQL for the local month ("YYYY-MM") of a UTC timestamp column."""
    return _local_sql(column, backend=backend, tz=tz, span=span, pg="YYYY-MM", lite="%Y-%m")


def local_day_sql(
    column: str,
    *,
    backend: str,
    tz: str,
    span: tuple[datetime, datetime] | None = None,
) -> str:
    """SQL for the local calendar day of a UTC timestamp column, as an integer YYYYMMDD."""
    text_ = _local_sql(column, backend=backend, tz=tz, span=span, pg="YYYYMMDD", lite="%Y%m%d")
    return f"CAST({text_} AS INTEGER)"


def _local_sql(
    column: str,
    *,
    backend: str,
    tz: str,
    span: tuple[datetime, datetime] | None,
    pg: str,
    lite: str,
) -> str:
    """A local date format of a UTC timestamp column.

    PostgreSQL converts with its time-zone database. SQLite knows no time zones: a zone
    with one fixed offset (Asia/Bangkok, +07:00) is a shift; any other needs `span` (the
    first and last timestamps to cover) and gets a CASE over the zone's offset changes in it.
    """
    if backend == "postgresql":
        # A literal, not a bind: the same expression then matches in SELECT and GROUP BY.
        return f"to_char(({column}) AT TIME ZONE '{_checked_zone(tz)}', '{pg}')"
    offset = _fixed_offset_minutes(tz)
    if offset is not None:
        return f"strftime('{lite}', {column}, '{offset:+d} minutes')"
    if span is None:
        raise ValueError(f"{tz} has no fixed UTC offset: give the span of the data")
    changes = _offset_changes(ZoneInfo(tz), *span)
    (_, first), rest = changes[0], changes[1:]
    if not rest:
        return f"strftime('{lite}', {column}, '{first:+d} minutes')"
    branches = " ".join(
        f"WHEN {column} < '{at.strftime(_SQLITE_STAMP)}' THEN '{before:+d} minutes'"
        for (at, _), (_, before) in zip(rest, changes, strict=False)
    )
    return f"strftime('{lite}', {column}, CASE {branches} ELSE '{changes[-1][1]:+d} minutes' END)"


_SQLITE_STAMP: Final = "%Y-%m-%d %H:%M:%S.%f"


def _offset_changes(zone: ZoneInfo, low: datetime, high: datetime) -> list[tuple[datetime, int]]:
    """(from when, offset in minutes) for `zone` between two instants: its DST changes."""

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        assert delta is not None
        return int(delta.total_seconds() // 60)

    cursor = low.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    changes = [(cursor, offset(cursor))]
    while cursor <= high:
        following = cursor + timedelta(days=1)
        if offset(following) != changes[-1][1]:
            lo, hi = cursor, following  # the change is in (lo, hi]: find its minute
            while hi - lo > timedelta(minutes=1):
                middle = lo + (hi - lo) / 2
                if offset(middle) == changes[-1][1]:
                    lo = middle
                else:
                    hi = middle
            changes.append((hi.replace(second=0, microsecond=0), offset(following)))
        cursor = following
    return changes


def _checked_zone(tz: str) -> str:
    """A zone name safe to put in SQL: a known IANA key (letters, digits, _ / + -)."""
    if not _ZONE_NAME.fullmatch(tz):
        raise ValueError(f"not a time-zone name: {tz!r}")
    ZoneInfo(tz)  # unknown zones raise here
    return tz


@cache
def _fixed_offset_minutes(tz: str) -> int | None:
    """The zone's UTC offset in minutes if it is the same from 1970 to 2100, else None."""
    zone = ZoneInfo(tz)
    offsets = {
        datetime(year, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
        for year in range(1970, 2101)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    assert offset is not None
    return int(offset.total_seconds() // 60)
