"""Free texts older than the retention limit lose their words and their author, in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from storage import council, library, retention
from storage.clock import ManualClock
from storage.database import Database
from storage.models import CouncilSuggestion, FreeTextNeed, FreeTextToken, LibraryReservation
from storage.retention import Anonymised, anonymise_batch, cutoff
from storage.surveys import add_free_text
from tests.storage import council_helpers as ch
from tests.storage import library_helpers as lh
from tests.storage.factories import registered

ME = 1001
DAYS = 365


async def _need(db: Database, text: str) -> int:
    async with db.session() as session:
        need = await add_free_text(ME, text, "en", survey_id=None, session=session)
    assert need.id is not None
    return need.id


async def _needs(db: Database) -> dict[int, tuple[str, int | None]]:
    async with db.session(readonly=True) as session:
        rows = await session.exec(
            select(FreeTextNeed.id, FreeTextNeed.text, FreeTextNeed.citizen_id)
        )
        return {need_id: (text, citizen_id) for need_id, text, citizen_id in rows.all()}


async def test_old_needs_are_blanked_and_unlinked_while_their_theme_words_still_count(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, ME)
    old = await _need(db, "pottery classes for adults")
    clock.advance(days=DAYS)
    recent = await _need(db, "evening English lessons")
    clock.advance(days=2)

    async with db.session() as session:
        done = await anonymise_batch(cutoff(clock(), DAYS), session=session)

    assert done == Anonymised(needs=1)
    needs = await _needs(db)
    assert needs[old] == ("", None)
    assert needs[recent] == ("evening English lessons", needs[recent][1])
    assert needs[recent][1] is not None
    async with db.session(readonly=True) as session:
        tokens = (
            await session.exec(
                select(FreeTextToken.token, FreeTextToken.citizen_id).where(
                    col(FreeTextToken.need_id) == old
                )
            )
        ).all()
    # Themes count people per word: the words keep their (already split) citizen link.
    assert {token for token, _ in tokens} >= {"pottery", "classes"}
    assert all(citizen_id is not None for _, citizen_id in tokens)


async def test_running_again_changes_nothing(db: Database, clock: ManualClock) -> None:
    await registered(db, ME)
    await _need(db, "pottery classes for adults")
    clock.advance(days=DAYS + 1)
    async with db.session() as session:
        first = await anonymise_batch(cutoff(clock(), DAYS), session=session)
        second = await anonymise_batch(cutoff(clock(), DAYS), session=session)
    assert first.total == 1 and second.total == 0


async def test_a_batch_is_limited_and_the_backlog_is_worked_off_by_calling_again(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, ME)
    for text in ("pottery", "weaving", "cooking"):
        await _need(db, f"{text} classes")
    clock.advance(days=DAYS + 1)
    before = cutoff(clock(), DAYS)
    counts = []
    for _ in range(4):
        async with db.session() as session:
            counts.append((await anonymise_batch(before, limit=2, session=session)).needs)
    assert counts == [2, 1, 0, 0]
    assert {value for value in (await _needs(db)).values()} == {("", None)}


async def test_old_council_suggestions_and_library_feedback_are_anonymised(
    db: Database, clock: ManualClock
) -> None:
    series = await ch.monthly_series(db)
    meeting = await ch.first_meeting(db, series)
    await lh.with_categories(db)
    book = await lh.listed_book(db)
    event = await lh.new_event(db, [book.id])
    await ch.people(db, ME)
    async with db.session() as session:
        await council.suggest(
            meeting.id, ME, "A reading corner at the market", "en", session=session
        )
    loan = await lh.reserved(db, event, book, ME)
    clock.set(event.starts_at + timedelta(hours=3))
    async with db.session() as session:
        await library.record_feedback_text(loan.id, ME, "Moving stories", "en", session=session)
    clock.advance(days=DAYS + 1)

    async with db.session() as session:
        done = await anonymise_batch(cutoff(clock(), DAYS), session=session)

    assert (done.suggestions, done.feedback) == (1, 1)
    async with db.session(readonly=True) as session:
        suggestion = (await session.exec(select(CouncilSuggestion))).one()
        reservation = await session.get(LibraryReservation, loan.id)
    assert (suggestion.text, suggestion.telegram_user_id) == ("", retention.ANONYMOUS_AUTHOR)
    assert reservation is not None
    assert (reservation.feedback_text, reservation.feedback_language) == (None, None)


def test_the_cutoff_is_the_limit_before_now_and_needs_a_positive_limit() -> None:
    now = ch.FEB_MEETING
    assert cutoff(now, 30) == now - timedelta(days=30)
    with pytest.raises(ValueError):
        cutoff(now, 0)
