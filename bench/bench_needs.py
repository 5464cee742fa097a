"""Survey answers per second: the real bot against a bare python-telegram-bot handler.

    python -m bench.bench_needs [--store 2000] [--mid 1000] [--concurrency 256] [--check]
                                [--repeat 5] [--repeat-mid 2] [--phases a,b0,b50] [--inline]

Two workloads, each measured in this run against its own baselines:

(a) store only: N registered, consenting citizens have each answered the survey's first
    question; each now changes that vote (another option). The bot stores the change through
    the answer batcher and sends nothing. Baseline: a bare `ApplicationBuilder()` app whose
    `PollAnswerHandler` does nothing. Targets: ≥ 1,000 answers/s and ≥ 0.5 of the baseline.
(b) mid-survey: N citizens each have the first question's poll and answer it for the first
    time; the bot stores the answer and sends the next question as a poll. Baseline: the
    bare app's `PollAnswerHandler` sends a poll with the same question and options. Measured
    with the emulator answering at once and with 50 ms added to every Bot API call.
    Targets: ≥ 0.5 of the baseline, and ≥ 300 answers/s at 50 ms.

The bot is the real Application (`bench.live.BenchBot`, as `LiveBot` starts it) polling an
`EmulatorServer` over HTTP on 127.0.0.1, on a SQLite file; each baseline polls its own
`EmulatorServer` the same way. The emulator runs in a child process by default, as Telegram
runs on other machines (`bench.needs_emulator`); `--inline` runs it in this process, on the
bot's event loop. There are two baselines: the bare app with PTB's default `HTTPXRequest`
("a bare PTB handler": the target ratio is against it), and the same bare app with the
bot's HTTP client, `bot.http_request.AiohttpRequest` (shown, no target). All use the same
settings: `PerSenderUpdateProcessor(concurrent_updates)` and
`interactive_rate_limiter(settings)` with a rate far above what is reached; the emulator's
rate limits are off. Every vote (a `poll_answer` and a `poll` update, as Telegram sends
them) is queued while the bot does not poll; the clock runs from the moment polling starts
until everything is fetched, confirmed and handled (what `LiveBot.settle()` waits for).
Setup is not measured: the first polls are sent with the same `send_poll` call, through
PTB's in-process request inside the emulator's process (no sockets), and recorded in bulk,
as `/needs` would have left them.

Each side of (a) runs `--repeat` times (another changed vote each time), each side of (b)
`--repeat-mid` times (fresh citizens each time), and the best run of the bot and of each
baseline are compared: other processes on the machine only ever slow a run down. Each phase
and side has its own emulator (and the bot its own database). After each run the results are
checked: every vote stored with its option, nothing sent in (a), exactly one new poll (the
second question) per citizen in (b), no Bot API call refused and no error logged (in either
process). `--check` exits with status 1 when a target or a check fails; `--profile a|b0|b50`
prints a cProfile of the bot's measured runs of that phase. See bench/README.md.
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
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, PollAnswerHandler

from bench.common import INSERT_CHUNK, ErrorLog, language_of, register_citizens
from bench.live import BenchBot
from bench.needs_emulator import (
    DEFAULTS,
    EmulatorHandle,
    FirstPoll,
    Question,
    make_emulator,
    send_question,
)
from bench.sql_count import SqlCounter
from bot.app import interactive_rate_limiter
from bot.emulator.harness import sqlite_url
from bot.http_request import AiohttpRequest
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
PTB, SAME_HTTP = "ptb", "aiohttp"  # the baselines' HTTP clients: PTB's default, the bot's


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
    inline: bool = False


@dataclass
class Run:
    """One measured run: answers handled, seconds, this process's CPU seconds meanwhile (all
    its threads: the app, SQLite's, and with --inline the emulator), and what went wrong."""

    answers: int
    seconds: float
    cpu: float
    batches: int | None = None
    problems: list[str] = field(default_factory=list)
    sql: tuple[int, int] | None = None  # the bot's SQL statements and transactions meanwhile
    emulator_cpu: float | None = None  # the emulator child's CPU seconds meanwhile

    @property
    def rate(self) -> float:
        return self.answers / self.seconds


def best(runs: Sequence[Run]) -> Run:
    return max(runs, key=lambda run: run.rate)


