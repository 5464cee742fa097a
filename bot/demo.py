"""`learncity demo`: chat with the real bot from the terminal, no token and no network needed.

The local Bot API emulator runs on 127.0.0.1, the real bot polls it over HTTP with a throwaway
SQLite file, and what you type is sent as a Telegram user would send it. Buttons are pressed by
number, polls answered with `v`, files the bot sends are saved to a folder. `--script FILE`
replays a conversation and prints the transcript.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuMessage, EmuUser
from bot.settings import Settings
from bot.survey_cli import DEFAULT_SURVEY
from storage import audit, citizens, surveys
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Language, Purpose, Role
from storage.survey_spec import load_survey_file

DEMO_USER_ID = 1001
DEMO_NAMES = {"th": "สมใจ", "en": "Sam"}

HELP = """\
Type a message and press Enter to send it to the bot (commands start with /).
  3            press button 3 of the newest keyboard      [ภาษาไทย]  press a button by its label
  v 1,3        vote options 1 and 3 in the newest poll    v          take your vote back
  :sticker     send a sticker (also :photo :voice :location :contact)
  :help        show this again                             :quit      stop (or Ctrl-D / Ctrl-C)
"""


@dataclass
class Console:
    """Renders what the bot sends and keeps the numbering of the newest buttons and poll."""

    out: TextIO
    files_dir: Path
    buttons: list[tuple[EmuMessage, dict[str, Any]]] = field(default_factory=list)
    poll: EmuMessage | None = None
    _shown: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)

    def write(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def show_new(self, live: LiveBot, chat_id: int) -> None:
        """Print the bot's new messages and edits in `chat_id` since the last call."""
        for message in live.emulator.messages.get(chat_id, []):
            if not message.from_bot or message.deleted:
                continue
            key = (chat_id, message.message_id)
            state = (len(message.history), repr(message.reply_markup) + repr(message.extra))
            if self._shown.get(key) == state:
                continue
            edited = key in self._shown
            self._shown[key] = state
            self._render(live, message, edited)

    def _render(self, live: LiveBot, message: EmuMessage, edited: bool) -> None:
        who = "« bot (edited)" if edited else "« bot"
        if message.kind == "poll":
            self._render_poll(message, who)
        elif message.kind in ("document", "photo"):
            self._render_file(live, message, who)
        else:
            self.write(f"{who}: {message.text or ''}")
        if message.buttons:
            self.buttons = [(message, b) for b in message.buttons]
            labels = [f"[{i}] {b['text']}" for i, (_, b) in enumerate(self.buttons, start=1)]
            self.write("   " + "   ".join(labels))

    def _render_poll(self, message: EmuMessage, who: str) -> None:
        poll = message.extra.get("poll", {})
        closed = " (closed)" if poll.get("is_closed") else ""
        self.write(f"{who} — poll{closed}: {poll.get('question', '')}")
        for i, option in enumerate(poll.get("options", []), start=1):
            self.write(f"   ({i}) {option.get('text', '')} — {option.get('voter_count', 0)}")
        self.poll = message

    def _render_file(self, live: LiveBot, message: EmuMessage, who: str) -> None:
        name, data = live.emulator.files.content_of(message)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{message.message_id}-{Path(name).name}"
        path.write_bytes(data)
        caption = message.extra.get("caption")
        self.write(f"{who} sent a file: {name} ({len(data)} bytes) → saved to {path}")
        if caption:
            self.write(f"   {caption}")


