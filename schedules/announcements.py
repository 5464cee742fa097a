"""Announcements to many: what a facilitator's broadcast becomes, and its report when done."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping

from telegram import Bot

from bot.i18n.catalog import Catalogs
from schedules.dispatcher import ReportCallback
from storage import citizens, deliveries
from storage.database import Database
from storage.deliveries import DeliveryReport, Recipient
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

KIND = "broadcast"


def broadcast_content(thai: str, english: str) -> dict[str, str]:
    """Typed text is shown as typed: escaped for HTML; groups get both languages."""
    th, en = html.escape(thai, quote=False), html.escape(english, quote=False)
    return {"th": th, "en": en, "both": f"{th}\n\n{en}"}


async def queue_broadcast(
    db: Database,
    purpose: str,
    content: Mapping[str, str],
    recipients: list[Recipient],
    *,
    created_by: str,
    audience: str,
    report_to_chat_id: int,
) -> OutboxMessage:
    """Put one announcement and its recipients in the delivery log (idempotent by purpose)."""
    async with db.session() as session:
        return await deliveries.enqueue(
            purpose,
            KIND,
            content,
            recipients,
            created_by=created_by,
            audience=audience,
            report_to_chat_id=report_to_chat_id,
            session=session,
        )


def reporter(bot: Bot, db: Database, catalogs: Catalogs) -> ReportCallback:
    """Tell whoever started a send how it went, in their language."""

    async def report(message: OutboxMessage, outcome: DeliveryReport) -> None:
        if message.report_to_chat_id is None:
            return
        async with db.session() as session:
            person = await citizens.get_citizen(message.report_to_chat_id, session=session)
        language = person.language if person else "th"
        if message.kind == deliveries.POLL_KIND:
            text = catalogs.text(
                language,
                "poll.sent_report",
                sent=outcome.sent,
                failed=outcome.blocked + outcome.failed,
                total=outcome.total,
            )
        else:
            text = catalogs.text(
                language,
                "broadcast.report",
                sent=outcome.sent,
                blocked=outcome.blocked,
                failed=outcome.failed,
                total=outcome.total,
            )
        await bot.send_message(message.report_to_chat_id, text, parse_mode="HTML")

    return report
