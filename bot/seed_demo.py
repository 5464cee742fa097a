"""Reproducible synthetic data for demos and benchmarks (`learncity db seed-demo`).

Citizens of Yala's districts with age bands and Thai/English, survey answers to the default
survey spread over the twelve months before `now` (the survey is run in waves, one version
each, since a person answers each question of a version once), free texts in Thai and English
built from a few templates (so themes appear), and some human-library books, events, loans and
feedback, and coffee-council meetings, RSVPs, attendance and agenda items.

Same seed and same `now` → the same rows. Big tables go in as chunked executemany INSERTs
(Core, no ORM objects): 100,000 citizens and 1,000,000 answers take minutes. Everything is
one transaction: a failure leaves nothing behind. Demo citizens have Telegram ids from
`DEMO_TELEGRAM_BASE` up, far above real ones, so seeding twice is refused.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, text, update
from sqlmodel import SQLModel, col, select

from bot.districts import District, load_districts
from bot.settings import DEFAULT_DISTRICTS_FILE, Settings
from bot.survey_cli import DEFAULT_SURVEY
from storage import need_picks
from storage.database import AsyncSession, Database
from storage.enums import AgeBand, Purpose, SurveyStatus
from storage.models import Citizen, Survey
from storage.surveys import QuestionView, import_survey, load_survey_file, survey_view
from storage.tokens import tokenize

__all__ = ["DATA_VERSION", "DEMO_TELEGRAM_BASE", "SeedReport", "run_seed_demo_command", "seed_demo"]

DEMO_TELEGRAM_BASE: Final = 9_000_000_000_000
# Bump when the generated data changes: bench/bench_summary.py then seeds its caches again.
DATA_VERSION: Final = 1
_FACILITATOR: Final = DEMO_TELEGRAM_BASE  # the demo facilitator (not a citizen)
_CHUNK: Final = 10_000
_MONTHS: Final = 12
_TZ: Final = "Asia/Bangkok"
# Share of people who answer every question of a wave; the others stop part-way.
_FULL_ANSWER_SHARE: Final = 0.65
# Fill each wave's capacity (people × questions) to at most this share: waves follow.
_WAVE_FILL: Final = 0.7

_AGE_BANDS: Final = (
    (AgeBand.age_10_14, 3),
    (AgeBand.age_15_19, 8),
    (AgeBand.age_20_34, 30),
    (AgeBand.age_35_49, 28),
    (AgeBand.age_50_59, 16),
    (AgeBand.age_60_plus, 15),
)
# Rough populations of Yala's districts; a tenth of people give no district.
_DISTRICT_WEIGHTS: Final = {
    "mueang-yala": 40,
    "betong": 15,
    "bannang-sata": 10,
    "raman": 12,
    "yaha": 8,
    "than-to": 4,
    "kabang": 4,
    "krong-pinang": 7,
}
_NO_DISTRICT_SHARE: Final = 0.1
_CATEGORIES: Final = (
    "digital_skills",
    "languages",
    "vocational_skills",
    "health_wellbeing",
    "environment",
    "local_culture",
    "financial_literacy",
    "family_early_childhood",
    "civic_participation",
)
# How much each age band wants each category (same order as _CATEGORIES).
_PREFERENCES: Final[dict[AgeBand, tuple[float, ...]]] = {
    AgeBand.age_10_14: (5, 5, 1, 2, 3, 3, 1, 0.3, 1),
    AgeBand.age_15_19: (6, 5, 4, 2, 3, 2, 2, 0.5, 1),
    AgeBand.age_20_34: (6, 4, 6, 2, 2, 2, 4, 3, 1.5),
    AgeBand.age_35_49: (5, 3, 5, 3, 2, 2, 3, 4, 2),
    AgeBand.age_50_59: (4, 2, 3, 5, 2, 3, 3, 2, 2.5),
    AgeBand.age_60_plus: (4, 1, 1, 6, 2, 4, 2, 2, 2),
}
# Places lean towards some topics: Betong trades with Malaysia and tourists, Than To has a dam.
_DISTRICT_BOOST: Final = {
    "betong": {"languages": 2.0, "vocational_skills": 1.5},
    "than-to": {"environment": 2.5},
    "raman": {"local_culture": 1.8},
    "mueang-yala": {"digital_skills": 1.3},
}

_TH_TOPICS: Final = (
    "การขายของออนไลน์",
    "ภาษาอังกฤษ",
    "ภาษามลายู",
    "ภาษาจีน",
    "การใช้สมาร์ตโฟน",
    "การทำบัญชีครัวเรือน",
    "การดูแลผู้สูงอายุ",
    "การปลูกผักปลอดสารพิษ",
    "การทำอาหารท้องถิ่น",
    "ผ้าบาติก",
    "การเลี้ยงลูก",
    "การรู้ทันข่าวปลอม",
)
_TH_PURPOSES: Final = ("หารายได้เสริม", "ช่วยลูกทำการบ้าน", "ค้าขายกับนักท่องเที่ยว", "ดูแลครอบครัว")
_TH_TEMPLATES: Final = (
    "อยากเรียน{topic}เพื่อ{purpose}",
    "ขอให้มีการอบรม{topic}ที่{district}",
    "อยากให้มีห้องสมุดมนุษย์เรื่อง{topic}",
    "สนใจ{topic} อยากได้วิทยากรมาสอนที่{district}",
)
_EN_TOPICS: Final = (
    "online selling",
    "English conversation",
    "Malay",
    "Chinese",
    "smartphone basics",
    "household accounting",
    "elderly care",
    "organic vegetables",
    "local cooking",
    "batik",
    "parenting",
    "fact checking",
)
_EN_PURPOSES: Final = ("earn extra income", "help my children", "talk with tourists", "get a job")
_EN_TEMPLATES: Final = (
    "I would like to learn {topic} to {purpose}",
    "Please run a workshop on {topic} in {district}",
    "A human library book about {topic} would help me {purpose}",
)
_BOOKS: Final = (
    # (th title, en title, categories): financial literacy has no book, a gap on purpose.
    ("ชีวิตชาวประมงที่เปลี่ยนอาชีพ", "A fisher who changed trade", ("vocational_skills",)),
    ("แม่ค้าออนไลน์จากเบตง", "An online seller from Betong", ("digital_skills", "vocational_skills")),
    ("ครูภาษามลายูถิ่น", "A teacher of local Malay", ("languages", "local_culture")),
    ("พยาบาลชุมชน", "A community nurse", ("health_wellbeing",)),
    ("ช่างทอผ้าบาติก", "A batik maker", ("local_culture", "vocational_skills")),
    ("อาสาสมัครคัดแยกขยะ", "A waste-sorting volunteer", ("environment",)),
    ("พ่อเลี้ยงเดี่ยว", "A single father", ("family_early_childhood",)),
    ("นักพัฒนาแอปรุ่นใหม่", "A young app developer", ("digital_skills",)),
    ("ล่ามภาษาจีน", "A Chinese interpreter", ("languages",)),
    ("ผู้สูงวัยหัดใช้สมาร์ตโฟน", "An elder who learned the smartphone", ("digital_skills",)),
    ("เกษตรกรผักปลอดสาร", "An organic vegetable farmer", ("environment", "health_wellbeing")),
    ("ครูปฐมวัย", "An early-years teacher", ("family_early_childhood",)),
)
_RATING_VALUES: Final = (1, 2, 3, 4, 5)
_RATING_WEIGHTS: Final = (2, 5, 15, 38, 40)


@dataclass(frozen=True)
class SeedReport:
    """What `seed_demo` inserted, and how long it took."""

    citizens: int
    answers: int
    free_texts: int
    tokens: int
    surveys: int
    books: int
    library_events: int
    loans: int
    meetings: int
    rsvps: int
    attendance: int
    seconds: float
    derive_seconds: float


@dataclass(frozen=True)
class _Person:
    id: int
    telegram_user_id: int
    language: str
    age_band: AgeBand
    district: str | None


async def seed_demo(
    db: Database,
    *,
    citizens: int,
    answers: int,
    free_texts: int = 0,
    seed: int = 1,
    now: datetime | None = None,
    survey_file: Path = DEFAULT_SURVEY,
    districts_file: Path = DEFAULT_DISTRICTS_FILE,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Fill `db` (migrated) with synthetic data; ValueError if it was seeded before.

    `answers` must fit: at most citizens × questions × waves, where the number of waves is
    chosen from the numbers (a wave per ~70 % of people × questions). `now` (default: the
    current time) ends the twelve months the data covers.
    """
    if citizens < 1 or answers < 0 or free_texts < 0:
        raise ValueError("citizens must be at least 1; answers and free texts not negative")
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    end = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    spec = load_survey_file(survey_file)
    questions_per_wave = len(spec.questions)
    waves = max(1, math.ceil(answers / (_WAVE_FILL * citizens * questions_per_wave)))
    if waves > _MONTHS:
        raise ValueError(
            f"{answers} answers need more than {_MONTHS} survey waves for {citizens} citizens"
        )
    districts = load_districts(districts_file)
    months = _month_starts(end, _TZ)
    window_start = months[0]
    async with db.session() as session:
        if await _already_seeded(session):
            raise ValueError("this database already holds demo data (seed-demo ran before)")
        say(f"citizens: {citizens}")
        people = await _insert_citizens(session, rng, citizens, districts, window_start)
        say(f"surveys: {waves} waves")
        wave_views = await _import_waves(session, spec, waves, months, end)
        say(f"answers: {answers}")
        answer_count = await _insert_answers(session, rng, people, wave_views, answers, end)
        say(f"free texts: {free_texts}")
        text_count, token_count = await _insert_free_texts(
            session, rng, people, districts, free_texts, window_start, end, wave_views
        )
        say("human library and coffee council")
        library = await _insert_library(session, rng, people, months, end)
        council = await _insert_council(session, rng, people, months, end)
        await _sync_sequences(session)
    seeded = time.perf_counter()
    say("need picks (what summaries read)")
    async with db.session() as session:
        await need_picks.refresh(tz=_TZ, session=session)
    return SeedReport(
        citizens=len(people),
        answers=answer_count,
        free_texts=text_count,
        tokens=token_count,
        surveys=waves,
        books=library[0],
        library_events=library[1],
        loans=library[2],
        meetings=council[0],
        rsvps=council[1],
        attendance=council[2],
        seconds=seeded - started,
        derive_seconds=time.perf_counter() - seeded,
    )


