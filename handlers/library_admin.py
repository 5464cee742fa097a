"""`/events` (facilitators): their library events — roster, feedback, cancel the event,
withdraw a book, and stop/report a loan from the roster (safeguarding).

A facilitator sees the events they facilitate, upcoming and of the last 7 days; an admin sees
every event. Rosters name readers (as they gave their names to Telegram), so they are shown
only to that event's own facilitators, never to an admin who is not one. Every button names an
event, book or reservation by id, and each press re-checks it against the database and the
presser: forged or stale data gets "expired" and changes nothing.

Readers are told of a cancelled event or a withdrawn book through the delivery log (each in
their own language, exactly once, paced by the dispatcher). A stopped loan is told at once and
directly to the event's other facilitators by `notify_facilitators_of_stop`, which the book's
own "stop / report" button (handlers/library.py) uses too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Final, TypeAlias

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_date, format_datetime, format_time
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.guard import requires
from handlers.people import Person
from handlers.press import Press as BasePress
from handlers.replies import t
from storage import citizens, clock, deliveries, library
from storage.audit import actor_for
from storage.enums import LANGUAGES, ReservationStatus, Role
from storage.errors import LibraryAccessDenied, UnknownBook, UnknownLibraryEvent, UnknownReservation
from storage.library_libev import managed_events

logger = logging.getLogger(__name__)

FLOW: Final = "libev"
DELIVERY_KIND: Final = "library"
MAX_TEXT: Final = 3800  # Telegram takes 4096 characters; leave room for a header and a footer
MAX_BUTTONS: Final = 90  # Telegram takes 100 buttons in one keyboard
LABEL_CHARS: Final = 48
STOP_MARK: Final = "⛔"
BAR: Final = "▇"
BAR_MAX: Final = 20

Screen: TypeAlias = tuple[str, InlineKeyboardMarkup | None]


def register(app: AnyApplication) -> None:
    """Add /events and its buttons."""
    app.add_handler(CommandHandler("events", _on_events, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))


class Press(BasePress):
    """One press of an /events button: who pressed it and the data's arguments."""

    flow = FLOW

    def id(self) -> int | None:
        """The one integer argument, or None (forged data)."""
        ids = self.ids(1)
        return ids[0] if ids else None


Action = Callable[[Press], Awaitable[None]]


# --- small helpers ----------------------------------------------------------------------------


def _title(titles: Mapping[str, str], lang: str) -> str:
    return titles.get(lang) or next(iter(titles.values()), "")


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _hhmm(context: ContextTypes.DEFAULT_TYPE, moment: datetime) -> str:
    return f"{moment.astimezone(services_of(context).settings.tz):%H:%M}"


def _when(context: ContextTypes.DEFAULT_TYPE, lang: str, start: datetime, end: datetime) -> Raw:
    """ "ส. 5 ธ.ค. 2569, 09:00 น. – 10:30 น." / "Sat 5 Dec 2026, 09:00 – 10:30"."""
    tz = services_of(context).settings.tz
    start_text = format_datetime(start, lang, tz)
    end_text = format_time(end.astimezone(tz).time(), lang)
    return Raw(t(context, lang, "libev.when", start=start_text, end=end_text))


def _event_when(press: Press, view: library.EventView) -> Raw:
    return _when(press.context, press.lang, view.starts_at, view.ends_at)


def _loan_when(context: ContextTypes.DEFAULT_TYPE, lang: str, loan: library.Reservation) -> Raw:
    """When the loan is: its slot (or, for one without a slot, the event's start)."""
    if loan.starts_at is not None and loan.ends_at is not None:
        return _when(context, lang, loan.starts_at, loan.ends_at)
    tz = services_of(context).settings.tz
    return Raw(
        t(context, lang, "libev.when_start", start=format_datetime(loan.event_starts_at, lang, tz))
    )


def _fit(press: Press, lines: Sequence[str]) -> str:
    """As many lines as fit in one message, then how many were left out."""
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > MAX_TEXT:
            kept.append(press.t("libev.more", count=len(lines) - index))
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


async def _language_of(context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int) -> str:
    """The person's chosen language (the city's default if they are not registered)."""
    services = services_of(context)
    async with services.db.session(readonly=True) as session:
        citizen = await citizens.get_citizen(telegram_user_id, session=session)
    return citizen.language if citizen is not None else services.settings.default_language


