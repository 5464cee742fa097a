"""Survey answers per second: the real bot against a bare python-telegram-bot handler.

    python -m bench.bench_needs [--store 2000] [--mid 1000] [--concurrency 256] [--check]
                                [--repeat 3] [--repeat-mid 1] [--phases a,b0,b50]

Two workloads, each measured in this run against its own baseline:

(a) store only: N registered, consenting citizens have each answered the survey's first
    question; each now changes that vote (another option). The bot stores the change through
    the answer batcher and sends nothing. Baseline: a bare `ApplicationBuilder()` app whose
    `PollAnswerHandler` does nothing. Targets: ≥ 1,000 answers/s and ≥ 0.5 of the baseline.
(b) mid-survey: N citizens each have the first question's poll and answer it for the first
    time; the bot stores the answer and sends the next question as a poll. Baseline: the
    bare app's `PollAnswerHandler` sends a poll with the same question and options. Measured
    with the emulator answering at once and with 50 ms added to every Bot API call.
    Targets: ≥ 0.5 of the baseline, and ≥ 300 answers/s at 50 ms.

The bot is the real Application (`LiveBot`) polling an `EmulatorServer` over HTTP on
127.0.0.1, on a SQLite file; the baseline polls its own `EmulatorServer` the same way. Both
use the same settings: `PerSenderUpdateProcessor(concurrent_updates)` and
`interactive_rate_limiter(settings)` with a rate far above what is reached; the emulator's
rate limits are off. Every vote (a `poll_answer` and a `poll` update, as Telegram sends
them) is queued while the bot does not poll; the clock runs from the moment polling starts
to `settle()` (everything fetched and handled). Setup is not measured: the first polls are
sent with the same `send_poll` call, through PTB's in-process request (no sockets), and
recorded in bulk, as `/needs` would have left them.

Each side of (a) runs `--repeat` times (another changed vote each time), each side of (b)
`--repeat-mid` times (fresh citizens each time), and the best run of the bot and of the
baseline are compared: other processes on the machine only ever slow a run down. Each phase
has its own bot, emulator and database. After each run the results are checked: every vote
stored with its option, nothing sent in (a), exactly one new poll (the second question) per
citizen in (b), no Bot API call refused and no error logged. `--check` exits with status 1
when a target or a check fails; `--profile a|b0|b50` prints a cProfile of the bot's measured
runs of that phase. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import logging
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, ExtBot, PollAnswerHandler

from bench.common import INSERT_CHUNK, language_of, register_citizens
from bot.app import interactive_rate_limiter
from bot.emulator.emulator import Emulator
from bot.emulator.harness import IN_PROCESS_URL, LiveBot, sqlite_url
from bot.emulator.inprocess import InProcessRequest
from bot.emulator.model import EmuMessage, EmuUser
from bot.emulator.server import EmulatorServer
from bot.i18n.catalog import catalogs
from bot.services import AnyApplication, services_from_app
from bot.settings import Settings, load_settings
from bot.survey_cli import DEFAULT_SURVEY
from bot.update_processor import PerSenderUpdateProcessor
from storage import surveys
from storage.database import Database
from storage.enums import PollKind
from storage.models import Citizen, SentPoll, SurveyAnswer
from storage.survey_spec import load_survey_file
from storage.surveys import QuestionView

FIRST_CITIZEN = 2_000_000
SETTLE_TIMEOUT = 120.0
POLL_TIMEOUT = timedelta(seconds=5)  # as LiveBot polls
LATENCIES = (0.0, 0.05)
STORE_MIN_RATE = 1_000.0
MID_MIN_RATE_AT_50MS = 300.0
MIN_RATIO = 0.5
PHASES = ("a", "b0", "b50")
DEFAULTS = Defaults(  # as build_application: the same parameters on every call
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)


@dataclass(frozen=True)
class Options:
    """What to run; see `parse_args`."""

    store: int
    mid: int
    concurrency: int
    repeat: int
    repeat_mid: int
    check: bool
    profile: str | None
    phases: tuple[str, ...] = PHASES


@dataclass(frozen=True)
class Question:
    """What a poll of one survey question shows, per language (as `/needs` words it)."""

    id: int
    keys: tuple[str, ...]
    multiple: bool
    text: dict[str, str]
    labels: dict[str, list[str]]


@dataclass
class Run:
    """One measured run: answers handled, seconds, and what went wrong."""

    answers: int
    seconds: float
    batches: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.answers / self.seconds


@dataclass
class Result:
    """One row of the table: the bot's runs against the baseline's."""

    label: str
    phase: str
    bot: list[Run]
    baseline: list[Run]
    min_rate: float | None
    targets: str

    @property
    def best_bot(self) -> Run:
        return max(self.bot, key=lambda run: run.rate)

    @property
    def best_baseline(self) -> Run:
        return max(self.baseline, key=lambda run: run.rate)

    @property
    def ratio(self) -> float:
        return self.best_bot.rate / self.best_baseline.rate

    @property
    def problems(self) -> list[str]:
        return [p for run in self.bot + self.baseline for p in run.problems]

    @property
    def passed(self) -> bool:
        rate_ok = self.min_rate is None or self.best_bot.rate >= self.min_rate
        return rate_ok and self.ratio >= MIN_RATIO and not self.problems


# ---------------------------------------------------------------------- shared pieces


class ErrorLog(logging.Handler):
    """Keeps what is logged at ERROR or above (a handler that failed, for instance)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        detail = f": {record.exc_info[1]!r}"[:160] if record.exc_info else ""
        self.messages.append(f"{record.name}: {record.getMessage()}{detail}")

    def problems(self) -> list[str]:
        if not self.messages:
            return []
        return [f"{len(self.messages)} errors logged, e.g. {self.messages[0]}"]


