"""The one guard: every privileged command and button goes through `requires(...)`.

The decorated callback receives the `Person` already loaded. Admins (from ADMIN_IDS) pass
every guard; anyone else must be registered and hold one of the named roles. A refusal is a
short message in the person's language (an answer to the press, for buttons) and changes
nothing. `required_roles` is kept on the wrapper so tests can build the privilege matrix
from the registered handlers instead of a hand-written list.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from handlers.people import Person, load_person
from handlers.replies import reply, t
from storage.enums import Role

logger = logging.getLogger(__name__)

GuardedCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE, Person], Awaitable[None]]
HandlerCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
REFUSED_KEY = "guard.refused"


def allows(person: Person, roles: frozenset[Role]) -> bool:
    """Whether `person` may act where `roles` are required."""
    if person.role is Role.admin:
        return True
    return person.registered and person.role in roles


def requires(*roles: Role) -> Callable[[GuardedCallback], HandlerCallback]:
    """Let only `roles` (and admins) through to the callback."""
    allowed = frozenset(roles) | {Role.admin}

    def decorate(callback: GuardedCallback) -> HandlerCallback:
        @functools.wraps(callback)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            person = await load_person(update, context)
            if not allows(person, allowed):
                logger.info("refused %s to a %s", callback.__name__, person.role.value)
                await refuse(update, context, person)
                return
            await callback(update, context, person)

        guarded.required_roles = allowed  # type: ignore[attr-defined]
        return guarded

    return decorate


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Tell the person this is not theirs to do, in their language."""
    if update.callback_query is not None:
        await update.callback_query.answer(t(context, person.language, REFUSED_KEY))
        return
    await reply(update, context, person.language, REFUSED_KEY)


def required_roles(callback: object) -> frozenset[Role] | None:
    """The roles a registered callback demands, or None when it is open to everyone."""
    roles = getattr(callback, "required_roles", None)
    return roles if isinstance(roles, frozenset) else None