async def run_demo(
    settings: Settings,
    *,
    database: str | None = None,
    script: Path | None = None,
    role: str = "citizen",
    language: Language = "th",
    files_dir: Path | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Start the emulator and the bot, then chat (interactively or from `script`)."""
    # The conversation is the point; INFO lines would interleave with it.
    level = "WARNING" if settings.log_level == "INFO" else settings.log_level
    logging.getLogger().setLevel(level)
    with tempfile.TemporaryDirectory(prefix="learncity-demo-") as tmp:
        path = Path(database) if database else Path(tmp) / "demo.db"
        overrides: dict[str, Any] = {"log_level": level}
        if role == "admin":
            overrides["admin_ids"] = frozenset({DEMO_USER_ID})
        # Created only when the bot sends a file.
        files = files_dir or Path(tempfile.gettempdir()) / f"learncity-demo-files-{os.getpid()}"
        console = Console(out=out, files_dir=files)
        async with LiveBot(database_url=sqlite_url(path), settings_overrides=overrides) as live:
            await _open_default_survey(live)
            user = live.user(DEMO_USER_ID, DEMO_NAMES[language], language_code=language)
            if role in ("facilitator", "officer"):
                await _preregister(live, user, Role(role), language)
            console.write(
                f"LearnCity demo — you are {user.first_name} ({role}, phone language {language}); "
                f"the bot talks HTTP to the local Bot API emulator at {live.server.base_url}."
            )
            console.write(f"Files the bot sends are saved in {files}.")
            if script is None:
                console.write(HELP)
            lines = _script_lines(_read_script(script)) if script else _stdin_lines()
            async for line in lines:
                if script is not None or not sys.stdin.isatty():
                    console.write(f"» {user.first_name}: {line}")
                if not await _act(live, console, user, line):
                    break
                console.show_new(live, user.id)
    return 0


async def _open_default_survey(live: LiveBot) -> None:
    """A demo database with no survey gets the shipped one, open, so /needs has questions."""
    assert live.db is not None
    async with live.db.session() as session:
        if await surveys.list_surveys(session=session):
            return  # a database the person brought (--database) keeps its own surveys
        survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
        assert survey.id is not None
        await surveys.open_survey(survey.id, actor=audit.SYSTEM, session=session)


async def _preregister(live: LiveBot, user: EmuUser, role: Role, language: Language) -> None:
    """A facilitator or officer in the demo starts signed up, with that role."""
    assert live.db is not None
    async with live.db.session() as session:
        await citizens.register_citizen(
            NewCitizen(user.id, language, AgeBand.age_35_49, False, None),
            dict.fromkeys(Purpose, True),
            session=session,
        )
        await citizens.set_role(user.id, role, actor="system", session=session)


async def _act(live: LiveBot, console: Console, user: EmuUser, line: str) -> bool:
    """Carry out one line of input; False means stop."""
    text = line.strip()
    if not text:
        return True
    if text in (":quit", ":q", ":exit"):
        return False
    if text == ":help":
        console.write(HELP)
        return True
    if text.startswith(":") and text[1:] in ("sticker", "photo", "voice", "location", "contact"):
        await live.send_other(user, text[1:])
        return True
    if text.isdigit() and console.buttons:
        return await _press_number(live, console, user, int(text))
    if text.startswith("[") and text.endswith("]"):
        label = text[1:-1]
        try:
            await live.press(user, label)
        except AssertionError:
            console.write(f"   (no button labelled {label!r})")
        return True
    if text == "v" or text.startswith("v "):
        return await _vote(live, console, user, text[1:])
    await live.send(user, text)
    return True


async def _press_number(live: LiveBot, console: Console, user: EmuUser, number: int) -> bool:
    if not 1 <= number <= len(console.buttons):
        console.write(f"   (there is no button {number}; choose 1–{len(console.buttons)})")
        return True
    message, button = console.buttons[number - 1]
    if "callback_data" not in button:
        console.write(f"   (that button opens {button.get('url', 'a link')})")
        return True
    await live.press_data(user, message, str(button["callback_data"]))
    return True


async def _vote(live: LiveBot, console: Console, user: EmuUser, choice: str) -> bool:
    if console.poll is None:
        console.write("   (there is no poll to answer)")
        return True
    try:
        options = [int(part) - 1 for part in choice.replace(",", " ").split()]
        await live.emulator.polls.vote(user, console.poll, options)
    except ValueError as error:
        console.write(f"   (vote not accepted: {error})")
        return True
    await live.settle()
    return True


def _read_script(path: Path) -> list[str]:
    """The script's lines, without blank lines and `#` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


async def _script_lines(lines: Iterable[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def _stdin_lines() -> AsyncIterator[str]:
    """Lines typed by the person; a daemon thread reads, so Ctrl-C never waits for Enter."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="demo-stdin", daemon=True).start()
    while True:
        if sys.stdin.isatty():
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = await queue.get()
        if line is None:
            return
        yield line