ERRORS = ErrorLog()


def overrides(options: Options) -> dict[str, Any]:
    """Settings for the bot and the baseline alike."""
    return {
        "interactive_rate_per_second": 100_000.0,
        "interactive_group_per_minute": 100_000.0,
        "concurrent_updates": options.concurrency,
        "log_level": "WARNING",
    }


def add_people(emulator: Emulator, user_ids: range) -> dict[int, EmuUser]:
    """The citizens as emulator users who have started the bot."""
    people: dict[int, EmuUser] = {}
    for user_id in user_ids:
        people[user_id] = emulator.add_user(
            user_id, f"U{user_id}", language_code=language_of(user_id)
        )
        emulator.chats[user_id].started = True
    return people


async def start_polling(app: AnyApplication) -> None:
    """Poll as `LiveBot.start` does."""
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
    )


async def stop_polling(app: AnyApplication) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()


async def measured(
    app: AnyApplication, emulator: Emulator, latency: float, profiler: cProfile.Profile | None
) -> float:
    """Seconds from starting to poll (votes already queued) until everything is handled, as
    `LiveBot.settle` waits: every update fetched, confirmed and handled. Polling stops after."""
    ERRORS.messages.clear()
    emulator.faults.latency = latency
    if profiler is not None:
        profiler.enable()
    started = time.perf_counter()
    await start_polling(app)
    await emulator.wait_confirmed(SETTLE_TIMEOUT)
    await app.update_queue.join()
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
    emulator.faults.latency = 0.0
    await stop_polling(app)
    return elapsed


async def queue_votes(
    emulator: Emulator, votes: Sequence[tuple[EmuUser, EmuMessage, list[int]]]
) -> None:
    """Queue every vote (a poll_answer and a poll update each) while nobody polls."""
    for user, message, option_ids in votes:
        await emulator.polls.vote(user, message, option_ids)


def polls_in(emulator: Emulator, chat_id: int) -> list[EmuMessage]:
    return [m for m in emulator.messages.get(chat_id, []) if m.from_bot and m.kind == "poll"]


def api_problems(emulator: Emulator, mark: int) -> list[str]:
    """Refused Bot API calls since `mark`, and errors logged during the run."""
    refused = [f"{c.method}: {c.description}" for c in emulator.calls[mark:] if not c.ok]
    found = [f"{len(refused)} Bot API calls refused, e.g. {refused[0]}"] if refused else []
    return found + ERRORS.problems()


def sends_since(emulator: Emulator, mark: int) -> int:
    return sum(
        c.ok and c.method.lower().startswith(("send", "edit")) for c in emulator.calls[mark:]
    )


def vote_for(user_id: int, question: Question, shift: int = 0) -> list[int]:
    return [(user_id + shift) % len(question.keys)]