@dataclass
class Result:
    """One row of the table: the bot's runs against the two baselines'."""

    label: str
    phase: str
    bot: list[Run]
    baseline: list[Run]  # the bare app on PTB's default HTTPXRequest: the target ratio
    same_http: list[Run]  # the bare app on the bot's AiohttpRequest: shown, no target
    min_rate: float | None
    targets: str

    @property
    def ratio(self) -> float:
        return best(self.bot).rate / best(self.baseline).rate

    @property
    def ratio_same_http(self) -> float:
        return best(self.bot).rate / best(self.same_http).rate

    @property
    def problems(self) -> list[str]:
        return [p for run in self.bot + self.baseline + self.same_http for p in run.problems]

    @property
    def passed(self) -> bool:
        rate_ok = self.min_rate is None or best(self.bot).rate >= self.min_rate
        return rate_ok and self.ratio >= MIN_RATIO and not self.problems


# ---------------------------------------------------------------------- shared pieces


ERRORS = ErrorLog()  # what this process logs at ERROR (the child keeps its own)


def overrides(options: Options) -> dict[str, Any]:
    """Settings for the bot and the baseline alike."""
    return {
        "interactive_rate_per_second": 100_000.0,
        "interactive_group_per_minute": 100_000.0,
        "concurrent_updates": options.concurrency,
        "log_level": "WARNING",
    }


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
    app: AnyApplication,
    emulator: EmulatorHandle,
    latency: float,
    profiler: cProfile.Profile | None,
) -> tuple[float, float, float | None]:
    """Seconds from starting to poll (votes already queued) until everything is handled, as
    `LiveBot.settle` waits: every update fetched, confirmed and handled; and this process's
    CPU seconds meanwhile, and the emulator child's (None with --inline: it is in this
    process's). Polling stops after."""
    ERRORS.messages.clear()
    await emulator.set_latency(latency)
    emulator_started = await emulator.cpu()
    if profiler is not None:
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    await start_polling(app)
    await emulator.wait_confirmed(SETTLE_TIMEOUT)
    await app.update_queue.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
    child = emulator.where != "in this process"
    emulator_cpu = (await emulator.cpu() - emulator_started) if child else None
    await emulator.set_latency(0.0)
    await stop_polling(app)
    return elapsed, cpu, emulator_cpu


async def api_problems(emulator: EmulatorHandle, mark: int) -> list[str]:
    """Refused Bot API calls since `mark`, and errors logged during the run."""
    return await emulator.problems(mark) + ERRORS.problems()


def vote_for(user_id: int, question: Question, shift: int = 0) -> list[int]:
    return [(user_id + shift) % len(question.keys)]


def votes(
    user_ids: Sequence[int], question: Question, shift: int = 0
) -> list[tuple[int, list[int]]]:
    """Each citizen's vote on their first poll."""
    return [(u, vote_for(u, question, shift)) for u in user_ids]


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