async def run_seed_demo_command(
    settings: Settings, citizens: int, answers: int, free_texts: int, seed: int
) -> int:
    """`learncity db seed-demo`: seed the configured database and print what went in."""
    db = Database(settings.database_url)
    try:
        report = await seed_demo(
            db,
            citizens=citizens,
            answers=answers,
            free_texts=free_texts,
            seed=seed,
            districts_file=settings.districts_file,
            progress=lambda message: print(f"  {message}", flush=True),
        )
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(
        f"{db.url_for_display}: {report.citizens} citizens, {report.answers} answers in "
        f"{report.surveys} survey waves, {report.free_texts} free texts ({report.tokens} "
        f"words), {report.books} books, {report.library_events} library events, "
        f"{report.loans} loans, {report.meetings} council meetings, {report.rsvps} RSVPs, "
        f"{report.attendance} present; {report.seconds:.1f} s "
        f"(+{report.derive_seconds:.1f} s deriving what summaries read)"
    )
    return 0


# --- citizens -------------------------------------------------------------------------------


async def _already_seeded(session: AsyncSession) -> bool:
    found = await session.exec(
        select(col(Citizen.id)).where(col(Citizen.telegram_user_id) > DEMO_TELEGRAM_BASE).limit(1)
    )
    return found.first() is not None