def check_new_polls(emulator: Emulator, user_ids: range, second: Question) -> list[str]:
    """Every citizen has exactly two polls, the second showing the second question."""
    wrong: list[str] = []
    for user_id in user_ids:
        polls = polls_in(emulator, user_id)
        shown = polls[-1].extra["poll"]["question"] if polls else None
        if len(polls) != 2 or shown != second.text[language_of(user_id)]:
            wrong.append(f"{user_id}: {len(polls)} polls, last {shown!r}")
    return [f"{len(wrong)} citizens without exactly one new poll, e.g. {wrong[0]}"] if wrong else []


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


async def send_polls(
    emulator: Emulator, user_ids: Sequence[int], question: Question
) -> dict[int, EmuMessage]:
    """The question's poll to everyone, as the bot sends it but without sockets (setup)."""
    bot: ExtBot[Any] = ExtBot(
        emulator.token,
        base_url=f"{IN_PROCESS_URL}/bot",
        request=InProcessRequest(emulator),
        defaults=DEFAULTS,
    )
    async with bot:
        for user_id in user_ids:
            await send_question(bot, user_id, question)
    return {user_id: polls_in(emulator, user_id)[-1] for user_id in user_ids}


# ---------------------------------------------------------------------- the bot's side


async def prepare_database(db: Database, user_ids: range) -> tuple[Question, Question]:
    """Import and open the default survey; register the citizens (consent to everything).

    Citizens are stored in bulk as `register_citizen` stores them, less the audit entries.
    Returns the first two questions.
    """
    async with db.session() as session:
        survey = await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
        assert survey.id is not None
        await surveys.open_survey(survey.id, actor="bench", session=session)
    await register_citizens(db, user_ids)
    async with db.session() as session:
        view = await surveys.open_survey_now(session=session)
    assert view is not None and len(view.questions) >= 2
    total = len(view.questions)
    return question_of(view.questions[0], 1, total), question_of(view.questions[1], 2, total)


def question_of(view: QuestionView, number: int, total: int) -> Question:
    """The poll `/needs` sends for this question (progress prefix included)."""
    texts: dict[str, str] = {}
    for lang in ("th", "en"):
        numbered = catalogs().text(lang, "needs.progress", current=number, total=total)
        full = f"{numbered} {view.text[lang]}"
        texts[lang] = full if len(full) <= 300 else view.text[lang]
    return Question(
        id=view.id,
        keys=tuple(view.option_keys),
        multiple=view.multiple,
        text=texts,
        labels={lang: [o.label[lang] for o in view.options] for lang in ("th", "en")},
    )


async def record_polls(db: Database, polls: dict[int, EmuMessage], question: Question) -> None:
    """The SentPoll rows `/needs` writes for these polls, in bulk."""
    items = list(polls.items())
    for start in range(0, len(items), INSERT_CHUNK):
        async with db.session() as session:
            session.add_all(
                SentPoll(
                    poll_id=message.extra["poll"]["id"],
                    chat_id=user_id,
                    message_id=message.message_id,
                    kind=PollKind.survey,
                    question_id=question.id,
                    language=language_of(user_id),
                    option_keys=list(question.keys),
                    recipient_telegram_id=user_id,
                )
                for user_id, message in items[start : start + INSERT_CHUNK]
            )


async def stored_answers(db: Database, question_id: int) -> dict[int, list[str]]:
    """telegram user id → the stored option keys for this question."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(col(Citizen.telegram_user_id), col(SurveyAnswer.option_keys))
                .join(Citizen, col(Citizen.id) == col(SurveyAnswer.citizen_id))
                .where(col(SurveyAnswer.question_id) == question_id)
            )
        ).all()
    return {user_id: list(keys) for user_id, keys in rows}


async def recorded_polls(db: Database, question_id: int) -> set[int]:
    """The chats a poll of this question was recorded for."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(col(SentPoll.chat_id)).where(col(SentPoll.question_id) == question_id)
            )
        ).all()
    return set(rows)


def check_answers(
    answers: dict[int, list[str]], expected: dict[int, list[str]], what: str
) -> list[str]:
    wrong = [uid for uid, keys in expected.items() if sorted(answers.get(uid, [])) != keys]
    if not wrong:
        return []
    uid = wrong[0]
    return [f"{len(wrong)} {what} not stored as voted (e.g. {uid}: {answers.get(uid)})"]


