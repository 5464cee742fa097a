"""bench_needs' Telegram: an `EmulatorServer` in a child process (or in this one), driven.

Telegram does not run in the bot's process, so by default the benchmark's emulator does not
either: `ProcessEmulator` starts a child process (spawn) that owns the `Emulator` and its
`EmulatorServer` and answers the benchmark's commands over a pipe; `InlineEmulator` keeps
both in this process (`--inline`, the old behaviour). Either way the commands are the methods
of one `Driver`, run by whichever process owns the emulator, so the setup, the votes and the
checks are the same code in both modes.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bench.common import ErrorLog, language_of
from bot.emulator.emulator import Emulator
from bot.emulator.harness import IN_PROCESS_URL
from bot.emulator.inprocess import InProcessRequest
from bot.emulator.model import EmuMessage, EmuUser
from bot.emulator.server import EmulatorServer

DEFAULTS = Defaults(  # as build_application: the same parameters on every call
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)
CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Question:
    """What a poll of one survey question shows, per language (as `/needs` words it)."""

    id: int
    keys: tuple[str, ...]
    multiple: bool
    text: dict[str, str]
    labels: dict[str, list[str]]


class FirstPoll(NamedTuple):
    """A poll the setup sent: what its `SentPoll` row needs."""

    poll_id: str
    message_id: int


async def send_question(bot: ExtBot[Any], chat_id: int, question: Question) -> None:
    """The Bot API call `/needs` makes for a question."""
    lang = language_of(chat_id)
    await bot.send_poll(
        chat_id,
        question.text[lang],
        question.labels[lang],
        is_anonymous=False,
        allows_multiple_answers=question.multiple,
    )


# ---------------------------------------------------------------------- the emulator's side


class Driver:
    """The emulator as the benchmark drives it, in the process that owns it.

    Each public coroutine is one command (`COMMANDS`). `log` keeps what this process logs at
    ERROR when it is not the benchmark's own process (the child's), else None.
    """

    def __init__(self, emulator: Emulator, log: ErrorLog | None = None) -> None:
        self.emulator = emulator
        self.log = log
        self.people: dict[int, EmuUser] = {}
        self.firsts: dict[int, EmuMessage] = {}

    async def add_people(self, user_ids: range) -> None:
        """The citizens as emulator users who have started the bot."""
        for user_id in user_ids:
            self.people[user_id] = self.emulator.add_user(
                user_id, f"U{user_id}", language_code=language_of(user_id)
            )
            self.emulator.chats[user_id].started = True

    async def send_polls(self, user_ids: Sequence[int], question: Question) -> dict[int, FirstPoll]:
        """The question's poll to everyone, as the bot sends it but without sockets (setup);
        each citizen's poll is the one `vote` answers from now on."""
        bot: ExtBot[Any] = ExtBot(
            self.emulator.token,
            base_url=f"{IN_PROCESS_URL}/bot",
            request=InProcessRequest(self.emulator),
            defaults=DEFAULTS,
        )
        async with bot:
            for user_id in user_ids:
                await send_question(bot, user_id, question)
        sent: dict[int, FirstPoll] = {}
        for user_id in user_ids:
            message = self._polls_in(user_id)[-1]
            self.firsts[user_id] = message
            sent[user_id] = FirstPoll(message.extra["poll"]["id"], message.message_id)
        return sent

    async def vote(self, votes: Sequence[tuple[int, list[int]]]) -> None:
        """Queue every vote on the citizen's first poll (a poll_answer and a poll update each)
        while nobody polls."""
        for user_id, option_ids in votes:
            await self.emulator.polls.vote(self.people[user_id], self.firsts[user_id], option_ids)

    async def drop_pending_updates(self) -> None:
        await self.emulator.drop_pending_updates()

    async def set_latency(self, seconds: float) -> None:
        """Added to every Bot API call, `getUpdates` included."""
        self.emulator.faults.latency = seconds

    async def cpu(self) -> float:
        """This process's CPU seconds so far (the emulator's, when it runs in a child)."""
        return time.process_time()

    async def mark(self) -> int:
        """A mark in the call log; errors logged before it are forgotten."""
        if self.log is not None:
            self.log.messages.clear()
        return len(self.emulator.calls)

    async def wait_confirmed(self, timeout: float) -> None:
        """Until the bot has fetched and confirmed every queued update."""
        await self.emulator.wait_confirmed(timeout)

    async def problems(self, mark: int) -> list[str]:
        """Bot API calls refused since `mark` (and what this process logged at ERROR)."""
        calls = self.emulator.calls[mark:]
        refused = [f"{c.method}: {c.description}" for c in calls if not c.ok]
        found = [f"{len(refused)} Bot API calls refused, e.g. {refused[0]}"] if refused else []
        if self.log is not None:
            found += [f"emulator: {problem}" for problem in self.log.problems()]
        return found

    async def sends_since(self, mark: int) -> int:
        return sum(
            c.ok and c.method.lower().startswith(("send", "edit"))
            for c in self.emulator.calls[mark:]
        )

    async def check_new_polls(self, user_ids: range, second: Question) -> list[str]:
        """Every citizen has exactly two polls, the second showing the second question."""
        wrong: list[str] = []
        for user_id in user_ids:
            polls = self._polls_in(user_id)
            shown = polls[-1].extra["poll"]["question"] if polls else None
            if len(polls) != 2 or shown != second.text[language_of(user_id)]:
                wrong.append(f"{user_id}: {len(polls)} polls, last {shown!r}")
        if not wrong:
            return []
        return [f"{len(wrong)} citizens without exactly one new poll, e.g. {wrong[0]}"]

    async def check_no_new_polls(self, user_ids: range) -> list[str]:
        """Every citizen still has only the first poll."""
        extra = [u for u in user_ids if len(self._polls_in(u)) != 1]
        return [f"{len(extra)} chats got a message"] if extra else []

    def _polls_in(self, chat_id: int) -> list[EmuMessage]:
        messages = self.emulator.messages.get(chat_id, [])
        return [m for m in messages if m.from_bot and m.kind == "poll"]


