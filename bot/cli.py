"""The `learncity` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.logging_setup import configure_logging
from bot.settings import ConfigurationError, Settings, load_settings

ROLES = ("citizen", "facilitator", "officer", "admin")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learncity", description="LearnCity: a Telegram bot for a learning city."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (needs TELEGRAM_BOT_TOKEN)")
    run.add_argument(
        "--webhook", action="store_true", help="webhook, not long polling (WEBHOOK_URL, _SECRET)"
    )
    demo = commands.add_parser(
        "demo", help="chat with the real bot from the terminal, on the local emulator (no token)"
    )
    demo.add_argument(
        "--as", dest="role", choices=ROLES, default="citizen", help="who you are (default citizen)"
    )
    demo.add_argument(
        "--script",
        type=Path,
        default=None,
        help="replay this file's lines and print the transcript",
    )
    demo.add_argument(
        "--language", choices=("th", "en"), default="th", help="your phone's language (default th)"
    )
    demo.add_argument("--files", type=Path, default=None, help="folder for files the bot sends")
    demo.add_argument(
        "--database", default=None, help="SQLite file for the demo (default: a temporary file)"
    )
    survey = commands.add_parser("survey", help="learning-needs surveys")
    survey_commands = survey.add_subparsers(dest="survey_command", required=True)
    survey_import = survey_commands.add_parser("import", help="import a survey YAML file")
    survey_import.add_argument("file", nargs="?", default=None, help="default: the shipped survey")
    survey_commands.add_parser("list", help="list surveys")
    survey_open = survey_commands.add_parser("open", help="open a survey (closes any other)")
    survey_open.add_argument("survey", help="id or key")
    survey_open.add_argument("--invite", action="store_true", help="invite consenting citizens")
    survey_close = survey_commands.add_parser("close", help="close a survey")
    survey_close.add_argument("survey", help="id or key")
    report = commands.add_parser("report", help="the officers' summary as files (no Telegram)")
    report.add_argument("--period", default="this-month", help="this-month (default), "
                        "last-month, YYYY-MM, last-N-days, YYYY or all")  # fmt: skip
    report.add_argument("--format", dest="formats", action="append", default=None,
                        help="md, csv, xlsx, png; repeat or comma-join (default all)")  # fmt: skip
    report.add_argument("--out", type=Path, default=Path("."), help="folder (default: here)")
    report.add_argument("--language", choices=("th", "en"), default=None,
                        help="default: DEFAULT_LANGUAGE")  # fmt: skip
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every migration")
    db_commands.add_parser("status", help="show whether the database is at the latest migration")
    seed = db_commands.add_parser("seed-demo", help="add reproducible synthetic demo data")
    seed.add_argument("--citizens", type=int, required=True, help="how many citizens")
    seed.add_argument("--answers", type=int, required=True, help="how many survey answers")
    seed.add_argument("--free-texts", type=int, default=0, help="how many free-text needs")
    seed.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
    copy = db_commands.add_parser(
        "copy", help="copy every table into another, empty database (e.g. SQLite → PostgreSQL)"
    )
    copy.add_argument("--to", required=True, help="the target URL, e.g. postgresql://u:p@h/db")
    copy.add_argument("--schema", default=None, help="PostgreSQL schema of the target")
    copy.add_argument("--batch-size", type=int, default=2000, help="rows per INSERT batch")
    doctor = commands.add_parser(
        "doctor", help="check configuration, database, token, scheduler and webhook"
    )
    doctor.add_argument(
        "--webhook", action="store_true", help="check for webhook mode (default: polling)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    # Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta) and so avoid a
    # deprecation warning on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = load_settings()
    except ConfigurationError as error:
        if args.command == "doctor":  # one doctor line, not a bare error
            from bot.doctor import configuration_failure

            print(configuration_failure(str(error)))
            return 1
        print(error, file=sys.stderr)
        return 2
    secret = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    webhook = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    configure_logging(settings.log_level, [s for s in (secret, webhook) if s])
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import StartupError

    try:
        if args.command == "run":
            from bot.runner import run_polling, run_webhook

            return await (run_webhook if args.webhook else run_polling)(settings)
        if args.command == "demo":
            from bot.demo import run_demo

            if args.script is not None and not args.script.is_file():
                print(f"No such script: {args.script}", file=sys.stderr)
                return 2
            return await run_demo(
                settings,
                database=args.database,
                script=args.script,
                role=args.role,
                language=args.language,
                files_dir=args.files,
            )
        if args.command == "db" and args.db_command == "seed-demo":
            from bot.seed_demo import run_seed_demo_command

            await _ensure_migrated(settings)
            return await run_seed_demo_command(
                settings, args.citizens, args.answers, args.free_texts, args.seed
            )
        if args.command == "db" and args.db_command == "copy":
            from bot.db_copy_cli import run_copy_command

            return await run_copy_command(
                settings, args.to, schema=args.schema, batch_size=args.batch_size
            )
        if args.command == "doctor":
            from bot.doctor import run_doctor_command

            return await run_doctor_command(settings, webhook=args.webhook)
        if args.command == "db":
            return await _db(args.db_command, settings)
        if args.command == "report":
            from bot.report_cli import run_report_command

            await _ensure_migrated(settings)
            return await run_report_command(
                settings,
                period=args.period,
                formats=args.formats,
                out=args.out,
                language=args.language,
            )
        if args.command == "survey":
            from bot.survey_cli import run_survey_command

            await _ensure_migrated(settings)
            return await run_survey_command(
                settings,
                args.survey_command,
                getattr(args, "file", None) or getattr(args, "survey", None),
                invite=getattr(args, "invite", False),
            )
    except StartupError as error:
        print(error, file=sys.stderr)
        return 1
    except ConfigurationError as error:  # a setting only one mode needs (e.g. WEBHOOK_URL)
        print(error, file=sys.stderr)
        return 2
    return 2


async def _ensure_migrated(settings: Settings) -> None:
    from bot.runner import prepare_database
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        await prepare_database(db)
    finally:
        await db.dispose()


async def _db(command: str, settings: Settings) -> int:
    from storage import migrate
    from storage.database import Database

    db = Database(settings.database_url)
    try:
        if command == "upgrade":
            await migrate.upgrade(db)
        state = await migrate.status(db)
        print(f"{db.url_for_display}: {state}")
        return 0 if state == "at_head" else 1
    finally:
        await db.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
