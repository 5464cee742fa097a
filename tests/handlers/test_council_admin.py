"""Pure helpers of the facilitators' council tools: labels, the check-in secret, link and QR."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.council_admin import checkin_link, checkin_secret, parse_label_pair, qr_png
from handlers.deep_links import valid_payload
from storage import council

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_label_pair_is_thai_then_english_around_a_slash() -> None:
    assert parse_label_pair(" ตลาดนัดชุมชน / Community market ") == {
        "th": "ตลาดนัดชุมชน",
        "en": "Community market",
    }
    assert parse_label_pair("no separator") is None
    assert parse_label_pair("ไทย /  ") is None
    assert parse_label_pair(" / English") is None
    assert parse_label_pair("ก" * 101 + " / x") is None
    assert parse_label_pair("ก" * 100 + " / " + "x" * 100) is not None


def test_the_secret_comes_from_the_token_and_differs_per_token() -> None:
    first, again, other = (
        checkin_secret("123:abc"),
        checkin_secret("123:abc"),
        checkin_secret("1:b"),
    )
    assert first == again and first != other and len(first) == 32
    assert b"abc" not in first


def test_the_link_is_a_valid_start_payload_and_its_qr_a_png() -> None:
    code = council.checkin_code(7, datetime(2030, 2, 2, 1, 0, tzinfo=UTC), checkin_secret("t"))
    link = checkin_link("learncity_bot", 7, code)
    assert link == f"https://t.me/learncity_bot?start=ci-7-{code}"
    assert valid_payload(link.split("start=")[1]) is not None
    png = qr_png(link)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 200
