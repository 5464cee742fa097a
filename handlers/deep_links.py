"""`/start <payload>` flows: a registry from payload prefix to the flow that completes it.

The payload is kept through onboarding (in the conversation only) and its flow runs right
after, so the person never taps the link twice. If onboarding ends without consent, the
flow's `on_abandon` hears of it (with no personal data). Later flows register here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import AnyApplication
from handlers.people import Person

DeepLinkFlow = Callable[[Update, ContextTypes.DEFAULT_TYPE, Person, str], Awaitable[None]]
AbandonedFlow = Callable[[ContextTypes.DEFAULT_TYPE, str, str], Awaitable[None]]
_REGISTRY_KEY = "deep_links"
# Telegram allows 1–64 characters of A–Z, a–z, 0–9, _ and - in a start parameter.
PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class DeepLink:
    """A flow reached through a link, and what to do when its opener never signs up."""

    flow: DeepLinkFlow
    on_abandon: AbandonedFlow | None = None


def register_deep_link(
    app: AnyApplication,
    prefix: str,
    flow: DeepLinkFlow,
    *,
    on_abandon: AbandonedFlow | None = None,
) -> None:
    """Route payloads starting with `prefix` (e.g. "inv-") to `flow`."""
    registry: dict[str, DeepLink] = app.bot_data.setdefault(_REGISTRY_KEY, {})
    registry[prefix] = DeepLink(flow, on_abandon)


def find_link(context: ContextTypes.DEFAULT_TYPE, payload: str) -> DeepLink | None:
    """The link registered for `payload`, if any."""
    registry: dict[str, DeepLink] = context.application.bot_data.get(_REGISTRY_KEY, {})
    for prefix, link in registry.items():
        if payload.startswith(prefix):
            return link
    return None


async def abandon(context: ContextTypes.DEFAULT_TYPE, payload: str | None, reason: str) -> None:
    """Onboarding ended without a record: let the payload's flow note it."""
    link = find_link(context, payload) if payload else None
    if payload and link is not None and link.on_abandon is not None:
        await link.on_abandon(context, payload, reason)


def valid_payload(text: str | None) -> str | None:
    """The payload if it has Telegram's shape, else None."""
    return text if text and PAYLOAD_RE.match(text) else None
