"""`/books` (facilitators): the human library's books — list, add, edit, retire, link.

Adding is a short wizard, one message per step: Thai title → English title → Thai blurb →
English blurb → tags (typed) → need categories (toggle buttons) → languages the book speaks
(toggle buttons) → summary and Confirm. Editing runs the same steps for one field. The draft
waits in the conversation (memory, like /poll); every wizard button carries the draft's random
token and the step it was shown for, so a stale or forged button cannot skip or replay a step.

A book links its own Telegram account: the facilitator gets a one-time deep link
`t.me/<bot>?start=book-<code>` to forward; the person who opens it sees what will be listed and
agrees (their consent to be listed) or declines. That person need not be a citizen of the bot,
so the link is shown to them before onboarding would start. Readers never see a book's account.

Retiring a book releases its upcoming loans; each reader is told in their language through the
dispatcher (exactly once, paced).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.awaiting import drop, fresh
from handlers.deep_links import register_deep_link, valid_payload
from handlers.guard import allows, requires
from handlers.people import Person, load_person
from handlers.press import Action, Buttons, chosen, pressed, show
from handlers.replies import answer_expired, edit, reply, t
from storage import citizens, clock, deliveries, library
from storage.audit import actor_for
from storage.enums import Role
from storage.errors import (
    BookLinkExpired,
    BookLinkInvalid,
    BookLinkUsed,
    BookRetired,
    UnknownBook,
)
from storage.library import BLURB_MAX_LENGTH, MAX_TAGS, TAG_MAX_LENGTH, TITLE_MAX_LENGTH, Book
from storage.library_books import CategoryChoice, need_categories, parse_tags

logger = logging.getLogger(__name__)

FLOW: Final = "books"
DRAFT_KEY: Final = "books_draft"
LINK_PREFIX: Final = "book-"
# Its own group (one handler runs per group): before /poll (-4), /broadcast (-3), /needs (-2)
# and the fallback (0). Typed text steps aside (returns without stopping) unless this person is
# in the books wizard; `/start book-…` from someone not signed up is answered here, before
# onboarding (group 0) would ask them to sign up first.
TEXT_INPUT_GROUP: Final = -7
DRAFT_MINUTES: Final = 30  # after this, typed text is no longer taken as part of a book
PAGE_SIZE: Final = 8
BOOK_LANGUAGES: Final = ("th", "en", "ms")
NOTICE_KIND: Final = "library"
FACILITATORS: Final = frozenset({Role.facilitator, Role.admin})

# Steps of the wizard; the typed ones are read by `_on_text`, the others are buttons.
TITLE_TH, TITLE_EN, BLURB_TH, BLURB_EN = "title_th", "title_en", "blurb_th", "blurb_en"
TAGS, CATEGORIES, LANGUAGES, CONFIRM = "tags", "cats", "langs", "confirm"
TEXT_STEPS: Final = frozenset({TITLE_TH, TITLE_EN, BLURB_TH, BLURB_EN, TAGS})
ADD_STEPS: Final = (TITLE_TH, TITLE_EN, BLURB_TH, BLURB_EN, TAGS, CATEGORIES, LANGUAGES, CONFIRM)
# Editing one field: its steps, then the book is saved at once.
FIELD_STEPS: Final[dict[str, tuple[str, ...]]] = {
    "title": (TITLE_TH, TITLE_EN),
    "blurb": (BLURB_TH, BLURB_EN),
    "tags": (TAGS,),
    "cats": (CATEGORIES,),
    "langs": (LANGUAGES,),
}
_ASK_KEYS: Final = {
    TITLE_TH: "books.ask_title_th",
    TITLE_EN: "books.ask_title_en",
    BLURB_TH: "books.ask_blurb_th",
    BLURB_EN: "books.ask_blurb_en",
    TAGS: "books.ask_tags",
    CATEGORIES: "books.ask_categories",
    LANGUAGES: "books.ask_languages",
}

Screen = tuple[str, InlineKeyboardMarkup | None]


@dataclass
class BookDraft:
    """A book being added, or one field of a book being edited; memory only until saved."""

    steps: tuple[str, ...]
    book_id: int | None = None  # None while adding
    editing: str | None = None  # the field replaced (a FIELD_STEPS key) while editing
    index: int = 0
    title: dict[str, str] = field(default_factory=dict)
    blurb: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    choices: tuple[CategoryChoice, ...] = ()  # the categories in button order
    token: str = field(default_factory=lambda: secrets.token_hex(4))
    since: float = field(default_factory=time.monotonic)

    @property
    def step(self) -> str:
        """The step waiting for an answer."""
        return self.steps[self.index]

    @property
    def adding(self) -> bool:
        """True for a new book, False while editing one."""
        return self.book_id is None


def register(app: AnyApplication) -> None:
    """Add /books, its buttons, the typed wizard steps and the `book-` deep link."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("books", _on_books, filters=private))
    # The book's own Agree/Decline come before the facilitators' guarded buttons of the same
    # flow: the person pressing them is the book, who need not hold any role.
    app.add_handler(
        CallbackQueryHandler(_on_link_button, pattern=rf"^{cb.VERSION}:{FLOW}:(?:agree|decline):")
    )
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    register_deep_link(app, LINK_PREFIX, _on_book_link)
    private_text = filters.UpdateType.MESSAGE & private & filters.TEXT
    start_book = filters.Regex(rf"^/start(?:@\S+)?\s+{LINK_PREFIX}")
    app.add_handler(
        CommandHandler("start", _on_start_book, filters=private & start_book),
        group=TEXT_INPUT_GROUP,
    )
    app.add_handler(
        MessageHandler(private_text & ~filters.COMMAND, _on_text), group=TEXT_INPUT_GROUP
    )
    app.add_handler(
        MessageHandler(private_text & filters.COMMAND, _on_command), group=TEXT_INPUT_GROUP
    )


