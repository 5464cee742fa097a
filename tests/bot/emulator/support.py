"""Helpers shared by the emulator tests."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

import pytest
from telegram.error import BadRequest


def refused(description: str) -> AbstractContextManager[pytest.ExceptionInfo[BadRequest]]:
    """Expect PTB's BadRequest for `description` (PTB drops "Bad Request: " and recases it)."""
    return pytest.raises(BadRequest, match=f"(?i){re.escape(description)}")