async def _insert_citizens(
    session: AsyncSession,
    rng: random.Random,
    count: int,
    districts: Sequence[District],
    window_start: datetime,
) -> list[_Person]:
    first_id = await _next_id(session, _table("citizens"))
    bands = [band for band, _ in _AGE_BANDS]
    band_weights = [weight for _, weight in _AGE_BANDS]
    codes = [d.code for d in districts]
    code_weights = [_DISTRICT_WEIGHTS.get(code, 5) for code in codes]
    people: list[_Person] = []
    for index in range(count):
        district = (
            None if rng.random() < _NO_DISTRICT_SHARE else rng.choices(codes, code_weights)[0]
        )
        people.append(
            _Person(
                id=first_id + index,
                telegram_user_id=DEMO_TELEGRAM_BASE + 1 + index,
                language="en" if rng.random() < 0.2 else "th",
                age_band=rng.choices(bands, band_weights)[0],
                district=district,
            )
        )
    registered_at = window_start - timedelta(days=30)

    def citizen_rows() -> Iterator[dict[str, Any]]:
        for person in people:
            minor = person.age_band.needs_guardian
            yield {
                "id": person.id,
                "telegram_user_id": person.telegram_user_id,
                "language": person.language,
                "role": "citizen",
                "age_band": person.age_band,
                "guardian_confirmed_at": registered_at if minor else None,
                "district": person.district,
                "reachable": True,
                "reminders_enabled": True,
                "created_at": registered_at,
                "updated_at": registered_at,
            }

    def consent_rows() -> Iterator[dict[str, Any]]:
        for person in people:
            for purpose in Purpose:
                # Everyone here answered the survey; a few said no to the other purposes.
                granted = purpose is Purpose.needs_survey or rng.random() < 0.85
                yield {
                    "citizen_id": person.id,
                    "purpose": purpose,
                    "granted": granted,
                    "decided_at": registered_at,
                }

    await _bulk(session, _table("citizens"), citizen_rows())
    await _bulk(session, _table("consents"), consent_rows())
    return people


