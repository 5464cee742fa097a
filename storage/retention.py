"""Retention: free texts older than the city's limit lose their words and their author.

Three kinds of free text are kept only for `RETENTION_DAYS`:

- learning needs in the citizen's own words (`free_text_needs`): the text is blanked and the
  link to the citizen removed. Their word tokens (`free_text_tokens`, single stop-word-filtered
  words) stay with their citizen link, so summaries still count how many people named a
  theme; /forget removes that link as well.
- agenda suggestions for the coffee council: the text is blanked and the author set to 0
  (never a Telegram id).
- human-library feedback in the reader's words: the text and its language are removed (the
  1–5 rating stays with the loan).

Each call anonymises at most `limit` rows per table with one UPDATE … WHERE id IN (SELECT …
LIMIT n) each, so a large backlog is worked off in short transactions and no row is loaded
into Python. Anonymised rows no longer match, so running again is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, Table, or_, select, update
from sqlmodel import SQLModel

from storage import audit
from storage.checks import require_aware as _aware
from storage.database import AsyncSession

DEFAULT_BATCH: Final = 500
ANONYMOUS_AUTHOR: Final = 0  # Telegram never gives a user the id 0

_NEEDS: Final[Table] = SQLModel.metadata.tables["free_text_needs"]
_SUGGESTIONS: Final[Table] = SQLModel.metadata.tables["council_suggestions"]
_RESERVATIONS: Final[Table] = SQLModel.metadata.tables["library_reservations"]


@dataclass(frozen=True)
class Anonymised:
    """How many rows of each kind one call anonymised."""

    needs: int = 0
    suggestions: int = 0
    feedback: int = 0

    @property
    def total(self) -> int:
        """Rows anonymised over all kinds."""
        return self.needs + self.suggestions + self.feedback

    def __add__(self, other: Anonymised) -> Anonymised:
        return Anonymised(
            self.needs + other.needs,
            self.suggestions + other.suggestions,
            self.feedback + other.feedback,
        )


def cutoff(now: datetime, retention_days: int) -> datetime:
    """The moment before which free texts are anonymised."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return _aware("now", now) - timedelta(days=retention_days)


async def anonymise_batch(
    before: datetime, *, limit: int = DEFAULT_BATCH, session: AsyncSession
) -> Anonymised:
    """Anonymise up to `limit` rows of each kind written before `before` (see the module doc).

    Call again until it returns a total of zero. The feedback's time is its reservation's last
    change (recording the feedback is the last change a loan gets, so never early).
    """
    moment = _aware("before", before)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    needs = await _update_batch(
        _NEEDS,
        (
            _NEEDS.c.created_at < moment,
            or_(_NEEDS.c.text != "", _NEEDS.c.citizen_id.is_not(None)),
        ),
        {"text": "", "citizen_id": None},
        limit,
        session,
    )
    suggestions = await _update_batch(
        _SUGGESTIONS,
        (
            _SUGGESTIONS.c.created_at < moment,
            or_(
                _SUGGESTIONS.c.text != "",
                _SUGGESTIONS.c.telegram_user_id != ANONYMOUS_AUTHOR,
            ),
        ),
        {"text": "", "telegram_user_id": ANONYMOUS_AUTHOR},
        limit,
        session,
    )
    feedback = await _update_batch(
        _RESERVATIONS,
        (_RESERVATIONS.c.updated_at < moment, _RESERVATIONS.c.feedback_text.is_not(None)),
        {"feedback_text": None, "feedback_language": None},
        limit,
        session,
    )
    return Anonymised(needs, suggestions, feedback)


async def record_run(done: Anonymised, retention_days: int, *, session: AsyncSession) -> None:
    """Audit one retention run that changed something (counts only, never texts)."""
    if done.total:
        await audit.record(
            "retention.anonymised",
            actor=audit.SYSTEM,
            detail={
                "retention_days": retention_days,
                "needs": done.needs,
                "suggestions": done.suggestions,
                "feedback": done.feedback,
            },
            session=session,
        )


async def _update_batch(
    table: Table,
    conditions: tuple[ColumnElement[bool], ...],
    values: dict[str, object],
    limit: int,
    session: AsyncSession,
) -> int:
    ids = select(table.c.id).where(*conditions).order_by(table.c.id).limit(limit)
    # SQLite and PostgreSQL both take a LIMITed subquery inside IN (MySQL would not).
    statement = update(table).where(table.c.id.in_(ids)).values(**values)
    result = await session.exec(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)
