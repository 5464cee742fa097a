"""The charts: valid PNGs Telegram accepts as photos, hidden cells drawn as "<5" stubs."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from matplotlib.text import Text
from PIL import Image

from bot.emulator.files import MAX_PHOTO_RATIO, MAX_PHOTO_SIDES
from bot.reports.chart import topics_chart, topics_figure, trend_chart, trend_figure
from bot.reports.labels import Namer
from storage.summary import Summary, Suppressed
from tests.bot.reports.sample import empty_summary, sample_summary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        assert image.format == "PNG"
    assert width + height <= MAX_PHOTO_SIDES
    assert max(width, height) <= MAX_PHOTO_RATIO * min(width, height)
    return width, height


def _texts(figure: object) -> list[str]:
    figure.draw_without_rendering()  # type: ignore[attr-defined]
    return [t.get_text() for t in figure.findobj(Text)]  # type: ignore[attr-defined]


def test_the_topics_chart_is_a_png(th: Namer, summary: Summary) -> None:
    width, height = _check_png(topics_chart(summary, th))
    assert width >= 1000 and height >= 500


@pytest.mark.parametrize("months", [1, 11, 30])
def test_the_trend_chart_is_a_png_for_short_and_long_periods(th: Namer, months: int) -> None:
    _check_png(trend_chart(sample_summary(months), th))


def test_hidden_topics_are_labelled_as_hidden_and_shown_ones_with_their_count(
    th: Namer, summary: Summary
) -> None:
    texts = _texts(topics_figure(summary, th))
    hidden = sum(isinstance(t.people, Suppressed) for t in summary.topics)
    assert hidden == 2
    assert sum(text.strip() == "<5" for text in texts) == hidden
    assert any(text.strip() == "412 (56%)" for text in texts)
    assert "ทักษะดิจิทัล" in texts
    assert any("ผู้ตอบ 731 คน" in text for text in texts)


def test_the_trend_chart_marks_hidden_cells_and_names_its_series(
    en: Namer, summary: Summary
) -> None:
    one_month = sample_summary(1)
    texts = _texts(trend_figure(one_month, en))
    table = one_month.needs_by_month
    top = {t.key for t in one_month.topics if isinstance(t.people, int)}
    hidden = sum(
        isinstance(row[0], Suppressed)
        for label, row in zip(table.rows, table.cells, strict=True)
        if label.key in top
    )
    assert sum(text == "<5" for text in texts) >= hidden
    assert {"Digital skills", "Library loans", "Council RSVPs", "Jan 2026"} <= set(texts)


def test_an_empty_period_still_draws_both_charts(th: Namer) -> None:
    nothing = empty_summary()
    _check_png(topics_chart(nothing, th))
    _check_png(trend_chart(nothing, th))


def test_a_hidden_respondent_count_is_shown_as_hidden_in_the_subtitle(
    en: Namer, summary: Summary
) -> None:
    hidden = replace(summary, respondents=Suppressed("small"))
    assert any("<5 respondents" in text for text in _texts(topics_figure(hidden, en)))
