"""Reading Bot API parameters as Telegram does: form strings or JSON values alike."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import bad_request

Params = dict[str, Any]
Method = Callable[[Params], Awaitable[Any]]


def json_param(params: Params, name: str) -> Any:
    """A JSON-valued parameter (form bodies carry it as a JSON string)."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def int_param(params: Params, name: str, *, required: bool = True) -> int | None:
    """An integer parameter; None when absent and not required."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        if name == "chat_id":
            raise bad_request("chat not found") from None
        raise bad_request(f'field "{name}" must be a valid Number') from None


def float_param(params: Params, name: str) -> float:
    """A required floating-point parameter (latitude, longitude)."""
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(f"{name} is empty")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad_request(f'field "{name}" must be a valid Number') from None
    if number != number:  # NaN
        raise bad_request(f'field "{name}" must be a valid Number')
    return number


def bool_param(params: Params, name: str) -> bool:
    """A boolean parameter ("true"/"false" in form bodies)."""
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def str_param(params: Params, name: str) -> str | None:
    """A text parameter, None when absent."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
