"""Officers' summaries end to end: an officer asks `/summary` in Thai and gets the text, the
charts (sendPhoto) and the files (sendDocument), which read back as the same numbers that
`build_summary` gives; `/export` sends only the files; a citizen is refused.

The database is filled by the demo seeder (a few hundred people, a year of answers) with the
clock frozen, so "this-month" is November 2026 (Buddhist Era 2569).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

import bot.app
import handlers.summary
from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from bot.i18n.catalog import catalogs
from bot.seed_demo import seed_demo
from bot.services import AnyApplication, services_from_app
from storage import citizens, clock, roles
from storage.citizens import NewCitizen
from storage.clock import ManualClock
from storage.enums import AgeBand, Purpose, Role
from storage.summary import Summary, build_summary, cell_text, parse_period

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 in Yala
OFFICER, CITIZEN, FACILITATOR = 4101, 4102, 4103
TH = catalogs().messages["th"]


def _register_summary(app: AnyApplication) -> None:
    """Until the lead wires the flow into bot/app.py FLOWS, the test registers it."""
    if handlers.summary not in bot.app.FLOWS:
        handlers.summary.register(app)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.set_clock(ManualClock(NOW))
    try:
        yield
    finally:
        clock.set_clock(None)


@pytest.fixture
async def live(tmp_path: Path, frozen: None) -> AsyncIterator[LiveBot]:
    """The bot in-process on seeded data, with an officer, a citizen and a facilitator (Thai)."""
    bot_ = LiveBot(
        database_url=sqlite_url(tmp_path / "summary.db"),
        in_process=True,
        extra_setup=_register_summary,
    )
    async with bot_:
        assert bot_.db is not None
        await seed_demo(bot_.db, citizens=400, answers=4000, free_texts=300, seed=3, now=NOW)
        for user_id, role in (
            (OFFICER, Role.officer),
            (CITIZEN, None),
            (FACILITATOR, Role.facilitator),
        ):
            bot_.user(user_id, f"P{user_id}", language_code="th")
            async with bot_.db.session() as session:
                await citizens.register_citizen(
                    NewCitizen(user_id, "th", AgeBand.age_35_49, False, None),
                    dict.fromkeys(Purpose, True),
                    session=session,
                )
                if role is not None:
                    await roles.grant_role(user_id, role, actor="system", session=session)
        yield bot_
    refused = [(c.method, c.description) for c in bot_.emulator.calls if not c.ok]
    assert refused == []


async def _summary(live: LiveBot, period: str = "this-month") -> Summary:
    """What storage says for the period, to compare the files with."""
    assert live.db is not None and live.settings is not None
    chosen = parse_period(period, now=NOW, tz=live.settings.timezone)
    async with live.db.session(readonly=True) as session:
        districts = [d.code for d in services_from_app(live.app).districts]
        return await build_summary(chosen, session=session, districts=districts)


def _files(live: LiveBot, replies: list[EmuMessage]) -> dict[str, bytes]:
    return dict(live.emulator.files.content_of(m) for m in replies if m.kind == "document")


async def test_an_officer_gets_text_charts_and_files_in_thai(live: LiveBot) -> None:
    officer: EmuUser = live.emulator.users[OFFICER]
    replies = await live.send(officer, "/summary")
    kinds = [m.kind for m in replies]
    texts = [m for m in replies if m.kind == "text"]
    assert texts[0].text is not None and texts[0].text.startswith("กำลังจัดทำสรุป พฤศจิกายน 2569")
    assert kinds[len(texts) :] == ["photo", "photo", "document", "document"]
    assert len(texts) >= 2
    actions = [c.params.get("action") for c in live.emulator.calls if c.method == "sendChatAction"]
    assert "upload_document" in actions

    expected = await _summary(live)
    body = "\n".join(m.text or "" for m in texts[1:])
    assert all(len(m.text or "") <= 4096 for m in texts)
    assert "📊 สรุปความต้องการเรียนรู้" in body
    assert "ช่วงเวลา: พฤศจิกายน 2569 (1 พ.ย. 2569 – 30 พ.ย. 2569)" in body
    assert f"ผู้ตอบแบบสำรวจ: {cell_text(expected.respondents)}" in body

    photos = [m for m in replies if m.kind == "photo"]
    for photo in photos:
        _, data = live.emulator.files.content_of(photo)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.size[0] >= 1000
    assert photos[0].history == [
        "ความต้องการเรียนรู้ตามหัวข้อ พฤศจิกายน 2569 (1 พ.ย. 2569 – 30 พ.ย. 2569)"
    ]

    files = _files(live, replies)
    assert sorted(files) == ["learncity-summary-2026-11.csv", "learncity-summary-2026-11.xlsx"]
    raw = files["learncity-summary-2026-11.csv"]
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    overview = {r[2]: r[7] for r in rows if r[0] == "overview"}
    assert overview["respondents"] == cell_text(expected.respondents)
    assert overview["answers"] == cell_text(expected.answers)
    by_topic = {r[2]: r[7] for r in rows if r[0] == "needs_by_topic" and r[4] == "people"}
    assert by_topic == {t.key: cell_text(t.people) for t in expected.topics} | {
        "_total": cell_text(expected.respondents)
    }
    names = {r[3] for r in rows if r[0] == "needs_by_topic"}
    assert {t.name["th"] for t in expected.topics} <= names  # Thai survives the round trip

    workbook = load_workbook(io.BytesIO(files["learncity-summary-2026-11.xlsx"]))
    assert workbook.sheetnames[0] == "เกี่ยวกับรายงาน"
    assert "ความต้องการตามอำเภอ" in workbook.sheetnames
    sheet = workbook["ความต้องการตามหัวข้อ"]
    shown = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    for topic in expected.topics:
        value = shown[topic.name["th"]]
        assert (str(value) if isinstance(value, int) else value) == cell_text(topic.people)


async def test_export_sends_only_the_files(live: LiveBot) -> None:
    officer = live.emulator.users[OFFICER]
    replies = await live.send(officer, "/export 2569-10")
    assert [m.kind for m in replies] == ["text", "document", "document"]
    assert sorted(_files(live, replies)) == [
        "learncity-summary-2026-10.csv",
        "learncity-summary-2026-10.xlsx",
    ]
    assert replies[0].text is not None and "ตุลาคม 2569" in replies[0].text


async def test_a_period_it_does_not_know_is_explained(live: LiveBot) -> None:
    officer = live.emulator.users[OFFICER]
    [answer] = await live.send(officer, "/summary 2026-13")
    assert answer.text is not None
    assert answer.text.startswith("ไม่รู้จักช่วงเวลา “2026-13”")
    for form in ("this-month", "last-month", "2569-11", "last-90-days", "all"):
        assert form in answer.text


async def test_citizens_and_facilitators_are_refused(live: LiveBot) -> None:
    for user_id in (CITIZEN, FACILITATOR):
        for command in ("/summary", "/export 2026-11"):
            replies = await live.send(live.emulator.users[user_id], command)
            assert [m.text for m in replies] == [TH["guard.refused"]]
