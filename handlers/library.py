"""/library: readers browse events and books, reserve loans, join waitlists, cancel.

Citizens who consented to the human library see the upcoming events → an event's catalogue
(filtered by tag or by language) → a book's page (its free slots as buttons, "first free time",
"join the waitlist" when full) → a reservation, confirmed with an `.ics` file, or a place on the
waitlist. "My loans" lists their upcoming loans and waitlist places, each with Cancel; a seat
freed by a cancellation goes to the first waitlisted reader (storage decides), who is told in
their own language with their own `.ics`.

Every button carries only ids (`v1:lib:<action>:<ids>`); each press re-reads the event, the
book or the reservation and the presser: another reader's reservation, a retired book, a
cancelled event or a finished one all get "expired" and change nothing. Storage owns every
rule (one reservation per book and event, no overlapping loans, bans, the waitlist order,
which is the order of the presses: `press_order` is the update_id).

A book that linked its Telegram account gets a short notice of each loan (the time and the
reader's first name, never more) with "Stop / report": the book, and only the book of that
loan, may stop it; the reader is barred from that book and the event's facilitators are told
at once. Readers never see a book's Telegram account.

After a loan, `schedules.library_jobs` sends a 1–5 rating poll; a vote on it is taken here
(before `handlers.needs` looks at poll answers) and answered with "what did you learn?", whose
reply is stored with its detected language.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from babel import Locale
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime, format_time
from bot.ics import IcsEvent, calendar_file
from bot.language_detection import detect_language
from bot.services import AnyApplication, Services, services_of
from handlers import callback_data as cb
from handlers.awaiting import Awaiting, stop_waiting, waits_of
from handlers.consent_gate import ConsentGate
from handlers.deep_links import register_deep_link
from handlers.library_admin import notify_facilitators_of_stop
from handlers.people import Person, load_person
from handlers.poll_jobs import start_poll_job
from handlers.press import Action, Buttons, back_to, chosen, int_args, pressed, show
from handlers.replies import answer_expired, edit, reply, t
from schedules.library_jobs import FEEDBACK_KEY, PURPOSE_PREFIX, FeedbackAsker
from storage import citizens, clock, library, library_lib
from storage.database import AsyncSession
from storage.enums import Purpose
from storage.errors import (
    ConsentRequired,
    LibraryAccessDenied,
    NotRegistered,
    ReservationRefused,
    UnknownBook,
    UnknownLibraryEvent,
    UnknownReservation,
)
from storage.known_polls import KnownPolls
from storage.library import BookAtEvent, EventView, Promotion, Reservation

logger = logging.getLogger(__name__)

FLOW: Final = "lib"
GATE: Final = ConsentGate(Purpose.human_library, "library", FLOW)
DEEP_LINK: Final = "library"  # t.me/<bot>?start=library opens /library
# Only people who were just asked "what did you learn?" match (see handlers.awaiting), so
# this early group takes their reply before any older wizard's waiting text step.
TEXT_INPUT_GROUP: Final = -10
FEEDBACK_MINUTES: Final = 30
WAITS_KEY: Final = "library_feedback_waits"
RATING_POLLS_KEY: Final = "library_rating_polls"  # a KnownPolls: votes on others cost no query
MAX_EVENTS: Final = 8
MAX_BOOKS: Final = 20
MAX_TAG_BUTTONS: Final = 12
LABEL_CHARS: Final = 28  # a book's title on a button (labels stay under 32 characters)
TITLE_IN_LABEL: Final = 18  # a title inside "Cancel: …"


@dataclass
class FeedbackWait:
    """Someone asked "what did you learn?" about this loan (memory only)."""

    reservation_id: int
    since: float


def register(app: AnyApplication) -> None:
    """Add /library, its buttons, the rating votes, the feedback text and the deep link."""
    waits: dict[int, FeedbackWait] = app.bot_data.setdefault(WAITS_KEY, {})
    app.bot_data.setdefault(RATING_POLLS_KEY, KnownPolls(_rating_poll_ids))
    awaiting = Awaiting(waits, FEEDBACK_MINUTES, name="awaiting_library_feedback")
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("library", _on_library, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND & awaiting, _on_feedback_text),
        group=TEXT_INPUT_GROUP,
    )
    # A command means they moved on: stop waiting, and let the command run as usual.
    app.add_handler(
        MessageHandler(private & filters.COMMAND & awaiting, stop_waiting(WAITS_KEY)),
        group=TEXT_INPUT_GROUP,
    )
    register_deep_link(app, DEEP_LINK, _on_deep_link)


async def on_startup(app: AnyApplication, services: Services) -> None:
    """Map sent rating polls to their loans, and install the feedback job."""
    asker = FeedbackAsker(services.db, services.catalogs, services.dispatcher)
    app.bot_data[FEEDBACK_KEY] = asker
    await start_poll_job(app, services, _rating_polls(app.bot_data), PURPOSE_PREFIX, asker)


# --- entry: /library and the deep link -----------------------------------------------------


async def _on_library(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open the library: the upcoming events, once the person is registered and consented."""
    person = await load_person(update, context)
    await _open(context, person)