# --- the list ------------------------------------------------------------------------------


@requires(Role.facilitator)
async def _on_books(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Every book, with Add, and Edit / Link / Retire for each book still in the library."""
    _drop_draft(context)
    text, markup = await _list_screen(context, person.language, 0)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _list_screen(context: ContextTypes.DEFAULT_TYPE, lang: str, page: int) -> Screen:
    async with services_of(context).db.session(readonly=True) as session:
        every = await library.books(include_retired=True, session=session)
    add = [_button(context, lang, "books.button.add", "add")]
    if not every:
        return t(context, lang, "books.list_empty"), InlineKeyboardMarkup([add])
    pages = (len(every) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    first = page * PAGE_SIZE
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for number, book in enumerate(every[first : first + PAGE_SIZE], start=first + 1):
        lines.append(
            t(context, lang, "books.list_line", number=number, title=_in(book.title, lang),
              status=Raw(t(context, lang, _status_key(book))))
        )  # fmt: skip
        if book.retired:
            continue
        row = [_button(context, lang, "books.button.edit", "edit", book.id, number=number)]
        if not book.linked:
            row.append(_button(context, lang, "books.button.link", "link", book.id, number=number))
        row.append(_button(context, lang, "books.button.retire", "ret", book.id, number=number))
        rows.append(row)
    rows.append(add)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_button(context, lang, "books.button.previous", "list", page - 1))
        if page < pages - 1:
            nav.append(_button(context, lang, "books.button.more", "list", page + 1))
        rows.append(nav)
    text = t(context, lang, "books.list", lines=Raw("\n".join(lines)), count=len(every))
    if pages > 1:
        text += "\n" + t(context, lang, "books.page", page=page + 1, pages=pages)
    return text, InlineKeyboardMarkup(rows)


def _status_key(book: Book) -> str:
    if book.retired:
        return "books.status_retired"
    return "books.status_linked" if book.linked else "books.status_unlinked"


def _in(texts: dict[str, str], lang: str) -> str:
    """A bilingual text in `lang`, else in the other language."""
    return texts.get(lang) or next(iter(texts.values()), "")


_button: Final = Buttons(FLOW, unescape=False)

# --- buttons -------------------------------------------------------------------------------


@requires(Role.facilitator)
async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Every facilitator button of /books; whatever the data names is re-checked."""
    if found := await chosen(update, context, person, _ACTIONS):
        handler, args = found
        await handler(update, context, person, args)


def _int(args: tuple[str, ...], index: int = 0) -> int | None:
    value = args[index] if index < len(args) else ""
    return int(value) if value.isdigit() and len(value) < 12 else None


async def _page(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Show a page of the list (also "back to the list")."""
    query = pressed(update)
    page = _int(args)
    if page is None:
        await answer_expired(query, context, person.language)
        return
    _drop_draft(context)
    await query.answer()
    text, markup = await _list_screen(context, person.language, page)
    await edit(query, text, markup)


async def _active_book(context: ContextTypes.DEFAULT_TYPE, args: tuple[str, ...]) -> Book | None:
    """The book the data names, if it exists and is not retired."""
    book_id = _int(args)
    if book_id is None:
        return None
    async with services_of(context).db.session(readonly=True) as session:
        book = await library.get_book(book_id, session=session)
    return book if book is not None and not book.retired else None


# --- the wizard: state ------------------------------------------------------------------------


def _draft(context: ContextTypes.DEFAULT_TYPE) -> BookDraft | None:
    """The draft being written, unless it is missing or too old (then it is dropped)."""
    return fresh(context, DRAFT_KEY, BookDraft, DRAFT_MINUTES)


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    drop(context, DRAFT_KEY)


def _current(
    context: ContextTypes.DEFAULT_TYPE, args: tuple[str, ...], *, step: bool = True
) -> BookDraft | None:
    """The draft a wizard button belongs to: same token and, if `step`, shown for this step."""
    draft = _draft(context)
    if draft is None or not args or args[0] != draft.token:
        return None
    if step and (len(args) < 2 or args[1] != str(draft.index)):
        return None
    draft.since = time.monotonic()
    return draft


async def _categories(context: ContextTypes.DEFAULT_TYPE) -> tuple[CategoryChoice, ...]:
    async with services_of(context).db.session(readonly=True) as session:
        return tuple(await need_categories(session=session))


# --- the wizard: screens ----------------------------------------------------------------------


def _prompt(context: ContextTypes.DEFAULT_TYPE, lang: str, draft: BookDraft) -> Screen:
    """The message for the draft's current step, with its buttons."""
    step = draft.step
    if step == CONFIRM:
        return _summary(context, lang, draft), _confirm_markup(context, lang, draft)
    text = (
        t(context, lang, _ASK_KEYS[step], limit=_limit(step), max=MAX_TAGS, length=TAG_MAX_LENGTH)
        if step in TEXT_STEPS
        else t(context, lang, _ASK_KEYS[step])
    )
    if draft.adding:
        step_line = t(context, lang, "books.step", number=draft.index + 1, total=len(ADD_STEPS))
        text = f"{step_line}\n{text}"
    current = _typed_value(draft, step)
    if current:
        text += "\n\n" + t(context, lang, "books.current", value=current)
    return text, _step_markup(context, lang, draft)


def _limit(step: str) -> int:
    if step in (TITLE_TH, TITLE_EN):
        return TITLE_MAX_LENGTH
    if step in (BLURB_TH, BLURB_EN):
        return BLURB_MAX_LENGTH
    return TAG_MAX_LENGTH


def _typed_value(draft: BookDraft, step: str) -> str:
    """What the draft holds for a typed step (shown when going back, or when editing)."""
    values = {
        TITLE_TH: draft.title.get("th", ""),
        TITLE_EN: draft.title.get("en", ""),
        BLURB_TH: draft.blurb.get("th", ""),
        BLURB_EN: draft.blurb.get("en", ""),
        TAGS: ", ".join(draft.tags),
    }
    return values.get(step, "")


def _nav_row(
    context: ContextTypes.DEFAULT_TYPE, lang: str, draft: BookDraft, *middle: InlineKeyboardButton
) -> list[InlineKeyboardButton]:
    """Back (when there is a step before), the step's own button, Cancel."""
    row: list[InlineKeyboardButton] = []
    if draft.index > 0:
        row.append(_button(context, lang, "books.button.back", "back", draft.token, draft.index))
    row.extend(middle)
    row.append(_button(context, lang, "button.cancel", "stop", draft.token))
    return row


def _step_markup(
    context: ContextTypes.DEFAULT_TYPE, lang: str, draft: BookDraft
) -> InlineKeyboardMarkup:
    step, token, index = draft.step, draft.token, draft.index
    rows: list[list[InlineKeyboardButton]] = []
    if step == CATEGORIES:
        rows += [
            [InlineKeyboardButton(_check(choice.key in draft.categories, choice.label(lang)),
                                  callback_data=cb.encode(FLOW, "cat", token, index, number))]
            for number, choice in enumerate(draft.choices)
        ]  # fmt: skip
    elif step == LANGUAGES:
        rows += [
            [InlineKeyboardButton(
                _check(code in draft.languages, t(context, lang, f"books.language.{code}")),
                callback_data=cb.encode(FLOW, "lang", token, index, code))]
            for code in BOOK_LANGUAGES
        ]  # fmt: skip
    if step in (CATEGORIES, LANGUAGES):
        last = draft.index == len(draft.steps) - 1
        key = "books.button.save" if last else "books.button.next"
        rows.append(_nav_row(context, lang, draft, _button(context, lang, key, "next", token,
                                                           index)))  # fmt: skip
    elif _typed_value(draft, step):
        # Going back, or editing: what is there may stay as it is.
        keep = _button(context, lang, "books.button.keep", "next", token, index)
        rows.append(_nav_row(context, lang, draft, keep))
    else:
        rows.append(_nav_row(context, lang, draft))
    return InlineKeyboardMarkup(rows)


def _check(on: bool, label: str) -> str:
    return f"{'☑' if on else '☐'} {label}"


def _confirm_markup(
    context: ContextTypes.DEFAULT_TYPE, lang: str, draft: BookDraft
) -> InlineKeyboardMarkup:
    confirm = _button(context, lang, "button.confirm", "save", draft.token, draft.index)
    return InlineKeyboardMarkup([[confirm], _nav_row(context, lang, draft)])


def _summary(context: ContextTypes.DEFAULT_TYPE, lang: str, draft: BookDraft) -> str:
    labels = {choice.key: choice.label(lang) for choice in draft.choices}
    return t(
        context,
        lang,
        "books.summary",
        title_th=draft.title.get("th", ""),
        title_en=draft.title.get("en", ""),
        blurb_th=draft.blurb.get("th", ""),
        blurb_en=draft.blurb.get("en", ""),
        tags=", ".join(draft.tags),
        categories=", ".join(labels.get(key, key) for key in draft.categories),
        languages=", ".join(t(context, lang, f"books.language.{c}") for c in draft.languages),
    )


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, screen: Screen, *, as_edit: bool
) -> None:
    """Edit the pressed message, or send a new one (after typed text)."""
    text, markup = screen
    if as_edit and update.callback_query is not None:
        await edit(update.callback_query, text, markup)
        return
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


# --- the wizard: buttons ----------------------------------------------------------------------


async def _add(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Start adding a book: the Thai title first."""
    query = pressed(update)
    choices = await _categories(context)
    if not choices:
        # Categories come with the survey; without one no book can be saved.
        await query.answer(t(context, person.language, "books.no_categories"), show_alert=True)
        return
    draft = BookDraft(steps=ADD_STEPS, choices=choices)
    await _start_draft(update, context, person, draft)


async def _start_draft(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, draft: BookDraft
) -> None:
    """Keep the new draft and show its first step in place of the pressed message."""
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = draft
    await pressed(update).answer()
    await _show(update, context, _prompt(context, person.language, draft), as_edit=True)


async def _edit_book(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Which field of the book to replace."""
    query = pressed(update)
    book = await _active_book(context, args)
    lang = person.language
    if book is None:
        await answer_expired(query, context, lang)
        return
    _drop_draft(context)
    await query.answer()
    fields = [("title", "books.button.field_title"), ("blurb", "books.button.field_blurb"),
              ("tags", "books.button.field_tags"), ("cats", "books.button.field_categories"),
              ("langs", "books.button.field_languages")]  # fmt: skip
    rows = [[_button(context, lang, key, "ef", book.id, name)] for name, key in fields]
    rows.append([_button(context, lang, "books.button.all", "list", 0)])
    text = t(context, lang, "books.edit_choose", title=_in(book.title, lang))
    await edit(query, text, InlineKeyboardMarkup(rows))


async def _edit_field(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Start replacing one field: its steps, filled with what the book has now."""
    query = pressed(update)
    book = await _active_book(context, args)
    steps = FIELD_STEPS.get(args[1]) if len(args) == 2 else None
    if book is None or steps is None:
        await answer_expired(query, context, person.language)
        return
    draft = BookDraft(
        steps=steps,
        book_id=book.id,
        editing=args[1],
        title=dict(book.title),
        blurb=dict(book.blurb),
        tags=list(book.tags),
        categories=list(book.categories),
        languages=list(book.languages),
        choices=await _categories(context),
    )
    await _start_draft(update, context, person, draft)


async def _stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Cancel the wizard (from any of its messages); nothing is saved."""
    query = pressed(update)
    if _current(context, args, step=False) is None:
        await answer_expired(query, context, person.language)
        return
    _drop_draft(context)
    await show(query, t(context, person.language, "books.cancelled"))


async def _back(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """One step back; what was typed there is shown and kept unless replaced."""
    query = pressed(update)
    draft = _current(context, args)
    if draft is None or draft.index == 0:
        await answer_expired(query, context, person.language)
        return
    draft.index -= 1
    await query.answer()
    await _show(update, context, _prompt(context, person.language, draft), as_edit=True)


async def _toggle_category(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Choose or unchoose a need category."""
    query = pressed(update)
    draft = _current(context, args)
    number = _int(args, 2)
    if draft is None or draft.step != CATEGORIES or number is None:
        await answer_expired(query, context, person.language)
        return
    if number >= len(draft.choices):
        await answer_expired(query, context, person.language)
        return
    _toggle(draft.categories, draft.choices[number].key)
    await query.answer()
    await _show(update, context, _prompt(context, person.language, draft), as_edit=True)


async def _toggle_language(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Choose or unchoose a language the book speaks."""
    query = pressed(update)
    draft = _current(context, args)
    code = args[2] if len(args) == 3 else ""
    if draft is None or draft.step != LANGUAGES or code not in BOOK_LANGUAGES:
        await answer_expired(query, context, person.language)
        return
    _toggle(draft.languages, code)
    await query.answer()
    await _show(update, context, _prompt(context, person.language, draft), as_edit=True)


def _toggle(values: list[str], value: str) -> None:
    if value in values:
        values.remove(value)
    else:
        values.append(value)


async def _next(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Leave a toggle step (at least one must be chosen), or keep what a typed step holds."""
    query = pressed(update)
    draft = _current(context, args)
    lang = person.language
    if draft is None or draft.step == CONFIRM:
        await answer_expired(query, context, lang)
        return
    if draft.step in TEXT_STEPS and not _typed_value(draft, draft.step):
        await answer_expired(query, context, lang)
        return
    if draft.step == CATEGORIES and not draft.categories:
        await query.answer(t(context, lang, "books.need_category"), show_alert=True)
        return
    if draft.step == LANGUAGES and not draft.languages:
        await query.answer(t(context, lang, "books.need_language"), show_alert=True)
        return
    await query.answer()
    await _advance(update, context, person, draft, as_edit=True)


async def _save(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Confirm the summary: the book is added."""
    query = pressed(update)
    draft = _current(context, args)
    if draft is None or draft.step != CONFIRM or not draft.adding:
        await answer_expired(query, context, person.language)
        return
    await query.answer()
    await _show(update, context, await _store(context, person, draft), as_edit=True)


async def _advance(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    draft: BookDraft,
    *,
    as_edit: bool,
) -> None:
    """The next step's message; after an edited field's last step, the book is saved."""
    if draft.index + 1 < len(draft.steps):
        draft.index += 1
        await _show(update, context, _prompt(context, person.language, draft), as_edit=as_edit)
        return
    await _show(update, context, await _store(context, person, draft), as_edit=as_edit)


async def _store(context: ContextTypes.DEFAULT_TYPE, person: Person, draft: BookDraft) -> Screen:
    """Add the book, or replace the edited field; the draft ends either way."""
    _drop_draft(context)
    lang = person.language
    all_books = [_button(context, lang, "books.button.all", "list", 0)]
    try:
        async with services_of(context).db.session() as session:
            if draft.book_id is None:
                book = await library.create_book(
                    title=draft.title, blurb=draft.blurb, tags=draft.tags,
                    categories=draft.categories, languages=draft.languages,
                    created_by=person.telegram_user_id, session=session,
                )  # fmt: skip
            else:
                edited = draft.editing
                book = await library.update_book(
                    draft.book_id,
                    title=draft.title if edited == "title" else None,
                    blurb=draft.blurb if edited == "blurb" else None,
                    tags=draft.tags if edited == "tags" else None,
                    categories=draft.categories if edited == "cats" else None,
                    languages=draft.languages if edited == "langs" else None,
                    by=person.telegram_user_id,
                    session=session,
                )
    except (UnknownBook, BookRetired):
        return t(context, lang, "books.book_gone"), InlineKeyboardMarkup([all_books])
    except ValueError:
        # Every step was checked; only a category removed meanwhile can get here.
        logger.warning("a book draft was refused by storage", exc_info=True)
        return t(context, lang, "books.invalid"), InlineKeyboardMarkup([all_books])
    title = _in(book.title, lang)
    if draft.book_id is not None:
        return t(context, lang, "books.updated", title=title), InlineKeyboardMarkup([all_books])
    link = _button(context, lang, "books.button.get_link", "link", book.id)
    return t(context, lang, "books.added", title=title), InlineKeyboardMarkup([[link], all_books])


# --- the wizard: typed steps ------------------------------------------------------------------


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command ends the wizard; the command itself is handled as usual."""
    _drop_draft(context)


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed title, blurb or tags of the book being written."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or message is None or message.text is None:
        return  # not ours: other flows and the fallback answer
    person = await load_person(update, context)
    if not allows(person, FACILITATORS):
        _drop_draft(context)  # the role was taken away meanwhile
        return
    draft.since = time.monotonic()
    lang = person.language
    if draft.step not in TEXT_STEPS:
        await reply(update, context, lang, "books.use_buttons")
        raise ApplicationHandlerStop
    problem = _take(draft, message.text)
    if problem is not None:
        key, values = problem
        await reply(update, context, lang, key, markup=_step_markup(context, lang, draft),
                    **values)  # fmt: skip
        raise ApplicationHandlerStop
    await _advance(update, context, person, draft, as_edit=False)
    raise ApplicationHandlerStop


def _take(draft: BookDraft, typed: str) -> tuple[str, dict[str, object]] | None:
    """Store a typed answer in the draft, or say why it cannot be (the step stays)."""
    text = typed.strip()
    step = draft.step
    if step in (TITLE_TH, TITLE_EN):
        if not text or len(text) > TITLE_MAX_LENGTH:
            return "books.title_too_long", {"limit": TITLE_MAX_LENGTH, "length": len(text)}
        draft.title["th" if step == TITLE_TH else "en"] = text
        return None
    if step in (BLURB_TH, BLURB_EN):
        if not text or len(text) > BLURB_MAX_LENGTH:
            return "books.blurb_too_long", {"limit": BLURB_MAX_LENGTH, "length": len(text)}
        draft.blurb["th" if step == BLURB_TH else "en"] = text
        return None
    try:
        draft.tags = parse_tags(text)
    except ValueError:
        return "books.tags_invalid", {"max": MAX_TAGS, "length": TAG_MAX_LENGTH}
    return None


# --- link ------------------------------------------------------------------------------------


async def _link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """A fresh one-time link for the book to open: explained, then on its own to forward."""
    query = pressed(update)
    book = await _active_book(context, args)
    lang = person.language
    if book is None:
        await answer_expired(query, context, lang)
        return
    if book.linked:
        await query.answer(t(context, lang, "books.already_linked"), show_alert=True)
        return
    services = services_of(context)
    ttl = library.DEFAULT_LINK_TTL
    try:
        async with services.db.session() as session:
            expires_at = clock.now() + ttl
            code = await library.issue_book_link(
                book.id, by=person.telegram_user_id, ttl=ttl, session=session
            )
    except (UnknownBook, BookRetired):
        await answer_expired(query, context, lang)
        return
    await query.answer()
    link = f"https://t.me/{context.bot.username}?start={LINK_PREFIX}{code}"
    await reply(update, context, lang, "books.link_issued", title=_in(book.title, lang),
                expires=format_datetime(expires_at, lang, services.settings.tz))  # fmt: skip
    # The message to forward speaks to the book, who may read either language.
    invitation = "\n\n".join(
        t(context, language, "books.link_invitation", title=_in(book.title, language), link=link)
        for language in ("th", "en")
    )
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, invitation)


async def _on_start_book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/start book-…` from someone not signed up: a book need not become a citizen to link.

    A registered person is left to onboarding (group 0), which welcomes them back and runs the
    same deep-link flow.
    """
    _drop_draft(context)
    person = await load_person(update, context)
    if person.registered:
        return
    payload = valid_payload(context.args[0]) if context.args else None
    if payload is None:
        return  # not a link's shape: onboarding answers as for any other payload
    await _on_book_link(update, context, person, payload)
    raise ApplicationHandlerStop


async def _on_book_link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str
) -> None:
    """The book sees what will be listed and what linking means, and agrees or declines."""
    code = payload.removeprefix(LINK_PREFIX)
    lang = person.language
    try:
        async with services_of(context).db.session(readonly=True) as session:
            book = await library.check_book_link(code, session=session)
    except BookLinkInvalid as refusal:
        await reply(update, context, lang, await _refusal_key(context, person, refusal))
        return
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "books.button.agree", "agree", code),
          _button(context, lang, "books.button.decline", "decline", code)]]
    )  # fmt: skip
    await reply(update, context, lang, "books.link_offer", markup=markup,
                title=_in(book.title, lang), blurb=_in(book.blurb, lang))  # fmt: skip


async def _refusal_key(
    context: ContextTypes.DEFAULT_TYPE, person: Person, refusal: BookLinkInvalid
) -> str:
    """Why the link cannot be used, in words; "already yours" for a second tap by the book."""
    if isinstance(refusal, BookLinkUsed) and refusal.book_id is not None:
        async with services_of(context).db.session(readonly=True) as session:
            book = await library.get_book(refusal.book_id, session=session)
        if book is not None and book.telegram_user_id == person.telegram_user_id:
            return "books.link_already_yours"
        return "books.link_used"
    if isinstance(refusal, BookLinkExpired):
        return "books.link_expired"
    return "books.link_unknown"


async def _on_link_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The book's Agree (link and consent) or Decline (nothing changes)."""
    query = update.callback_query
    if query is None:
        return
    person = await load_person(update, context)
    data = cb.decode(query.data)
    lang = person.language
    if data is None or len(data.args) != 1:
        await answer_expired(query, context, lang)
        return
    if data.action == "decline":
        await show(query, t(context, lang, "books.link_declined"))
        return
    try:
        async with services_of(context).db.session() as session:
            book = await library.link_book(data.args[0], person.telegram_user_id, session=session)
    except BookLinkInvalid as refusal:
        await show(query, t(context, lang, await _refusal_key(context, person, refusal)))
        return
    await show(query, t(context, lang, "books.link_done", title=_in(book.title, lang)))
    await _tell_creator(context, book)


async def _tell_creator(context: ContextTypes.DEFAULT_TYPE, book: Book) -> None:
    """The facilitator who added the book hears that it linked itself (no account shown)."""
    services = services_of(context)
    async with services.db.session(readonly=True) as session:
        creator = await citizens.get_citizen(book.created_by, session=session)
    lang = creator.language if creator is not None else services.settings.default_language
    try:
        await context.bot.send_message(
            book.created_by, t(context, lang, "books.linked_notice", title=_in(book.title, lang))
        )
    except TelegramError:
        logger.warning("could not tell a facilitator that a book linked itself", exc_info=True)


# --- retire ----------------------------------------------------------------------------------


async def _retire(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Ask before retiring: its upcoming loans end and their readers are told."""
    query = pressed(update)
    book = await _active_book(context, args)
    lang = person.language
    if book is None:
        await answer_expired(query, context, lang)
        return
    await query.answer()
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "books.button.retire_yes", "retok", book.id),
          _button(context, lang, "button.cancel", "list", 0)]]
    )  # fmt: skip
    await edit(query, t(context, lang, "books.retire_confirm", title=_in(book.title, lang)), markup)


async def _retire_confirmed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Retire the book and tell each reader of its upcoming loans, in their language."""
    query = pressed(update)
    book = await _active_book(context, args)
    lang = person.language
    if book is None:
        await answer_expired(query, context, lang)
        return
    services = services_of(context)
    async with services.db.session() as session:
        released = await library.retire_book(book.id, by=person.telegram_user_id, session=session)
    await query.answer()
    if released:
        await _tell_readers(context, book, released, person)
    markup = InlineKeyboardMarkup([[_button(context, lang, "books.button.all", "list", 0)]])
    text = t(context, lang, "books.retired", title=_in(book.title, lang), count=len(released))
    await edit(query, text, markup)


async def _tell_readers(
    context: ContextTypes.DEFAULT_TYPE,
    book: Book,
    released: Sequence[library.Reservation],
    person: Person,
) -> None:
    """One notice per released loan through the dispatcher (exactly once, paced)."""
    services = services_of(context)
    tz = services.settings.tz
    async with services.db.session() as session:
        for reservation in released:
            reader = await citizens.get_citizen(reservation.telegram_user_id, session=session)
            language = reader.language if reader is not None else reservation.language
            content = {lang: _notice(context, lang, book, reservation, tz) for lang in ("th", "en")}
            await deliveries.enqueue(
                f"library.book_retired:{book.id}:{reservation.id}",
                NOTICE_KIND,
                content,
                [deliveries.citizen_recipient(reservation.telegram_user_id, language)],
                created_by=actor_for(person.telegram_user_id),
                audience="library:readers",
                session=session,
            )
    if services.dispatcher is not None:
        services.dispatcher.wake()


def _notice(
    context: ContextTypes.DEFAULT_TYPE,
    lang: str,
    book: Book,
    reservation: library.Reservation,
    tz: ZoneInfo,
) -> str:
    title = _in(book.title, lang)
    if reservation.starts_at is not None:
        when = format_datetime(reservation.starts_at, lang, tz)
        return t(context, lang, "books.retired_notice", title=title, when=when,
                 place=reservation.place_text)  # fmt: skip
    when = format_datetime(reservation.event_starts_at, lang, tz)
    return t(context, lang, "books.retired_notice_waitlist", title=title, when=when,
             place=reservation.place_text)  # fmt: skip


_ACTIONS: dict[str, Action] = {
    "list": _page,
    "add": _add,
    "edit": _edit_book,
    "ef": _edit_field,
    "stop": _stop,
    "back": _back,
    "cat": _toggle_category,
    "lang": _toggle_language,
    "next": _next,
    "save": _save,
    "link": _link,
    "ret": _retire,
    "retok": _retire_confirmed,
}
