"""The reminder jobs on PTB's JobQueue: rebuilt at start, firing at the planned moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.emulator.harness import LiveBot, sqlite_url
from bot.services import services_from_app
from schedules.engine import NEXT_JOB, SWEEP_JOB
from storage import citizens, clock, reminders
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Purpose


async def test_a_reminder_fires_on_time_from_the_job_queue(tmp_path: Path) -> None:
    live = LiveBot(
        database_url=sqlite_url(tmp_path / "jobs.db"),
        in_process=True,
        settings_overrides={"quiet_hours": "00:00-00:00"},  # none: the test runs at any hour
    )
    async with live:
        assert live.db is not None and live.app.job_queue is not None
        assert live.app.job_queue.get_jobs_by_name(SWEEP_JOB), "the sweep is installed at start"
        user = live.user(4242, "Ana", language_code="en")
        live.emulator.chats[user.id].started = True
        starts_at = clock.now() + timedelta(hours=1, seconds=2)
        async with live.db.session() as session:
            await citizens.register_citizen(
                NewCitizen(user.id, "en", AgeBand.age_35_49, False, None),
                dict.fromkeys(Purpose, True),
                session=session,
            )
            await reminders.set_lead_minutes(user.id, [60], session=session)
            event = await reminders.upsert_event(
                "test", "e1", title={"th": "ห้องสมุดมนุษย์", "en": "Human library"},
                starts_at=starts_at, session=session,
            )  # fmt: skip
            assert event.id is not None
            await reminders.add_attendee(event.id, user.id, session=session)
        engine = services_from_app(live.app).engine
        assert engine is not None
        result = await engine.sweep_now(live.app.job_queue)
        assert result.next_fire_at is not None
        [job] = live.app.job_queue.get_jobs_by_name(NEXT_JOB)
        assert job.next_t is not None
        assert abs((job.next_t - (starts_at - timedelta(hours=1))).total_seconds()) < 1
        assert live.emulator.sent_to(user.id) == []
        for _ in range(100):
            if live.emulator.sent_to(user.id):
                break
            await asyncio.sleep(0.1)
        [reminder] = live.emulator.sent_to(user.id)
        assert "Reminder" in (reminder.text or "") and "Human library" in (reminder.text or "")
