"""Message catalogs: every string a person sees, keyed, in Thai and English.

The catalogs are gettext `.po` files (one per language, msgid = key, msgstr = text) read with
Babel at start-up. `.po` was chosen over Fluent because Babel is already in the stack for dates,
translators' tools (Poedit, Weblate) open `.po` directly, and reading the `.po` at start-up needs
no compile step that a newcomer could forget. Values are HTML-escaped, since the bot sends HTML.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("th", "en")
CATALOG_DIR = Path(__file__).parent / "catalogs"


class MissingMessage(KeyError):
    """A key is absent or empty in a catalog."""


@dataclass(frozen=True)
class Raw:
    """A value that is already HTML (a link or markup built by the caller); not escaped."""

    html: str


def _read_catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str)
    }


def _read_language(directory: Path, language: str) -> dict[str, str]:
    paths = [directory / f"{language}.po", *sorted(directory.glob(f"*.{language}.po"))]
    merged: dict[str, str] = {}
    for path in paths:
        for key, text in _read_catalog(path).items():
            if key in merged:
                raise ValueError(f"{path.name}: key {key!r} is already defined")
            merged[key] = text
    return merged


@dataclass(frozen=True)
class Catalogs:
    """Both languages' messages, with formatting."""

    messages: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, directory: Path = CATALOG_DIR) -> Catalogs:
        """Read `<lang>.po` and every `<flow>.<lang>.po` for each supported language.

        A flow may keep its messages in its own pair of files (`library.th.po`,
        `library.en.po`), so flows built side by side do not edit one shared file; a key
        defined twice is an error.
        """
        return cls({lang: _read_language(directory, lang) for lang in LANGUAGES})

    def keys(self, language: str) -> set[str]:
        """Every key that has a non-empty text in `language`."""
        return {k for k, v in self.messages[language].items() if v.strip()}

    def text(self, language: str, key: str, /, **values: object) -> str:
        """The message `key` in `language`, with `values` HTML-escaped and filled in."""
        lang = language if language in self.messages else LANGUAGES[0]
        template = self.messages[lang].get(key, "")
        if not template.strip():
            raise MissingMessage(f"{lang}:{key}")
        if not values:
            return template
        return template.format_map({name: _escape(value) for name, value in values.items()})

    def placeholders(self, language: str, key: str) -> set[str]:
        """The `{names}` a message expects (used by the catalog consistency test)."""
        return {
            field
            for _, field, _, _ in string.Formatter().parse(self.messages[language][key])
            if field
        }


def _escape(value: object) -> str:
    if isinstance(value, Raw):
        return value.html
    return html.escape(str(value), quote=False)


@cache
def catalogs() -> Catalogs:
    """The shipped catalogs, read once on first use."""
    return Catalogs.load()