async def _on_deep_link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str
) -> None:
    """`/start library` (also right after onboarding): the same as /library."""
    await _open(context, person)


async def _open(context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    await GATE.open(context, person, _events_page)


# --- buttons --------------------------------------------------------------------------------


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every /library button; whatever the data names is re-checked before anything changes."""
    person = await load_person(update, context)
    found = await chosen(update, context, person, _ACTIONS)
    if found is None:
        return
    (action, for_readers), args = found
    query = pressed(update)
    if for_readers:
        if not person.registered:
            await answer_expired(query, context, person.language)
            return
        if await GATE.withdrawn(query, context, person):  # since the button was sent
            return
    await action(update, context, person, args)


_button: Final = Buttons(FLOW, "library.button.")


def _labelled(label: str, action: str, *args: object) -> InlineKeyboardButton:
    """A button whose label is data (a date, a title, a tag), not catalog text."""
    return InlineKeyboardButton(label, callback_data=cb.encode(FLOW, action, *args))


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


async def _give_consent(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Consent to the human library, then show the events."""
    query = pressed(update)
    if not person.registered:
        await answer_expired(query, context, person.language)
        return
    async with services_of(context).db.session() as session:
        await citizens.set_consent(
            person.telegram_user_id, Purpose.human_library, True, session=session
        )
    await show(query, t(context, person.language, "library.consent_thanks"))
    text, markup = await _events_page(context, person)
    await context.bot.send_message(person.telegram_user_id, text, reply_markup=markup)


# --- events and catalogue -------------------------------------------------------------------


def _when(context: ContextTypes.DEFAULT_TYPE, moment: datetime, lang: str) -> str:
    return format_datetime(moment, lang, services_of(context).settings.tz)


def _slot_label(
    context: ContextTypes.DEFAULT_TYPE, start: datetime, end: datetime, lang: str
) -> str:
    """`09:00–09:30 น.` / `09:00–09:30`, in the city's time."""
    tz = services_of(context).settings.tz
    return f"{start.astimezone(tz):%H:%M}–{format_time(end.astimezone(tz).time(), lang)}"


def _title(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or next(iter(texts.values()), "")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _language_names(codes: Sequence[str], lang: str) -> str:
    """Book languages by name in the reader's language (Babel's CLDR names)."""
    names = Locale.parse(lang).languages
    return ", ".join(names.get(code, code) for code in codes)


async def _events_page(
    context: ContextTypes.DEFAULT_TYPE, person: Person
) -> tuple[str, InlineKeyboardMarkup]:
    """The upcoming events with free seats, each a button; and "My loans"."""
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        events = await library.upcoming_events(now=clock.now(), session=session)
    shown = [event for event in events if event.book_ids][:MAX_EVENTS]
    my_loans = [_button(context, lang, "my_loans", "my")]
    if not shown:
        return t(context, lang, "library.no_events"), InlineKeyboardMarkup([my_loans])
    lines = [
        t(context, lang, "library.event_line", when=_when(context, e.starts_at, lang),
          place=e.place_text, books=len(e.book_ids), free=e.seats_free)
        for e in shown
    ]  # fmt: skip
    text = t(context, lang, "library.events", events=Raw("\n\n".join(lines)))
    rows = [[_labelled(_when(context, e.starts_at, lang), "ev", e.id)] for e in shown]
    return text, InlineKeyboardMarkup([*rows, my_loans])


async def _live_event(context: ContextTypes.DEFAULT_TYPE, event_id: int) -> EventView | None:
    """The event if readers may still use it: it exists, is not cancelled and not over."""
    async with services_of(context).db.session(readonly=True) as session:
        event = await library.event_view(event_id, session=session)
    if event is None or event.cancelled or event.ends_at <= clock.now():
        return None
    return event


async def _listed_books(context: ContextTypes.DEFAULT_TYPE, event_id: int) -> list[BookAtEvent]:
    async with services_of(context).db.session(readonly=True) as session:
        try:
            return await library.event_books(event_id, session=session)
        except UnknownLibraryEvent:
            return []


async def _show_event(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """An event's catalogue (`ev:<event>`), filtered by a tag (`evt:<event>:<tag number>`) or
    a language (`evl:<event>:<code>`)."""
    query = pressed(update)
    data = cb.decode(query.data)
    action = data.action if data is not None else ""
    ids = int_args(args[:1], 1)
    event = await _live_event(context, ids[0]) if ids else None
    if event is None or (action == "ev" and len(args) != 1) or (action != "ev" and len(args) != 2):
        await answer_expired(query, context, person.language)
        return
    books = await _listed_books(context, event.id)
    tags = sorted({tag for at in books for tag in at.book.tags})
    languages = sorted({code for at in books for code in at.book.languages})
    tag: str | None = None
    language: str | None = None
    if action == "evt":
        number = int_args(args[1:], 1)
        if number is None or number[0] >= len(tags):
            await answer_expired(query, context, person.language)
            return
        tag = tags[number[0]]
    elif action == "evl":
        if args[1] not in languages:
            await answer_expired(query, context, person.language)
            return
        language = args[1]
    text, markup = _catalogue(context, person, event, books, tags, languages, tag, language)
    await show(query, text, markup)


def _catalogue(
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    event: EventView,
    books: Sequence[BookAtEvent],
    tags: Sequence[str],
    languages: Sequence[str],
    tag: str | None,
    language: str | None,
) -> tuple[str, InlineKeyboardMarkup]:
    lang = person.language
    chosen = [
        at for at in books
        if (tag is None or tag in at.book.tags)
        and (language is None or language in at.book.languages)
    ][:MAX_BOOKS]  # fmt: skip
    lines = [
        t(context, lang, "library.book_line", title=_title(at.book.title, lang),
          languages=_language_names(at.book.languages, lang),
          tags=" ".join(f"#{word}" for word in at.book.tags),
          free=at.free_slots, waitlist=at.waitlist)
        for at in chosen
    ]  # fmt: skip
    if tag is not None:
        shown_filter = t(context, lang, "library.filter_tag", tag=tag)
    elif language is not None:
        shown_filter = t(context, lang, "library.filter_language",
                         language=_language_names([language], lang))  # fmt: skip
    else:
        shown_filter = ""
    text = t(
        context, lang, "library.catalogue",
        when=_when(context, event.starts_at, lang), place=event.place_text,
        filter=Raw(shown_filter),
        books=Raw("\n\n".join(lines) if lines else t(context, lang, "library.no_books")),
    )  # fmt: skip
    rows = [
        [_labelled(_short(_title(at.book.title, lang), LABEL_CHARS), "bk", event.id, at.book.id)]
        for at in chosen
    ]
    if len(books) > 1:
        # A tag travels as its number in the sorted list (Thai tags do not fit callback data);
        # should the books change meanwhile, the header names the tag actually shown.
        tag_buttons = [
            _labelled(_short(f"#{name}", LABEL_CHARS), "evt", event.id, number)
            for number, name in enumerate(tags[:MAX_TAG_BUTTONS])
        ]
        rows += _rows(tag_buttons, 3)
        if len(languages) > 1:
            rows += _rows(
                [
                    _labelled(_language_names([code], lang), "evl", event.id, code)
                    for code in languages
                ],
                3,
            )
    if tag is not None or language is not None:
        rows.append([_button(context, lang, "all_books", "ev", event.id)])
    last = [_button(context, lang, "back", "events")]
    if event.latitude is not None and event.longitude is not None:
        last.insert(0, _button(context, lang, "map", "map", event.id))
    rows.append(last)
    return text, InlineKeyboardMarkup(rows)


async def _send_map(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The event's place on a map, only when the reader asks for it."""
    query = pressed(update)
    ids = int_args(args, 1)
    event = await _live_event(context, ids[0]) if ids else None
    if event is None or event.latitude is None or event.longitude is None:
        await answer_expired(query, context, person.language)
        return
    await query.answer()
    await context.bot.send_location(
        person.telegram_user_id, latitude=event.latitude, longitude=event.longitude
    )


# --- a book's page and reserving ------------------------------------------------------------


async def _book_at(
    context: ContextTypes.DEFAULT_TYPE, args: tuple[str, ...], count: int
) -> tuple[EventView, BookAtEvent, list[int]] | None:
    """The live event and the listed book the data names (event, book, ...), or None."""
    ids = int_args(args, count)
    if ids is None:
        return None
    event = await _live_event(context, ids[0])
    if event is None:
        return None
    found = next(
        (at for at in await _listed_books(context, event.id) if at.book.id == ids[1]), None
    )
    return None if found is None else (event, found, ids)


async def _show_book(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """A book's page: who they are, the languages they speak and their free times."""
    query = pressed(update)
    found = await _book_at(context, args, 2)
    if found is None:
        await answer_expired(query, context, person.language)
        return
    event, at, _ = found
    text, markup = _book_page(context, person, event, at)
    await show(query, text, markup)


def _book_page(
    context: ContextTypes.DEFAULT_TYPE, person: Person, event: EventView, at: BookAtEvent
) -> tuple[str, InlineKeyboardMarkup]:
    lang = person.language
    book = at.book
    text = t(
        context, lang, "library.book_page",
        title=_title(book.title, lang), blurb=_title(book.blurb, lang),
        languages=_language_names(book.languages, lang),
        when=_when(context, event.starts_at, lang), place=event.place_text,
        free=at.free_slots, waitlist=at.waitlist,
    )  # fmt: skip
    free = [slot for slot in at.slots if slot.free]
    slot_buttons = [
        _labelled(_slot_label(context, slot.starts_at, slot.ends_at, lang), "rs",
                  event.id, book.id, slot.index)
        for slot in free
    ]  # fmt: skip
    rows = _rows(slot_buttons, 2)
    if free:
        rows.append([_button(context, lang, "first_free", "ff", event.id, book.id)])
    elif any(not slot.started for slot in at.slots):
        rows.append([_button(context, lang, "waitlist", "wl", event.id, book.id)])
    rows.append([_button(context, lang, "back", "ev", event.id)])
    return text, InlineKeyboardMarkup(rows)


async def _reserve(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Reserve a named slot (`rs`), the first free one (`ff`), or join the waitlist (`wl`)."""
    query = pressed(update)
    data = cb.decode(query.data)
    named = data is not None and data.action == "rs"
    found = await _book_at(context, args, 3 if named else 2)
    if found is None:
        await answer_expired(query, context, person.language)
        return
    event, at, ids = found
    slot_index = ids[2] if named else None
    if slot_index is not None and slot_index >= event.slots_per_book:
        await answer_expired(query, context, person.language)
        return
    lang = person.language
    user = query.from_user
    try:
        async with services_of(context).db.session() as session:
            reservation = await library.reserve(
                event.id, at.book.id, person.telegram_user_id,
                reader_name=user.full_name, language=lang, press_order=update.update_id,
                slot_index=slot_index, session=session,
            )  # fmt: skip
    except ReservationRefused as refusal:
        await query.answer()
        await context.bot.send_message(
            person.telegram_user_id, t(context, lang, f"library.refused.{refusal.reason}")
        )
        return
    except ConsentRequired:
        await query.answer()
        await GATE.ask(context, person)
        return
    except (UnknownLibraryEvent, UnknownBook, NotRegistered):
        await answer_expired(query, context, lang)
        return
    await query.answer()
    if reservation.waitlisted:
        markup = InlineKeyboardMarkup([[_button(context, lang, "my_loans", "my")]])
        text = t(context, lang, "library.waitlisted", title=_title(reservation.book_title, lang),
                 position=reservation.waitlist_position or 1)  # fmt: skip
        await edit(query, text, markup)
        return
    await edit(
        query, _confirmation(context, reservation, lang), _after_markup(context, reservation, lang)
    )
    await _send_calendar(context, reservation, person.telegram_user_id, lang)
    await _tell_book(context, reservation, user.first_name)


def _confirmation(context: ContextTypes.DEFAULT_TYPE, reservation: Reservation, lang: str) -> str:
    assert reservation.starts_at is not None and reservation.ends_at is not None
    ends = reservation.ends_at.astimezone(services_of(context).settings.tz)
    return t(
        context, lang, "library.reserved",
        title=_title(reservation.book_title, lang),
        when=_when(context, reservation.starts_at, lang),
        until=format_time(ends.time(), lang),
        place=reservation.place_text,
    )  # fmt: skip


def _after_markup(
    context: ContextTypes.DEFAULT_TYPE, reservation: Reservation, lang: str
) -> InlineKeyboardMarkup:
    row = [_button(context, lang, "my_loans", "my")]
    if reservation.latitude is not None and reservation.longitude is not None:
        row.insert(0, _button(context, lang, "map", "map", reservation.event_id))
    return InlineKeyboardMarkup([row])


def library_link(bot: Bot) -> str:
    """The link back to the bot that opens /library."""
    return f"https://t.me/{bot.username}?start={DEEP_LINK}"


def loan_calendar(context: ContextTypes.DEFAULT_TYPE, reservation: Reservation, lang: str) -> bytes:
    """The loan as an `.ics` file: local times, place, map point and a link back to the bot."""
    assert reservation.starts_at is not None and reservation.ends_at is not None
    settings = services_of(context).settings
    link = library_link(context.bot)
    title = _title(reservation.book_title, lang)
    # Calendar text is plain, not HTML: undo the catalog's escaping.
    summary = html.unescape(t(context, lang, "library.ics_title", title=title))
    description = html.unescape(t(context, lang, "library.ics_description", title=title, link=link))
    event = IcsEvent(
        uid=f"library-reservation-{reservation.id}@learncity",
        title=summary,
        starts_at=reservation.starts_at,
        ends_at=reservation.ends_at,
        place=reservation.place_text,
        latitude=reservation.latitude,
        longitude=reservation.longitude,
        description=description,
        url=link,
    )
    return calendar_file([event], timezone=settings.timezone)


async def _send_calendar(
    context: ContextTypes.DEFAULT_TYPE, reservation: Reservation, chat_id: int, lang: str
) -> None:
    await context.bot.send_document(
        chat_id,
        document=loan_calendar(context, reservation, lang),
        filename=f"human-library-{reservation.id}.ics",
        caption=t(context, lang, "library.ics_caption"),
    )


async def _language_of(context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int) -> str:
    """A person's chosen language, or the city's default if they never registered."""
    services = services_of(context)
    async with services.db.session(readonly=True) as session:
        citizen = await citizens.get_citizen(telegram_user_id, session=session)
    return citizen.language if citizen is not None else services.settings.default_language


async def _send_quietly(action: Awaitable[object], who: str) -> bool:
    """A message to someone other than the presser: their block must not fail the press."""
    try:
        await action
    except Forbidden:
        logger.info("could not reach the %s: they blocked the bot or never started it", who)
        return False
    except TelegramError:
        logger.warning("could not send to the %s", who, exc_info=True)
        return False
    return True


def _first_name(reader_name: str) -> str:
    """The first word of the name a reader gave Telegram (a book sees no more)."""
    return (reader_name.split() or [reader_name])[0]


async def _tell_book(
    context: ContextTypes.DEFAULT_TYPE, reservation: Reservation, reader_first_name: str
) -> None:
    """A linked book hears of a new loan: time and the reader's first name, with Stop/report."""
    book_id = reservation.book_telegram_user_id
    if book_id is None or not reservation.reserved or reservation.starts_at is None:
        return
    lang = await _language_of(context, book_id)
    text, markup = _book_notice(context, reservation, reader_first_name, lang)
    await _send_quietly(context.bot.send_message(book_id, text, reply_markup=markup), "book")


def _book_notice(
    context: ContextTypes.DEFAULT_TYPE, reservation: Reservation, reader: str, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    assert reservation.starts_at is not None
    text = t(
        context, lang, "library.book_notice",
        reader=reader, title=_title(reservation.book_title, lang),
        when=_when(context, reservation.starts_at, lang), place=reservation.place_text,
    )  # fmt: skip
    markup = InlineKeyboardMarkup([[_button(context, lang, "stop", "stop", reservation.id)]])
    return text, markup


async def tell_promoted(context: ContextTypes.DEFAULT_TYPE, promotion: Promotion) -> None:
    """A waitlisted reader got a seat: tell them in their language, with their .ics file;
    a linked book hears of its new reader."""
    reservation = promotion.reservation
    if reservation.starts_at is None:
        return
    reader = promotion.telegram_user_id
    lang = await _language_of(context, reader)
    text = t(
        context, lang, "library.promoted",
        title=_title(reservation.book_title, lang),
        when=_when(context, reservation.starts_at, lang), place=reservation.place_text,
    )  # fmt: skip
    if await _send_quietly(
        context.bot.send_message(
            reader, text, reply_markup=_after_markup(context, reservation, lang)
        ),
        "promoted reader",
    ):
        await _send_quietly(_send_calendar(context, reservation, reader, lang), "promoted reader")
    await _tell_book(context, reservation, _first_name(reservation.reader_name))


# --- my loans and cancelling ----------------------------------------------------------------


async def _show_my_loans(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The reader's upcoming loans and waitlist places, each with Cancel."""
    query = pressed(update)
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        loans = await library.my_loans(person.telegram_user_id, now=clock.now(), session=session)
    rows: list[list[InlineKeyboardButton]] = []
    lines: list[str] = []
    for loan in loans:
        title = _title(loan.book_title, lang)
        lines.append(_loan_line(context, loan, lang))
        rows.append([_button(context, lang, "cancel_loan", "cx", loan.id,
                             title=_short(title, TITLE_IN_LABEL))])  # fmt: skip
    rows.append([_button(context, lang, "events", "events")])
    text = (
        t(context, lang, "library.my_loans", loans=Raw("\n\n".join(lines)))
        if lines
        else t(context, lang, "library.no_loans")
    )
    await show(query, text, InlineKeyboardMarkup(rows))


def _loan_line(context: ContextTypes.DEFAULT_TYPE, loan: Reservation, lang: str) -> str:
    title = _title(loan.book_title, lang)
    if loan.reserved and loan.starts_at is not None:
        return t(context, lang, "library.loan_line", title=title,
                 when=_when(context, loan.starts_at, lang), place=loan.place_text)  # fmt: skip
    return t(context, lang, "library.waitlist_line", title=title,
             position=loan.waitlist_position or 1,
             when=_when(context, loan.event_starts_at, lang), place=loan.place_text)  # fmt: skip


async def _own_active(
    context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> Reservation | None:
    """The presser's own reservation the data names, while it still holds or waits for a seat
    at an event that is on (a retired book's or a cancelled event's were released)."""
    ids = int_args(args, 1)
    if ids is None:
        return None
    async with services_of(context).db.session(readonly=True) as session:
        reservation = await library.get_reservation(ids[0], session=session)
    if (
        reservation is None
        or reservation.telegram_user_id != person.telegram_user_id
        or not reservation.status.is_active
        or await _live_event(context, reservation.event_id) is None
    ):
        return None
    return reservation


async def _ask_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Ask before cancelling a loan or a waitlist place."""
    query = pressed(update)
    reservation = await _own_active(context, person, args)
    if reservation is None:
        await answer_expired(query, context, person.language)
        return
    lang = person.language
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "cancel_yes", "cxy", reservation.id),
          _button(context, lang, "cancel_no", "my")]]
    )  # fmt: skip
    text = t(
        context, lang, "library.cancel_confirm", loan=Raw(_loan_line(context, reservation, lang))
    )
    await show(query, text, markup)


async def _cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Cancel; a freed seat goes to the waitlist, and the promoted reader is told."""
    query = pressed(update)
    reservation = await _own_active(context, person, args)
    if reservation is None:
        await answer_expired(query, context, person.language)
        return
    try:
        async with services_of(context).db.session() as session:
            promotion = await library.cancel_reservation(
                reservation.id, person.telegram_user_id, session=session
            )
    except UnknownReservation:  # also someone else's (NotYourReservation)
        await answer_expired(query, context, person.language)
        return
    lang = person.language
    await query.answer()
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "my_loans", "my"), _button(context, lang, "events", "events")]]
    )
    await edit(query, t(context, lang, "library.cancelled",
                        title=_title(reservation.book_title, lang)), markup)  # fmt: skip
    if promotion is not None:
        await tell_promoted(context, promotion)


# --- stop / report (the linked book) --------------------------------------------------------


async def _book_loan(
    context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> Reservation | None:
    """The reservation the data names, if the presser is the book linked to it."""
    ids = int_args(args, 1)
    if ids is None:
        return None
    async with services_of(context).db.session(readonly=True) as session:
        reservation = await library.get_reservation(ids[0], session=session)
    if reservation is None or reservation.book_telegram_user_id != person.telegram_user_id:
        return None
    if not reservation.reserved and reservation.stopped_at is None:
        return None  # cancelled or released: there is no loan to stop
    return reservation


async def _ask_stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The book pressed Stop / report: ask before stopping the loan."""
    query = pressed(update)
    reservation = await _book_loan(context, person, args)
    if reservation is None:
        await answer_expired(query, context, person.language)
        return
    lang = person.language
    reader = _first_name(reservation.reader_name)
    await query.answer()
    if reservation.stopped_at is not None:
        await edit(query, t(context, lang, "library.stop_already", reader=reader))
        return
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "stop_yes", "stopy", reservation.id)],
         [_button(context, lang, "stop_no", "stopn", reservation.id)]]
    )  # fmt: skip
    await edit(query, t(context, lang, "library.stop_confirm", reader=reader), markup)


async def _keep_loan(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The book changed its mind: show the loan notice again, nothing changed."""
    query = pressed(update)
    reservation = await _book_loan(context, person, args)
    if reservation is None or reservation.starts_at is None or reservation.stopped_at is not None:
        await answer_expired(query, context, person.language)
        return
    text, markup = _book_notice(
        context, reservation, _first_name(reservation.reader_name), person.language
    )
    await show(query, text, markup)


async def _stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Stop the loan and bar the reader from this book; the facilitators are told at once."""
    query = pressed(update)
    reservation = await _book_loan(context, person, args)
    if reservation is None:
        await answer_expired(query, context, person.language)
        return
    try:
        async with services_of(context).db.session() as session:
            report = await library.stop_loan(
                reservation.id, by=person.telegram_user_id, session=session
            )
    except (UnknownReservation, LibraryAccessDenied):
        await answer_expired(query, context, person.language)
        return
    lang = person.language
    await query.answer()
    await edit(
        query, t(context, lang, "library.stopped", reader=_first_name(reservation.reader_name))
    )
    # The facilitators' flow owns the notice (the roster's stop button sends the same one).
    await notify_facilitators_of_stop(context, report, stopped_by=person.telegram_user_id)
    for promotion in report.promotions:
        await tell_promoted(context, promotion)


# --- feedback after a loan ------------------------------------------------------------------


async def _rating_poll_ids(session: AsyncSession) -> list[str]:
    return await library_lib.feedback_poll_ids(session=session)


def _rating_polls(bot_data: dict[Any, Any]) -> KnownPolls:
    known = bot_data.setdefault(RATING_POLLS_KEY, KnownPolls(_rating_poll_ids))
    assert isinstance(known, KnownPolls)
    return known


def _waits(context: ContextTypes.DEFAULT_TYPE) -> dict[int, FeedbackWait]:
    return waits_of(context, WAITS_KEY)


async def on_rating_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A vote on a rating poll: store it, ask what they learned, and stop there.

    Any other poll's vote is left alone (no stop), for handlers.needs to store (the order is
    handlers.poll_updates').
    """
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    if not _rating_polls(context.application.bot_data).may_own(answer.poll_id):
        return  # most votes are survey answers: no query for them
    services = services_of(context)
    async with services.db.session(readonly=True) as session:
        poll = await library_lib.feedback_poll(answer.poll_id, session=session)
    if poll is None:
        return
    options = list(answer.option_ids)
    rating = options[0] + 1 if options else None
    if rating is not None and not 1 <= rating <= 5:
        raise ApplicationHandlerStop
    async with services.db.session() as session:
        stored = await library.record_rating(
            answer.poll_id, answer.user.id, rating, session=session
        )
    waits = _waits(context)
    already_waiting = (
        answer.user.id in waits and waits[answer.user.id].reservation_id == poll.reservation_id
    )
    if stored and rating is not None and not poll.has_text and not already_waiting:
        person = await load_person(update, context)
        waits[answer.user.id] = FeedbackWait(poll.reservation_id, time.monotonic())
        await context.bot.send_message(
            answer.user.id,
            t(context, person.language, "library.feedback_ask_text", minutes=FEEDBACK_MINUTES),
        )
    raise ApplicationHandlerStop


async def _on_feedback_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "What did you learn?": stored with its detected language."""
    message = update.effective_message
    user = update.effective_user
    wait = _waits(context).pop(user.id, None) if user is not None else None
    if wait is None or message is None or not message.text or user is None:
        return
    text = message.text.strip()[: library.FEEDBACK_TEXT_MAX_LENGTH]
    person = await load_person(update, context)
    if text:
        async with services_of(context).db.session() as session:
            try:
                await library.record_feedback_text(
                    wait.reservation_id, user.id, text, detect_language(text), session=session
                )
            except UnknownReservation:  # forgotten meanwhile (/forget)
                logger.info("feedback text for a reservation that is gone")
                raise ApplicationHandlerStop from None
    await reply(update, context, person.language, "library.feedback_thanks")
    raise ApplicationHandlerStop


# action → (callback, only for registered readers who consented)
_ACTIONS: dict[str, tuple[Action, bool]] = {
    "consent": (_give_consent, False),
    "events": (back_to(_events_page), True),
    "ev": (_show_event, True),
    "evt": (_show_event, True),
    "evl": (_show_event, True),
    "map": (_send_map, True),
    "bk": (_show_book, True),
    "rs": (_reserve, True),
    "ff": (_reserve, True),
    "wl": (_reserve, True),
    "my": (_show_my_loans, True),
    "cx": (_ask_cancel, True),
    "cxy": (_cancel, True),
    # A book need not be a registered citizen: these check that the presser is the book.
    "stop": (_ask_stop, False),
    "stopn": (_keep_loan, False),
    "stopy": (_stop, False),
}