@dataclass
class BotSetup:
    """A started bot (not polling), its citizens, their first polls, the first two questions."""

    live: LiveBot
    db: Database
    people: dict[int, EmuUser]
    firsts: dict[int, EmuMessage]
    first: Question
    second: Question

    def batches(self) -> int:
        answers = services_from_app(self.live.app).answers
        return answers.batches if answers is not None else 0


async def start_bot(tmp: Path, name: str, options: Options, user_ids: range) -> BotSetup:
    """The real bot, started and stopped polling; everyone has the first question's poll."""
    live = LiveBot(
        database_url=sqlite_url(tmp / f"{name}.db"), settings_overrides=overrides(options)
    )
    await live.start()
    try:
        await stop_polling(live.app)
        assert live.db is not None
        first, second = await prepare_database(live.db, user_ids)
        people = add_people(live.emulator, user_ids)
        firsts = await send_polls(live.emulator, user_ids, first)
        await record_polls(live.db, firsts, first)
    except BaseException:
        await live.stop()
        raise
    return BotSetup(live, live.db, people, firsts, first, second)


async def bot_store_only(
    tmp: Path, options: Options, profiler: cProfile.Profile | None
) -> tuple[list[Run], Question]:
    """(a) for the bot: changed votes on an answered first question, `repeat` times."""
    user_ids = range(FIRST_CITIZEN, FIRST_CITIZEN + options.store)
    setup = await start_bot(tmp, "store", options, user_ids)
    emulator, first = setup.live.emulator, setup.first
    runs: list[Run] = []
    try:
        # Everyone has answered (setup): in the emulator and in storage; the bot saw nothing.
        await queue_votes(
            emulator, [(setup.people[u], setup.firsts[u], vote_for(u, first)) for u in user_ids]
        )
        await emulator.drop_pending_updates()
        async with setup.db.session() as session:
            votes = [(setup.firsts[u].extra["poll"]["id"], u, vote_for(u, first)) for u in user_ids]
            stored = await surveys.record_poll_answers(votes, session=session)
        if any(outcome.status != "stored" for outcome in stored):
            raise RuntimeError("setup: a first answer was not stored")
        for shift in range(1, options.repeat + 1):
            await queue_votes(
                emulator,
                [(setup.people[u], setup.firsts[u], vote_for(u, first, shift)) for u in user_ids],
            )
            mark, batches = len(emulator.calls), setup.batches()
            seconds = await measured(setup.live.app, emulator, 0.0, profiler)
            run = Run(len(user_ids), seconds, setup.batches() - batches)
            run.problems += api_problems(emulator, mark)
            expected = {u: [first.keys[vote_for(u, first, shift)[0]]] for u in user_ids}
            answers = await stored_answers(setup.db, first.id)
            run.problems += check_answers(answers, expected, "changed votes")
            if sent := sends_since(emulator, mark):
                run.problems.append(f"{sent} messages sent for changed votes (expected none)")
            runs.append(run)
    finally:
        await setup.live.stop()
    return runs, first


async def bot_mid_survey(
    tmp: Path, options: Options, latency: float, profiler: cProfile.Profile | None
) -> tuple[list[Run], Question, Question]:
    """(b) for the bot: first answers, each bringing the second question; `repeat` groups."""
    everyone = range(FIRST_CITIZEN, FIRST_CITIZEN + options.mid * options.repeat_mid)
    setup = await start_bot(tmp, f"mid-{latency * 1000:g}ms", options, everyone)
    emulator, first, second = setup.live.emulator, setup.first, setup.second
    runs: list[Run] = []
    try:
        for group in range(options.repeat_mid):
            user_ids = everyone[group * options.mid : (group + 1) * options.mid]
            await queue_votes(
                emulator, [(setup.people[u], setup.firsts[u], vote_for(u, first)) for u in user_ids]
            )
            mark, batches = len(emulator.calls), setup.batches()
            seconds = await measured(setup.live.app, emulator, latency, profiler)
            run = Run(len(user_ids), seconds, setup.batches() - batches)
            run.problems += api_problems(emulator, mark)
            expected = {u: [first.keys[vote_for(u, first)[0]]] for u in user_ids}
            answers = await stored_answers(setup.db, first.id)
            run.problems += check_answers(answers, expected, "first answers")
            run.problems += check_new_polls(emulator, user_ids, second)
            missing = set(user_ids) - await recorded_polls(setup.db, second.id)
            if missing:
                run.problems.append(f"{len(missing)} second-question polls not recorded")
            runs.append(run)
    finally:
        await setup.live.stop()
    return runs, first, second


