"""`/start <payload>` flows: a registry from payload prefix to the flow that completes it.

The payload is kept through onboarding (in the conversation only) and its flow runs right
after, so the person never taps the link twice. Later flows (invites, book links) register here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import AnyApplication
from handlers.people import Person

DeepLinkFlow = Callable[[Update, ContextTypes.DEFAULT_TYPE, Person, str], Awaitable[None]]
_REGISTRY_KEY = "deep_links"
# Telegram allows 1–64 characters of A–Z, a–z, 0–9, _ and - in a start parameter.
PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def register_deep_link(app: AnyApplication, prefix: str, flow: DeepLinkFlow) -> None:
    """Route payloads starting with `prefix` (e.g. "inv-") to `flow`."""
    registry: dict[str, DeepLinkFlow] = app.bot_data.setdefault(_REGISTRY_KEY, {})
    registry[prefix] = flow


def find_flow(context: ContextTypes.DEFAULT_TYPE, payload: str) -> DeepLinkFlow | None:
    """The flow registered for `payload`, if any."""
    registry: dict[str, DeepLinkFlow] = context.application.bot_data.get(_REGISTRY_KEY, {})
    for prefix, flow in registry.items():
        if payload.startswith(prefix):
            return flow
    return None


def valid_payload(text: str | None) -> str | None:
    """The payload if it has Telegram's shape, else None."""
    return text if text and PAYLOAD_RE.match(text) else None
