"""The bot's HTTP layer sends a JSON body, or multipart form fields when there are files."""

from __future__ import annotations

import json

import aiohttp
from telegram import InputFile
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.http_request import _body


def _request(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


def test_a_call_without_files_is_a_json_object_with_thai_kept_and_lists_as_lists() -> None:
    data, headers = _body(
        _request(chat_id=42, question="อยากเรียนอะไร", options=["ภาษา", "ดิจิทัล"], is_anonymous=False)
    )
    assert headers == {"Content-Type": "application/json"}
    assert isinstance(data, bytes)
    assert "อยากเรียนอะไร".encode() in data, "UTF-8, not escaped"
    assert json.loads(data) == {
        "chat_id": 42,
        "question": "อยากเรียนอะไร",
        "options": ["ภาษา", "ดิจิทัล"],
        "is_anonymous": False,
    }


def test_a_call_without_parameters_has_no_body() -> None:
    assert _body(None) == (None, None)
    assert _body(_request()) == (None, None)


def test_a_call_with_a_file_is_multipart() -> None:
    document = InputFile(b"col1,col2\n", filename="needs.csv", attach=False)
    data, headers = _body(_request(chat_id=42, document=document))
    assert isinstance(data, aiohttp.FormData)
    assert headers is None