# ---------------------------------------------------------------------- the baseline


Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class Baseline:
    """A bare PTB Application with one PollAnswerHandler, polling its own EmulatorServer."""

    def __init__(self, options: Options, callback: Callback) -> None:
        self.emulator = Emulator()
        self.server = EmulatorServer(self.emulator)
        self.options = options
        self.callback = callback
        self._app: AnyApplication | None = None

    @property
    def app(self) -> AnyApplication:
        assert self._app is not None
        return self._app

    async def start(self) -> None:
        await self.server.start()
        settings: Settings = load_settings(
            telegram_bot_token=self.emulator.token,
            telegram_api_base_url=self.server.base_url,
            **overrides(self.options),
        )
        self._app = (
            ApplicationBuilder()
            .token(self.emulator.token)
            .base_url(settings.bot_api_url)
            .defaults(DEFAULTS)
            .rate_limiter(interactive_rate_limiter(settings))
            .concurrent_updates(PerSenderUpdateProcessor(settings.concurrent_updates))
            .get_updates_read_timeout(timedelta(seconds=40).total_seconds())
            .build()
        )
        self.app.add_handler(PollAnswerHandler(self.callback))
        await self.app.initialize()
        await self.app.start()

    async def stop(self) -> None:
        if self._app is not None:
            await stop_polling(self.app)
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        await self.server.stop()


async def baseline_runs(
    options: Options,
    everyone: range,
    groups: Sequence[tuple[range, int]],
    first: Question,
    latency: float,
    callback: Callback,
    check: Callable[[Emulator, range], list[str]],
) -> list[Run]:
    """Everyone gets the first poll (setup); then each (citizens, vote shift) is one run."""
    baseline = Baseline(options, callback)
    await baseline.start()
    runs: list[Run] = []
    try:
        emulator = baseline.emulator
        people = add_people(emulator, everyone)
        firsts = await send_polls(emulator, everyone, first)
        for user_ids, shift in groups:
            await queue_votes(
                emulator, [(people[u], firsts[u], vote_for(u, first, shift)) for u in user_ids]
            )
            mark = len(emulator.calls)
            seconds = await measured(baseline.app, emulator, latency, None)
            run = Run(len(user_ids), seconds)
            run.problems += api_problems(emulator, mark) + check(emulator, user_ids)
            runs.append(run)
    finally:
        await baseline.stop()
    return runs


async def baseline_store_only(options: Options, first: Question) -> list[Run]:
    """(a) for the baseline: a PollAnswerHandler that does nothing."""

    async def nothing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        return None

    def check(emulator: Emulator, user_ids: range) -> list[str]:
        extra = [u for u in user_ids if len(polls_in(emulator, u)) != 1]
        return [f"{len(extra)} chats got a message"] if extra else []

    user_ids = range(FIRST_CITIZEN, FIRST_CITIZEN + options.store)
    groups = [(user_ids, shift) for shift in range(options.repeat)]
    return await baseline_runs(options, user_ids, groups, first, 0.0, nothing, check)


