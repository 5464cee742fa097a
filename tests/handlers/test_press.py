"""A flow's buttons and button data: strict integer arguments, labels from the catalog."""

from __future__ import annotations

import pytest

from handlers.press import Buttons, int_args


def test_int_args_takes_exactly_the_count_of_digit_strings() -> None:
    assert int_args(("4", "12"), 2) == [4, 12]
    assert int_args(("4",), 2) is None
    assert int_args(("4", "x"), 2) is None
    assert int_args(("-4",), 1) is None
    assert int_args(("1" * 13,), 1) is None


class _Catalogs:
    def text(self, language: str, key: str, **values: object) -> str:
        return f"{language}:{key}:Q&amp;A"


class _Context:
    """Stands for a context; services_of is patched to give the catalogs above."""


def test_buttons_prefix_the_catalog_key_and_unescape_the_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("handlers.replies.services_of", lambda _: _Services())
    button = Buttons("lib", "library.button.")(_Context(), "en", "events", "ev", 4)  # type: ignore[arg-type]
    assert button.text == "en:library.button.events:Q&A"
    assert button.callback_data == "v1:lib:ev:4"
    plain = Buttons("books", unescape=False)(_Context(), "th", "books.x", "list", 0)  # type: ignore[arg-type]
    assert plain.text == "th:books.x:Q&amp;A"


class _Services:
    catalogs = _Catalogs()
