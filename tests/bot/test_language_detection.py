"""Tests for bot.language_detection against the committed sample set."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.language_detection import detect_language

SAMPLES_PATH = Path(__file__).resolve().parents[1] / "data" / "language_samples.tsv"

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LATIN = re.compile(r"[A-Za-z]")


def _load_samples() -> list[tuple[str, str]]:
    """Read (expected, text) rows from the TSV, skipping the header."""
    lines = SAMPLES_PATH.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "expected\ttext"
    rows: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue  # trailing newline at end of file; the empty-text row is "und\t"
        expected, text = line.split("\t", 1)
        rows.append((expected, text))
    return rows


def _category(expected: str, text: str) -> str:
    """Classify a row into th, mixed, en, ms-latin, jawi or und."""
    if expected == "th":
        return "mixed" if _LATIN.search(text) else "th"
    if expected == "ms":
        return "jawi" if _ARABIC.search(text) else "ms-latin"
    return expected


SAMPLES = _load_samples()


def _misses(rows: list[tuple[str, str]]) -> list[str]:
    """Describe every row the detector gets wrong."""
    out: list[str] = []
    for expected, text in rows:
        got = detect_language(text)
        if got != expected:
            out.append(f"{text!r}: expected {expected}, got {got}")
    return out


def test_sample_file_has_required_coverage() -> None:
    counts: dict[str, int] = {}
    for expected, text in SAMPLES:
        assert expected in {"th", "ms", "en", "und"}
        cat = _category(expected, text)
        counts[cat] = counts.get(cat, 0) + 1
    assert len(SAMPLES) >= 80
    assert ("und", "") in SAMPLES
    minimums = {"th": 20, "en": 20, "ms-latin": 20, "mixed": 12, "jawi": 4, "und": 6}
    for cat, minimum in minimums.items():
        assert counts.get(cat, 0) >= minimum, (cat, counts)
    # Thai rows must really contain Thai script, und rows no letters.
    for expected, text in SAMPLES:
        if expected == "th":
            assert _THAI.search(text), text
        if expected == "und":
            assert not re.search(r"[^\W\d_]", text), text


def test_overall_accuracy_at_least_95_percent() -> None:
    misses = _misses(SAMPLES)
    accuracy = 1 - len(misses) / len(SAMPLES)
    assert accuracy >= 0.95, f"accuracy {accuracy:.1%}; misses:\n" + "\n".join(misses)


@pytest.mark.parametrize("category", ["th", "mixed", "en", "ms-latin", "jawi", "und"])
def test_each_category(category: str) -> None:
    rows = [(e, t) for e, t in SAMPLES if _category(e, t) == category]
    assert rows
    misses = _misses(rows)
    accuracy = 1 - len(misses) / len(rows)
    # Script-based categories are exact; langdetect-based ones get the overall bar.
    threshold = 0.9 if category in {"en", "ms-latin"} else 1.0
    assert accuracy >= threshold, f"{category}: {accuracy:.1%}; misses:\n" + "\n".join(misses)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("อยากเรียน Excel สำหรับทำบัญชีร้าน", "th"),
        ("I want to learn ภาษาไทย", "th"),
        ("ساي نق بلاجر", "ms"),
        ("ﻻ", "ms"),  # presentation form (U+FEFB)
        ("Saya nak belajar menjahit baju", "ms"),
        ("I want to learn to cook Malay desserts to sell", "en"),
    ],
)
def test_rules(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\t",
        "12345",
        "???",
        "👍",
        "🙏😊👍🎉",
        "... - _ ___ !!!",
        "0812345678 #1 @2",
        "😊" * 5000,
        "1234567890" * 2000,
        "?" * 100_000,
    ],
)
def test_no_letters_is_und(text: str) -> None:
    assert detect_language(text) == "und"


@pytest.mark.parametrize(
    "text",
    [
        "Saya nak belajar menjahit baju",
        "sewing class",
        "memasak",
        "computer",
        "I want to learn to cook Malay desserts to sell",
        "tolong",
        "ok",
    ],
)
def test_deterministic(text: str) -> None:
    answers = {detect_language(text) for _ in range(20)}
    assert len(answers) == 1, answers


@pytest.mark.parametrize(
    ("make_text", "expected"),
    [
        (lambda: ("I want to learn how to cook and sell desserts. " * 120)[:5000], "en"),
        (lambda: ("Saya nak belajar memasak kuih untuk dijual. " * 120)[:5000], "ms"),
        (lambda: ("อยากเรียนทำขนม " * 400)[:5000], "th"),
    ],
)
def test_long_input(make_text: Callable[[], str], expected: str) -> None:
    text = make_text()
    assert len(text) == 5000
    assert detect_language(text) == expected


def test_odd_inputs_never_raise() -> None:
    for text in ["ß", "Ｆｕｌｌ", "a", "\u200b", "x" * 5000, "é" * 5000, "\x00abc"]:
        assert detect_language(text) in {"th", "ms", "en", "und"}