async def baseline_mid_survey(
    options: Options, first: Question, second: Question, latency: float
) -> list[Run]:
    """(b) for the baseline: a PollAnswerHandler that sends the second question's poll."""

    async def send_next(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = update.poll_answer
        if answer is not None and answer.user is not None:
            await send_question(context.bot, answer.user.id, second)

    def check(emulator: Emulator, user_ids: range) -> list[str]:
        return check_new_polls(emulator, user_ids, second)

    everyone = range(FIRST_CITIZEN, FIRST_CITIZEN + options.mid * options.repeat_mid)
    groups = [
        (everyone[i * options.mid : (i + 1) * options.mid], 0) for i in range(options.repeat_mid)
    ]
    return await baseline_runs(options, everyone, groups, first, latency, send_next, check)


# ---------------------------------------------------------------------- the report


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"  {'workload':<32}{'bot/s':>8}{'baseline/s':>12}{'ratio':>7}  "
        f"{'batches (votes each)':<22}{'target':<22}result"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        bot, base = r.best_bot, r.best_baseline
        batches = f"{bot.batches} ({bot.answers / bot.batches:.0f})" if bot.batches else "-"
        print(
            f"  {r.label:<32}{bot.rate:>8,.0f}{base.rate:>12,.0f}{r.ratio:>7.2f}  "
            f"{batches:<22}{r.targets:<22}{'PASS' if r.passed else 'FAIL'}"
        )
    print("  best run of each side; every run:")
    for r in results:
        for who, runs in (("bot", r.bot), ("baseline", r.baseline)):
            detail = ", ".join(
                f"{run.rate:,.0f}/s ({run.answers} in {run.seconds:.2f} s"
                + (f", {run.batches} batches)" if run.batches else ")")
                for run in runs
            )
            print(f"    {r.phase:<4}{who:<9}{detail}")
        for problem in r.problems:
            print(f"    {r.phase:<4}FAIL check: {problem}")


async def run(options: Options) -> bool:
    """Every phase, then the table; True if every target and check is met."""
    print(
        f"needs benchmark: (a) {options.store} changed votes x{options.repeat}, (b) "
        f"{options.mid} first answers x{options.repeat_mid}; concurrency {options.concurrency}; "
        "bot and baseline poll an EmulatorServer over HTTP in this process; "
        "emulator rate limits off"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {os.cpu_count()} CPUs, load average {load}")
    if importlib.util.find_spec("sniffio") is None:
        print(
            "  note: sniffio is not installed (encode/httpcore#1103): every HTTP call costs "
            "more CPU, for the bot and the baseline alike"
        )
    profilers = {phase: cProfile.Profile() for phase in PHASES if phase == options.profile}
    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-needs-") as name:
        tmp = Path(name)
        if "a" in options.phases:
            bot_a, first = await bot_store_only(tmp, options, profilers.get("a"))
            base_a = await baseline_store_only(options, first)
            target = f">={STORE_MIN_RATE:,.0f}/s, >={MIN_RATIO}x"
            label = "(a) changed votes (store only)"
            results.append(Result(label, "a", bot_a, base_a, STORE_MIN_RATE, target))
        for latency in LATENCIES:
            phase = f"b{latency * 1000:g}"
            if phase not in options.phases:
                continue
            bot_b, first, second = await bot_mid_survey(tmp, options, latency, profilers.get(phase))
            base_b = await baseline_mid_survey(options, first, second, latency)
            floor = MID_MIN_RATE_AT_50MS if latency >= 0.05 else None
            target = f">={MIN_RATIO}x" + (f", >={floor:,.0f}/s" if floor else "")
            label = f"(b) first answers, {latency * 1000:g} ms/call"
            results.append(Result(label, phase, bot_b, base_b, floor, target))
    print_table(results)
    print(f"  whole run: {time.monotonic() - started:.0f} s")
    for phase, profiler in profilers.items():
        if os.environ.get("BENCH_PROFILE_OUT"):
            profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        print(f"\ncProfile of the bot's measured runs, phase {phase}:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return all(r.passed for r in results)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_needs", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--store", type=int, default=2_000, help="citizens changing a vote (a)")
    parser.add_argument("--mid", type=int, default=1_000, help="citizens answering first (b)")
    parser.add_argument("--concurrency", type=int, default=256, help="CONCURRENT_UPDATES")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) per side (best)")
    parser.add_argument("--repeat-mid", type=int, default=1, help="runs of (b) per side (best)")
    parser.add_argument("--check", action="store_true", help="exit 1 on any FAIL")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"which to run, comma-separated (default {','.join(PHASES)})",
    )
    parser.add_argument(
        "--profile", choices=PHASES, default=None, help="cProfile the bot's runs of one phase"
    )
    args = parser.parse_args(argv)
    counts = (args.store, args.mid, args.repeat, args.repeat_mid)
    if min(counts) < 1 or not 1 <= args.concurrency <= 1024:
        parser.error("--store, --mid and the repeats must be positive; --concurrency 1 to 1024")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    if not phases or any(p not in PHASES for p in phases):
        parser.error(f"--phases takes some of {', '.join(PHASES)}")
    return Options(
        store=args.store,
        mid=args.mid,
        concurrency=args.concurrency,
        repeat=args.repeat,
        repeat_mid=args.repeat_mid,
        check=args.check,
        profile=args.profile,
        phases=phases,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    logging.getLogger().addHandler(ERRORS)
    met = asyncio.run(run(options))
    if options.check and not met:
        print("targets not met", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
