"""Survey files and quick polls checked before anything is stored: pure, no database.

A survey file (YAML) looks like this::

    key: learning_needs_2026
    title: {th: "…", en: "…"}
    categories:
      - key: digital_skills
        name: {th: "…", en: "…"}
        unesco_feature: learning_technologies
        sdgs: [4, 8, 9]
    questions:
      - key: topics
        text: {th: "…", en: "…"}
        multiple: true            # optional, false by default
        options:
          - key: digital_skills
            label: {th: "…", en: "…"}
            category: digital_skills   # optional: format or time options have none

Every rule broken is reported as "<field path>: <rule>", e.g.
`questions[2].options[12]: at most 12 options` or `questions[0].text.en: missing translation`;
paths count from 0. The limits are Telegram's for native polls (question 1–300 characters, each
option 1–100, 1–12 options), counted in Unicode code points after surrounding blanks are cut.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from storage.enums import UnescoFeature
from storage.errors import PollSpecError, SurveyFileError

KEY_MAX_LENGTH: Final = 48
KEY_PATTERN: Final = re.compile(r"[a-z0-9_]{1,48}")
QUESTION_MAX_LENGTH: Final = 300  # Telegram's poll question
OPTION_MAX_LENGTH: Final = 100  # Telegram's poll option
MIN_OPTIONS: Final = 1
MAX_OPTIONS: Final = 12
TITLE_MAX_LENGTH: Final = 200
CATEGORY_NAME_MAX_LENGTH: Final = 100
TEXT_LANGUAGES: Final = ("th", "en")
SDG_RANGE: Final = range(1, 18)

_KEY_RULE = "must be 1–48 characters of a–z, 0–9 and _"


@dataclass(frozen=True)
class CategorySpec:
    """A need category: its names, the UNESCO feature it serves and its SDGs (1–17)."""

    key: str
    name: dict[str, str]
    unesco_feature: UnescoFeature
    sdgs: tuple[int, ...]


@dataclass(frozen=True)
class OptionSpec:
    """An answer option; `category` is a key of the file's categories, or None."""

    key: str
    label: dict[str, str]
    category: str | None = None


@dataclass(frozen=True)
class QuestionSpec:
    """A question asked as one native poll; `multiple` lets people choose several options."""

    key: str
    text: dict[str, str]
    options: tuple[OptionSpec, ...]
    multiple: bool = False


@dataclass(frozen=True)
class SurveySpec:
    """A whole survey file, valid; importing it stores a new version of `key`."""

    key: str
    title: dict[str, str]
    questions: tuple[QuestionSpec, ...]
    categories: tuple[CategorySpec, ...] = ()


def parse_survey_file(data: Any) -> SurveySpec:
    """Check a parsed survey file and return it as a SurveySpec.

    Raises SurveyFileError listing every rule broken, each with its field path.
    """
    problems = _Problems()
    root = problems.mapping(
        data, "", required=("key", "title", "questions"), optional=("categories",)
    )
    if root is None:
        raise SurveyFileError(problems.items)
    key = problems.key(root.get("key"), "key")
    title = problems.texts(root.get("title"), "title", TITLE_MAX_LENGTH)
    categories = _categories(root.get("categories", []), problems)
    category_keys = {category.key for category in categories}
    questions: list[QuestionSpec] = []
    raw_questions = problems.items_of(root.get("questions"), "questions", 1, None, "questions")
    seen: set[str] = set()
    for index, raw in enumerate(raw_questions):
        question = _question(raw, f"questions[{index}]", category_keys, seen, problems)
        if question is not None:
            questions.append(question)
    if problems.items or key is None or title is None:
        raise SurveyFileError(problems.items)
    return SurveySpec(
        key=key, title=title, questions=tuple(questions), categories=tuple(categories)
    )


def load_survey_file(path: str | Path) -> SurveySpec:
    """Read a survey file (YAML, UTF-8) and check it; SurveyFileError if it breaks a rule."""
    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SurveyFileError([f"{source.name}: not valid YAML ({exc})"]) from exc
    return parse_survey_file(data)


