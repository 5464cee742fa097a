"""Free text is cut into countable words once, when stored (Thai by PyThaiNLP, offline)."""

from __future__ import annotations

import os

from sqlalchemy import text
from sqlmodel import col, select

from storage.clock import ManualClock
from storage.database import Database
from storage.models import FreeTextToken
from storage.surveys import add_free_text
from storage.tokens import backfill_tokens, tokenize
from tests.storage.factories import registered


def test_thai_is_segmented_and_stop_words_dropped() -> None:
    # อยาก (want), เพื่อ (for), ใช้ (use), ใน (in): PyThaiNLP stop words; เรียน (learn): ours.
    assert tokenize("อยากเรียนภาษาอังกฤษเพื่อใช้ในการทำงาน", "th") == ["ภาษาอังกฤษ", "การทำงาน"]
    assert tokenize("ขอให้มีการอบรมการขายของออนไลน์ที่เบตง", "th") == [
        "การอบรม",
        "ขายของ",
        "ออนไลน์",
        "เบตง",
    ]


def test_other_languages_are_lower_cased_and_split_on_non_letters() -> None:
    assert tokenize("I would like to learn English, 2 days a week!", "en") == [
        "english",
        "days",
        "week",
    ]
    assert tokenize("Saya mahu belajar bahasa Melayu", "ms") == [
        "saya",
        "mahu",
        "belajar",
        "bahasa",
        "melayu",
    ]


def test_each_word_once_and_no_digits_punctuation_or_single_letters() -> None:
    assert tokenize("Batik, BATIK... batik! 2026 x y", "en") == ["batik"]
    assert tokenize("!!! 123 ...", "und") == []


def test_latin_words_in_thai_text_and_thai_in_a_text_called_english() -> None:
    assert tokenize("อยากเรียน Python กับ AI 3 ครั้ง", "en") == ["python", "ai"]


def test_pythainlp_stays_offline_and_out_of_the_home_directory() -> None:
    tokenize("ภาษามลายู", "th")
    assert os.environ["PYTHAINLP_OFFLINE"] == "1"
    assert os.environ["PYTHAINLP_READ_ONLY"] == "1"


async def test_a_stored_need_stores_its_tokens(db: Database, clock: ManualClock) -> None:
    await registered(db, 5)
    async with db.session() as session:
        need = await add_free_text(
            5, "อยากเรียนภาษามลายูและภาษาอังกฤษ", "th", survey_id=None, session=session
        )
    async with db.session() as session:
        rows = (await session.exec(select(FreeTextToken).order_by(col(FreeTextToken.id)))).all()
    assert [row.token for row in rows] == ["ภาษามลายู", "ภาษาอังกฤษ"]
    assert {(row.need_id, row.citizen_id, row.language) for row in rows} == {
        (need.id, need.citizen_id, "th")
    }
    assert all(row.created_at == need.created_at for row in rows)


async def test_backfill_tokenises_older_texts_once(db: Database, clock: ManualClock) -> None:
    await registered(db, 5)
    async with db.engine.begin() as connection:
        for words in ("batik and coding", "more coding", "!!!"):
            await connection.execute(
                text(
                    "INSERT INTO free_text_needs (citizen_id, text, language, created_at) "
                    "SELECT id, :words, 'en', CURRENT_TIMESTAMP FROM citizens"
                ),
                {"words": words},
            )
    async with db.session() as session:
        assert await backfill_tokens(session=session, chunk=2) == 3
    async with db.session() as session:
        assert await backfill_tokens(session=session) == 1  # only "!!!" again: no words
        tokens = (await session.exec(select(FreeTextToken.token))).all()
    assert sorted(tokens) == ["batik", "coding", "coding"]