COMMANDS = frozenset(
    {
        "add_people",
        "send_polls",
        "vote",
        "drop_pending_updates",
        "set_latency",
        "mark",
        "cpu",
        "wait_confirmed",
        "problems",
        "sends_since",
        "check_new_polls",
        "check_no_new_polls",
    }
)


def _serve(conn: Connection) -> None:
    """The child process: an EmulatorServer, and a Driver answering commands on `conn`.

    Each command is (name, args) and is answered with (True, result) or (False, error text);
    ("stop", ()) ends it. The server keeps answering the bot while a command is awaited
    (`wait_confirmed`), since both run on this process's event loop.
    """

    async def serve() -> None:
        log = ErrorLog()
        logging.getLogger().addHandler(log)
        emulator = Emulator()
        driver = Driver(emulator, log)
        loop = asyncio.get_running_loop()
        async with EmulatorServer(emulator) as server:
            conn.send((server.base_url, emulator.token))
            while (command := await loop.run_in_executor(None, conn.recv))[0] != "stop":
                name, args = command
                try:
                    if name not in COMMANDS:
                        raise ValueError(f"unknown command {name!r}")
                    reply: tuple[bool, Any] = (True, await getattr(driver, name)(*args))
                except Exception as error:
                    reply = (False, f"{name}: {type(error).__name__}: {error}")
                conn.send(reply)
        conn.send((True, None))

    asyncio.run(serve())


# ---------------------------------------------------------------------- the benchmark's side


class EmulatorHandle:
    """The benchmark's side of a `Driver`, wherever the emulator runs: `base_url` and
    `token` for the bot, and one typed coroutine per command."""

    where = ""

    def __init__(self) -> None:
        self.base_url = ""
        self.token = ""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def ask(self, command: str, *args: Any) -> Any:
        raise NotImplementedError

    async def __aenter__(self) -> EmulatorHandle:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def add_people(self, user_ids: range) -> None:
        await self.ask("add_people", user_ids)

    async def send_polls(self, user_ids: range, question: Question) -> dict[int, FirstPoll]:
        sent: dict[int, FirstPoll] = await self.ask("send_polls", user_ids, question)
        return sent

    async def vote(self, votes: Sequence[tuple[int, list[int]]]) -> None:
        await self.ask("vote", list(votes))

    async def drop_pending_updates(self) -> None:
        await self.ask("drop_pending_updates")

    async def set_latency(self, seconds: float) -> None:
        await self.ask("set_latency", seconds)

    async def mark(self) -> int:
        mark: int = await self.ask("mark")
        return mark

    async def wait_confirmed(self, timeout: float) -> None:
        await self.ask("wait_confirmed", timeout)

    async def cpu(self) -> float:
        seconds: float = await self.ask("cpu")
        return seconds

    async def problems(self, mark: int) -> list[str]:
        found: list[str] = await self.ask("problems", mark)
        return found

    async def sends_since(self, mark: int) -> int:
        sent: int = await self.ask("sends_since", mark)
        return sent

    async def check_new_polls(self, user_ids: range, second: Question) -> list[str]:
        found: list[str] = await self.ask("check_new_polls", user_ids, second)
        return found

    async def check_no_new_polls(self, user_ids: range) -> list[str]:
        found: list[str] = await self.ask("check_no_new_polls", user_ids)
        return found


class InlineEmulator(EmulatorHandle):
    """The emulator and its server in this process, on the bot's event loop (`--inline`)."""

    where = "in this process"

    def __init__(self) -> None:
        super().__init__()
        self.emulator = Emulator()
        self.server = EmulatorServer(self.emulator)
        self.driver = Driver(self.emulator)  # what it logs goes to this process's log
        self.token = self.emulator.token

    async def start(self) -> None:
        await self.server.start()
        self.base_url = self.server.base_url

    async def close(self) -> None:
        await self.server.stop()

    async def ask(self, command: str, *args: Any) -> Any:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        return await getattr(self.driver, command)(*args)


class ProcessEmulator(EmulatorHandle):
    """The emulator and its server in a child process, driven through a pipe."""

    where = "in a child process"

    def __init__(self) -> None:
        super().__init__()
        context = multiprocessing.get_context("spawn")
        self._conn, self._child = context.Pipe()
        self._process = context.Process(target=_serve, args=(self._child,), daemon=True)
        self._lock = asyncio.Lock()  # one command at a time on the pipe

    async def start(self) -> None:
        self._process.start()
        self._child.close()  # the child has its own copy: a dead child now reads as EOF
        self.base_url, self.token = await self._recv()

    async def close(self) -> None:
        if self._process.is_alive():
            try:
                await asyncio.wait_for(self.ask("stop"), CLOSE_TIMEOUT)
            finally:
                self._process.join(CLOSE_TIMEOUT)
                if self._process.is_alive():
                    self._process.kill()
                    self._process.join(CLOSE_TIMEOUT)
        self._conn.close()

    async def ask(self, command: str, *args: Any) -> Any:
        async with self._lock:
            self._conn.send((command, args))
            ok, result = await self._recv()
        if not ok:
            raise RuntimeError(f"the emulator's process failed: {result}")
        return result

    async def _recv(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)


def make_emulator(inline: bool) -> EmulatorHandle:
    """Not started; use `async with`."""
    return InlineEmulator() if inline else ProcessEmulator()