async def record_polls(db: Database, polls: dict[int, FirstPoll], question: Question) -> None:
    """The SentPoll rows `/needs` writes for these polls, in bulk."""
    items = list(polls.items())
    for start in range(0, len(items), INSERT_CHUNK):
        async with db.session() as session:
            session.add_all(
                SentPoll(
                    poll_id=poll.poll_id,
                    chat_id=user_id,
                    message_id=poll.message_id,
                    kind=PollKind.survey,
                    question_id=question.id,
                    language=language_of(user_id),
                    option_keys=list(question.keys),
                    recipient_telegram_id=user_id,
                )
                for user_id, poll in items[start : start + INSERT_CHUNK]
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
    """A started bot (not polling), its emulator, the citizens' first polls, the first two
    questions."""

    emulator: EmulatorHandle
    bot: BenchBot
    firsts: dict[int, FirstPoll]
    first: Question
    second: Question
    counter: SqlCounter

    def sql_since(self, mark: tuple[int, int]) -> tuple[int, int]:
        now = self.counter.snapshot()
        return now[0] - mark[0], now[1] - mark[1]

    def batches(self) -> int:
        answers = services_from_app(self.bot.app).answers
        return answers.batches if answers is not None else 0


@asynccontextmanager
async def started_bot(
    tmp: Path, name: str, options: Options, user_ids: range
) -> AsyncIterator[BotSetup]:
    """The real bot against its own emulator, started, not polling; everyone has the first
    question's poll. Stopped (bot, then emulator) on leaving."""
    async with make_emulator(options.inline) as emulator:
        bot = BenchBot(
            base_url=emulator.base_url,
            token=emulator.token,
            database_url=sqlite_url(tmp / f"{name}.db"),
            settings_overrides=overrides(options),
        )
        try:
            await bot.start()
            first, second = await prepare_database(bot.db, user_ids)
            await emulator.add_people(user_ids)
            firsts = await emulator.send_polls(user_ids, first)
            await record_polls(bot.db, firsts, first)
            # As `/needs` leaves them: the batcher remembers the private polls it recorded.
            answers = services_from_app(bot.app).answers
            if answers is not None:
                await answers.load_private_polls()
            yield BotSetup(emulator, bot, firsts, first, second, SqlCounter(bot.db))
        finally:
            await bot.stop()


async def bot_store_only(
    tmp: Path, options: Options, profiler: cProfile.Profile | None
) -> tuple[list[Run], Question]:
    """(a) for the bot: changed votes on an answered first question, `repeat` times."""
    user_ids = range(FIRST_CITIZEN, FIRST_CITIZEN + options.store)
    runs: list[Run] = []
    async with started_bot(tmp, "store", options, user_ids) as setup:
        emulator, first, db = setup.emulator, setup.first, setup.bot.db
        # Everyone has answered (setup): in the emulator and in storage; the bot saw nothing.
        await emulator.vote(votes(user_ids, first))
        await emulator.drop_pending_updates()
        async with db.session() as session:
            answers = [(setup.firsts[u].poll_id, u, vote_for(u, first)) for u in user_ids]
            stored = await surveys.record_poll_answers(answers, session=session)
        if any(outcome.status != "stored" for outcome in stored):
            raise RuntimeError("setup: a first answer was not stored")
        for shift in range(1, options.repeat + 1):
            await emulator.vote(votes(user_ids, first, shift))
            mark, batches = await emulator.mark(), setup.batches()
            sql = setup.counter.snapshot()
            seconds, cpu, emulator_cpu = await measured(setup.bot.app, emulator, 0.0, profiler)
            run = Run(
                len(user_ids),
                seconds,
                cpu,
                setup.batches() - batches,
                emulator_cpu=emulator_cpu,
            )
            run.sql = setup.sql_since(sql)
            run.problems += await api_problems(emulator, mark)
            expected = {u: [first.keys[vote_for(u, first, shift)[0]]] for u in user_ids}
            run.problems += check_answers(
                await stored_answers(db, first.id), expected, "changed votes"
            )
            if sent := await emulator.sends_since(mark):
                run.problems.append(f"{sent} messages sent for changed votes (expected none)")
            runs.append(run)
    return runs, first


async def bot_mid_survey(
    tmp: Path, options: Options, latency: float, profiler: cProfile.Profile | None
) -> tuple[list[Run], Question, Question]:
    """(b) for the bot: first answers, each bringing the second question; `repeat` groups."""
    everyone = range(FIRST_CITIZEN, FIRST_CITIZEN + options.mid * options.repeat_mid)
    runs: list[Run] = []
    async with started_bot(tmp, f"mid-{latency * 1000:g}ms", options, everyone) as setup:
        emulator, first, second, db = setup.emulator, setup.first, setup.second, setup.bot.db
        for group in range(options.repeat_mid):
            user_ids = everyone[group * options.mid : (group + 1) * options.mid]
            await emulator.vote(votes(user_ids, first))
            mark, batches = await emulator.mark(), setup.batches()
            sql = setup.counter.snapshot()
            seconds, cpu, emulator_cpu = await measured(setup.bot.app, emulator, latency, profiler)
            run = Run(
                len(user_ids),
                seconds,
                cpu,
                setup.batches() - batches,
                emulator_cpu=emulator_cpu,
            )
            run.sql = setup.sql_since(sql)
            run.problems += await api_problems(emulator, mark)
            expected = {u: [first.keys[vote_for(u, first)[0]]] for u in user_ids}
            run.problems += check_answers(
                await stored_answers(db, first.id), expected, "first answers"
            )
            run.problems += await emulator.check_new_polls(user_ids, second)
            missing = set(user_ids) - await recorded_polls(db, second.id)
            if missing:
                run.problems.append(f"{len(missing)} second-question polls not recorded")
            runs.append(run)
    return runs, first, second


# ---------------------------------------------------------------------- the baselines


Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
Check = Callable[[EmulatorHandle, range], Awaitable[list[str]]]


class Baseline:
    """A bare PTB Application with one PollAnswerHandler, polling an emulator.

    `http` is PTB (PTB's default `HTTPXRequest`) or SAME_HTTP (`AiohttpRequest`, configured
    as `build_application` configures it for the bot).
    """

    def __init__(
        self, options: Options, emulator: EmulatorHandle, callback: Callback, http: str
    ) -> None:
        self.options = options
        self.emulator = emulator
        self.callback = callback
        self.http = http
        self._app: AnyApplication | None = None

    @property
    def app(self) -> AnyApplication:
        assert self._app is not None
        return self._app

    async def start(self) -> None:
        settings: Settings = load_settings(
            telegram_bot_token=self.emulator.token,
            telegram_api_base_url=self.emulator.base_url,
            **overrides(self.options),
        )
        builder = (
            ApplicationBuilder()
            .token(self.emulator.token)
            .base_url(settings.bot_api_url)
            .defaults(DEFAULTS)
            .rate_limiter(interactive_rate_limiter(settings))
            .concurrent_updates(PerSenderUpdateProcessor(settings.concurrent_updates))
        )
        if self.http == SAME_HTTP:
            builder = builder.request(
                AiohttpRequest(connection_pool_size=settings.concurrent_updates + 8)
            ).get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=40.0))
        else:
            builder = builder.get_updates_read_timeout(timedelta(seconds=40).total_seconds())
        self._app = builder.build()
        self.app.add_handler(PollAnswerHandler(self.callback))
        await self.app.initialize()
        await self.app.start()

    async def stop(self) -> None:
        if self._app is not None:
            await stop_polling(self.app)
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()