def parse_quick_poll(
    question: Mapping[str, str], options: Sequence[Mapping[str, str]]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Check a quick poll as survey questions are checked: (question, options) cleaned.

    `question` maps "th" and "en" to text; each option maps "th" and "en" to its label and may
    name a "key" (default "o1", "o2", … by position). Raises PollSpecError with field paths
    such as `options[2].en: at most 100 characters (has 130)`.
    """
    problems = _Problems()
    if question is None:
        problems.add("question", "required")
    text = problems.texts(question, "question", QUESTION_MAX_LENGTH)
    raw_options = problems.items_of(options, "options", MIN_OPTIONS, MAX_OPTIONS, "options")
    checked: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_options):
        path = f"options[{index}]"
        option = problems.mapping(raw, path, required=(), optional=("key", *TEXT_LANGUAGES))
        if option is None:
            continue
        key = problems.key(option.get("key", f"o{index + 1}"), f"{path}.key")
        label = problems.texts(
            {name: value for name, value in option.items() if name != "key"},
            path,
            OPTION_MAX_LENGTH,
        )
        if key is not None:
            problems.unique(key, seen, f"{path}.key")
        if key is not None and label is not None:
            checked.append({"key": key, **label})
    if problems.items or text is None:
        raise PollSpecError(problems.items)
    return text, checked


def _categories(raw: Any, problems: _Problems) -> list[CategorySpec]:
    categories: list[CategorySpec] = []
    seen: set[str] = set()
    for index, item in enumerate(problems.items_of(raw, "categories", 0, None, "categories")):
        path = f"categories[{index}]"
        category = problems.mapping(
            item, path, required=("key", "name", "unesco_feature", "sdgs"), optional=()
        )
        if category is None:
            continue
        key = problems.key(category.get("key"), f"{path}.key")
        if key is not None:
            problems.unique(key, seen, f"{path}.key")
        name = problems.texts(category.get("name"), f"{path}.name", CATEGORY_NAME_MAX_LENGTH)
        feature = _feature(category.get("unesco_feature"), f"{path}.unesco_feature", problems)
        sdgs = _sdgs(category.get("sdgs"), f"{path}.sdgs", problems)
        if key is not None and name is not None and feature is not None and sdgs is not None:
            categories.append(CategorySpec(key, name, feature, sdgs))
    return categories


def _question(
    raw: Any, path: str, category_keys: set[str], seen_keys: set[str], problems: _Problems
) -> QuestionSpec | None:
    question = problems.mapping(
        raw, path, required=("key", "text", "options"), optional=("multiple",)
    )
    if question is None:
        return None
    key = problems.key(question.get("key"), f"{path}.key")
    if key is not None:
        problems.unique(key, seen_keys, f"{path}.key")
    text = problems.texts(question.get("text"), f"{path}.text", QUESTION_MAX_LENGTH)
    multiple = question.get("multiple", False)
    if not isinstance(multiple, bool):
        problems.add(f"{path}.multiple", "must be true or false")
    options: list[OptionSpec] = []
    seen: set[str] = set()
    raw_options = problems.items_of(
        question.get("options"), f"{path}.options", MIN_OPTIONS, MAX_OPTIONS, "options"
    )
    for index, item in enumerate(raw_options):
        option = _option(item, f"{path}.options[{index}]", category_keys, seen, problems)
        if option is not None:
            options.append(option)
    if key is None or text is None or not isinstance(multiple, bool):
        return None
    return QuestionSpec(key=key, text=text, options=tuple(options), multiple=multiple)


def _option(
    raw: Any, path: str, category_keys: set[str], seen_keys: set[str], problems: _Problems
) -> OptionSpec | None:
    option = problems.mapping(raw, path, required=("key", "label"), optional=("category",))
    if option is None:
        return None
    key = problems.key(option.get("key"), f"{path}.key")
    if key is not None:
        problems.unique(key, seen_keys, f"{path}.key")
    label = problems.texts(option.get("label"), f"{path}.label", OPTION_MAX_LENGTH)
    category = option.get("category")
    if category is not None and (not isinstance(category, str) or category not in category_keys):
        problems.add(
            f"{path}.category", f"unknown category {_quoted(category)} (not in categories)"
        )
        category = None
    if key is None or label is None:
        return None
    return OptionSpec(key=key, label=label, category=category)


def _feature(raw: Any, path: str, problems: _Problems) -> UnescoFeature | None:
    if isinstance(raw, str) and raw in {feature.value for feature in UnescoFeature}:
        return UnescoFeature(raw)
    problems.add(path, f"must be one of {', '.join(f.value for f in UnescoFeature)}")
    return None


def _sdgs(raw: Any, path: str, problems: _Problems) -> tuple[int, ...] | None:
    items = problems.items_of(raw, path, 1, None, "SDGs")
    if raw is None or not isinstance(raw, list) or not items:
        return None
    sdgs: list[int] = []
    ok = True
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int) or item not in SDG_RANGE:
            problems.add(f"{path}[{index}]", "must be an SDG number from 1 to 17")
            ok = False
        elif item in sdgs:
            problems.add(f"{path}[{index}]", f"duplicate SDG {item}")
            ok = False
        else:
            sdgs.append(item)
    return tuple(sdgs) if ok else None


def _quoted(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


class _Problems:
    """Collects every rule broken, as "<path>: <rule>"."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, rule: str) -> None:
        self.items.append(f"{path}: {rule}" if path else rule)

    def mapping(
        self, raw: Any, path: str, *, required: Sequence[str], optional: Sequence[str]
    ) -> Mapping[str, Any] | None:
        """The mapping at `path`, or None (reported) if it is not one; names are checked."""
        if not isinstance(raw, Mapping):
            self.add(path or "file", "must be a mapping")
            return None
        for name in raw:
            if name not in required and name not in optional:
                self.add(_join(path, str(name)), "unknown field")
        for name in required:
            if name not in raw:
                self.add(_join(path, name), "required")
        return raw

    def key(self, raw: Any, path: str) -> str | None:
        """A key matching KEY_PATTERN, or None (reported)."""
        if raw is None:
            return None  # already reported as required
        if not isinstance(raw, str) or not KEY_PATTERN.fullmatch(raw):
            self.add(path, _KEY_RULE)
            return None
        return raw

    def unique(self, key: str, seen: set[str], path: str) -> None:
        if key in seen:
            self.add(path, f'duplicate key "{key}"')
        seen.add(key)

    def texts(self, raw: Any, path: str, max_length: int) -> dict[str, str] | None:
        """A {"th", "en"} mapping of non-blank texts within `max_length`, or None (reported)."""
        if raw is None:
            return None  # already reported as required
        if not isinstance(raw, Mapping):
            self.add(path, "must map th and en to text")
            return None
        texts: dict[str, str] = {}
        ok = True
        for language in raw:
            if language not in TEXT_LANGUAGES:
                self.add(_join(path, str(language)), "unsupported language (th and en only)")
                ok = False
        for language in TEXT_LANGUAGES:
            where = _join(path, language)
            if raw.get(language) is None:
                self.add(where, "missing translation")
                ok = False
                continue
            value = raw[language]
            if not isinstance(value, str):
                self.add(where, "must be text")
                ok = False
                continue
            value = value.strip()
            if not value:
                self.add(where, "must not be empty")
                ok = False
            elif len(value) > max_length:
                self.add(where, f"at most {max_length} characters (has {len(value)})")
                ok = False
            texts[language] = value
        return texts if ok else None

    def items_of(
        self, raw: Any, path: str, minimum: int, maximum: int | None, what: str
    ) -> list[Any]:
        """The list at `path` (reported if not a list or of the wrong length), else []."""
        if raw is None:
            return []  # already reported as required (or optional and absent)
        if not isinstance(raw, list):
            self.add(path, "must be a list")
            return []
        if len(raw) < minimum:
            self.add(path, f"at least {minimum} {what if minimum != 1 else what.rstrip('s')}")
        if maximum is not None and len(raw) > maximum:
            self.add(f"{path}[{maximum}]", f"at most {maximum} {what}")
        return raw


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
