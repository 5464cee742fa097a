"""The daily retention job works the whole backlog off in batches and audits the run."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlmodel import select

from schedules.retention import anonymise_old_texts, parse_time
from storage.clock import ManualClock
from storage.database import Database
from storage.models import AuditEntry, FreeTextNeed
from storage.surveys import add_free_text
from tests.storage.conftest import clock  # noqa: F401  (the fixture)
from tests.storage.factories import registered

RUN = "retention.anonymised"


async def test_every_text_past_the_limit_is_anonymised_and_the_run_is_audited(
    db: Database,
    clock: ManualClock,  # noqa: F811
) -> None:
    await registered(db, 1001)
    async with db.session() as session:
        for text in ("pottery classes", "weaving classes", "cooking classes"):
            await add_free_text(1001, text, "en", survey_id=None, session=session)
    clock.advance(days=31)

    done = await anonymise_old_texts(db, 30, batch=2)
    again = await anonymise_old_texts(db, 30, batch=2)

    assert (done.needs, again.total) == (3, 0)
    async with db.session(readonly=True) as session:
        texts = (await session.exec(select(FreeTextNeed.text))).all()
        runs = (await session.exec(select(AuditEntry).where(AuditEntry.action == RUN))).all()
    assert set(texts) == {""}
    assert len(runs) == 1 and runs[0].detail == {
        "retention_days": 30, "needs": 3, "suggestions": 0, "feedback": 0,
    }  # fmt: skip


def test_the_daily_time_is_read_in_the_city_zone() -> None:
    zone = ZoneInfo("Asia/Bangkok")
    assert parse_time("03:30", zone) == time(3, 30, tzinfo=zone)