async def baseline_runs(
    options: Options,
    http: str,
    everyone: range,
    groups: Sequence[tuple[range, int]],
    first: Question,
    latency: float,
    callback: Callback,
    check: Check,
) -> list[Run]:
    """Everyone gets the first poll (setup); then each (citizens, vote shift) is one run."""
    runs: list[Run] = []
    async with make_emulator(options.inline) as emulator:
        baseline = Baseline(options, emulator, callback, http)
        try:
            await baseline.start()
            await emulator.add_people(everyone)
            await emulator.send_polls(everyone, first)
            for user_ids, shift in groups:
                await emulator.vote(votes(user_ids, first, shift))
                mark = await emulator.mark()
                seconds, cpu, emulator_cpu = await measured(baseline.app, emulator, latency, None)
                run = Run(len(user_ids), seconds, cpu, emulator_cpu=emulator_cpu)
                run.problems += await api_problems(emulator, mark)
                run.problems += await check(emulator, user_ids)
                runs.append(run)
        finally:
            await baseline.stop()
    return runs


async def baseline_store_only(options: Options, http: str, first: Question) -> list[Run]:
    """(a) for a baseline: a PollAnswerHandler that does nothing."""

    async def nothing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        return None

    async def check(emulator: EmulatorHandle, user_ids: range) -> list[str]:
        return await emulator.check_no_new_polls(user_ids)

    user_ids = range(FIRST_CITIZEN, FIRST_CITIZEN + options.store)
    groups = [(user_ids, shift) for shift in range(options.repeat)]
    return await baseline_runs(options, http, user_ids, groups, first, 0.0, nothing, check)


