"""A hand-made `Summary` (as storage.summary would return it) for the renderers' tests.

The numbers are invented but shaped like the real thing: Thai and English topic names, a few
hidden cells (small and complementary), totals that are not sums of their cells.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime

from storage.summary import (
    Cell,
    FeedbackLine,
    Label,
    MonthActivity,
    Participation,
    Period,
    Summary,
    Suppressed,
    Table,
    Theme,
    Topic,
    TopicOffer,
)

SMALL = Suppressed("small")
COMPLEMENTARY = Suppressed("complementary")
TOPICS = (
    ("digital", "ทักษะดิจิทัล", "Digital skills", "learning_technologies", (4, 9)),
    ("language", "ภาษาอังกฤษและภาษามลายู", "English and Malay", "inclusive_learning", (4,)),
    (
        "health",
        "สุขภาพและการดูแลผู้สูงอายุ",
        "Health and elder care",
        "families_communities",
        (3, 4),
    ),
    ("farming", "เกษตรและยางพารา", "Farming and rubber", "workplace", (2, 8)),
    ("business", "ค้าขายออนไลน์", "Online selling", "workplace", (8,)),
    ("culture", "วัฒนธรรมท้องถิ่น", "Local culture", "culture_of_learning", (4, 11)),
    ("finance", "การเงินครัวเรือน", "Household finance", "quality", (1, 4)),
)
AGE_BANDS = ("10-14", "15-19", "20-34", "35-49", "50-59", "60+")
DISTRICTS = ("mueang-yala", "betong", "bannang-sata", "than-to", "yaha", "_none")
LANGUAGES = ("th", "en", "ms")
THEMES = (("ภาษาอังกฤษ", 42, 57), ("คอมพิวเตอร์", 31, 40), ("ยางพารา", 12, 12), ("excel", 6, 7))


def _months(first: date, count: int) -> tuple[str, ...]:
    months = []
    year, month = first.year, first.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _cell(rng: random.Random, low: int = 0, high: int = 80) -> Cell:
    value = rng.randint(low, high)
    if value < 5:
        return SMALL
    return COMPLEMENTARY if rng.random() < 0.05 else value


def _table(
    key: str,
    rows: tuple[Label, ...],
    columns: tuple[Label, ...],
    rng: random.Random,
    unit: str = "people",
) -> Table:
    cells = tuple(tuple(_cell(rng) for _ in columns) for _ in rows)
    return Table(
        key=key,
        unit=unit,  # type: ignore[arg-type]
        rows=rows,
        columns=columns,
        cells=cells,
        row_totals=tuple(_cell(rng, 20, 300) for _ in rows) if len(columns) > 1 else None,
        column_totals=tuple(_cell(rng, 3, 300) for _ in columns),
        total=rng.randint(300, 900),
    )


def sample_summary(months: int = 11, seed: int = 7) -> Summary:
    """A summary of `months` months from January 2026 (Bangkok time)."""
    rng = random.Random(seed)
    month_keys = _months(date(2026, 1, 1), months)
    first = date(2026, 1, 1)
    last_month = month_keys[-1]
    year, month = int(last_month[:4]), int(last_month[5:])
    last = (date(year + (month == 12), month % 12 + 1, 1)).toordinal() - 1
    period = Period(
        text=month_keys[0] if months == 1 else f"last-{months * 30}-days",
        kind="month" if months == 1 else "last-days",
        tz="Asia/Bangkok",
        start=datetime(2025, 12, 31, 17, tzinfo=UTC),
        end=datetime(year, month, 28, 17, tzinfo=UTC),
        first_day=first,
        last_day=date.fromordinal(last),
    )
    topic_labels = tuple(Label(k, {"th": th, "en": en}) for k, th, en, _, _ in TOPICS)
    people: list[Cell] = [412, 260, 133, 57, SMALL, COMPLEMENTARY, 9]
    respondents = 731
    topics = tuple(
        Topic(
            key=k,
            name={"th": th, "en": en},
            unesco_feature=feature,
            sdgs=sdgs,
            people=people[i],
            share=count / respondents if isinstance(count := people[i], int) else None,
        )
        for i, (k, th, en, feature, sdgs) in enumerate(TOPICS)
    )
    by_topic = Table(
        key="needs_by_topic",
        unit="people",
        rows=topic_labels,
        columns=(Label("people", {}),),
        cells=tuple((p,) for p in people),
        row_totals=None,
        column_totals=(respondents,),
        total=respondents,
    )
    month_labels = tuple(Label(m, {}) for m in month_keys)
    district_labels = tuple(Label(d, {}) for d in DISTRICTS)
    part = Participation(
        activity=tuple(
            MonthActivity(m, library_events=rng.randint(0, 4), council_meetings=1)
            for m in month_keys
        ),
        loans=_table("loans", month_labels, district_labels, rng, "loans"),
        rsvps=_table("rsvps", month_labels, district_labels, rng, "rsvps"),
        attendance=_table("attendance", month_labels, district_labels, rng),
        feedback_by_month=tuple(
            FeedbackLine(label, rng.randint(5, 40), round(rng.uniform(3, 5), 2))
            if i % 3
            else FeedbackLine(label, SMALL, SMALL)
            for i, label in enumerate(month_labels)
        ),
        feedback_by_district=tuple(
            FeedbackLine(label, rng.randint(5, 40), round(rng.uniform(3, 5), 2))
            for label in district_labels
        ),
        feedback_total=FeedbackLine(Label("total", {}), 230, 4.31),
    )
    return Summary(
        period=period,
        generated_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
        threshold=5,
        respondents=respondents,
        answers=2519,
        free_texts=188,
        months=month_keys,
        topics=topics,
        needs_by_topic=by_topic,
        needs_by_age_band=_table(
            "needs_by_age_band", topic_labels, tuple(Label(a, {}) for a in AGE_BANDS), rng
        ),
        needs_by_district=_table("needs_by_district", topic_labels, district_labels, rng),
        needs_by_language=_table(
            "needs_by_language", topic_labels, tuple(Label(code, {}) for code in LANGUAGES), rng
        ),
        needs_by_month=_table("needs_by_month", topic_labels, month_labels, rng),
        themes=tuple(Theme(token, p, m) for token, p, m in THEMES),
        offers=tuple(
            TopicOffer(
                key=k,
                name={"th": th, "en": en},
                people=people[i],
                books=[3, 0, 1, 0, 0, 2, 0][i],
                library_events=[2, 0, 1, 0, 0, 1, 0][i],
                agenda_items=[1, 0, 0, 0, 1, 0, 0][i],
                gap=i in (1, 6),
            )
            for i, (k, th, en, _, _) in enumerate(TOPICS)
        ),
        participation=part,
    )


def empty_summary() -> Summary:
    """A period with nothing in it: no topics answered, no months, no activity."""
    full = sample_summary(1)
    nothing = Table("needs_by_topic", "people", (), (Label("people", {}),), (), None, (0,), 0)

    def empty(key: str, unit: str = "people") -> Table:
        return Table(key, unit, (), (), (), None, None, None)  # type: ignore[arg-type]

    return replace(
        full,
        respondents=SMALL,
        answers=SMALL,
        free_texts=SMALL,
        months=(),
        topics=(),
        needs_by_topic=nothing,
        needs_by_age_band=empty("needs_by_age_band"),
        needs_by_district=empty("needs_by_district"),
        needs_by_language=empty("needs_by_language"),
        needs_by_month=empty("needs_by_month"),
        themes=(),
        offers=(),
        participation=Participation(
            activity=(),
            loans=empty("loans", "loans"),
            rsvps=empty("rsvps", "rsvps"),
            attendance=empty("attendance"),
            feedback_by_month=(),
            feedback_by_district=(),
            feedback_total=FeedbackLine(Label("total", {}), SMALL, None),
        ),
    )
