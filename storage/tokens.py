"""Free text cut into words once, when it is stored, so themes are a SQL GROUP BY.

Thai has no spaces between words: it is segmented with PyThaiNLP's default dictionary
tokenizer (newmm), whose word list ships inside the wheel. Other languages are lower-cased and
split on anything that is not a letter. Stop words (PyThaiNLP's Thai list, a small English
list, and a few words every answer to a learning survey contains), one-letter tokens, digits
and punctuation are dropped. Each distinct word of a text is one `free_text_tokens` row.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Final

from sqlalchemy import insert, select
from sqlmodel import SQLModel, col

from storage.database import AsyncSession
from storage.models import FreeTextNeed, FreeTextToken

__all__ = [
    "ENGLISH_STOP_WORDS",
    "TOKEN_MAX_LENGTH",
    "backfill_tokens",
    "store_tokens",
    "token_rows",
    "tokenize",
]

TOKEN_MAX_LENGTH: Final = 64
_THAI = re.compile(r"[\u0E00-\u0E7F]")
_BACKFILL_CHUNK: Final = 2_000

ENGLISH_STOP_WORDS: Final = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our ours out over own
    please same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours
    """.split()
)
# Words nearly every answer to "what would you like to learn?" contains: as themes they say
# nothing, and they would push the real topics off the top of the list.
_SURVEY_STOP_WORDS: Final = frozenset(
    {"learn", "learning", "want", "like", "need", "needs", "know", "study", "class", "course"}
    | {"เรียน", "เรียนรู้", "ต้องการ", "ความรู้", "อยากได้", "อยากให้", "ขอให้", "สนใจ", "เรื่อง"}
)


def tokenize(text: str, language: str) -> list[str]:
    """The distinct words of `text` worth counting as themes, in order of first appearance.

    Any text containing Thai letters goes through the Thai segmenter, whatever `language` says
    (a detector may call a mixed text English); Latin words inside it are lower-cased too.
    """
    normalized = unicodedata.normalize("NFC", text)
    pieces = _segment_thai(normalized) if _THAI.search(normalized) else (normalized,)
    seen: dict[str, None] = {}
    for piece in pieces:
        for word in _words(piece.lower()):
            if _keep(word) and word not in seen:
                seen[word] = None
    return list(seen)


def token_rows(
    need_id: int, citizen_id: int | None, text: str, language: str, created_at: Any
) -> list[dict[str, Any]]:
    """The `free_text_tokens` rows of one need, ready for an executemany INSERT."""
    return [
        {
            "need_id": need_id,
            "citizen_id": citizen_id,
            "token": token,
            "language": language,
            "created_at": created_at,
        }
        for token in tokenize(text, language)
    ]


async def store_tokens(need: FreeTextNeed, *, session: AsyncSession) -> int:
    """Insert the tokens of a stored (flushed) need; returns how many."""
    assert need.id is not None
    rows = token_rows(need.id, need.citizen_id, need.text, need.language, need.created_at)
    if rows:
        await session.exec(insert(_TOKENS), params=rows)
    return len(rows)


async def backfill_tokens(*, session: AsyncSession, chunk: int = _BACKFILL_CHUNK) -> int:
    """Tokenise every free-text need that has no token rows yet; returns how many needs.

    For texts stored before migration 0007. Safe to run again: a need that already has
    tokens is skipped (a need whose text has no countable word is tokenised again, harmlessly).
    """
    done = 0
    last_id = 0
    has_tokens = select(col(FreeTextToken.need_id)).where(
        col(FreeTextToken.need_id) == col(FreeTextNeed.id)
    )
    while True:
        needs = (
            await session.exec(  # type: ignore[call-overload]
                select(
                    col(FreeTextNeed.id),
                    col(FreeTextNeed.citizen_id),
                    col(FreeTextNeed.text),
                    col(FreeTextNeed.language),
                    col(FreeTextNeed.created_at),
                )
                .where(col(FreeTextNeed.id) > last_id, ~has_tokens.exists())
                .order_by(col(FreeTextNeed.id))
                .limit(chunk)
            )
        ).all()
        if not needs:
            return done
        rows: list[dict[str, Any]] = []
        for need_id, citizen_id, text, language, created_at in needs:
            rows.extend(token_rows(need_id, citizen_id, text, language, created_at))
        if rows:
            await session.exec(insert(_TOKENS), params=rows)
        done += len(needs)
        last_id = needs[-1][0]


def _words(text: str) -> Iterable[str]:
    """Runs of letters and the marks attached to them (Thai vowels and tones are marks, which
    `\\w` in a regex does not match); everything else separates words."""
    start = None
    for index, char in enumerate(text):
        if unicodedata.category(char)[0] in "LM":
            if start is None:
                start = index
        elif start is not None:
            yield text[start:index]
            start = None
    if start is not None:
        yield text[start:]


def _keep(word: str) -> bool:
    if len(word) < 2 or len(word) > TOKEN_MAX_LENGTH:
        return False
    if word in ENGLISH_STOP_WORDS or word in _SURVEY_STOP_WORDS:
        return False
    return word not in _thai_stop_words()


def _segment_thai(text: str) -> Sequence[str]:
    word_tokenize = _thai_tokenizer()
    return [piece for piece in word_tokenize(text, engine="newmm", keep_whitespace=False)]


@cache
def _thai_tokenizer() -> Any:
    _pythainlp_offline()
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


@cache
def _thai_stop_words() -> frozenset[str]:
    _pythainlp_offline()
    from pythainlp.corpus import thai_stopwords

    return frozenset(thai_stopwords())


def _pythainlp_offline() -> None:
    # The word list and the stop words ship inside the wheel. Offline mode makes a missing
    # corpus an error instead of a download; read-only mode stops PyThaiNLP from creating
    # ~/pythainlp-data in the user's home on import. Set before the first import only.
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")


_TOKENS: Final = SQLModel.metadata.tables["free_text_tokens"]
