"""/mysessions: a citizen's upcoming library loans and council meetings in one list.

One time-ordered list (storage.council.my_sessions): library loans (reserved, or a place on
a waitlist) and council meetings the person answered yes or maybe, each with its date in their
language and two buttons: Cancel (asked first; a loan is cancelled, and a reader promoted from
the waitlist is told exactly as /library does; a council answer becomes "no") and `.ics` (the
item's calendar file, local times, with a link back to the bot).

Buttons carry the kind and the id only (`v1:mys:<action>:<l|c>:<id>`); each press re-reads
the person's own list: an item that is not in it (another person's, cancelled, past) gets
"expired" and nothing changes.
"""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n.catalog import Raw
from bot.i18n.dates import format_datetime
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.council import send_meeting_calendar, title_in
from handlers.library import loan_calendar, tell_promoted
from handlers.people import Person, load_person
from handlers.press import Action, Buttons, back_to, chosen, pressed, show
from handlers.replies import answer_expired, edit, t
from storage import clock, council, library
from storage.council import Meeting, SessionItem
from storage.enums import RsvpAnswer
from storage.errors import (
    ConsentRequired,
    CouncilRefused,
    NotRegistered,
    UnknownMeeting,
    UnknownReservation,
)
from storage.library import Reservation

FLOW: Final = "mys"
# The kind of an item travels as one letter in the button data.
_KIND_CODES: Final = {"l": "library", "c": "council"}
_CODE_OF: Final = {kind: code for code, kind in _KIND_CODES.items()}
MAX_ITEMS: Final = 20  # keeps the message and its keyboard within Telegram's limits


def register(app: AnyApplication) -> None:
    """Add /mysessions and its buttons."""
    app.add_handler(CommandHandler("mysessions", _on_mysessions, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))


async def _on_mysessions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The person's upcoming sessions, soonest first."""
    person = await load_person(update, context)
    if not person.registered:
        await context.bot.send_message(
            person.telegram_user_id, t(context, person.language, "mysessions.unregistered")
        )
        return
    text, markup = await _page(context, person)
    await context.bot.send_message(person.telegram_user_id, text, reply_markup=markup)


# --- the list -------------------------------------------------------------------------------


async def _items(context: ContextTypes.DEFAULT_TYPE, person: Person) -> list[SessionItem]:
    async with services_of(context).db.session(readonly=True) as session:
        found = await council.my_sessions(person.telegram_user_id, now=clock.now(), session=session)
    return found[:MAX_ITEMS]


