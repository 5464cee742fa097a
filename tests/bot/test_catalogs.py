"""The catalogs: every key in both languages, same placeholders, valid Telegram HTML."""

from __future__ import annotations

import re

import pytest

from bot.emulator.html_entities import check_message_text
from bot.i18n.catalog import LANGUAGES, Catalogs, MissingMessage, Raw, catalogs

CATALOGS = catalogs()
ALL_KEYS = sorted(set().union(*(CATALOGS.messages[lang].keys() for lang in LANGUAGES)))
# Labels that sit on a button: short enough for a small phone screen.
BUTTON_PREFIXES = ("button.", "age.", "language.name.", "purpose.")
MAX_BUTTON_LABEL = 32


def test_there_are_messages() -> None:
    assert len(ALL_KEYS) > 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_is_missing_or_empty(language: str) -> None:
    missing = [key for key in ALL_KEYS if key not in CATALOGS.keys(language)]
    assert missing == []


@pytest.mark.parametrize("key", ALL_KEYS)
def test_both_languages_take_the_same_placeholders(key: str) -> None:
    assert CATALOGS.placeholders("th", key) == CATALOGS.placeholders("en", key)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_message_is_html_telegram_accepts(language: str, key: str) -> None:
    values = {name: "x" for name in CATALOGS.placeholders(language, key)}
    check_message_text(CATALOGS.text(language, key, **values), "HTML")


def test_thai_has_no_gendered_particles() -> None:
    particles = re.compile(r"ครับ|ค่ะ|คะ(?![\u0E00-\u0E7F])|จ้ะ|จ๊ะ")
    offenders = [k for k, v in CATALOGS.messages["th"].items() if particles.search(v)]
    assert offenders == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_button_labels_fit_a_small_screen(language: str) -> None:
    too_long = [
        key
        for key in ALL_KEYS
        if key.startswith(BUTTON_PREFIXES)
        and not key.endswith(".description")
        and len(CATALOGS.text(language, key)) > MAX_BUTTON_LABEL
    ]
    assert too_long == []


def test_values_are_escaped_but_raw_html_is_not() -> None:
    text = CATALOGS.text("en", "onboarding.district_saved", district="<b>&")
    assert "&lt;b&gt;&amp;" in text
    raw = CATALOGS.text("en", "onboarding.district_saved", district=Raw("<b>x</b>"))
    assert "<b>x</b>" in raw


def test_a_missing_key_is_an_error_not_an_empty_message() -> None:
    with pytest.raises(MissingMessage):
        CATALOGS.text("th", "no.such.key")


def test_a_catalog_with_an_empty_text_reports_the_key() -> None:
    broken = Catalogs({"th": {"a": ""}, "en": {"a": "A"}})
    assert broken.keys("th") == set()
    with pytest.raises(MissingMessage, match="th:a"):
        broken.text("th", "a")


def _write_po(path: object, entries: dict[str, str]) -> None:
    from pathlib import Path

    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    Path(str(path)).write_text(body, encoding="utf-8")


def test_a_flow_may_keep_its_messages_in_its_own_files(tmp_path: object) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    for language in LANGUAGES:
        _write_po(directory / f"{language}.po", {"a": f"A-{language}"})
        _write_po(directory / f"flow.{language}.po", {"b": f"B-{language}"})
    loaded = Catalogs.load(directory)
    assert loaded.text("th", "b") == "B-th"
    assert loaded.text("en", "a") == "A-en"


def test_a_key_defined_in_two_files_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    for language in LANGUAGES:
        _write_po(directory / f"{language}.po", {"a": "A"})
        _write_po(directory / f"flow.{language}.po", {"a": "again"})
    with pytest.raises(ValueError, match="already defined"):
        Catalogs.load(directory)
