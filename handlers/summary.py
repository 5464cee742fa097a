"""/summary and /export: aggregate learning-needs summaries for officers (and admins).

`/summary [period]` sends the text, the charts (needs by topic, month by month) and the
files (CSV, XLSX); `/export [period]` only the files. The numbers come from
`storage.summary.build_summary`, already suppressed ("<5"); nothing here counts anything.
Rendering is CPU work (about a second), so it runs in a worker thread while the bot keeps
answering others.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import CommandHandler, ContextTypes

from bot.i18n.catalog import Raw
from bot.reports import FileKind, Report, render_report
from bot.reports.labels import Namer
from bot.services import AnyApplication, services_of
from handlers.guard import requires
from handlers.people import Person
from handlers.replies import clip, reply, t
from storage import audit, clock
from storage.enums import Role
from storage.summary import (
    ACCEPTED_PERIODS,
    DEFAULT_PERIOD,
    InvalidPeriod,
    Period,
    Summary,
    parse_period,
    summarize,
)

logger = logging.getLogger(__name__)

CHART_KEYS = ("summary.chart_caption", "summary.trend_caption")
FILE_CAPTIONS: dict[FileKind, str] = {"csv": "summary.csv_caption", "xlsx": "summary.xlsx_caption"}


def register(app: AnyApplication) -> None:
    """Add /summary and /export."""
    app.add_handler(CommandHandler("summary", _on_summary))
    app.add_handler(CommandHandler("export", _on_export))


@requires(Role.officer, Role.admin)
async def _on_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """The summary of a period: text, charts and files."""
    await _report(update, context, person, full=True)


@requires(Role.officer, Role.admin)
async def _on_export(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """The files of a period's summary (CSV and XLSX) without the chat text."""
    await _report(update, context, person, full=False)


def _period(context: ContextTypes.DEFAULT_TYPE, args: list[str] | None) -> Period:
    text = " ".join(args or []).strip() or DEFAULT_PERIOD
    return parse_period(text, now=clock.now(), tz=services_of(context).settings.timezone)


async def _report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, *, full: bool
) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    lang = person.language
    services = services_of(context)
    try:
        period = _period(context, context.args)
    except InvalidPeriod as error:
        forms = "\n".join(t(context, lang, f"summary.period_form.{f}") for f in ACCEPTED_PERIODS)
        await reply(update, context, lang, "summary.bad_period", given=clip(error.text),
                    forms=Raw(forms))  # fmt: skip
        return
    namer = Namer(lang, services.catalogs, services.districts)
    await reply(update, context, lang, "summary.working", period=namer.period(period))
    await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    summary = await summarize(services.db, period, districts=[d.code for d in services.districts])
    async with services.db.session() as session:
        await audit.record(
            "summary.sent" if full else "summary.exported",
            actor=audit.actor_for(person.telegram_user_id),
            detail={"period": period.text},
            session=session,
        )
    formats: tuple[FileKind, ...] = ("png", "csv", "xlsx") if full else ("csv", "xlsx")
    report = await asyncio.to_thread(render_report, summary, namer, formats, messages=full)
    await _send(context, chat.id, lang, summary, namer, report)


async def _send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    lang: str,
    summary: Summary,
    namer: Namer,
    report: Report,
) -> None:
    """The messages, then the charts as photos, then the files as documents."""
    for message in report.messages:
        await context.bot.send_message(chat_id, message)
    period = namer.period(summary.period)
    for chart, key in zip(report.of_kind("png"), CHART_KEYS, strict=False):
        await context.bot.send_photo(
            chat_id, chart.data, caption=t(context, lang, key, period=period)
        )
    files = report.of_kind("csv", "xlsx")
    if files:
        await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    for file in files:
        await context.bot.send_document(
            chat_id,
            file.data,
            filename=file.name,
            caption=t(context, lang, FILE_CAPTIONS[file.kind]),
        )