# --- surveys and answers --------------------------------------------------------------------


@dataclass(frozen=True)
class _Wave:
    survey_id: int
    questions: tuple[QuestionView, ...]
    start: datetime
    end: datetime


async def _import_waves(
    session: AsyncSession, spec: Any, waves: int, months: Sequence[datetime], end: datetime
) -> list[_Wave]:
    """The survey imported once per wave, each wave owning a run of months; the last is open."""
    result: list[_Wave] = []
    bounds = [*months, _next_month(months[-1], _TZ)]
    for wave in range(waves):
        first = wave * _MONTHS // waves
        last = (wave + 1) * _MONTHS // waves
        start, stop = bounds[first], min(bounds[last], end)
        survey = await import_survey(spec, session=session)
        assert survey.id is not None
        is_last = wave == waves - 1
        await session.exec(
            update(_table("surveys"))
            .where(_table("surveys").c.id == survey.id)
            .values(
                status=SurveyStatus.closed if not is_last else SurveyStatus.draft,
                opened_at=start,
                closed_at=None if is_last else stop,
            )
        )
        view = await survey_view(survey.id, session=session)
        assert view is not None
        result.append(_Wave(survey.id, view.questions, start, stop))
    # Open the last wave only if no other survey is open (one open survey at a time).
    open_now = (
        await session.exec(select(col(Survey.id)).where(col(Survey.status) == SurveyStatus.open))
    ).first()
    if open_now is None:
        await session.exec(
            update(_table("surveys"))
            .where(_table("surveys").c.id == result[-1].survey_id)
            .values(status=SurveyStatus.open)
        )
    return result


