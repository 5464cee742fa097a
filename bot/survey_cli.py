"""`learncity survey …`: import, list, open (optionally inviting people) and close surveys."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.i18n.catalog import LANGUAGES, catalogs
from bot.settings import Settings
from storage import deliveries, surveys
from storage.database import Database
from storage.enums import Purpose
from storage.errors import StorageError, SurveyFileError
from storage.survey_spec import load_survey_file

ACTOR = "cli"
DEFAULT_SURVEY = Path(__file__).parent / "data" / "surveys" / "default.yaml"


async def run_survey_command(settings: Settings, command: str, argument: str | None,
                             *, invite: bool = False) -> int:  # fmt: skip
    """Carry out one `learncity survey` command; returns the exit code."""
    db = Database(settings.database_url)
    try:
        if command == "import":
            return await _import(db, Path(argument) if argument else DEFAULT_SURVEY)
        if command == "list":
            return await _list(db)
        if command in ("open", "close"):
            return await _open_or_close(db, command, argument or "", invite=invite)
    finally:
        await db.dispose()
    return 2


async def _import(db: Database, path: Path) -> int:
    try:
        spec = load_survey_file(path)
    except (SurveyFileError, OSError) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    async with db.session() as session:
        survey = await surveys.import_survey(spec, session=session)
    print(f"imported {survey.key} version {survey.version} (id {survey.id}, draft)")
    return 0


async def _list(db: Database) -> int:
    async with db.session() as session:
        rows = await surveys.list_surveys(session=session)
    if not rows:
        print("no surveys; import one with `learncity survey import FILE.yaml`")
    for row in rows:
        counts = f"{row.questions} questions  {row.respondents} respondents"
        print(
            f"{row.id:>4}  {row.key} v{row.version}  {row.status:<6}  {counts}  {row.title['en']}"
        )
    return 0


async def _open_or_close(db: Database, command: str, survey_ref: str, *, invite: bool) -> int:
    async with db.session() as session:
        rows = await surveys.list_surveys(session=session)
    matches = [r for r in rows if str(r.id) == survey_ref or r.key == survey_ref]
    if not matches:
        print(f"no survey {survey_ref!r}; see `learncity survey list`", file=sys.stderr)
        return 1
    target = max(matches, key=lambda r: r.version)  # a key means its newest version
    try:
        async with db.session() as session:
            if command == "close":
                await surveys.close_survey(target.id, actor=ACTOR, session=session)
                print(f"closed {target.key} v{target.version}")
                return 0
            await surveys.open_survey(target.id, actor=ACTOR, session=session)
    except StorageError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"opened {target.key} v{target.version}")
    if invite:
        count = await _invite(db, target.id, target.title)
        print(f"invitations queued for {count} citizens; a running bot sends them")
    return 0


async def _invite(db: Database, survey_id: int, title: dict[str, str]) -> int:
    """Queue an invitation to everyone who agreed to the survey purpose (the dispatcher of a
    running bot picks it up within seconds)."""
    content = {lang: catalogs().text(lang, "needs.invitation", title=title.get(lang, ""))
               for lang in LANGUAGES}  # fmt: skip
    async with db.session() as session:
        recipients = await deliveries.broadcast_recipients(
            purpose=Purpose.needs_survey, session=session
        )
        await deliveries.enqueue(
            f"survey-invite:{survey_id}", "survey_invite", content, recipients,
            created_by=ACTOR, audience="citizens:needs_survey", session=session,
        )  # fmt: skip
    return len(recipients)
