"""What a flow's button or wizard step sees: the update, who sent it, and their language."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Self, TypeVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import callback_data as cb
from handlers.people import Person
from handlers.replies import answer_expired, edit, t

# A button's action in the flows without a Press: (update, context, presser, data's arguments).
Action = Callable[[Update, ContextTypes.DEFAULT_TYPE, Person, tuple[str, ...]], Awaitable[None]]
T = TypeVar("T")
# A flow's page for a person: its text and buttons.
Page = Callable[
    [ContextTypes.DEFAULT_TYPE, Person], Awaitable[tuple[str, InlineKeyboardMarkup | None]]
]


@dataclass(frozen=True)
class Sent:
    """One update from a known person; flows subclass it with their own fields."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    person: Person

    @property
    def lang(self) -> str:
        """The sender's language."""
        return self.person.language

    @property
    def query(self) -> CallbackQuery:
        """The pressed button (only for button updates)."""
        return pressed(self.update)

    def t(self, key: str, /, **values: object) -> str:
        """Catalog text in the sender's language."""
        return t(self.context, self.lang, key, **values)

    async def expired(self) -> None:
        """Answer a forged or stale press; nothing changes."""
        await answer_expired(self.query, self.context, self.lang)


@dataclass(frozen=True)
class Press(Sent):
    """One press of a flow's button: who pressed it and the data's arguments.

    A flow subclasses it and sets `flow`, the callback-data prefix of its buttons.
    """

    flow: ClassVar[str]
    args: tuple[str, ...]

    def button(self, key: str, action: str, *args: object) -> InlineKeyboardButton:
        """A button of this flow labelled with catalog text."""
        return InlineKeyboardButton(self.t(key), callback_data=cb.encode(self.flow, action, *args))

    def ids(self, count: int) -> list[int] | None:
        """Exactly `count` integer arguments, or None (forged data)."""
        return int_args(self.args, count)

    async def show(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Answer the press and show `text` in place of the pressed message."""
        await show(self.query, text, markup)

    @classmethod
    async def dispatch(
        cls,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        person: Person,
        actions: Mapping[str, Callable[[Self], Awaitable[None]]],
    ) -> None:
        """Run the action the button's data names; forged or unknown data only expires."""
        if found := await chosen(update, context, person, actions):
            action, args = found
            await action(cls(update, context, person, args))


async def chosen(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, actions: Mapping[str, T]
) -> tuple[T, tuple[str, ...]] | None:
    """The entry of `actions` the pressed button's data names, with the data's arguments.

    None when there is no press, or when the data is forged or names no action: that press
    is answered as expired, and nothing changes.
    """
    query = update.callback_query
    if query is None:
        return None
    data = cb.decode(query.data)
    action = actions.get(data.action) if data is not None else None
    if data is None or action is None:
        await answer_expired(query, context, person.language)
        return None
    return action, data.args


def int_args(args: tuple[str, ...], count: int) -> list[int] | None:
    """Exactly `count` integer arguments of button data, or None (forged data)."""
    if len(args) != count or not all(a.isdigit() and len(a) <= 12 for a in args):
        return None
    return [int(a) for a in args]


def pressed(update: Update) -> CallbackQuery:
    """The pressed button (the caller's handler made sure there is one)."""
    assert update.callback_query is not None
    return update.callback_query


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer the press and show `text` in place of the pressed message."""
    await query.answer()
    await edit(query, text, markup)


def back_to(page: Page) -> Action:
    """An action that shows `page` again in place of the pressed message (nothing changes)."""

    async def action(
        update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
    ) -> None:
        text, markup = await page(context, person)
        await show(pressed(update), text, markup)

    return action


@dataclass(frozen=True)
class Buttons:
    """Makes a flow's buttons labelled with catalog text `<key_prefix><key>`."""

    flow: str
    key_prefix: str = ""
    # A label is plain text, not HTML: a catalog's &amp; would show as typed.
    unescape: bool = True

    def __call__(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        lang: str,
        key: str,
        action: str,
        *args: object,
        **values: object,
    ) -> InlineKeyboardButton:
        """A button of this flow: catalog label, data `v1:<flow>:<action>[:<arg>...]`."""
        label = t(context, lang, self.key_prefix + key, **values)
        label = html.unescape(label) if self.unescape else label
        return InlineKeyboardButton(label, callback_data=cb.encode(self.flow, action, *args))