async def _insert_answers(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Person],
    waves: Sequence[_Wave],
    total: int,
    end: datetime,
) -> int:
    quotas = [total // len(waves) + (1 if w < total % len(waves) else 0) for w in range(len(waves))]
    written = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal written
        for wave, quota in zip(waves, quotas, strict=True):
            order = list(range(len(people)))
            rng.shuffle(order)
            answered: dict[int, int] = {}  # person index → questions answered in this wave
            left = quota
            span = max(1.0, (wave.end - wave.start).total_seconds() - 3600)
            # First pass: people answer the first k questions; second pass tops up, in order.
            for full in (False, True):
                for person_index in order:
                    if left == 0:
                        break
                    done = answered.get(person_index, 0)
                    want = len(wave.questions)
                    if not full:
                        if rng.random() >= _FULL_ANSWER_SHARE:
                            want = rng.randint(1, len(wave.questions) - 1)
                    want = min(want - done, left)
                    if want <= 0:
                        continue
                    person = people[person_index]
                    at = wave.start + timedelta(seconds=rng.random() * span)
                    chosen: set[str] = set()
                    for position in range(done, done + want):
                        question = wave.questions[position]
                        keys = _choose_options(rng, question, person, chosen, at, wave.start)
                        moment = min(at + timedelta(seconds=20 * position), end)
                        yield {
                            "question_id": question.id,
                            "citizen_id": person.id,
                            "option_keys": keys,
                            "language": person.language,
                            "poll_id": None,
                            "answered_at": moment,
                            "updated_at": moment,
                        }
                    answered[person_index] = done + want
                    left -= want
                    written += want
                if left == 0:
                    break
            if left:
                raise ValueError(f"too many answers for {len(people)} citizens and this survey")

    await _bulk(session, _table("survey_answers"), rows())
    return written


def _choose_options(
    rng: random.Random,
    question: QuestionView,
    person: _Person,
    chosen: set[str],
    at: datetime,
    origin: datetime,
) -> list[str]:
    """Option keys in poll order: topics by age band and place; sub-topics follow topics."""
    options = question.options
    categories = [o.category_key for o in options]
    if question.key == "topics" or (
        all(categories) and len(set(categories)) == len(categories) and len(categories) > 2
    ):
        weights = [_topic_weight(person, o.category_key or "", at) for o in options]
        count = rng.choices((1, 2, 3), (45, 35, 20))[0] if question.multiple else 1
        picked = _weighted_sample(rng, len(options), weights, count)
        chosen.update(options[i].category_key or "" for i in picked)
    elif any(categories):
        category = next(c for c in categories if c)
        topical = [i for i, o in enumerate(options) if o.category_key]
        others = [i for i, o in enumerate(options) if not o.category_key]
        if category in chosen or rng.random() < 0.25:
            weights = [2.0 if i == 0 else 1.0 for i in range(len(topical))]
            if person.district == "betong" and question.key == "language_topics":
                weights = [3.0 if options[i].key in ("chinese", "malay") else 1.0 for i in topical]
            count = rng.choice((1, 1, 2)) if question.multiple else 1
            picked = [topical[i] for i in _weighted_sample(rng, len(topical), weights, count)]
        else:
            picked = others[:1] or [topical[0]]
    else:
        count = rng.choice((1, 1, 2)) if question.multiple else 1
        picked = rng.sample(range(len(options)), min(count, len(options)))
    return [options[i].key for i in sorted(picked)]


def _topic_weight(person: _Person, category: str, at: datetime) -> float:
    try:
        base = _PREFERENCES[person.age_band][_CATEGORIES.index(category)]
    except (KeyError, ValueError):
        base = 1.0
    boost = _DISTRICT_BOOST.get(person.district or "", {}).get(category, 1.0)
    # Digital skills and health grow through the year (a trend for the chart to show).
    if category in ("digital_skills", "health_wellbeing"):
        boost *= 1.0 + at.month / 12
    return base * boost


def _weighted_sample(
    rng: random.Random, size: int, weights: Sequence[float], count: int
) -> list[int]:
    """`count` distinct indexes, drawn with the weights (without replacement)."""
    pool = list(range(size))
    pool_weights = list(weights)
    picked: list[int] = []
    for _ in range(min(count, size)):
        index = rng.choices(range(len(pool)), pool_weights)[0]
        picked.append(pool.pop(index))
        pool_weights.pop(index)
    return picked


# --- free texts -----------------------------------------------------------------------------


async def _insert_free_texts(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Person],
    districts: Sequence[District],
    count: int,
    start: datetime,
    end: datetime,
    waves: Sequence[_Wave],
) -> tuple[int, int]:
    if count == 0:
        return 0, 0
    first_id = await _next_id(session, _table("free_text_needs"))
    span = (end - start).total_seconds() - 60
    # A few keen writers and many occasional ones: writers are drawn with a skew.
    writers = [people[min(len(people) - 1, int(rng.paretovariate(1.2)) - 1)] for _ in range(50)]
    needs: list[dict[str, Any]] = []
    tokens: list[dict[str, Any]] = []
    token_cache: dict[str, list[str]] = {}
    token_total = 0
    for index in range(count):
        person = rng.choice(people) if rng.random() < 0.97 else rng.choice(writers)
        thai = person.language == "th" if rng.random() < 0.9 else person.language != "th"
        district = rng.choice(districts)
        if thai:
            text_ = rng.choice(_TH_TEMPLATES).format(
                topic=rng.choice(_TH_TOPICS),
                purpose=rng.choice(_TH_PURPOSES),
                district=district.th,
            )
        else:
            text_ = rng.choice(_EN_TEMPLATES).format(
                topic=rng.choice(_EN_TOPICS),
                purpose=rng.choice(_EN_PURPOSES),
                district=district.en,
            )
        language = "th" if thai else "en"
        at = start + timedelta(seconds=rng.random() * span)
        need_id = first_id + index
        survey_id = next((w.survey_id for w in waves if w.start <= at < w.end), None)
        needs.append(
            {
                "id": need_id,
                "citizen_id": person.id,
                "survey_id": survey_id,
                "text": text_,
                "language": language,
                "created_at": at,
            }
        )
        words = token_cache.get(text_)
        if words is None:
            words = token_cache[text_] = tokenize(text_, language)
        tokens.extend(
            {
                "need_id": need_id,
                "citizen_id": person.id,
                "token": word,
                "language": language,
                "created_at": at,
            }
            for word in words
        )
        if len(needs) >= _CHUNK:
            token_total += await _flush_texts(session, needs, tokens)
    token_total += await _flush_texts(session, needs, tokens)
    return count, token_total


