"""What /books reads besides storage.library: need categories for buttons, and typed tags."""

from __future__ import annotations

import pytest

from storage.database import Database
from storage.library_books import CategoryChoice, need_categories, parse_tags
from tests.storage.library_helpers import with_categories


async def test_need_categories_come_in_key_order(db: Database) -> None:
    await with_categories(db, "languages", "digital_skills")
    async with db.session() as session:
        found = await need_categories(session=session)
    assert [c.key for c in found] == ["digital_skills", "languages"]
    assert found[0].label("th") == "digital_skills"


def test_a_category_label_falls_back_to_another_language_then_the_key() -> None:
    assert CategoryChoice("x", {"th": "ภาษา", "en": "Languages"}).label("en") == "Languages"
    assert CategoryChoice("x", {"th": "ภาษา"}).label("en") == "ภาษา"
    assert CategoryChoice("x", {}).label("en") == "x"


@pytest.mark.parametrize(
    ("typed", "tags"),
    [
        ("fishing", ["fishing"]),
        ("ประมง, fishing  #Sea", ["ประมง", "fishing", "sea"]),
        ("a,b;c\nd、e", ["a", "b", "c", "d", "e"]),
        ("career-change career-change", ["career-change"]),
    ],
)
def test_typed_tags_are_split_and_normalised(typed: str, tags: list[str]) -> None:
    assert parse_tags(typed) == tags


@pytest.mark.parametrize(
    "typed",
    ["", " , ", "sea!", "x" * 33, "a b c d e f g h i", "อาหาร🍜"],
)
def test_tags_that_break_the_book_rules_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_tags(typed)
