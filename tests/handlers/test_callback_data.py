"""Button data: one versioned shape, never over 64 bytes, and decoding never raises."""

from __future__ import annotations

import pytest

from handlers import callback_data as cb


def test_round_trip() -> None:
    data = cb.encode("onb", "age", "age_20_34")
    assert data == "v1:onb:age:age_20_34"
    assert cb.decode(data) == cb.CallbackData("onb", "age", ("age_20_34",))


def test_encoding_refuses_what_telegram_would_refuse() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        cb.encode("flow", "action", "x" * 60)


def test_encoding_refuses_separators_inside_parts() -> None:
    with pytest.raises(ValueError):
        cb.encode("flow", "act:ion")


@pytest.mark.parametrize(
    "forged",
    [None, "", "garbage", "v0:onb:age:x", "v1:onb", "v1::x", "v1:onb:age:ผิด", "v1:" + "a" * 70],
)
def test_forged_or_old_data_decodes_to_none(forged: str | None) -> None:
    assert cb.decode(forged) is None


def test_missing_arguments_read_as_none() -> None:
    decoded = cb.decode("v1:onb:save")
    assert decoded is not None and decoded.arg() is None