async def _flush_texts(
    session: AsyncSession, needs: list[dict[str, Any]], tokens: list[dict[str, Any]]
) -> int:
    written = len(tokens)
    await _bulk(session, _table("free_text_needs"), iter(needs))
    await _bulk(session, _table("free_text_tokens"), iter(tokens))
    needs.clear()
    tokens.clear()
    return written


# --- human library and coffee council -------------------------------------------------------


async def _insert_library(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Person],
    months: Sequence[datetime],
    end: datetime,
) -> tuple[int, int, int]:
    created = months[0] - timedelta(days=20)
    book_ids: list[int] = []
    for index, (th, en, categories) in enumerate(_BOOKS):
        book_id = await _insert_one(
            session,
            "library_books",
            {
                "title": {"th": th, "en": en},
                "blurb": {"th": th, "en": en},
                "tags": ["demo"],
                "languages": ["th", "ms"] if index % 3 == 0 else ["th"],
                "telegram_user_id": _FACILITATOR + 1_000_000 + index,
                "linked_at": created,
                "consented_at": created,
                "created_by": _FACILITATOR,
                "created_at": created,
                "updated_at": created,
            },
        )
        book_ids.append(book_id)
        await _bulk(
            session,
            _table("library_book_categories"),
            iter(
                [{"book_id": book_id, "category_key": c, "created_at": created} for c in categories]
            ),
        )
    events = 0
    loans: list[dict[str, Any]] = []
    press = 0
    readers_per_event = max(1, min(24, len(people) // 2))
    for month in months:
        for week in (1, 3):  # the second and fourth Saturday, 09:00 local
            starts_at = _saturday(month, week, 9)
            if starts_at >= end + timedelta(days=30):
                continue
            cancelled = rng.random() < 0.05
            event_id = await _insert_one(
                session,
                "library_events",
                {
                    "starts_at": starts_at,
                    "place_text": "ห้องสมุดประชาชนเทศบาลนครยะลา",
                    "loan_minutes": 30,
                    "readers_per_loan": 1,
                    "slots_per_book": 4,
                    "break_minutes": 0,
                    "created_by": _FACILITATOR,
                    "cancelled_at": starts_at - timedelta(days=2) if cancelled else None,
                    "created_at": starts_at - timedelta(days=21),
                    "updated_at": starts_at - timedelta(days=21),
                },
            )
            events += 1
            at_event = sorted(rng.sample(book_ids, 6))
            await _bulk(
                session,
                _table("library_event_books"),
                iter(
                    [
                        {"event_id": event_id, "book_id": b, "created_at": starts_at}
                        for b in at_event
                    ]
                ),
            )
            readers = rng.sample(people, readers_per_event)
            for seat_index, reader in enumerate(readers):
                book_id = at_event[seat_index % len(at_event)]
                slot = seat_index // len(at_event)
                press += 1
                gave_up = rng.random() < 0.1
                held = not cancelled and not gave_up and starts_at < end
                rating = rng.choices(_RATING_VALUES, _RATING_WEIGHTS)[0]
                loans.append(
                    {
                        "event_id": event_id,
                        "book_id": book_id,
                        "telegram_user_id": reader.telegram_user_id,
                        "reader_name": f"Reader {reader.id}",
                        "language": reader.language,
                        "status": (
                            "released" if cancelled else "cancelled" if gave_up else "reserved"
                        ),
                        "slot_index": None if gave_up or cancelled else slot,
                        "seat": None if gave_up or cancelled else 0,
                        "press_order": press,
                        "feedback_rating": rating if held and rng.random() < 0.6 else None,
                        "created_at": starts_at - timedelta(days=7),
                        "updated_at": starts_at - timedelta(days=7),
                    }
                )
    await _bulk(session, _table("library_reservations"), iter(loans))
    return len(book_ids), events, sum(1 for loan in loans if loan["status"] == "reserved")


async def _insert_council(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Person],
    months: Sequence[datetime],
    end: datetime,
) -> tuple[int, int, int]:
    title = {"th": "สภากาแฟยะลา", "en": "Yala coffee council"}
    place = "ร้านกาแฟหน้าเทศบาลนครยะลา"
    first = _saturday(months[0], 0, 8)
    series_id = await _insert_one(
        session,
        "series",
        {
            "kind": "council",
            "title": title,
            "place_text": place,
            "rrule": "FREQ=MONTHLY;BYDAY=1SA",
            "local_time": "08:00",
            "timezone": _TZ,
            "first_start": first,
            "duration_minutes": 120,
            "created_by": _FACILITATOR,
            "created_at": first - timedelta(days=30),
            "updated_at": first - timedelta(days=30),
        },
    )
    rsvps: list[dict[str, Any]] = []
    attendance: list[dict[str, Any]] = []
    agenda: list[dict[str, Any]] = []
    meetings = 0
    per_meeting = max(1, min(len(people), max(10, len(people) // 500)))
    topics = ("civic_participation", "health_wellbeing", "environment", "local_culture", None)
    for month in months:
        starts_at = _saturday(month, 0, 8)
        cancelled = rng.random() < 0.05
        meeting_id = await _insert_one(
            session,
            "council_meetings",
            {
                "series_id": series_id,
                "original_start": starts_at,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=2),
                "title": title,
                "place_text": place,
                "status": "cancelled" if cancelled else "scheduled",
                "created_at": starts_at - timedelta(days=30),
                "updated_at": starts_at - timedelta(days=30),
            },
        )
        meetings += 1
        for position in range(3):
            category = rng.choice(topics)
            agenda.append(
                {
                    "meeting_id": meeting_id,
                    "position": position,
                    "label": {"th": f"วาระที่ {position + 1}", "en": f"Item {position + 1}"},
                    "category_key": category,
                    "source": "need" if category else "manual",
                    "votes": 0,
                    "created_at": starts_at - timedelta(days=3),
                }
            )
        for person in rng.sample(people, per_meeting):
            answer = rng.choices(("yes", "maybe", "no"), (60, 20, 20))[0]
            rsvps.append(
                {
                    "meeting_id": meeting_id,
                    "telegram_user_id": person.telegram_user_id,
                    "answer": answer,
                    "language": person.language,
                    "created_at": starts_at - timedelta(days=5),
                    "updated_at": starts_at - timedelta(days=5),
                }
            )
            came = {"yes": 0.75, "maybe": 0.3, "no": 0.02}[answer]
            if not cancelled and starts_at < end and rng.random() < came:
                attendance.append(
                    {
                        "meeting_id": meeting_id,
                        "telegram_user_id": person.telegram_user_id,
                        "checked_in_at": starts_at + timedelta(minutes=rng.randint(0, 40)),
                        "checked_in_by": None,
                    }
                )
    await _bulk(session, _table("council_agenda_items"), iter(agenda))
    await _bulk(session, _table("council_rsvps"), iter(rsvps))
    await _bulk(session, _table("council_attendance"), iter(attendance))
    return meetings, len(rsvps), len(attendance)


# --- helpers --------------------------------------------------------------------------------


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def _bulk(session: AsyncSession, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """executemany INSERTs of `_CHUNK` rows at a time; returns how many rows."""
    statement = insert(table)
    written = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            await session.exec(statement, params=chunk)
            written += len(chunk)
            chunk = []
    if chunk:
        await session.exec(statement, params=chunk)
        written += len(chunk)
    return written


async def _insert_one(session: AsyncSession, name: str, row: dict[str, Any]) -> int:
    table = _table(name)
    result = await session.exec(insert(table).values(**row).returning(table.c.id))
    return int(result.scalar_one())


async def _next_id(session: AsyncSession, table: Table) -> int:
    found = (await session.exec(select(func.max(table.c.id)))).first()
    return int(found or 0) + 1


async def _sync_sequences(session: AsyncSession) -> None:
    """PostgreSQL: move the id sequences past the ids given explicitly."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in ("citizens", "free_text_needs"):
        await session.exec(  # type: ignore[call-overload]
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
            )
        )


def _month_starts(end: datetime, tz: str) -> list[datetime]:
    """The UTC starts of the twelve local months ending with the month of `end`."""
    zone = ZoneInfo(tz)
    local = end.astimezone(zone)
    year, month = local.year, local.month
    starts: list[datetime] = []
    for back in range(_MONTHS - 1, -1, -1):
        y, m = divmod((year * 12 + month - 1) - back, 12)
        starts.append(datetime(y, m + 1, 1, tzinfo=zone).astimezone(UTC))
    return starts


def _next_month(start: datetime, tz: str) -> datetime:
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    y, m = divmod(local.year * 12 + local.month, 12)
    return datetime(y, m + 1, 1, tzinfo=zone).astimezone(UTC)


def _saturday(month_start: datetime, week: int, hour: int) -> datetime:
    """The (week+1)-th Saturday of the local month starting at `month_start`, at `hour` local."""
    zone = ZoneInfo(_TZ)
    local = month_start.astimezone(zone)
    first = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    offset = (5 - first.weekday()) % 7
    return (first + timedelta(days=offset + 7 * week)).astimezone(UTC)