async def baseline_mid_survey(
    options: Options, http: str, first: Question, second: Question, latency: float
) -> list[Run]:
    """(b) for a baseline: a PollAnswerHandler that sends the second question's poll."""

    async def send_next(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = update.poll_answer
        if answer is not None and answer.user is not None:
            await send_question(context.bot, answer.user.id, second)

    async def check(emulator: EmulatorHandle, user_ids: range) -> list[str]:
        return await emulator.check_new_polls(user_ids, second)

    everyone = range(FIRST_CITIZEN, FIRST_CITIZEN + options.mid * options.repeat_mid)
    groups = [
        (everyone[i * options.mid : (i + 1) * options.mid], 0) for i in range(options.repeat_mid)
    ]
    return await baseline_runs(options, http, everyone, groups, first, latency, send_next, check)


# ---------------------------------------------------------------------- the report


COLUMNS = (  # (title, width): right-aligned figures, then left-aligned text
    ("bot/s", 8),
    ("bare PTB/s", 12),
    ("bot/PTB", 9),
    ("bare aiohttp/s", 16),
    ("bot/aiohttp", 13),
)


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"  {'workload':<32}"
        + "".join(f"{title:>{width}}" for title, width in COLUMNS)
        + f"  {'batches (votes each)':<22}{'target':<22}result"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        bot = best(r.bot)
        batches = f"{bot.batches} ({bot.answers / bot.batches:.0f})" if bot.batches else "-"
        figures = (
            f"{bot.rate:,.0f}",
            f"{best(r.baseline).rate:,.0f}",
            f"{r.ratio:.2f}",
            f"{best(r.same_http).rate:,.0f}",
            f"{r.ratio_same_http:.2f}",
        )
        print(
            f"  {r.label:<32}"
            + "".join(f"{x:>{width}}" for x, (_, width) in zip(figures, COLUMNS, strict=True))
            + f"  {batches:<22}{r.targets:<22}{'PASS' if r.passed else 'FAIL'}"
        )
    print(
        "  bare PTB: a bare ApplicationBuilder() app on PTB's default HTTPXRequest ('a bare "
        "PTB handler');\n"
        "    the targets' ratio is bot/PTB.\n"
        "  bare aiohttp: the same app on the bot's HTTP client (bot.http_request.AiohttpRequest);"
        "\n    bot/aiohttp is shown for comparison, no target."
    )
    print(
        "  best run of each side; every run (CPU: the measuring process's, as a share of one"
        " core and per answer;\n  the emulator's own CPU is not in it unless --inline):"
    )
    for r in results:
        sides = (("bot", r.bot), ("bare PTB", r.baseline), ("bare aiohttp", r.same_http))
        for who, runs in sides:
            detail = ", ".join(
                f"{run.rate:,.0f}/s ({run.answers} in {run.seconds:.2f} s, "
                f"CPU {run.cpu / run.seconds:.0%} {run.cpu * 1000 / run.answers:.1f} ms/answer"
                + (
                    f", emulator {run.emulator_cpu / run.seconds:.0%} "
                    f"{run.emulator_cpu * 1000 / run.answers:.1f} ms/answer"
                    if run.emulator_cpu is not None
                    else ""
                )
                + (f", {run.batches} batches" if run.batches else "")
                + (
                    f", {run.sql[0] / run.answers:.2f} SQL statements and "
                    f"{run.sql[1] / run.answers:.2f} transactions/answer)"
                    if run.sql
                    else ")"
                )
                for run in runs
            )
            print(f"    {r.phase:<4}{who:<13}{detail}")
        for problem in r.problems:
            print(f"    {r.phase:<4}FAIL check: {problem}")


async def run(options: Options) -> bool:
    """Every phase, then the table; True if every target and check is met."""
    where = (
        "an emulator in this process (--inline), on the polling app's event loop"
        if options.inline
        else "an emulator in a child process (one per side and phase)"
    )
    print(
        f"needs benchmark: (a) {options.store} changed votes x{options.repeat}, (b) "
        f"{options.mid} first answers x{options.repeat_mid}; concurrency {options.concurrency}; "
        f"the bot and two bare baselines each poll {where} over HTTP; "
        "emulator rate limits off"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {os.cpu_count()} CPUs, load average {load}")
    if importlib.util.find_spec("sniffio") is None:
        print(
            "  note: sniffio is not installed (encode/httpcore#1103): every httpx call costs "
            "more CPU (the bare PTB baseline's)"
        )
    profilers = {phase: cProfile.Profile() for phase in PHASES if phase == options.profile}
    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-needs-") as name:
        tmp = Path(name)
        if "a" in options.phases:
            bot_a, first = await bot_store_only(tmp, options, profilers.get("a"))
            base_a = await baseline_store_only(options, PTB, first)
            same_a = await baseline_store_only(options, SAME_HTTP, first)
            target = f">={STORE_MIN_RATE:,.0f}/s, >={MIN_RATIO}x"
            label = "(a) changed votes (store only)"
            results.append(Result(label, "a", bot_a, base_a, same_a, STORE_MIN_RATE, target))
        for latency in LATENCIES:
            phase = f"b{latency * 1000:g}"
            if phase not in options.phases:
                continue
            bot_b, first, second = await bot_mid_survey(tmp, options, latency, profilers.get(phase))
            base_b = await baseline_mid_survey(options, PTB, first, second, latency)
            same_b = await baseline_mid_survey(options, SAME_HTTP, first, second, latency)
            floor = MID_MIN_RATE_AT_50MS if latency >= 0.05 else None
            target = f">={MIN_RATIO}x" + (f", >={floor:,.0f}/s" if floor else "")
            label = f"(b) first answers, {latency * 1000:g} ms/call"
            results.append(Result(label, phase, bot_b, base_b, same_b, floor, target))
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
    parser.add_argument("--repeat", type=int, default=5, help="runs of (a) per side (best)")
    parser.add_argument("--repeat-mid", type=int, default=2, help="runs of (b) per side (best)")
    parser.add_argument("--check", action="store_true", help="exit 1 on any FAIL")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"which to run, comma-separated (default {','.join(PHASES)})",
    )
    parser.add_argument(
        "--profile", choices=PHASES, default=None, help="cProfile the bot's runs of one phase"
    )
    parser.add_argument(
        "--inline",
        action="store_true",
        help="run the emulator in this process (default: a child process)",
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
        inline=args.inline,
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
