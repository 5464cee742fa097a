"""The one encoding of button data: `v1:<flow>:<action>[:<arg>...]`, never over 64 bytes.

Data arrives from outside and can be forged: callers re-check everything it names against
the database and the presser's role. Decoding never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class CallbackData:
    """Decoded button data."""

    flow: str
    action: str
    args: tuple[str, ...] = ()

    def arg(self, index: int = 0) -> str | None:
        """The index-th argument, or None when the data carries fewer."""
        return self.args[index] if index < len(self.args) else None


def encode(flow: str, action: str, *args: object) -> str:
    """Button data for `flow`/`action`; raises ValueError when it would not fit in 64 bytes."""
    parts = [VERSION, flow, action, *(str(a) for a in args)]
    if not all(_PART.match(p) for p in parts):
        raise ValueError(f"callback data parts must be [A-Za-z0-9_.-]: {parts!r}")
    data = ":".join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> CallbackData | None:
    """Parse button data; None for anything not in the current shape."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != VERSION or not all(_PART.match(p) for p in parts):
        return None
    return CallbackData(parts[1], parts[2], tuple(parts[3:]))


def pattern(flow: str) -> str:
    """A CallbackQueryHandler pattern for one flow's buttons."""
    return rf"^{VERSION}:{re.escape(flow)}:"
