"""`learncity demo`: the real bot against the local emulator, no token needed.

For now it plays a scripted conversation (onboarding in Thai and in English, a decline, a
language switch) over HTTP and prints the transcript; the next step makes it interactive.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bot.emulator.harness import LiveBot, sqlite_url
from bot.settings import Settings
from storage import citizens


async def run_demo(settings: Settings, database: str | None) -> int:
    """Play the scripted conversation and print it; returns an exit code."""
    if settings.log_level == "INFO":
        logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="learncity-demo-") as tmp:
        path = Path(database) if database else Path(tmp) / "demo.db"
        async with LiveBot(
            database_url=sqlite_url(path),
            # The transcript is the point; INFO lines would interleave with it.
            settings_overrides={"log_level": settings.log_level},
        ) as live:
            print(
                f"LearnCity demo: the bot talks HTTP to the local Bot API emulator at "
                f"{live.server.base_url}, data in {path}\n"
            )
            somchai = live.user(1001, "สมชาย", language_code="th")
            await live.send(somchai, "/start")
            await live.press(somchai, "ภาษาไทย")
            await live.press(somchai, "35–49 ปี")
            await live.press(somchai, "ยินยอมทั้งหมดและไปต่อ")
            await live.press(somchai, "เบตง")
            await live.send(somchai, "/privacy")
            await live.send(somchai, "/language")
            await live.press(somchai, "English")
            await live.send(somchai, "/help")

            alice = live.user(1002, "Alice", language_code="en")
            await live.send(alice, "/start")
            await live.press(alice, "English")
            await live.press(alice, "20–34")
            await live.press(alice, "Decline all")
            await live.send_other(alice, "sticker")

            print("\n".join(live.transcript.lines))
            assert live.db is not None
            async with live.db.session() as session:
                count = await citizens.count_citizens(session=session)
            print(f"\nStored citizens: {count} (Alice declined, so nothing of hers was kept).")
    return 0
