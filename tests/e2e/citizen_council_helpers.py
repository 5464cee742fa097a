"""Builders for the citizens' coffee-council e2e tests (/council, /mysessions).

Storage time stands at NOW (Tue 1 Dec 2026, 10:00 in Yala, as in the library tests). The
monthly council meets on the 15th at 09:00 in Yala: Tue 15 Dec 2026 and Fri 15 Jan 2027 are
materialised at once (two months ahead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time
from pathlib import Path

from icalendar import Calendar

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from storage import citizens, council
from storage.citizens import NewCitizen
from storage.council import Meeting, SeriesView
from storage.database import Database
from storage.enums import AgeBand, Language, Purpose
from storage.recurrence import month_day
from tests.e2e.library_helpers import last_document, problems

COUNCIL_FACILITATOR = 9300
COUNCIL_TITLE = {"th": "สภากาแฟยะลา", "en": "Yala coffee council"}
COUNCIL_PLACE = "ร้านกาแฟหน้าเทศบาลนครยะลา"
COUNCIL_LATITUDE, COUNCIL_LONGITUDE = 6.5436, 101.2811
DEC_MEETING = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)  # Tue 15 Dec 2026, 09:00 in Yala
JAN_MEETING = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)  # Fri 15 Jan 2027, 09:00 in Yala
DEC_TH, DEC_EN = "อังคาร 15 ธ.ค. 2569, 09:00 น.", "Tue 15 Dec 2026, 09:00"
JAN_TH, JAN_EN = "ศุกร์ 15 ม.ค. 2570, 09:00 น.", "Fri 15 Jan 2027, 09:00"
COUNCIL_LINK = "https://t.me/learncity_test_bot?start=council"


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[LiveBot]:
    """The bot in-process on a fresh SQLite file; afterwards: no problem seen (see problems)."""
    bot = LiveBot(database_url=sqlite_url(tmp_path / "council.db"), in_process=True)
    async with bot:
        yield bot
    assert problems(bot) == []


async def citizen(
    live: LiveBot,
    user_id: int,
    name: str,
    language: Language,
    *,
    council_consent: bool = True,
    last_name: str | None = None,
) -> EmuUser:
    """A registered citizen who started the bot (consenting to everything unless told)."""
    assert live.db is not None
    user = live.user(user_id, name, language_code=language, last_name=last_name)
    live.emulator.chats[user_id].started = True
    async with live.db.session() as session:
        await citizens.register_citizen(
            NewCitizen(user_id, language, AgeBand.age_35_49, False, None),
            {p: council_consent or p is not Purpose.coffee_council for p in Purpose},
            session=session,
        )
    return user


async def monthly_council(db: Database) -> SeriesView:
    """The council on the 15th of each month, 09:00 in Yala, with a map point."""
    async with db.session() as session:
        return await council.create_series(
            title=COUNCIL_TITLE, place_text=COUNCIL_PLACE,
            latitude=COUNCIL_LATITUDE, longitude=COUNCIL_LONGITUDE,
            rule=month_day(15, time(9, 0)), created_by=COUNCIL_FACILITATOR, session=session,
        )  # fmt: skip


async def meetings(db: Database) -> list[Meeting]:
    """Every meeting not ended (cancelled ones too), soonest first."""
    async with db.session() as session:
        return await council.upcoming_meetings(
            datetime(2026, 12, 1, tzinfo=UTC), limit=20, include_cancelled=True, session=session
        )


def last_ics_event(live: LiveBot, chat_id: int) -> tuple[str, dict[str, object]]:
    """The newest .ics file sent to `chat_id`: its file name and its one event's fields."""
    name, data = live.emulator.files.content_of(last_document(live, chat_id))
    [event] = [c for c in Calendar.from_ical(data).walk() if c.name == "VEVENT"]
    return name, {
        "start": event.decoded("dtstart"),
        "end": event.decoded("dtend"),
        "location": str(event.get("location")),
        "url": str(event.get("url")),
        "summary": str(event.get("summary")),
        "uid": str(event.get("uid")),
    }


def last_page(live: LiveBot, chat_id: int) -> EmuMessage:
    """The newest text message in `chat_id` (as its edits left it), skipping files and maps."""
    shown = [m for m in live.emulator.sent_to(chat_id) if m.text is not None]
    assert shown, f"no text message in chat {chat_id}"
    return shown[-1]
