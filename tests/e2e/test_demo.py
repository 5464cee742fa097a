"""`learncity demo`, driven by its shipped scripts the way a newcomer would run it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import bot

DEMO_SCRIPTS = Path(bot.__file__).parent / "data" / "demo"


async def _demo(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_thai_script_signs_a_citizen_up_in_thai(tmp_path: Path) -> None:
    code, out, err = await _demo("--script", str(DEMO_SCRIPTS / "citizen_th.txt"))
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "« bot: ยินดีต้อนรับสู่ LearnCity" in out
    assert "   [1] ภาษาไทย   [2] English" in out
    assert "บันทึกอำเภอของท่านแล้ว: เบตง" in out
    assert "☑ สำรวจความต้องการเรียนรู้ (ให้ความยินยอมเมื่อ" in out
    assert "☐ การแจ้งเตือนและข่าวสาร (ไม่ได้ให้ความยินยอม)" in out
    assert "ขออภัย ระบบอ่านได้เฉพาะข้อความและปุ่มกดเท่านั้น" in out  # the sticker
    assert "Done: I will reply in English from now on." in out
    assert "/privacy – Privacy and your consents" in out
    assert out.rstrip().endswith("/forget – Erase your data")  # /help, the script's last line


async def test_the_english_script_signs_a_teenager_up_with_a_guardians_agreement() -> None:
    code, out, err = await _demo(
        "--script", str(DEMO_SCRIPTS / "citizen_en.txt"), "--language", "en"
    )
    assert code == 0, err
    assert "   [1] English   [2] ภาษาไทย" in out
    assert "needs the agreement of a parent or guardian" in out
    assert "Welcome, you are all set." in out
    assert "Sorry, I do not know that command." in out
    assert "Thank you for your message." in out


async def test_typed_lines_and_end_of_input_stop_cleanly() -> None:
    code, out, err = await _demo("--language", "en", stdin=b"/start\n1\n:quit\n/help\n")
    assert code == 0, err
    assert "Please choose your language." in out
    assert "Please choose your age group." in out  # button 1: English, first on an English phone
    assert "What this bot can do" not in out  # nothing after :quit
    code, out, _ = await _demo(stdin=b"/help\n")
    assert code == 0 and "คำสั่งที่ใช้ได้" in out


async def test_the_demo_opens_the_shipped_survey_so_needs_asks_its_questions() -> None:
    code, out, err = await _demo("--as", "officer", "--language", "en", stdin=b"/needs\nv 1\n")
    assert code == 0, err
    assert "poll: 1/6" in out
    assert "poll: 2/6" in out  # the vote was stored and the next question came


async def test_a_missing_script_is_one_clear_line() -> None:
    code, _, err = await _demo("--script", "/no/such/script.txt")
    assert code == 2 and err.strip() == "No such script: /no/such/script.txt"


async def test_an_admin_in_the_demo_gets_the_audit_file_saved(tmp_path: Path) -> None:
    files = tmp_path / "files"
    code, out, err = await _demo(
        "--as", "admin", "--language", "en", "--files", str(files),
        stdin=b"/start\n1\n5\n5\n9\n/invite officer\n/audit\n",
    )  # fmt: skip
    assert code == 0, err
    assert "Invite link for the officer role, usable once" in out
    saved = list(files.glob("*audit-*.csv"))
    assert len(saved) == 1
    assert f"saved to {saved[0]}" in out
    assert "invite.created" in saved[0].read_text(encoding="utf-8-sig")
