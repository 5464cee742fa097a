"""What the /books wizard needs besides `storage.library`: need categories to choose from, and
typed tags read by the same rules `create_book` applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlmodel import col, select

from storage.database import AsyncSession
from storage.library import _checked_tags
from storage.models import NeedCategory

# Tags are typed as one message: commas, spaces (any kind), semicolons or new lines between.
_TAG_SEPARATORS: Final = re.compile(r"[\s,;、，]+")


@dataclass(frozen=True)
class CategoryChoice:
    """A need category as a button shows it: its key and its name per language."""

    key: str
    name: dict[str, str]

    def label(self, language: str) -> str:
        """The name in `language`, else in any language, else the key."""
        return self.name.get(language) or next(iter(self.name.values()), "") or self.key


async def need_categories(*, session: AsyncSession) -> list[CategoryChoice]:
    """Every need category, in key order (a stable order for buttons that carry an index)."""
    statement = select(NeedCategory).order_by(col(NeedCategory.key))
    return [
        CategoryChoice(row.key, {str(k): str(v) for k, v in row.name.items()})
        for row in (await session.exec(statement)).all()
    ]


def parse_tags(text: str) -> list[str]:
    """Tags typed as "ประมง, fishing  #sea": lower-cased, without "#", each once, in order.

    Raises ValueError (with a reason in English, for logs) when they break the book rules:
    1–8 tags of at most 32 letters from a-z, 0-9, "-" or Thai.
    """
    words = [word for word in _TAG_SEPARATORS.split(text) if word]
    # The one place the rules live is storage.library; this only splits the typed line.
    return _checked_tags(words)
