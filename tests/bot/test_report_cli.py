"""`learncity report`: the officers' summary as files without Telegram."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.emulator.harness import sqlite_url
from bot.report_cli import FormatError, parse_formats, run_report_command
from bot.seed_demo import seed_demo
from bot.settings import load_settings
from storage import clock, migrate
from storage.clock import ManualClock
from storage.database import Database

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def test_formats() -> None:
    assert parse_formats(None) == ("md", "csv", "xlsx", "png")
    assert parse_formats(["csv,XLSX", "csv", "png"]) == ("csv", "xlsx", "png")
    with pytest.raises(FormatError):
        parse_formats(["pdf"])


async def test_a_report_writes_the_same_outputs_as_the_bot(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "report.db")
    db = Database(url)
    try:
        await migrate.upgrade(db)
        await seed_demo(db, citizens=200, answers=1500, free_texts=100, seed=5, now=NOW)
    finally:
        await db.dispose()
    settings = load_settings(database_url=url)
    clock.set_clock(ManualClock(NOW))
    try:
        code = await run_report_command(
            settings, period="2569-11", formats=None, out=tmp_path / "out", language="th"
        )
    finally:
        clock.set_clock(None)
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "learncity-summary-2026-11-topics.png",
        "learncity-summary-2026-11-trend.png",
        "learncity-summary-2026-11.csv",
        "learncity-summary-2026-11.md",
        "learncity-summary-2026-11.xlsx",
    ]
    out = tmp_path / "out"
    markdown = (out / "learncity-summary-2026-11.md").read_text(encoding="utf-8")
    assert markdown.startswith("# 📊 สรุปความต้องการเรียนรู้\n")
    assert "พฤศจิกายน 2569 (1 พ.ย. 2569 – 30 พ.ย. 2569)" in markdown
    rows = list(csv.reader(io.StringIO(
        (out / "learncity-summary-2026-11.csv").read_text(encoding="utf-8-sig"), newline=""
    )))  # fmt: skip
    assert rows[0][1] == "ตาราง"
    workbook = load_workbook(out / "learncity-summary-2026-11.xlsx")
    assert workbook.sheetnames[0] == "เกี่ยวกับรายงาน"
    assert (out / "learncity-summary-2026-11-topics.png").read_bytes().startswith(b"\x89PNG")


def test_the_command_line_refuses_a_bad_period_or_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "cli.db"))
    assert main(["report", "--period", "someday", "--out", str(tmp_path / "x")]) == 2
    assert "this-month" in capsys.readouterr().err
    assert main(["report", "--format", "pdf", "--out", str(tmp_path / "x")]) == 2
    assert "unknown format 'pdf'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_the_command_line_writes_markdown_for_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "empty.db"))
    code = main(["report", "--period", "all", "--format", "md", "--language", "en",
                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0
    written = tmp_path / "out" / "learncity-summary-all.md"
    assert capsys.readouterr().out.strip() == str(written)
    assert "Period: All time" in written.read_text(encoding="utf-8")
