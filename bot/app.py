"""Assembly: the python-telegram-bot Application with every flow, opened and closed cleanly."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot.districts import load_districts
from bot.http_request import AiohttpRequest
from bot.i18n.catalog import catalogs
from bot.logging_setup import protect_secret
from bot.outage import OUTAGE_KEY, REPLAY_JOB, OutageGuard, replay_job
from bot.services import SERVICES_KEY, AnyApplication, Services, services_from_app
from bot.settings import Settings
from bot.spool import Spool
from bot.update_processor import PerSenderUpdateProcessor
from handlers import (
    admin,
    books,
    broadcast,
    council,
    council_admin,
    errors,
    fallback,
    groups,
    help,
    input_guard,
    invites,
    language,
    library,
    library_admin,
    mydata,
    mysessions,
    needs,
    onboarding,
    poll_updates,
    polls,
    privacy,
    reminders,
    schedule,
    summary,
)
from handlers.menus import set_default_menus, set_descriptions
from schedules.announcements import reporter
from schedules.dispatcher import DispatchConfig, Dispatcher
from schedules.engine import ENGINE_KEY, TimeEngine
from schedules.planning import parse_quiet_hours
from schedules.rate_limit import Rates
from schedules.reminders import ReminderPolicy
from storage.answer_batcher import AnswerBatcher
from storage.database import Database

logger = logging.getLogger(__name__)

Setup = Callable[[AnyApplication], None]

# Each flow adds its handlers; the fallback goes last so a flow always wins (same group 0).
FLOWS = (
    input_guard,  # its own group (-1000): ahead of every flow whatever its place here
    poll_updates,  # votes and poll counts: one group (-999), for the flows that own polls
    onboarding,
    help,
    language,
    needs,
    reminders,
    privacy,
    broadcast,
    polls,
    admin,
    invites,
    groups,
    books,
    schedule,
    library,
    library_admin,
    council,
    council_admin,
    mysessions,
    summary,
    mydata,
)


def interactive_rate_limiter(settings: Settings) -> AIORateLimiter:
    """PTB's limiter for replies, from settings; it retries a 429 (its default is not to)."""
    return AIORateLimiter(
        overall_max_rate=settings.interactive_rate_per_second,
        group_max_rate=settings.interactive_group_per_minute,
        group_time_period=60,
        max_retries=3,
    )


def build_application(
    settings: Settings,
    *,
    request_factory: Callable[[], BaseRequest] | None = None,
    extra_setup: Setup | None = None,
    database: Database | None = None,
) -> AnyApplication:
    """The bot, wired but not started. `request_factory` replaces HTTP (in-process tests)."""
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    protect_secret(token.get_secret_value())
    guard = OutageGuard(Spool(settings.spool_dir), retry_seconds=settings.db_retry_seconds)
    builder = (
        ApplicationBuilder()
        .token(token.get_secret_value())
        .base_url(settings.bot_api_url)
        .base_file_url(f"{settings.telegram_api_base_url}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(interactive_rate_limiter(settings))
        .concurrent_updates(PerSenderUpdateProcessor(settings.concurrent_updates, guard))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if request_factory is not None:
        builder = builder.request(request_factory()).get_updates_request(request_factory())
    else:
        # aiohttp: a Bot API call costs a tenth of httpx's CPU (bot/http_request.py).
        builder = builder.request(
            AiohttpRequest(connection_pool_size=settings.concurrent_updates + 8)
        ).get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=40.0))
    app = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["request_factory"] = request_factory
    guard.bind(app)
    app.bot_data[OUTAGE_KEY] = guard
    if database is not None:
        app.bot_data["database"] = database
    for flow in FLOWS:
        flow.register(app)
    if extra_setup is not None:
        extra_setup(app)
    fallback.register(app)
    errors.register(app)
    return app


async def _post_init(app: AnyApplication) -> None:
    """Open the database, load catalogs and districts, set the default menus."""
    settings: Settings = app.bot_data["settings"]
    db = app.bot_data.get("database") or Database(settings.database_url)
    services = Services(
        settings=settings,
        db=db,
        catalogs=catalogs(),
        districts=load_districts(settings.districts_file),
    )
    services.answers = AnswerBatcher(db)
    try:
        await services.answers.load_private_polls()
    except (SQLAlchemyError, OSError):
        logger.warning("survey polls not loaded; their counts are written again", exc_info=True)
    app.bot_data[SERVICES_KEY] = services
    await set_default_menus(app.bot, services.catalogs, settings.default_language)
    await set_descriptions(app.bot, services.catalogs, settings.default_language)
    await _start_time_engine(app, services)
    if settings.gc_freeze_at_start:
        # What is alive now lives as long as the bot: one collection, then the collector's
        # passes skip it (gc.freeze: the CPython documentation's advice for long-lived apps).
        gc.collect()
        gc.freeze()
    logger.info("bot @%s ready", app.bot.username)


async def _start_time_engine(app: AnyApplication, services: Services) -> None:
    """The dispatcher (its own Bot, paced by our limiter, not PTB's) and the reminder jobs."""
    settings = services.settings
    factory: Callable[[], BaseRequest] | None = app.bot_data.get("request_factory")
    request = (
        factory()
        if factory
        else AiohttpRequest(
            connection_pool_size=settings.dispatch_concurrency + 4,
            read_timeout=settings.dispatch_timeout_seconds,
            write_timeout=settings.dispatch_timeout_seconds,
        )
    )
    token = app.bot.token
    dispatch_bot = Bot(token, base_url=settings.bot_api_url, request=request)
    await dispatch_bot.initialize()
    config = DispatchConfig(
        rates=Rates(
            global_per_second=settings.dispatch_rate_per_second,
            # A small burst: a full second's worth at once can meet 429s at exactly the limit.
            global_burst=max(1, int(settings.dispatch_rate_per_second) // 10),
            private_per_second=settings.dispatch_private_per_second,
            group_per_minute=settings.dispatch_group_per_minute,
        ),
        concurrency=settings.dispatch_concurrency,
        max_attempts=settings.dispatch_max_attempts,
    )
    dispatcher = Dispatcher(
        dispatch_bot, services.db, config,
        on_finished=reporter(dispatch_bot, services.db, services.catalogs),
    )  # fmt: skip
    services.dispatcher = dispatcher
    services.engine = TimeEngine(
        services.db,
        dispatcher,
        services.catalogs,
        ReminderPolicy(quiet=parse_quiet_hours(settings.quiet_hours), tz=settings.tz),
        sweep_interval_seconds=settings.reminder_sweep_seconds,
    )
    app.bot_data[ENGINE_KEY] = services.engine
    for flow in FLOWS:
        # A flow's own start-up (e.g. a dispatcher poll hook) runs before anything is sent.
        startup = getattr(flow, "on_startup", None)
        if startup is not None:
            await startup(app, services)
    await dispatcher.start()
    if app.job_queue is not None:
        services.engine.install(app.job_queue)
        # At once (updates spooled before a restart) and then every few seconds.
        app.job_queue.run_repeating(
            replay_job, interval=settings.spool_replay_seconds, first=0, name=REPLAY_JOB,
            job_kwargs={"max_instances": 4},  # a long replay makes later runs return at once
        )  # fmt: skip


async def _post_shutdown(app: AnyApplication) -> None:
    """Stop the dispatcher; close the database unless the caller owns it."""
    services = services_from_app(app)
    if services.answers is not None:
        await services.answers.close()
    if services.dispatcher is not None:
        await services.dispatcher.stop()
        await services.dispatcher.bot.shutdown()
    if "database" not in app.bot_data:
        await services.db.dispose()
