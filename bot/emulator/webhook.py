"""Webhooks: setWebhook/deleteWebhook/getWebhookInfo and delivery of updates by POST."""

from __future__ import annotations

from typing import Any

from .component import Component
from .params import Method, Params, bool_param


class Webhook(Component):
    """The webhook the bot set, if any, and delivery to it."""

    url: str = ""

    @property
    def active(self) -> bool:
        """True while a webhook is set (getUpdates is then refused)."""
        return bool(self.url)

    def methods(self) -> dict[str, Method]:
        return {"deletewebhook": self._delete_webhook, "getwebhookinfo": self._get_webhook_info}

    def on_update(self) -> None:
        """Called after an update is queued: deliver it if a webhook is set."""

    async def _delete_webhook(self, params: Params) -> bool:
        self.url = ""
        if bool_param(params, "drop_pending_updates"):
            await self.emulator.drop_pending_updates()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self.emulator.pending_update_count,
        }
