"""Waiting for someone's next typed message: a message filter over a dict of waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar

from telegram import Message, Update
from telegram.ext import ContextTypes, filters

from bot.services import AnyApplication


class Timed(Protocol):
    """A record of when someone was asked (time.monotonic())."""

    @property
    def since(self) -> float: ...


T = TypeVar("T", bound=Timed)
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class Awaiting(filters.MessageFilter):
    """Matches messages from people in `waits` (by user id), and no one else.

    So the handlers behind it never shadow other handlers of their group for anyone else.
    A wait is any record with `since` (time.monotonic()); one older than `minutes` is
    dropped and no longer matches.
    """

    def __init__(self, waits: dict[int, Any], minutes: int, name: str) -> None:
        super().__init__(name=name)
        self.waits = waits
        self._seconds = minutes * 60

    def filter(self, message: Message) -> bool:
        user = message.from_user
        wait = self.waits.get(user.id) if user is not None else None
        if wait is None or user is None:
            return False
        if time.monotonic() - wait.since > self._seconds:
            self.waits.pop(user.id, None)
            return False
        return True


class UserDataMatches(filters.MessageFilter):
    """Matches messages from people whose user_data passes `test` (a wizard waiting for text).

    Filters run before any handler callback, so they read the application's user_data.
    """

    def __init__(
        self, app: AnyApplication, test: Callable[[Mapping[Any, Any]], bool], name: str
    ) -> None:
        super().__init__(name=name)
        self._app = app
        self._test = test

    def filter(self, message: Message) -> bool:
        user = message.from_user
        data = self._app.user_data.get(user.id) if user is not None else None
        return data is not None and self._test(data)


def waits_of(context: ContextTypes.DEFAULT_TYPE, key: str) -> dict[int, Any]:
    """The waits a flow keeps in bot_data under `key` (created empty)."""
    waits: dict[int, Any] = context.application.bot_data.setdefault(key, {})
    return waits


def stop_waiting(key: str) -> Callback:
    """A handler for a command sent while we wait: stop waiting; the command runs as usual."""

    async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is not None:
            waits_of(context, key).pop(user.id, None)

    return on_command


def fresh(context: ContextTypes.DEFAULT_TYPE, key: str, kind: type[T], minutes: int) -> T | None:
    """The `kind` record under `key` in user_data, unless missing or older than `minutes`
    (then it is dropped)."""
    record = context.user_data.get(key) if context.user_data is not None else None
    if not isinstance(record, kind):
        return None
    if time.monotonic() - record.since > minutes * 60:
        drop(context, key)
        return None
    return record


def drop(context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
    """Forget the record under `key` in user_data."""
    if context.user_data is not None:
        context.user_data.pop(key, None)
