"""Every poll update (a vote, or a poll's new counts) is handled in one group, and stops there.

Votes are the bot's busiest traffic: each citizen's answer arrives as a `poll_answer` and a
`poll` update. python-telegram-bot offers every update to every handler group in turn (13 of
them: the commands, the wizards' text steps, the fallback), copying each group's list and
asking each handler whether it matches. A vote matches none of those, so this group runs
right after the input guard, hands the vote to the flow that owns its poll, and raises
`ApplicationHandlerStop`: the other groups are never walked (bench/README.md, bench_needs).

Who owns a vote, asked in this order: the coffee council's agenda polls, the human library's
rating polls (both known in memory, `storage.known_polls`), then the learning-needs survey
and quick polls (`handlers.needs`), which ignores a poll it does not know. A flow that owns
the vote raises `ApplicationHandlerStop` itself; one that does not returns and the next asks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, PollAnswerHandler, PollHandler

from bot.services import AnyApplication
from handlers import council_admin, library, needs
from handlers.input_guard import GUARD_GROUP

POLL_GROUP: Final = GUARD_GROUP + 1  # after the guard (repeated updates), before every flow

Route = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

# Asked in turn; the survey last, as it takes any poll it has a record of.
ANSWER_ROUTES: Final[tuple[Route, ...]] = (
    council_admin.on_agenda_vote,
    library.on_rating_vote,
    needs.on_survey_vote,
)


def register(app: AnyApplication) -> None:
    """Add the one group that takes votes and poll counts."""
    app.add_handler(PollAnswerHandler(_on_poll_answer), group=POLL_GROUP)
    app.add_handler(PollHandler(_on_poll), group=POLL_GROUP)


async def _on_poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The vote goes to the first flow that owns its poll; no other group sees it."""
    for route in ANSWER_ROUTES:
        await route(update, context)  # the owner raises ApplicationHandlerStop
    raise ApplicationHandlerStop


async def _on_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A poll's counts (only survey and quick polls keep them); no other group sees them."""
    await needs.on_poll_counts(update, context)
    raise ApplicationHandlerStop