async def _page(
    context: ContextTypes.DEFAULT_TYPE, person: Person, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list with Cancel and .ics per item (a notice of what just changed goes first)."""
    lang = person.language
    items = await _items(context, person)
    if not items:
        body = t(context, lang, "mysessions.empty")
        return (body if notice is None else f"{notice}\n\n{body}"), None
    lines = [_line(context, lang, number, item) for number, item in enumerate(items, 1)]
    body = t(context, lang, "mysessions.list", items=Raw("\n\n".join(lines)))
    rows: list[list[InlineKeyboardButton]] = []
    for number, item in enumerate(items, 1):
        code = _CODE_OF[item.kind]
        row = [_button(context, lang, "cancel", "cx", code, item.id, number=number)]
        if _has_calendar(item):
            row.append(_button(context, lang, "ics", "ics", code, item.id, number=number))
        rows.append(row)
    return (body if notice is None else f"{notice}\n\n{body}"), InlineKeyboardMarkup(rows)


def _has_calendar(item: SessionItem) -> bool:
    """A waitlist place holds no time of its own yet: no calendar entry until it has a seat."""
    return not (item.kind == "library" and item.status == "waitlisted")


def _line(context: ContextTypes.DEFAULT_TYPE, lang: str, number: int, item: SessionItem) -> str:
    return t(context, lang, "mysessions.line", number=number, item=Raw(_item(context, lang, item)))


def _item(context: ContextTypes.DEFAULT_TYPE, lang: str, item: SessionItem) -> str:
    """What, when, where, and the person's status (reserved, waitlist, yes, maybe)."""
    return t(
        context, lang, "mysessions.item",
        kind=t(context, lang, f"mysessions.kind.{item.kind}"), title=title_in(item.title, lang),
        when=format_datetime(item.starts_at, lang, services_of(context).settings.tz),
        place=item.place_text, status=t(context, lang, f"mysessions.status.{item.status}"),
    )  # fmt: skip


_button: Final = Buttons(FLOW, "mysessions.button.")

# --- buttons --------------------------------------------------------------------------------


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every /mysessions button; the item it names must be in the presser's own list."""
    person = await load_person(update, context)
    found = await chosen(update, context, person, _ACTIONS)
    if found is None:
        return
    action, args = found
    if not person.registered:
        await answer_expired(pressed(update), context, person.language)
        return
    await action(update, context, person, args)


async def _own_item(
    context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> SessionItem | None:
    """The item the data names (`<l|c>:<id>`) if it is in the presser's list right now."""
    if len(args) != 2 or args[0] not in _KIND_CODES:
        return None
    if not args[1].isdigit() or len(args[1]) > 12:
        return None
    kind, item_id = _KIND_CODES[args[0]], int(args[1])
    return next(
        (i for i in await _items(context, person) if i.kind == kind and i.id == item_id), None
    )


async def _ask_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Ask before cancelling a loan, a waitlist place or a council answer."""
    query = pressed(update)
    item = await _own_item(context, person, args)
    if item is None:
        await answer_expired(query, context, person.language)
        return
    lang = person.language
    code = _CODE_OF[item.kind]
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "cancel_yes", "cxy", code, item.id),
          _button(context, lang, "cancel_no", "list")]]
    )  # fmt: skip
    text = t(
        context,
        lang,
        f"mysessions.confirm_{item.kind}",
        item=Raw(_item(context, lang, item)),
    )
    await show(query, text, markup)


async def _cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Cancel the loan (a freed seat goes to the waitlist) or answer "no" to the meeting."""
    query = pressed(update)
    lang = person.language
    item = await _own_item(context, person, args)
    if item is None:
        await answer_expired(query, context, lang)
        return
    title = title_in(item.title, lang)
    if item.kind == "library":
        try:
            async with services_of(context).db.session() as session:
                promotion = await library.cancel_reservation(
                    item.id, person.telegram_user_id, session=session
                )
        except UnknownReservation:  # also someone else's (NotYourReservation)
            await answer_expired(query, context, lang)
            return
        await query.answer()
        notice = t(context, lang, "mysessions.cancelled_library", title=title)
        text, markup = await _page(context, person, notice)
        await edit(query, text, markup)
        if promotion is not None:
            await tell_promoted(context, promotion)
        return
    try:
        async with services_of(context).db.session() as session:
            await council.rsvp(
                item.id, person.telegram_user_id, RsvpAnswer.no, lang,
                display_name=query.from_user.full_name, session=session,
            )  # fmt: skip
    except (CouncilRefused, UnknownMeeting, NotRegistered):  # begun or cancelled meanwhile
        await answer_expired(query, context, lang)
        return
    except ConsentRequired:  # consent withdrawn: /council asks for it again
        await query.answer(t(context, lang, "mysessions.council_consent"), show_alert=True)
        return
    await query.answer()
    notice = t(context, lang, "mysessions.cancelled_council", title=title)
    text, markup = await _page(context, person, notice)
    await edit(query, text, markup)


async def _send_calendar(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The item's `.ics` file: local times and a link back to the bot."""
    query = pressed(update)
    lang = person.language
    item = await _own_item(context, person, args)
    if item is None or not _has_calendar(item):
        await answer_expired(query, context, lang)
        return
    reservation: Reservation | None = None
    meeting: Meeting | None = None
    async with services_of(context).db.session(readonly=True) as session:
        if item.kind == "library":
            reservation = await library.get_reservation(item.id, session=session)
        else:
            meeting = await council.get_meeting(item.id, session=session)
    if reservation is not None and reservation.starts_at is not None:
        await query.answer()
        await context.bot.send_document(
            person.telegram_user_id,
            document=loan_calendar(context, reservation, lang),
            filename=f"human-library-{reservation.id}.ics",
            caption=t(context, lang, "mysessions.ics_caption", title=title_in(item.title, lang)),
        )
        return
    if meeting is not None:
        await query.answer()
        await send_meeting_calendar(context, meeting, person.telegram_user_id, lang)
        return
    await answer_expired(query, context, lang)


_ACTIONS: dict[str, Action] = {
    "list": back_to(_page),
    "cx": _ask_cancel,
    "cxy": _cancel,
    "ics": _send_calendar,
}