async def _books_at(context: ContextTypes.DEFAULT_TYPE, event_id: int) -> list[library.BookAtEvent]:
    """Every book at the event, linked or not, withdrawn or not."""
    async with services_of(context).db.session(readonly=True) as session:
        return await library.event_books(event_id, include_unlisted=True, session=session)


def _is_admin(person: Person) -> bool:
    return person.role is Role.admin


async def _event(
    press: Press, event_id: int | None, *, own: bool = False, open_only: bool = False
) -> library.EventView | None:
    """The event, if the presser may manage it: one of its facilitators, or an admin (unless
    `own`). `open_only`: only while it can still change (neither cancelled nor over)."""
    if event_id is None:
        return None
    async with services_of(press.context).db.session(readonly=True) as session:
        view = await library.event_view(event_id, session=session)
    if view is None or (open_only and not _open(view)):
        return None
    if press.person.telegram_user_id in view.facilitator_ids:
        return view
    return view if _is_admin(press.person) and not own else None


def _open(view: library.EventView) -> bool:
    """Not cancelled and not over: it can still be cancelled or lose a book."""
    return not view.cancelled and view.ends_at > clock.now()


# --- the list and an event's card -------------------------------------------------------------


@requires(Role.facilitator)
async def _on_events(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """The events this person facilitates (an admin: all), upcoming and of the last days."""
    text, markup = await _list_screen(context, person)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _list_screen(context: ContextTypes.DEFAULT_TYPE, person: Person) -> Screen:
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        events = await managed_events(
            now=clock.now(),
            facilitator_id=None if _is_admin(person) else person.telegram_user_id,
            session=session,
        )
    if not events:
        return t(context, lang, "libev.none"), None
    tz = services_of(context).settings.tz
    rows = []
    for view in events:
        local = view.starts_at.astimezone(tz)
        label = f"{format_date(local.date(), lang, 'short')} {local:%H:%M} · {view.place_text}"
        rows.append(
            [InlineKeyboardButton(_short(label), callback_data=cb.encode(FLOW, "ev", view.id))]
        )
    return t(context, lang, "libev.list", count=len(events)), InlineKeyboardMarkup(rows)


async def _show_list(press: Press) -> None:
    """Back to the list of events."""
    await press.show(*await _list_screen(press.context, press.person))


async def _show_event(press: Press) -> None:
    """An event's card: when, where, its books and seats, and what can be done."""
    view = await _event(press, press.id())
    if view is None:
        await press.expired()
        return
    lines = []
    for item in await _books_at(press.context, view.id):
        title = _title(item.book.title, press.lang)
        if item.withdrawn_at is not None:
            lines.append(press.t("libev.book_withdrawn", title=title))
        elif not item.listed:
            lines.append(press.t("libev.book_unlisted", title=title))
        else:
            taken = sum(slot.seats_taken for slot in item.slots)
            seats = sum(slot.seats for slot in item.slots)
            lines.append(
                press.t(
                    "libev.book_line", title=title, taken=taken, seats=seats, waiting=item.waitlist
                )
            )
    status = (
        "libev.status_cancelled"
        if view.cancelled
        else "libev.status_upcoming"
        if _open(view)
        else "libev.status_ended"
    )
    text = press.t(
        "libev.card",
        id=view.id,
        when=_event_when(press, view),
        place=view.place_text,
        status=Raw(press.t(status)),
        books=Raw("\n".join(lines)),
    )
    first = [press.button("libev.button_feedback", "fb", view.id)]
    if press.person.telegram_user_id in view.facilitator_ids:
        first.insert(0, press.button("libev.button_roster", "ros", view.id))
    rows = [first]
    if _open(view):
        rows.append(
            [
                press.button("libev.button_withdraw", "wd", view.id),
                press.button("libev.button_cancel_event", "can", view.id),
            ]
        )
    rows.append([press.button("libev.button_all_events", "list")])
    await press.show(text, InlineKeyboardMarkup(rows))


# --- the roster and stop / report -------------------------------------------------------------


async def _show_roster(press: Press) -> None:
    """Readers per book and slot, then each book's waitlist; only for the event's facilitators."""
    view = await _event(press, press.id(), own=True)
    if view is None:
        await press.expired()
        return
    try:
        async with services_of(press.context).db.session(readonly=True) as session:
            lines = await library.roster(
                view.id, facilitator_id=press.person.telegram_user_id, session=session
            )
    except (LibraryAccessDenied, UnknownLibraryEvent):
        await press.expired()
        return
    at_event = await _books_at(press.context, view.id)
    text_lines: list[str] = []
    buttons: list[list[InlineKeyboardButton]] = []
    for item in at_event:
        title = _title(item.book.title, press.lang)
        of_book = [line for line in lines if line.book_id == item.book.id]
        withdrawn = item.withdrawn_at is not None
        text_lines.append(
            press.t(
                "libev.roster_book_withdrawn" if withdrawn else "libev.roster_book", title=title
            )
        )
        for slot in item.slots:
            readers = [
                line
                for line in of_book
                if line.status is ReservationStatus.reserved and line.slot_index == slot.index
            ]
            names = [
                press.t(
                    "libev.roster_stopped" if line.stopped else "libev.roster_name",
                    name=line.reader_name,
                )
                for line in readers
            ]
            start = _hhmm(press.context, slot.starts_at)
            text_lines.append(
                press.t(
                    "libev.roster_slot",
                    time=f"{start}–{_hhmm(press.context, slot.ends_at)}",
                    names=Raw(", ".join(names) or press.t("libev.roster_free")),
                )
            )
            for line in readers:
                if line.stopped:
                    continue
                label = f"{STOP_MARK} {start} {line.reader_name}"
                label += f" · {title}" if len(at_event) > 1 else ""
                data = cb.encode(FLOW, "stop", line.reservation_id)
                buttons.append([InlineKeyboardButton(_short(label), callback_data=data)])
        waiting = sorted(
            (line for line in of_book if line.status is ReservationStatus.waitlisted),
            key=lambda line: line.waitlist_position or 0,
        )
        if waiting:
            names = [
                press.t(
                    "libev.roster_waiting_name",
                    position=line.waitlist_position or 0,
                    name=line.reader_name,
                )
                for line in waiting
            ]
            text_lines.append(press.t("libev.roster_waitlist", names=Raw(", ".join(names))))
    text = press.t("libev.roster", id=view.id, when=_event_when(press, view))
    text += "\n" + _fit(press, text_lines)
    if buttons:
        text += "\n\n" + press.t("libev.roster_stop_hint")
    rows = [*buttons[:MAX_BUTTONS], [press.button("libev.button_back", "ev", view.id)]]
    await press.show(text, InlineKeyboardMarkup(rows))


async def _stoppable(press: Press) -> library.Reservation | None:
    """The reserved, not yet stopped loan the data names, at an event the presser facilitates."""
    ids = press.ids(1)
    if ids is None:
        return None
    async with services_of(press.context).db.session(readonly=True) as session:
        loan = await library.get_reservation(ids[0], session=session)
        if loan is None or not loan.reserved or loan.stopped_at is not None:
            return None
        user_id = press.person.telegram_user_id
        if not await library.is_facilitator(loan.event_id, user_id, session=session):
            return None
    return loan


async def _ask_stop(press: Press) -> None:
    """Make sure: stopping bars the reader from this book."""
    loan = await _stoppable(press)
    if loan is None:
        await press.expired()
        return
    markup = InlineKeyboardMarkup(
        [
            [press.button("libev.button_yes_stop", "stopy", loan.id)],
            [press.button("libev.button_back", "ros", loan.event_id)],
        ]
    )
    text = press.t(
        "libev.stop_confirm",
        book=_title(loan.book_title, press.lang),
        when=_loan_when(press.context, press.lang, loan),
        name=loan.reader_name,
    )
    await press.show(text, markup)


async def _stop(press: Press) -> None:
    """Stop the loan: the reader is barred from this book; the other facilitators are told."""
    loan = await _stoppable(press)
    if loan is None:
        await press.expired()
        return
    user_id = press.person.telegram_user_id
    try:
        async with services_of(press.context).db.session() as session:
            report = await library.stop_loan(loan.id, by=user_id, session=session)
    except (LibraryAccessDenied, UnknownReservation):
        await press.expired()
        return
    markup = InlineKeyboardMarkup([[press.button("libev.button_roster", "ros", loan.event_id)]])
    text = press.t(
        "libev.stop_done", book=_title(loan.book_title, press.lang), name=loan.reader_name
    )
    await press.show(text, markup)
    await notify_facilitators_of_stop(press.context, report, stopped_by=user_id)
    # The readers' flow tells a promoted reader (with their .ics file). It imports this module
    # for the notice above, so it is imported here, when first needed.
    from handlers.library import tell_promoted

    for promotion in report.promotions:
        await tell_promoted(press.context, promotion)


async def notify_facilitators_of_stop(
    context: ContextTypes.DEFAULT_TYPE, report: library.StopReport, *, stopped_by: int
) -> None:
    """Tell the event's facilitators at once, each in their language, that a loan was stopped.

    For the roster's button and the linked book's own "stop / report" button alike: pass what
    `storage.library.stop_loan` returned and who pressed. The message names the book, the
    loan's time and place and the reader's name (facilitators may see it), never a Telegram
    id, and whether the book or a facilitator stopped it, with a button to the roster. The
    facilitators are the report's (everyone but who stopped it); a repeated stop tells no one.
    """
    if not report.newly_stopped:
        return
    loan = report.reservation
    by_book = stopped_by == report.book_telegram_user_id
    for facilitator_id in report.facilitator_ids:
        lang = await _language_of(context, facilitator_id)
        by = t(
            context, lang, "libev.stopped_by_book" if by_book else "libev.stopped_by_facilitator"
        )
        text = t(
            context,
            lang,
            "libev.stop_notice",
            book=_title(loan.book_title, lang),
            when=_loan_when(context, lang, loan),
            place=loan.place_text,
            name=loan.reader_name,
            by=Raw(by),
        )
        roster = InlineKeyboardButton(
            t(context, lang, "libev.button_roster"),
            callback_data=cb.encode(FLOW, "ros", loan.event_id),
        )
        try:
            await context.bot.send_message(
                facilitator_id, text, reply_markup=InlineKeyboardMarkup([[roster]])
            )
        except TelegramError:
            logger.warning("a facilitator could not be told of a stopped loan", exc_info=True)


# --- feedback ---------------------------------------------------------------------------------


async def _show_feedback(press: Press) -> None:
    """Ratings (how many, the mean, a histogram) and what readers learned; no names."""
    view = await _event(press, press.id())
    if view is None:
        await press.expired()
        return
    async with services_of(press.context).db.session(readonly=True) as session:
        summary = await library.feedback_summary(view.id, session=session)
    titles = {
        i.book.id: _title(i.book.title, press.lang) for i in await _books_at(press.context, view.id)
    }
    if summary.mean_rating is None:
        mean = press.t("libev.no_ratings")
    else:
        mean = press.t("libev.mean", mean=f"{summary.mean_rating:.1f}")
    histogram = []
    for stars in range(5, 0, -1):
        count = summary.histogram.get(stars, 0)
        bar = BAR * min(count, BAR_MAX)
        histogram.append(press.t("libev.histogram_line", stars=stars, bar=bar, count=count))
    texts = [
        press.t("libev.feedback_text", text=item.text, book=titles.get(item.book_id, ""))
        for item in summary.texts
    ]
    text = press.t(
        "libev.feedback",
        id=view.id,
        when=_event_when(press, view),
        asked=summary.asked,
        count=summary.count,
        mean=Raw(mean),
        histogram=Raw("\n".join(histogram)),
    )
    text += "\n\n" + press.t("libev.learned") + "\n"
    text += _fit(press, texts) if texts else press.t("libev.no_texts")
    await press.show(
        text, InlineKeyboardMarkup([[press.button("libev.button_back", "ev", view.id)]])
    )


# --- cancel the event, withdraw a book --------------------------------------------------------


async def _ask_cancel(press: Press) -> None:
    """Make sure: every reader will be told."""
    view = await _event(press, press.id(), open_only=True)
    if view is None:
        await press.expired()
        return
    markup = InlineKeyboardMarkup(
        [
            [press.button("libev.button_yes_cancel", "cany", view.id)],
            [press.button("libev.button_back", "ev", view.id)],
        ]
    )
    text = press.t(
        "libev.cancel_confirm", id=view.id, when=_event_when(press, view), place=view.place_text
    )
    await press.show(text, markup)


async def _cancel(press: Press) -> None:
    """Cancel the event; every reader, reserved or waiting, is told in their language."""
    view = await _event(press, press.id(), open_only=True)
    if view is None:
        await press.expired()
        return
    async with services_of(press.context).db.session() as session:
        released = await library.cancel_event(
            view.id, by=press.person.telegram_user_id, session=session
        )

    def notice(lang: str) -> str:
        when = _when(press.context, lang, view.starts_at, view.ends_at)
        return t(press.context, lang, "libev.cancelled_notice", when=when, place=view.place_text)

    told = await _tell_readers(press, f"library-cancel:{view.id}", view.id, released, notice)
    markup = InlineKeyboardMarkup([[press.button("libev.button_all_events", "list")]])
    await press.show(press.t("libev.cancel_done", id=view.id, count=told), markup)


async def _choose_withdraw(press: Press) -> None:
    """Which book leaves the event."""
    view = await _event(press, press.id(), open_only=True)
    if view is None:
        await press.expired()
        return
    rows = [
        [
            InlineKeyboardButton(
                _short(_title(item.book.title, press.lang)),
                callback_data=cb.encode(FLOW, "wdb", view.id, item.book.id),
            )
        ]
        for item in await _books_at(press.context, view.id)
        if item.withdrawn_at is None
    ]
    key = "libev.withdraw_choose" if rows else "libev.withdraw_none"
    rows.append([press.button("libev.button_back", "ev", view.id)])
    await press.show(press.t(key, id=view.id), InlineKeyboardMarkup(rows))


async def _withdrawable(press: Press) -> tuple[library.EventView, library.BookAtEvent] | None:
    """The open event and a book still at it, as the data (event id, book id) names them."""
    ids = press.ids(2)
    if ids is None:
        return None
    event_id, book_id = ids
    view = await _event(press, event_id, open_only=True)
    if view is None:
        return None
    at_event = await _books_at(press.context, view.id)
    item = next((i for i in at_event if i.book.id == book_id and i.withdrawn_at is None), None)
    return None if item is None else (view, item)


async def _ask_withdraw(press: Press) -> None:
    """Make sure: the book's readers at this event will be told."""
    found = await _withdrawable(press)
    if found is None:
        await press.expired()
        return
    view, item = found
    markup = InlineKeyboardMarkup(
        [
            [press.button("libev.button_yes_withdraw", "wdy", view.id, item.book.id)],
            [press.button("libev.button_back", "ev", view.id)],
        ]
    )
    text = press.t(
        "libev.withdraw_confirm",
        book=_title(item.book.title, press.lang),
        id=view.id,
        when=_event_when(press, view),
    )
    await press.show(text, markup)


async def _withdraw(press: Press) -> None:
    """Withdraw the book from the event; its readers there are told in their language."""
    found = await _withdrawable(press)
    if found is None:
        await press.expired()
        return
    view, item = found
    try:
        async with services_of(press.context).db.session() as session:
            released = await library.withdraw_book(
                view.id, item.book.id, by=press.person.telegram_user_id, session=session
            )
    except (UnknownBook, UnknownLibraryEvent):
        await press.expired()
        return

    def notice(lang: str) -> str:
        when = _when(press.context, lang, view.starts_at, view.ends_at)
        return t(
            press.context,
            lang,
            "libev.withdrawn_notice",
            book=_title(item.book.title, lang),
            when=when,
            place=view.place_text,
        )

    purpose = f"library-withdraw:{view.id}:{item.book.id}"
    told = await _tell_readers(press, purpose, view.id, released, notice)
    markup = InlineKeyboardMarkup([[press.button("libev.button_back", "ev", view.id)]])
    book = _title(item.book.title, press.lang)
    await press.show(press.t("libev.withdraw_done", book=book, count=told), markup)


async def _tell_readers(
    press: Press,
    purpose: str,
    event_id: int,
    released: Sequence[library.Reservation],
    notice: Callable[[str], str],
) -> int:
    """Queue one message per reader, each in their language, once; return how many readers."""
    recipients = [deliveries.citizen_recipient(r.telegram_user_id, r.language) for r in released]
    if not recipients:
        return 0
    services = services_of(press.context)
    content: dict[str, str] = {language: notice(language) for language in LANGUAGES}
    async with services.db.session() as session:
        await deliveries.enqueue(
            purpose,
            DELIVERY_KIND,
            content,
            recipients,
            created_by=actor_for(press.person.telegram_user_id),
            audience=f"library-event:{event_id}",
            session=session,
        )
    if services.dispatcher is not None:
        services.dispatcher.wake()
    return len({r.telegram_user_id for r in released})


# --- buttons ----------------------------------------------------------------------------------


@requires(Role.facilitator)
async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Every /events button; whatever the data names is re-checked against the database."""
    await Press.dispatch(update, context, person, _ACTIONS)


_ACTIONS: dict[str, Action] = {
    "list": _show_list,
    "ev": _show_event,
    "ros": _show_roster,
    "stop": _ask_stop,
    "stopy": _stop,
    "fb": _show_feedback,
    "can": _ask_cancel,
    "cany": _cancel,
    "wd": _choose_withdraw,
    "wdb": _ask_withdraw,
    "wdy": _withdraw,
}
