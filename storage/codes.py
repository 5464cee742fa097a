"""Random codes for links and buttons: letters and digits only, from `secrets`."""

from __future__ import annotations

import re
import secrets
import string
from typing import Final

ALPHABET: Final = string.ascii_letters + string.digits


def random_code(length: int) -> str:
    """A random code of `length` letters and digits (about 5.95 bits each)."""
    if length < 1:
        raise ValueError("a code needs at least one character")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def is_code(value: str, max_length: int) -> bool:
    """True if `value` could be a code of at most `max_length` characters."""
    return bool(re.fullmatch(rf"[A-Za-z0-9]{{1,{max_length}}}", value))
