"""Facilitators' coffee-council tools: the agenda vote, `/attendance` check-in, `/minutes`.

Agenda: `AGENDA_LEAD_DAYS` before a meeting, `schedules.council_jobs` offers each facilitator
of its series the shortlist (open action items, the month's most-requested needs, citizens'
suggestions) through `_offer_shortlist` here. The facilitator trims it with toggle buttons to
at most 12 items (the first 12 come ticked), may add a topic or rename one by typing
"ไทย / English", and opens the vote: the agenda is set and a native poll goes, through the
dispatcher, to everyone who said yes or maybe, each in their language (non-anonymous, several
answers). Votes are taken here by poll id before any other flow sees them; the job stops the
polls 2 hours before the meeting (see `schedules.council_jobs` for why not `close_date`).
The trimming state lives in the database (`storage.button_states`), since the offer is sent
by a job, not in a conversation: its buttons carry the state's key, replaced at every change,
so an older screen's buttons expire.

`/attendance`: for a meeting of theirs in its check-in window (30 minutes before the start to
its end), a QR code (PNG) of `https://t.me/<bot>?start=ci-<meeting>-<code>`, whose code
rotates every `CHECKIN_WINDOW_MINUTES` ("Refresh" sends the current one), and who is present,
with buttons to mark present those who said yes or maybe. The code is an HMAC made with a
secret derived from the bot token (no new setting; never logged). Opening the link checks the
person in once; through the same door as /council (`handlers.consent_gate`): a stranger is
pointed to /start, a citizen without coffee-council consent is asked, then checked in.

`/minutes`: recent and coming meetings → a meeting's screen (agenda ordered by votes,
minutes, action items with "done" buttons) → record minutes (Thai, then English, each
optional, at least one) and action items (what; owner: a button per attendee or RSVP, or a
typed name; due date typed d/m/yyyy, Buddhist Era too, or from a calendar) → "Send": stored,
and sent through the dispatcher to everyone checked in (else to those who said yes), each in
their language. An owner with a Telegram account is reminded by the time engine.

Who may act: a meeting's series facilitators, and admins (named in configuration; they may
act on every series). Every button names ids only and each press re-checks them.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import io
import logging
import re
import time as monotonic_time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, TypeAlias
from zoneinfo import ZoneInfo

import segno
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
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

from bot.date_input import parse_date
from bot.i18n.catalog import LANGUAGES, Catalogs, Raw
from bot.i18n.dates import format_date, format_datetime, format_time
from bot.services import AnyApplication, Services, services_from_app, services_of
from handlers import calendar_keyboard as calendar
from handlers import callback_data as cb
from handlers.awaiting import UserDataMatches, drop, fresh
from handlers.consent_gate import ConsentGate
from handlers.deep_links import register_deep_link
from handlers.guard import allows, requires
from handlers.people import Person, load_person
from handlers.poll_jobs import start_poll_job
from handlers.press import Buttons, Sent, int_args
from handlers.press import Press as BasePress
from handlers.replies import answer_expired, edit, t
from schedules.council_jobs import (
    AGENDA_PREFIX,
    COUNCIL_JOBS_KEY,
    MIN_POLL_ITEMS,
    CouncilJobs,
    VoteAlreadyOpen,
    label_of,
    minutes_purpose,
    open_vote,
    vote_opened,
)
from storage import audit, button_states, citizens, clock, council, deliveries
from storage.council import AgendaInput, Meeting
from storage.database import AsyncSession
from storage.enums import AgendaSource, Purpose, Role, RsvpAnswer
from storage.errors import (
    ConsentRequired,
    CouncilRefused,
    NotRegistered,
    UnknownActionItem,
    UnknownMeeting,
)
from storage.known_polls import KnownPolls

logger = logging.getLogger(__name__)

FLOW: Final = "cadm"
CHECKIN_FLOW: Final = "cadmci"  # the citizen's consent button on a check-in: not guarded
CHECKIN_PREFIX: Final = "ci-"
TRIM_FLOW: Final = "cadm.trim"  # button_states flow of a shortlist being trimmed
# Typed minutes, action items and agenda labels: a group of its own (taken: -2, -3, -4, -7,
# -8, -10, -21); the handlers match only while this person's wizard waits for text.
TEXT_INPUT_GROUP: Final = -14
DRAFT_KEY: Final = "council_minutes_draft"
PENDING_KEY: Final = "council_checkin_pending"
PENDING_MINUTES: Final = 15  # a check-in waiting for consent; its code is stale by then anyway
WAIT_KEY: Final = "council_label_wait"
AGENDA_POLLS_KEY: Final = "council_agenda_polls"  # a KnownPolls: votes on others cost no query
DRAFT_MINUTES: Final = 60  # after this, a wizard's buttons expire and typed text passes by
RECENT_DAYS: Final = 90
MAX_RECENT: Final = 8
MAX_UPCOMING: Final = 3
MAX_CANDIDATES: Final = 30
MAX_PEOPLE_BUTTONS: Final = 30
MAX_TEXT: Final = 3800  # Telegram takes 4096 characters; room for a header
MESSAGE_LIMIT: Final = 4096
LABEL_CHARS: Final = 30
MAX_DAYS_AHEAD: Final = 730
QR_SCALE: Final = 10
SEPARATOR: Final = "/"
CHECKED, UNCHECKED, DONE_MARK = "☑", "☐", "✓"
FACILITATORS: Final = frozenset({Role.facilitator, Role.admin})
_CHECKIN_PAYLOAD: Final = re.compile(r"ci-([0-9]{1,12})-([A-Za-z2-7]{1,16})")
_SECRET_LABEL: Final = b"learncity:council-checkin:v1"
# The same door as /council: strangers to /start, citizens without consent asked first.
CHECKIN_GATE: Final = ConsentGate(Purpose.coffee_council, "cadm", CHECKIN_FLOW)

# Minutes wizard steps.
TH, EN, ACTIONS, WHAT, OWNER, DUE = "th", "en", "actions", "what", "owner", "due"
TYPED_STEPS: Final = frozenset({TH, EN, WHAT, OWNER, DUE})

Screen: TypeAlias = tuple[str, InlineKeyboardMarkup | None]


# --- small pure helpers -------------------------------------------------------------------------


def checkin_secret(token: str) -> bytes:
    """The check-in codes' secret, derived from the bot token (HMAC-SHA256); never logged."""
    return hmac.new(token.encode(), _SECRET_LABEL, hashlib.sha256).digest()


def checkin_link(bot_username: str, meeting_id: int, code: str) -> str:
    """`https://t.me/<bot>?start=ci-<meeting>-<code>`."""
    return f"https://t.me/{bot_username}?start={CHECKIN_PREFIX}{meeting_id}-{code}"


def qr_png(text: str) -> bytes:
    """A QR code of `text` as a PNG (error correction M, a quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=QR_SCALE, border=4)
    return buffer.getvalue()


def parse_label_pair(text: str) -> dict[str, str] | None:
    """ "ไทย / English" → {"th": …, "en": …} (each 1–100 characters), else None."""
    thai, separator, english = text.partition(SEPARATOR)
    thai, english = thai.strip(), english.strip()
    if not separator or not thai or not english:
        return None
    if max(len(thai), len(english)) > council.AGENDA_LABEL_MAX_LENGTH:
        return None
    return {"th": thai, "en": english}


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _zone(meeting: Meeting) -> ZoneInfo:
    return ZoneInfo(meeting.timezone)


def _when(meeting: Meeting, lang: str) -> str:
    return format_datetime(meeting.starts_at, lang, _zone(meeting))


def _at(moment: datetime, meeting: Meeting, lang: str) -> str:
    return format_datetime(moment, lang, _zone(meeting))


def _today(meeting: Meeting) -> date:
    return clock.now().astimezone(_zone(meeting)).date()


def _in_checkin_window(meeting: Meeting, now: datetime) -> bool:
    return meeting.starts_at - council.CHECKIN_LEAD <= now <= meeting.ends_at


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _fit(lines: Sequence[str], more: Callable[[int], str], limit: int = MAX_TEXT) -> str:
    """As many lines as fit in one message, then how many were left out."""
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > limit:
            kept.append(more(len(lines) - index))
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


# --- registration -------------------------------------------------------------------------------


def register(app: AnyApplication) -> None:
    """Add /attendance, /minutes, their buttons, agenda votes, typed input and check-in links."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("attendance", _on_attendance, filters=private))
    app.add_handler(CommandHandler("minutes", _on_minutes, filters=private))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    app.add_handler(CallbackQueryHandler(_on_checkin_button, pattern=cb.pattern(CHECKIN_FLOW)))
    app.bot_data.setdefault(AGENDA_POLLS_KEY, KnownPolls(_agenda_poll_ids))
    text = filters.UpdateType.MESSAGE & private & filters.TEXT
    # Claimed only while this person's wizard waits for text (the filter reads it), so other
    # flows and the fallback see everything else. A command drops the waiting wizard and goes
    # on to its own handler.
    waiting = UserDataMatches(app, _waiting_for_text, name="council_admin_waiting")
    app.add_handler(
        MessageHandler(text & ~filters.COMMAND & waiting, _on_text), group=TEXT_INPUT_GROUP
    )
    app.add_handler(
        MessageHandler(text & filters.COMMAND & waiting, _on_command), group=TEXT_INPUT_GROUP
    )
    register_deep_link(app, CHECKIN_PREFIX, _on_checkin_link)


async def on_startup(app: AnyApplication, services: Services) -> None:
    """Install the council job and map sent agenda polls to their meetings."""

    async def offer(meeting: Meeting) -> int:
        return await _offer_shortlist(app, meeting)

    jobs = CouncilJobs(
        services.db,
        services.catalogs,
        app.bot,
        dispatcher=services.dispatcher,
        offer=offer,
        default_language=services.settings.default_language,
    )
    app.bot_data[COUNCIL_JOBS_KEY] = jobs
    await start_poll_job(app, services, _agenda_polls(app.bot_data), AGENDA_PREFIX, jobs)


def _waiting_for_text(data: Mapping[Any, Any]) -> bool:
    """The minutes wizard or an agenda label waits for this person's typed text."""
    draft = data.get(DRAFT_KEY)
    return isinstance(data.get(WAIT_KEY), LabelWait) or (
        isinstance(draft, MinutesDraft) and draft.step in TYPED_STEPS
    )


# --- a press ------------------------------------------------------------------------------------


class Press(BasePress):
    """One press of a facilitator's council button: who pressed it and the data's arguments."""

    flow = FLOW

    def button(self, key: str, action: str, *args: object) -> InlineKeyboardButton:
        """A button of this flow labelled with catalog text."""
        return _button(self.context, self.lang, key, action, *args)

    async def alert(self, key: str, /, **values: object) -> None:
        """Answer the press with a short notice; nothing else changes."""
        await self.query.answer(self.t(key, **values), show_alert=True)


Action = Callable[[Press], Awaitable[None]]


_button: Final = Buttons(FLOW)


def _labelled(label: str, action: str, *args: object) -> InlineKeyboardButton:
    """A button whose label is data (a date, a name, a topic), not catalog text."""
    return InlineKeyboardButton(label, callback_data=cb.encode(FLOW, action, *args))


@requires(Role.facilitator)
async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Every facilitator's council button; whatever the data names is re-checked."""
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    if data is not None and data.action == calendar.NOOP:
        await query.answer()  # a calendar label: month, weekday, a day that cannot be chosen
        return
    if data is not None and data.action in _WIZARD_ACTIONS:
        await _wizard_press(update, context, person, data.action, data.args)
        return
    await Press.dispatch(update, context, person, _ACTIONS)


# --- which meetings are theirs ------------------------------------------------------------------


async def _facilitates(context: ContextTypes.DEFAULT_TYPE, person: Person, series_id: int) -> bool:
    """Admins act on every series; a facilitator on the series they facilitate."""
    if person.role is Role.admin:
        return True
    async with services_of(context).db.session(readonly=True) as session:
        return await council.is_facilitator(series_id, person.telegram_user_id, session=session)


async def _meeting_for(
    context: ContextTypes.DEFAULT_TYPE, person: Person, meeting_id: int | None
) -> Meeting | None:
    """The meeting, if it exists and the person may act on it."""
    if meeting_id is None:
        return None
    async with services_of(context).db.session(readonly=True) as session:
        meeting = await council.get_meeting(meeting_id, session=session)
    if meeting is None or not await _facilitates(context, person, meeting.series_id):
        return None
    return meeting


async def _my_meetings(
    context: ContextTypes.DEFAULT_TYPE, person: Person, start: datetime, end: datetime
) -> list[Meeting]:
    """Scheduled meetings starting in [start, end) of the series this person facilitates."""
    async with services_of(context).db.session(readonly=True) as session:
        found = await council.meetings_between(start, end, session=session)
    allowed: dict[int, bool] = {}
    mine = []
    for meeting in found:
        if meeting.series_id not in allowed:
            allowed[meeting.series_id] = await _facilitates(context, person, meeting.series_id)
        if allowed[meeting.series_id]:
            mine.append(meeting)
    return mine


async def _language_of(services: Services, telegram_user_id: int) -> str:
    async with services.db.session(readonly=True) as session:
        citizen = await citizens.get_citizen(telegram_user_id, session=session)
    return citizen.language if citizen is not None else services.settings.default_language


# --- agenda: the shortlist, trimmed -------------------------------------------------------------


def _candidate_state(candidate: council.Candidate) -> dict[str, Any]:
    return {
        "l": dict(candidate.label),
        "k": candidate.category_key,
        "s": candidate.source.value,
        "i": candidate.source_id,
        "n": candidate.count,
    }


async def _new_trim_state(
    session: AsyncSession, meeting: Meeting, owner: int
) -> tuple[str, dict[str, Any]]:
    """Stash a fresh shortlist for `owner`: the first 12 candidates ticked."""
    shortlist = await council.shortlist(meeting.id, clock.now(), session=session)
    state: dict[str, Any] = {
        "m": meeting.id,
        "c": [_candidate_state(c) for c in shortlist[:MAX_CANDIDATES]],
        "on": list(range(min(len(shortlist), council.MAX_AGENDA_ITEMS))),
    }
    key = await _stash(session, meeting, owner, state)
    return key, state


async def _stash(session: AsyncSession, meeting: Meeting, owner: int, state: dict[str, Any]) -> str:
    # The shortlist is worth keeping until the meeting starts (at least an hour).
    ttl = max(meeting.starts_at - clock.now(), timedelta(hours=1))
    return await button_states.stash(
        TRIM_FLOW, state, owner_telegram_id=owner, ttl=ttl, session=session
    )


def _trim_screen(
    catalogs: Catalogs, lang: str, meeting: Meeting, key: str, state: Mapping[str, Any]
) -> Screen:
    """The shortlist with a toggle per topic, "Add a topic", "Rename", "Open the vote"."""
    candidates: list[dict[str, Any]] = list(state["c"])
    chosen = set(state["on"])
    text = catalogs.text
    lines = []
    buttons = []
    for index, candidate in enumerate(candidates):
        mark = CHECKED if index in chosen else UNCHECKED
        label = label_of(candidate["l"], lang)
        source = text(lang, f"cadm.source_{candidate['s']}", count=candidate["n"])
        lines.append(
            text(lang, "cadm.trim_line", mark=mark, number=index + 1, label=label, source=source)
        )
        buttons.append(
            InlineKeyboardButton(
                f"{mark} {index + 1}. {_short(label)}",
                callback_data=cb.encode(FLOW, "tg", key, index),
            )
        )
    body = _fit(lines, lambda n: text(lang, "cadm.more", count=n)) if lines else ""
    header = text(
        lang,
        "cadm.trim",
        title=label_of(meeting.title, lang),
        when=format_datetime(meeting.starts_at, lang, _zone(meeting)),
        chosen=len(chosen),
        max=council.MAX_AGENDA_ITEMS,
    )
    shown = header + "\n\n" + (body or text(lang, "cadm.trim_empty"))

    def own(label_key: str, action: str, *args: object) -> InlineKeyboardButton:
        label = html.unescape(text(lang, label_key))
        return InlineKeyboardButton(label, callback_data=cb.encode(FLOW, action, *args))

    rows = [[button] for button in buttons]
    tools = [own("cadm.button_add_topic", "add", key)]
    if chosen:
        tools.append(own("cadm.button_rename", "rn", key))
    rows.append(tools)
    rows.append([own("cadm.button_open_vote", "ov", key)])
    rows.append([own("cadm.button_meeting", "mt", meeting.id)])
    return shown, InlineKeyboardMarkup(rows)


async def _offer_shortlist(app: AnyApplication, meeting: Meeting) -> int:
    """The job's offer: each facilitator of the series gets their own shortlist to trim."""
    services = services_from_app(app)
    async with services.db.session(readonly=True) as session:
        facilitators = await council.series_facilitators(meeting.series_id, session=session)
    sent = 0
    for facilitator in facilitators:
        lang = await _language_of(services, facilitator)
        async with services.db.session() as session:
            key, state = await _new_trim_state(session, meeting, facilitator)
        text, markup = _trim_screen(services.catalogs, lang, meeting, key, state)
        intro = services.catalogs.text(lang, "cadm.offer_intro", days=_days_until(meeting))
        try:
            await app.bot.send_message(facilitator, intro + "\n\n" + text, reply_markup=markup)
            sent += 1
        except Forbidden:
            logger.info("a facilitator blocked the bot: the agenda shortlist was not offered")
        except TelegramError:
            logger.warning("the agenda shortlist could not be offered", exc_info=True)
    return sent


def _days_until(meeting: Meeting) -> int:
    return max((meeting.starts_at.astimezone(_zone(meeting)).date() - _today(meeting)).days, 0)


@dataclass(frozen=True)
class Trim:
    """A shortlist being trimmed, as a press names it: its key, state and meeting."""

    key: str
    state: dict[str, Any]
    meeting: Meeting


async def _fetch_trim(
    context: ContextTypes.DEFAULT_TYPE, key: str, owner: int
) -> dict[str, Any] | None:
    """The owner's stashed shortlist behind `key`, if it is there and has its shape."""
    async with services_of(context).db.session(readonly=True) as session:
        state = await button_states.fetch(
            key, flow=TRIM_FLOW, owner_telegram_id=owner, session=session
        )
    if (
        state is None
        or not isinstance(state.get("m"), int)
        or not isinstance(state.get("c"), list)
        or not isinstance(state.get("on"), list)
    ):
        return None
    return dict(state)


async def _trim_of(press: Press) -> Trim | None:
    """The presser's own stashed shortlist named by the first argument, while it can change."""
    if not press.args:
        return None
    key = press.args[0]
    state = await _fetch_trim(press.context, key, press.person.telegram_user_id)
    if state is None:
        return None
    meeting = await _meeting_for(press.context, press.person, state["m"])
    if meeting is None or meeting.cancelled or meeting.starts_at <= clock.now():
        return None
    return Trim(key, state, meeting)


async def _replace_state(press: Press, trim: Trim, state: dict[str, Any]) -> str:
    """Store the changed state under a new key; the old key (older screens) expires."""
    async with services_of(press.context).db.session() as session:
        await button_states.discard(trim.key, session=session)
        return await _stash(session, trim.meeting, press.person.telegram_user_id, state)


async def _unless_voting(press: Press, meeting: Meeting) -> bool:
    """False (and the screen says so) once the meeting's vote is open."""
    async with services_of(press.context).db.session(readonly=True) as session:
        opened = await vote_opened(meeting.id, session=session)
    if opened:
        markup = InlineKeyboardMarkup([[press.button("cadm.button_meeting", "mt", meeting.id)]])
        await press.show(press.t("cadm.vote_already_open"), markup)
    return not opened


async def _show_trim(press: Press, trim: Trim) -> None:
    services = services_of(press.context)
    await press.show(
        *_trim_screen(services.catalogs, press.lang, trim.meeting, trim.key, trim.state)
    )


async def _open_shortlist(press: Press) -> None:
    """From the meeting's screen: a fresh shortlist to trim (before the vote opens)."""
    ids = press.ids(1)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if meeting is None or meeting.cancelled or meeting.starts_at <= clock.now():
        await press.expired()
        return
    if not await _unless_voting(press, meeting):
        return
    async with services_of(press.context).db.session() as session:
        key, state = await _new_trim_state(session, meeting, press.person.telegram_user_id)
    await _show_trim(press, Trim(key, state, meeting))


async def _toggle(press: Press) -> None:
    """Tick or untick one topic (at most 12 ticked)."""
    trim = await _trim_of(press)
    index = int_args(press.args[1:], 1)
    if trim is None or index is None or not 0 <= index[0] < len(trim.state["c"]):
        await press.expired()
        return
    if not await _unless_voting(press, trim.meeting):
        return
    chosen: list[int] = list(trim.state["on"])
    if index[0] in chosen:
        chosen.remove(index[0])
    elif len(chosen) >= council.MAX_AGENDA_ITEMS:
        await press.alert("cadm.too_many", max=council.MAX_AGENDA_ITEMS)
        return
    else:
        chosen.append(index[0])
    state = {**trim.state, "on": sorted(chosen)}
    key = await _replace_state(press, trim, state)
    await _show_trim(press, Trim(key, state, trim.meeting))


async def _back_to_trim(press: Press) -> None:
    """Back from renaming or adding: the shortlist as it stands."""
    _drop_wait(press.context)
    trim = await _trim_of(press)
    if trim is None or len(press.args) != 1:
        await press.expired()
        return
    if await _unless_voting(press, trim.meeting):
        await _show_trim(press, trim)


async def _choose_rename(press: Press) -> None:
    """Which ticked topic gets a new label."""
    trim = await _trim_of(press)
    if trim is None or len(press.args) != 1:
        await press.expired()
        return
    if not await _unless_voting(press, trim.meeting):
        return
    rows = [
        [
            _labelled(
                f"{index + 1}. {_short(label_of(trim.state['c'][index]['l'], press.lang))}",
                "rni",
                trim.key,
                index,
            )
        ]
        for index in trim.state["on"]
    ]
    rows.append([press.button("cadm.button_back", "trim", trim.key)])
    await press.show(press.t("cadm.rename_choose"), InlineKeyboardMarkup(rows))


@dataclass
class LabelWait:
    """A facilitator asked to type a topic's label (memory only): rename `index`, or add."""

    key: str
    index: int | None
    since: float = field(default_factory=monotonic_time.monotonic)


async def _ask_label(press: Press) -> None:
    """Wait for "ไทย / English": for a ticked topic (`rni`) or a new one (`add`)."""
    trim = await _trim_of(press)
    if trim is None:
        await press.expired()
        return
    data = cb.decode(press.query.data)
    renaming = data is not None and data.action == "rni"
    index = int_args(press.args[1:], 1) if renaming else None
    if renaming and (index is None or index[0] not in trim.state["on"]):
        await press.expired()
        return
    if not renaming and len(press.args) != 1:
        await press.expired()
        return
    if not await _unless_voting(press, trim.meeting):
        return
    _drop_draft(press.context)
    if press.context.user_data is not None:
        press.context.user_data[WAIT_KEY] = LabelWait(trim.key, index[0] if index else None)
    if index is not None:
        label = trim.state["c"][index[0]]["l"]
        text = press.t("cadm.rename_prompt", th=label.get("th", ""), en=label.get("en", ""))
    else:
        text = press.t("cadm.add_prompt")
    markup = InlineKeyboardMarkup([[press.button("cadm.button_back", "trim", trim.key)]])
    await press.show(text, markup)


def _wait(context: ContextTypes.DEFAULT_TYPE) -> LabelWait | None:
    return fresh(context, WAIT_KEY, LabelWait, DRAFT_MINUTES)


def _drop_wait(context: ContextTypes.DEFAULT_TYPE) -> None:
    drop(context, WAIT_KEY)


async def _type_label(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, wait: LabelWait, text: str
) -> None:
    """A typed "ไทย / English": the topic's new label, or a new ticked topic."""
    chat_id = person.telegram_user_id
    lang = person.language
    label = parse_label_pair(text)
    if label is None:
        await context.bot.send_message(
            chat_id, t(context, lang, "cadm.label_unreadable", max=council.AGENDA_LABEL_MAX_LENGTH)
        )
        return
    services = services_of(context)
    state = await _fetch_trim(context, wait.key, chat_id)
    meeting = await _meeting_for(context, person, state["m"] if state else None)
    _drop_wait(context)
    if state is None or meeting is None or meeting.starts_at <= clock.now():
        await context.bot.send_message(chat_id, t(context, lang, "common.expired"))
        return
    async with services.db.session(readonly=True) as session:
        opened = await vote_opened(meeting.id, session=session)
    if opened:
        await context.bot.send_message(chat_id, t(context, lang, "cadm.vote_already_open"))
        return
    candidates = list(state["c"])
    chosen = list(state["on"])
    if wait.index is None:
        if len(chosen) >= council.MAX_AGENDA_ITEMS:
            await context.bot.send_message(
                chat_id, t(context, lang, "cadm.too_many", max=council.MAX_AGENDA_ITEMS)
            )
            return
        candidates.append(
            {"l": label, "k": None, "s": AgendaSource.manual.value, "i": None, "n": 1}
        )
        chosen.append(len(candidates) - 1)
    elif 0 <= wait.index < len(candidates):
        candidates[wait.index] = {**candidates[wait.index], "l": label}
    new_state = {**state, "c": candidates, "on": sorted(chosen)}
    async with services.db.session() as session:
        await button_states.discard(wait.key, session=session)
        key = await _stash(session, meeting, chat_id, new_state)
    screen, markup = _trim_screen(services.catalogs, lang, meeting, key, new_state)
    await context.bot.send_message(chat_id, screen, reply_markup=markup)


async def _open_the_vote(press: Press) -> None:
    """Set the agenda (the ticked topics, in the shortlist's order) and send the polls."""
    trim = await _trim_of(press)
    if trim is None or len(press.args) != 1:
        await press.expired()
        return
    chosen = [trim.state["c"][index] for index in trim.state["on"]]
    if len(chosen) < MIN_POLL_ITEMS:
        await press.alert("cadm.too_few", min=MIN_POLL_ITEMS)
        return
    items = [
        AgendaInput(label=c["l"], category_key=c["k"], source=c["s"], source_id=c["i"])
        for c in chosen
    ]
    services = services_of(press.context)
    back = InlineKeyboardMarkup([[press.button("cadm.button_meeting", "mt", trim.meeting.id)]])
    try:
        opened = await open_vote(
            services.db,
            services.catalogs,
            trim.meeting.id,
            items,
            by=press.person.telegram_user_id,
            dispatcher=services.dispatcher,
        )
    except VoteAlreadyOpen:
        await press.show(press.t("cadm.vote_already_open"), back)
        return
    except CouncilRefused as refusal:
        key = "cadm.vote_already_open" if refusal.reason == "agenda_polled" else "common.expired"
        await press.show(press.t(key), back)
        return
    except (UnknownMeeting, ValueError):
        await press.expired()
        return
    async with services.db.session() as session:
        await button_states.discard(trim.key, session=session)
    text = press.t(
        "cadm.vote_opened",
        count=len(opened.items),
        people=opened.recipients,
        closes=_at(opened.closes_at, trim.meeting, press.lang),
    )
    await press.show(text, back)


# --- agenda: votes ------------------------------------------------------------------------------


async def _agenda_poll_ids(session: AsyncSession) -> list[str]:
    return await council.open_agenda_poll_ids(session=session)


def _agenda_polls(bot_data: dict[Any, Any]) -> KnownPolls:
    known = bot_data.setdefault(AGENDA_POLLS_KEY, KnownPolls(_agenda_poll_ids))
    assert isinstance(known, KnownPolls)
    return known


async def on_agenda_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A vote on an agenda poll: stored (or refused by storage), and no other flow sees it.

    A vote on any other poll is left alone (no stop), for the library and the needs survey
    (the order is handlers.poll_updates').
    """
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    if not _agenda_polls(context.application.bot_data).may_own(answer.poll_id):
        return  # most votes are survey answers: no query for them
    services = services_of(context)
    async with services.db.session(readonly=True) as session:
        poll = await council.agenda_poll(answer.poll_id, session=session)
    if poll is None:
        return
    async with services.db.session() as session:
        status = await council.record_agenda_vote(
            answer.poll_id, answer.user.id, list(answer.option_ids), session=session
        )
    if status != "stored":
        logger.info("an agenda vote was not stored: %s", status)
    raise ApplicationHandlerStop


# --- /attendance --------------------------------------------------------------------------------


@requires(Role.facilitator)
async def _on_attendance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person
) -> None:
    """The meeting open for check-in now: its rotating QR code and who is present."""
    _drop_draft(context)
    _drop_wait(context)
    chat = update.effective_chat
    if chat is None:
        return
    lang = person.language
    now = clock.now()
    meetings = await _my_meetings(
        context, person, now - timedelta(days=1), now + council.MATERIALIZE_AHEAD
    )
    open_now = [m for m in meetings if _in_checkin_window(m, now)]
    if not open_now:
        coming = [m for m in meetings if m.starts_at > now]
        text = t(context, lang, "cadm.attendance_none")
        if coming:
            opens = coming[0].starts_at - council.CHECKIN_LEAD
            text += "\n" + t(
                context,
                lang,
                "cadm.attendance_next",
                title=label_of(coming[0].title, lang),
                when=_when(coming[0], lang),
                opens=_at(opens, coming[0], lang),
            )
        await context.bot.send_message(chat.id, text)
        return
    if len(open_now) > 1:
        rows = [
            [_labelled(_short(f"{_when(m, lang)} · {label_of(m.title, lang)}", 48), "pick", m.id)]
            for m in open_now
        ]
        await context.bot.send_message(
            chat.id,
            t(context, lang, "cadm.attendance_choose"),
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return
    await _send_attendance(context, chat.id, person, open_now[0])


async def _send_attendance(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, person: Person, meeting: Meeting
) -> None:
    """The QR code (a photo) and, under it, who is present."""
    await _send_qr(context, chat_id, person.language, meeting)
    text, markup = await _roster_screen(context, person, meeting)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _send_qr(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, lang: str, meeting: Meeting
) -> Message:
    """The current check-in link as a QR code, with when it expires and "Refresh"."""
    now = clock.now()
    code = council.checkin_code(meeting.id, now, checkin_secret(context.bot.token))
    link = checkin_link(context.bot.username, meeting.id, code)
    expires = council.code_expires_at(now)
    caption = t(
        context,
        lang,
        "cadm.qr_caption",
        title=label_of(meeting.title, lang),
        when=_when(meeting, lang),
        link=link,
        until=format_time(expires.astimezone(_zone(meeting)).time(), lang),
        minutes=council.CHECKIN_WINDOW_MINUTES,
    )
    markup = InlineKeyboardMarkup(
        [[_button(context, lang, "cadm.button_refresh", "qr", meeting.id)]]
    )
    return await context.bot.send_photo(
        chat_id, photo=qr_png(link), caption=caption, reply_markup=markup
    )


async def _roster_screen(
    context: ContextTypes.DEFAULT_TYPE, person: Person, meeting: Meeting
) -> Screen:
    """Who is present, and a "mark present" button for each yes/maybe not yet present."""
    lang = person.language
    async with services_of(context).db.session(readonly=True) as session:
        present = await council.attendance(meeting.id, session=session)
        answers = await council.rsvps(meeting.id, session=session)
    present_ids = {p.telegram_user_id for p in present}
    unnamed = t(context, lang, "cadm.unnamed")
    names = [
        t(
            context,
            lang,
            "cadm.present_line",
            name=p.display_name or unnamed,
            time=format_time(p.checked_in_at.astimezone(_zone(meeting)).time(), lang),
            how=t(context, lang, "cadm.by_code" if p.checked_in_by is None else "cadm.by_hand"),
        )
        for p in present
    ]
    waiting = [r for r in answers if r.answer.attending and r.telegram_user_id not in present_ids]
    text = t(
        context,
        lang,
        "cadm.roster",
        title=label_of(meeting.title, lang),
        when=_when(meeting, lang),
        count=len(present),
        names=Raw(
            _fit(names, lambda n: t(context, lang, "cadm.more", count=n))
            if names
            else t(context, lang, "cadm.nobody_yet")
        ),
    )
    if waiting:
        text += "\n\n" + t(context, lang, "cadm.mark_hint")
    rows = [
        [
            _labelled(
                f"{DONE_MARK} {_short(r.display_name or unnamed)}",
                "mp",
                meeting.id,
                r.telegram_user_id,
            )
        ]
        for r in waiting[:MAX_PEOPLE_BUTTONS]
    ]
    rows.append([_button(context, lang, "cadm.button_refresh_list", "at", meeting.id)])
    return text, InlineKeyboardMarkup(rows)


async def _pick_attendance(press: Press) -> None:
    """One of several meetings open for check-in: its QR code and list."""
    ids = press.ids(1)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if meeting is None or meeting.cancelled or not _in_checkin_window(meeting, clock.now()):
        await press.expired()
        return
    await press.query.answer()
    await _send_attendance(press.context, press.person.telegram_user_id, press.person, meeting)


async def _show_roster(press: Press) -> None:
    """Refresh who is present."""
    ids = press.ids(1)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if meeting is None:
        await press.expired()
        return
    await press.show(*await _roster_screen(press.context, press.person, meeting))


async def _mark_present(press: Press) -> None:
    """Mark present someone who said yes or maybe."""
    ids = press.ids(2)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if ids is None or meeting is None or meeting.cancelled:
        await press.expired()
        return
    who = ids[1]
    async with services_of(press.context).db.session(readonly=True) as session:
        answer = await council.my_rsvp(meeting.id, who, session=session)
    if answer is None or not answer.answer.attending:
        await press.expired()
        return
    try:
        async with services_of(press.context).db.session() as session:
            await council.mark_present(
                meeting.id, who, by=press.person.telegram_user_id, session=session
            )
    except (NotRegistered, ConsentRequired):
        await press.alert("cadm.cannot_mark")
        return
    except (CouncilRefused, UnknownMeeting):
        await press.expired()
        return
    await press.show(*await _roster_screen(press.context, press.person, meeting))


async def _refresh_qr(press: Press) -> None:
    """A new photo with the current code; the old one is deleted (its code soon expires)."""
    ids = press.ids(1)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if meeting is None or meeting.cancelled:
        await press.expired()
        return
    if not _in_checkin_window(meeting, clock.now()):
        await press.alert("cadm.checkin_closed")
        return
    await press.query.answer()
    await _send_qr(press.context, press.person.telegram_user_id, press.lang, meeting)
    old = press.query.message
    if isinstance(old, Message):
        try:
            await old.delete()
        except TelegramError:
            logger.info("an old check-in code could not be deleted")


# --- check-in (citizens) ------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingCheckIn:
    """A check-in waiting for the person's consent (memory only)."""

    meeting_id: int
    code: str
    since: float = field(default_factory=monotonic_time.monotonic)


async def _on_checkin_link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str
) -> None:
    """`/start ci-<meeting>-<code>` (also right after onboarding): check the person in.

    Through the same door as /council: a stranger is pointed to /start; a citizen who has not
    agreed to the coffee council is asked first, and checked in once they agree.
    """
    chat_id = person.telegram_user_id
    match = _CHECKIN_PAYLOAD.fullmatch(payload)
    if match is None:
        await context.bot.send_message(chat_id, t(context, person.language, "cadm.checkin_invalid"))
        return
    meeting_id, code = int(match[1]), match[2].upper()
    if not await CHECKIN_GATE.admit(context, person):
        if person.registered and context.user_data is not None:
            context.user_data[PENDING_KEY] = PendingCheckIn(meeting_id, code)
        return
    text = await _check_in(context, person, meeting_id, code)
    if text is not None:
        await context.bot.send_message(chat_id, text)


async def _check_in(
    context: ContextTypes.DEFAULT_TYPE, person: Person, meeting_id: int, code: str
) -> str | None:
    """Try the check-in and say how it went (None: consent was asked for instead)."""
    lang = person.language
    services = services_of(context)
    try:
        async with services.db.session() as session:
            meeting = await council.get_meeting(meeting_id, session=session)
            if meeting is None:
                return t(context, lang, "cadm.checkin_invalid")
            result = await council.check_in(
                meeting_id,
                person.telegram_user_id,
                code,
                clock.now(),
                checkin_secret(context.bot.token),
                session=session,
            )
    except NotRegistered:
        return t(context, lang, "cadm.unregistered")
    except ConsentRequired:  # withdrawn meanwhile
        if context.user_data is not None:
            context.user_data[PENDING_KEY] = PendingCheckIn(meeting_id, code)
        await CHECKIN_GATE.ask(context, person)
        return None
    title = label_of(meeting.title, lang)
    if result == "outside_window":
        if meeting.cancelled:
            return t(context, lang, "cadm.checkin_cancelled", title=title)
        opens = _at(meeting.starts_at - council.CHECKIN_LEAD, meeting, lang)
        closes = _at(meeting.ends_at, meeting, lang)
        return t(context, lang, "cadm.checkin_outside", title=title, opens=opens, closes=closes)
    key = {"ok": "cadm.checkin_ok", "already": "cadm.checkin_already"}.get(
        result, "cadm.checkin_expired"
    )
    return t(context, lang, key, title=title, when=_when(meeting, lang))


async def _on_checkin_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The door's "I agree": consent to the coffee council, then the waiting check-in."""
    query = update.callback_query
    if query is None:
        return
    person = await load_person(update, context)
    data = cb.decode(query.data)
    if data is None or data.action != "consent" or data.args or not person.registered:
        await answer_expired(query, context, person.language)
        return
    async with services_of(context).db.session() as session:
        await citizens.set_consent(
            person.telegram_user_id, Purpose.coffee_council, True, session=session
        )
    await query.answer()
    pending = context.user_data.pop(PENDING_KEY, None) if context.user_data is not None else None
    if (
        not isinstance(pending, PendingCheckIn)
        or monotonic_time.monotonic() - pending.since > PENDING_MINUTES * 60
    ):
        await edit(query, t(context, person.language, "cadm.consent_thanks"))
        return
    text = await _check_in(context, person, pending.meeting_id, pending.code)
    if text is not None:
        await edit(query, text)


# --- /minutes: the list and a meeting's screen --------------------------------------------------


@requires(Role.facilitator)
async def _on_minutes(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Recent and coming meetings of theirs, to record minutes or follow the agenda."""
    _drop_draft(context)
    _drop_wait(context)
    chat = update.effective_chat
    if chat is not None:
        text, markup = await _list_screen(context, person)
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _list_screen(context: ContextTypes.DEFAULT_TYPE, person: Person) -> Screen:
    lang = person.language
    now = clock.now()
    meetings = await _my_meetings(
        context, person, now - timedelta(days=RECENT_DAYS), now + council.MATERIALIZE_AHEAD
    )
    started = sorted((m for m in meetings if m.starts_at <= now), key=lambda m: m.starts_at)
    coming = [m for m in meetings if m.starts_at > now][:MAX_UPCOMING]
    shown = list(reversed(started))[:MAX_RECENT] + coming
    if not shown:
        return t(context, lang, "cadm.no_meetings"), None
    rows = [
        [_labelled(_short(f"{_when(m, lang)} · {label_of(m.title, lang)}", 48), "mt", m.id)]
        for m in shown
    ]
    return t(context, lang, "cadm.list"), InlineKeyboardMarkup(rows)


async def _show_list(press: Press) -> None:
    """Back to the list of meetings."""
    _drop_draft(press.context)
    await press.show(*await _list_screen(press.context, press.person))


async def _meeting_screen(
    context: ContextTypes.DEFAULT_TYPE, person: Person, meeting: Meeting
) -> Screen:
    """When and where; answers and presence; the agenda by votes; minutes; action items."""
    lang = person.language
    now = clock.now()
    async with services_of(context).db.session(readonly=True) as session:
        counts = await council.rsvp_counts(meeting.id, session=session)
        present = await council.attendance(meeting.id, session=session)
        agenda = await council.agenda_result(meeting.id, session=session)
        opened = await vote_opened(meeting.id, session=session)
        recorded = await council.minutes(meeting.id, session=session)
        items = await council.action_items(meeting.id, session=session)

    def tr(key: str, /, **values: object) -> str:
        return t(context, lang, key, **values)

    if meeting.cancelled:
        status = tr("cadm.status_cancelled")
    elif meeting.starts_at > now:
        status = tr("cadm.status_upcoming")
    elif meeting.ends_at > now:
        status = tr("cadm.status_now")
    else:
        status = tr("cadm.status_ended")
    zone = _zone(meeting)
    parts = [
        tr(
            "cadm.meeting",
            title=label_of(meeting.title, lang),
            start=_when(meeting, lang),
            end=format_time(meeting.ends_at.astimezone(zone).time(), lang),
            place=meeting.place_text,
            status=status,
            yes=counts.get(RsvpAnswer.yes, 0),
            maybe=counts.get(RsvpAnswer.maybe, 0),
            no=counts.get(RsvpAnswer.no, 0),
            present=len(present),
        )
    ]
    if agenda:
        closes = meeting.agenda_closes_at
        if opened and closes is not None:
            vote = tr(
                "cadm.vote_open_until" if closes > now else "cadm.vote_closed_at",
                at=_at(closes, meeting, lang),
            )
        else:
            vote = ""
        lines = [
            tr("cadm.result_line", number=n, label=label_of(i.label, lang), votes=i.votes)
            for n, i in enumerate(agenda, start=1)
        ]
        parts.append(tr("cadm.agenda", vote=vote, items=Raw("\n".join(lines))))
    else:
        parts.append(tr("cadm.no_agenda"))
    if recorded is not None:
        languages = ", ".join(
            tr(f"cadm.language_{code}") for code in LANGUAGES if code in recorded.text
        )
        parts.append(
            tr(
                "cadm.minutes_recorded",
                languages=languages,
                at=_at(recorded.recorded_at, meeting, lang),
            )
        )
    elif meeting.starts_at <= now:
        parts.append(tr("cadm.no_minutes"))
    if items:
        lines = [_action_line(context, lang, item) for item in items]
        parts.append(tr("cadm.actions", items=Raw("\n".join(lines))))
    text = _fit(parts, lambda n: tr("cadm.more", count=n))
    rows: list[list[InlineKeyboardButton]] = []
    if not meeting.cancelled and meeting.starts_at <= now:
        rows.append([_button(context, lang, "cadm.button_record", "mn", meeting.id)])
    if not meeting.cancelled and meeting.starts_at > now and not opened:
        rows.append([_button(context, lang, "cadm.button_shortlist", "sl", meeting.id)])
    for item in items:
        if not item.done:
            rows.append(
                [_labelled(f"{DONE_MARK} {_short(item.what)}", "done", meeting.id, item.id)]
            )
    rows.append([_button(context, lang, "cadm.button_all_meetings", "list")])
    return text, InlineKeyboardMarkup(rows[:100])


def _action_line(context: ContextTypes.DEFAULT_TYPE, lang: str, item: council.ActionItem) -> str:
    return t(
        context,
        lang,
        "cadm.action_done" if item.done else "cadm.action_open",
        what=item.what,
        owner=item.owner_name,
        due=format_date(item.due_on, lang, "short"),
    )


async def _show_meeting(press: Press) -> None:
    """A meeting's screen."""
    _drop_draft(press.context)
    _drop_wait(press.context)
    ids = press.ids(1)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if meeting is None:
        await press.expired()
        return
    await press.show(*await _meeting_screen(press.context, press.person, meeting))


async def _close_item(press: Press) -> None:
    """An action item is done: its reminders stop."""
    ids = press.ids(2)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if ids is None or meeting is None:
        await press.expired()
        return
    services = services_of(press.context)
    async with services.db.session(readonly=True) as session:
        items = await council.action_items(meeting.id, session=session)
    item = next((i for i in items if i.id == ids[1] and not i.done), None)
    if item is None:
        await press.expired()
        return
    try:
        async with services.db.session() as session:
            await council.close_action_item(
                item.id, by=press.person.telegram_user_id, session=session
            )
    except UnknownActionItem:
        await press.expired()
        return
    await press.show(*await _meeting_screen(press.context, press.person, meeting))


# --- /minutes: the wizard -----------------------------------------------------------------------


@dataclass
class ActionDraft:
    """An action item being typed."""

    what: str = ""
    owner_name: str = ""
    owner_id: int | None = None
    due_on: date | None = None


@dataclass
class MinutesDraft:
    """Minutes and action items being recorded; memory only until "Send"."""

    meeting_id: int
    step: str = TH
    thai: str | None = None
    english: str | None = None
    items: list[ActionDraft] = field(default_factory=list)
    current: ActionDraft | None = None
    message_id: int | None = None  # the message whose buttons are live
    shown_month: tuple[int, int] | None = None
    since: float = field(default_factory=monotonic_time.monotonic)


def _draft(context: ContextTypes.DEFAULT_TYPE) -> MinutesDraft | None:
    return fresh(context, DRAFT_KEY, MinutesDraft, DRAFT_MINUTES)


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    drop(context, DRAFT_KEY)


@dataclass(frozen=True)
class Turn(Sent):
    """One update of the minutes wizard: the update, the facilitator, the draft, the meeting."""

    draft: MinutesDraft
    meeting: Meeting

    def button(self, key: str, action: str, *args: object) -> InlineKeyboardButton:
        """A wizard button labelled with catalog text."""
        return _button(self.context, self.lang, key, action, *args)

    async def say(self, key: str, /, **values: object) -> None:
        """Reply with catalog text (after typed input)."""
        await self.context.bot.send_message(self.person.telegram_user_id, self.t(key, **values))


async def _start_minutes(press: Press) -> None:
    """ "Record minutes" on a meeting that has begun: Thai first."""
    ids = press.ids(1)
    meeting = await _meeting_for(press.context, press.person, ids[0] if ids else None)
    if meeting is None or meeting.cancelled or meeting.starts_at > clock.now():
        await press.expired()
        return
    _drop_wait(press.context)
    message = press.query.message
    draft = MinutesDraft(meeting.id, message_id=message.message_id if message else None)
    if press.context.user_data is not None:
        press.context.user_data[DRAFT_KEY] = draft
    await press.query.answer()
    await _show(Turn(press.update, press.context, press.person, draft, meeting))


async def _show(turn: Turn) -> None:
    """Draw the current step: over the pressed message, or as a new message after typing."""
    text, markup = await _PROMPTS[turn.draft.step](turn)
    turn.draft.since = monotonic_time.monotonic()
    if turn.update.callback_query is not None:
        await edit(turn.update.callback_query, text, markup)
        return
    message = await turn.context.bot.send_message(
        turn.person.telegram_user_id, text, reply_markup=markup
    )
    turn.draft.message_id = message.message_id


def _stop_row(turn: Turn) -> list[InlineKeyboardButton]:
    return [turn.button("cadm.button_cancel", "stop")]


def _item_stop_row(turn: Turn) -> list[InlineKeyboardButton]:
    return [turn.button("cadm.button_cancel_item", "xi")]


async def _ask_thai(turn: Turn) -> Screen:
    markup = InlineKeyboardMarkup([[turn.button("cadm.button_skip", "skip")], _stop_row(turn)])
    text = turn.t(
        "cadm.ask_minutes_th",
        title=label_of(turn.meeting.title, turn.lang),
        when=_when(turn.meeting, turn.lang),
        max=council.MINUTES_MAX_LENGTH,
    )
    return text, markup


async def _ask_english(turn: Turn) -> Screen:
    markup = InlineKeyboardMarkup([[turn.button("cadm.button_skip", "skip")], _stop_row(turn)])
    return turn.t("cadm.ask_minutes_en", max=council.MINUTES_MAX_LENGTH), markup


async def _ask_actions(turn: Turn) -> Screen:
    """The minutes so far and the action items, with "Add", "Send", "Cancel"."""
    draft = turn.draft
    languages = [
        turn.t(f"cadm.language_{code}")
        for code, text in (("th", draft.thai), ("en", draft.english))
        if text
    ]
    lines = [
        turn.t(
            "cadm.action_open",
            what=item.what,
            owner=item.owner_name,
            due=format_date(item.due_on, turn.lang, "short") if item.due_on else "",
        )
        for item in draft.items
    ]
    text = turn.t(
        "cadm.ask_actions",
        languages=", ".join(languages),
        items=Raw("\n".join(lines) if lines else turn.t("cadm.no_actions_yet")),
    )
    markup = InlineKeyboardMarkup(
        [
            [turn.button("cadm.button_add_action", "add_a")],
            [turn.button("cadm.button_send", "send")],
            _stop_row(turn),
        ]
    )
    return text, markup


async def _ask_what(turn: Turn) -> Screen:
    markup = InlineKeyboardMarkup([_item_stop_row(turn)])
    return turn.t("cadm.ask_what", max=council.WHAT_MAX_LENGTH), markup


async def _people(turn: Turn) -> list[tuple[int, str]]:
    """Whom an action item can be given to by button: present people, then yes/maybe RSVPs."""
    async with services_of(turn.context).db.session(readonly=True) as session:
        present = await council.attendance(turn.meeting.id, session=session)
        answers = await council.rsvps(turn.meeting.id, session=session)
    names: dict[int, str] = {}
    for p in present:
        if p.display_name:
            names.setdefault(p.telegram_user_id, p.display_name)
    for r in answers:
        if r.answer.attending and r.display_name:
            names.setdefault(r.telegram_user_id, r.display_name)
    return list(names.items())[:MAX_PEOPLE_BUTTONS]


async def _ask_owner(turn: Turn) -> Screen:
    people = await _people(turn)
    buttons = [_labelled(_short(name), "own", who) for who, name in people]
    markup = InlineKeyboardMarkup([*_rows(buttons, 2), _item_stop_row(turn)])
    key = "cadm.ask_owner" if people else "cadm.ask_owner_typed"
    return turn.t(key, max=council.OWNER_NAME_MAX_LENGTH), markup


def _date_example(turn: Turn) -> str:
    return calendar.date_example(turn.lang, _today(turn.meeting), days=14)


async def _ask_due(turn: Turn) -> Screen:
    today = _today(turn.meeting)
    year, month = turn.draft.shown_month or (today.year, today.month)
    markup = calendar.month_keyboard(
        FLOW,
        year,
        month,
        language=turn.lang,
        today=today,
        first_allowed=today,
        last_allowed=today + timedelta(days=MAX_DAYS_AHEAD),
    )
    rows = [*markup.inline_keyboard, _item_stop_row(turn)]
    return turn.t("cadm.ask_due", example=_date_example(turn)), InlineKeyboardMarkup(rows)


_PROMPTS: dict[str, Callable[[Turn], Awaitable[Screen]]] = {
    TH: _ask_thai,
    EN: _ask_english,
    ACTIONS: _ask_actions,
    WHAT: _ask_what,
    OWNER: _ask_owner,
    DUE: _ask_due,
}


async def _wizard_press(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    action: str,
    args: tuple[str, ...],
) -> None:
    """A wizard button: accepted only at its own steps, on the wizard's live message."""
    query = update.callback_query
    assert query is not None
    draft = _draft(context)
    steps, handler = _WIZARD_ACTIONS[action]
    meeting = await _meeting_for(context, person, draft.meeting_id) if draft else None
    if (
        draft is None
        or meeting is None
        or (steps and draft.step not in steps)
        or query.message is None
        or query.message.message_id != draft.message_id
    ):
        await answer_expired(query, context, person.language)
        return
    await handler(Turn(update, context, person, draft, meeting), args)


async def _press_stop(turn: Turn, args: tuple[str, ...]) -> None:
    """Cancel: nothing was stored, nothing is."""
    _drop_draft(turn.context)
    await turn.query.answer()
    markup = InlineKeyboardMarkup([[turn.button("cadm.button_meeting", "mt", turn.meeting.id)]])
    await edit(turn.query, turn.t("cadm.minutes_cancelled"), markup)


async def _press_skip(turn: Turn, args: tuple[str, ...]) -> None:
    """No minutes in this language (but at least one)."""
    draft = turn.draft
    if draft.step == TH:
        draft.thai = None
        draft.step = EN
    else:
        draft.english = None
        if not draft.thai:
            await turn.query.answer(turn.t("cadm.minutes_need_one"), show_alert=True)
            draft.step = TH
            await _show(turn)
            return
        draft.step = ACTIONS
    await turn.query.answer()
    await _show(turn)


async def _press_add(turn: Turn, args: tuple[str, ...]) -> None:
    turn.draft.current = ActionDraft()
    turn.draft.step = WHAT
    await turn.query.answer()
    await _show(turn)


async def _press_cancel_item(turn: Turn, args: tuple[str, ...]) -> None:
    turn.draft.current = None
    turn.draft.step = ACTIONS
    await turn.query.answer()
    await _show(turn)


async def _press_owner(turn: Turn, args: tuple[str, ...]) -> None:
    """An owner from the buttons: must still be present or have said yes or maybe."""
    ids = int_args(args, 1)
    people = dict(await _people(turn))
    if ids is None or ids[0] not in people or turn.draft.current is None:
        await answer_expired(turn.query, turn.context, turn.lang)
        return
    turn.draft.current.owner_id = ids[0]
    turn.draft.current.owner_name = people[ids[0]]
    turn.draft.step = DUE
    await turn.query.answer()
    await _show(turn)


async def _press_month(turn: Turn, args: tuple[str, ...]) -> None:
    today = _today(turn.meeting)
    month = calendar.decode_month_within(args, today, today + timedelta(days=MAX_DAYS_AHEAD))
    if month is None:
        await answer_expired(turn.query, turn.context, turn.lang)
        return
    turn.draft.shown_month = (month.year, month.month)
    await turn.query.answer()
    await _show(turn)


async def _press_day(turn: Turn, args: tuple[str, ...]) -> None:
    today = _today(turn.meeting)
    day = calendar.decode_day(
        args, first_allowed=today, last_allowed=today + timedelta(days=MAX_DAYS_AHEAD)
    )
    if day is None:
        await answer_expired(turn.query, turn.context, turn.lang)
        return
    await turn.query.answer()
    await _take_due(turn, day)


async def _take_due(turn: Turn, day: date) -> None:
    """The item is complete: on to the list of action items."""
    current = turn.draft.current
    if current is not None:
        current.due_on = day
        turn.draft.items.append(current)
    turn.draft.current = None
    turn.draft.shown_month = None
    turn.draft.step = ACTIONS
    await _show(turn)


async def _press_send(turn: Turn, args: tuple[str, ...]) -> None:
    """Store the minutes and action items, and send them to the attendees."""
    draft = turn.draft
    texts = {code: text for code, text in (("th", draft.thai), ("en", draft.english)) if text}
    if not texts:
        await turn.query.answer(turn.t("cadm.minutes_need_one"), show_alert=True)
        return
    services = services_of(turn.context)
    by = turn.person.telegram_user_id
    try:
        async with services.db.session() as session:
            recorded = await council.record_minutes(turn.meeting.id, texts, by=by, session=session)
            for item in draft.items:
                assert item.due_on is not None
                await council.add_action_item(
                    turn.meeting.id,
                    what=item.what,
                    owner_name=item.owner_name,
                    owner_telegram_user_id=item.owner_id,
                    due_on=item.due_on,
                    by=by,
                    session=session,
                )
            items = await council.action_items(turn.meeting.id, session=session)
            people = await _minutes_people(turn.meeting.id, session)
            await _queue_minutes(
                session, services.catalogs, turn.meeting, recorded, items, people, by
            )
    except ValueError:  # a due date passed while the wizard was open
        await turn.query.answer(turn.t("cadm.due_past"), show_alert=True)
        return
    except UnknownMeeting:
        _drop_draft(turn.context)
        await answer_expired(turn.query, turn.context, turn.lang)
        return
    _drop_draft(turn.context)
    if people and services.dispatcher is not None:
        services.dispatcher.wake()
    await turn.query.answer()
    markup = InlineKeyboardMarkup([[turn.button("cadm.button_meeting", "mt", turn.meeting.id)]])
    await edit(
        turn.query, turn.t("cadm.minutes_sent", count=len(people), items=len(draft.items)), markup
    )


async def _minutes_people(meeting_id: int, session: AsyncSession) -> list[council.Person]:
    """Who gets the minutes: everyone checked in; if nobody checked in, those who said yes.

    Only people who still consent to the coffee council (they may have withdrawn since).
    """
    people = await council.minutes_recipients(meeting_id, session=session)
    if not people:
        people = [
            council.Person(r.telegram_user_id, r.language, r.answer)
            for r in await council.rsvps(meeting_id, session=session)
            if r.answer is RsvpAnswer.yes
        ]
    return [
        p
        for p in people
        if await citizens.has_consent(p.telegram_user_id, Purpose.coffee_council, session=session)
    ]


async def _queue_minutes(
    session: AsyncSession,
    catalogs: Catalogs,
    meeting: Meeting,
    recorded: council.Minutes,
    items: Sequence[council.ActionItem],
    people: Sequence[council.Person],
    by: int,
) -> None:
    """The minutes (and action items) in each reader's language, through the delivery log.

    A new purpose for each sending, so corrected minutes reach everyone again; when the
    minutes and the action items do not fit in one message, they go as two.
    """
    purpose = minutes_purpose(meeting.id)
    revision = 1
    while await deliveries.get_message(purpose, session=session) is not None:
        revision += 1
        purpose = minutes_purpose(meeting.id, f"r{revision}")
    minutes_texts = {lang: _minutes_text(catalogs, lang, meeting, recorded) for lang in LANGUAGES}
    actions_texts = {lang: _actions_text(catalogs, lang, items) for lang in LANGUAGES}
    together = {
        lang: minutes_texts[lang] + ("\n\n" + actions_texts[lang] if items else "")
        for lang in LANGUAGES
    }
    recipients = [deliveries.citizen_recipient(p.telegram_user_id, p.language) for p in people]
    parts = [(purpose, together)]
    if any(len(text) > MESSAGE_LIMIT for text in together.values()):
        parts = [(purpose, minutes_texts), (f"{purpose}:actions", actions_texts)]
    for part_purpose, content in parts:
        await deliveries.enqueue(
            part_purpose,
            "council",
            content,
            recipients,
            created_by=audit.actor_for(by),
            audience=f"council_meeting:{meeting.id}",
            session=session,
        )


def _minutes_text(
    catalogs: Catalogs, lang: str, meeting: Meeting, recorded: council.Minutes
) -> str:
    """The minutes in `lang`; when they exist only in the other language, that one with a note."""
    header = catalogs.text(
        lang, "cadm.minutes_header", title=label_of(meeting.title, lang), when=_when(meeting, lang)
    )
    if lang in recorded.text:
        return header + "\n\n" + html.escape(recorded.text[lang], quote=False)
    other = next(code for code in LANGUAGES if code in recorded.text)
    note = catalogs.text(
        lang, "cadm.minutes_only_in", language=catalogs.text(lang, f"cadm.language_{other}")
    )
    return header + "\n" + note + "\n\n" + html.escape(recorded.text[other], quote=False)


def _actions_text(catalogs: Catalogs, lang: str, items: Sequence[council.ActionItem]) -> str:
    lines = [
        catalogs.text(
            lang,
            "cadm.action_done" if item.done else "cadm.action_open",
            what=item.what,
            owner=item.owner_name,
            due=format_date(item.due_on, lang, "short"),
        )
        for item in items
    ]
    return catalogs.text(lang, "cadm.actions", items=Raw("\n".join(lines)))


# --- typed input --------------------------------------------------------------------------------


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command ends the waiting for text; the command itself is handled as usual."""
    _drop_draft(context)
    _drop_wait(context)


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed minutes, action-item parts or a topic label; anything else passes by."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    wait = _wait(context)
    draft = _draft(context)
    if wait is None and (draft is None or draft.step not in TYPED_STEPS):
        return  # not ours (any more): other flows and the fallback answer
    person = await load_person(update, context)
    if not allows(person, FACILITATORS):
        _drop_draft(context)
        _drop_wait(context)
        return
    text = message.text.strip()
    if wait is not None:
        await _type_label(update, context, person, wait, text)
        raise ApplicationHandlerStop
    assert draft is not None
    meeting = await _meeting_for(context, person, draft.meeting_id)
    if meeting is None:
        _drop_draft(context)
        return
    await _TYPED[draft.step](Turn(update, context, person, draft, meeting), text)
    raise ApplicationHandlerStop


async def _type_minutes(turn: Turn, text: str) -> None:
    if len(text) > council.MINUTES_MAX_LENGTH:
        await turn.say("cadm.too_long", count=len(text), max=council.MINUTES_MAX_LENGTH)
        return
    if turn.draft.step == TH:
        turn.draft.thai = text
        turn.draft.step = EN
    else:
        turn.draft.english = text
        turn.draft.step = ACTIONS
    await _show(turn)


async def _type_what(turn: Turn, text: str) -> None:
    if len(text) > council.WHAT_MAX_LENGTH:
        await turn.say("cadm.too_long", count=len(text), max=council.WHAT_MAX_LENGTH)
        return
    turn.draft.current = ActionDraft(what=text)
    turn.draft.step = OWNER
    await _show(turn)


async def _type_owner(turn: Turn, text: str) -> None:
    """A typed name: someone without the bot (no reminder)."""
    if len(text) > council.OWNER_NAME_MAX_LENGTH:
        await turn.say("cadm.too_long", count=len(text), max=council.OWNER_NAME_MAX_LENGTH)
        return
    if turn.draft.current is None:
        turn.draft.current = ActionDraft()
    turn.draft.current.owner_name = text
    turn.draft.current.owner_id = None
    turn.draft.step = DUE
    await _show(turn)


async def _type_due(turn: Turn, text: str) -> None:
    today = _today(turn.meeting)
    day = parse_date(text, today=today)
    if day is None:
        await turn.say("cadm.date_unreadable", example=_date_example(turn))
    elif day < today:
        await turn.say("cadm.date_past")
    elif day > today + timedelta(days=MAX_DAYS_AHEAD):
        await turn.say("cadm.date_too_far", days=MAX_DAYS_AHEAD)
    else:
        await _take_due(turn, day)


_TYPED: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    TH: _type_minutes,
    EN: _type_minutes,
    WHAT: _type_what,
    OWNER: _type_owner,
    DUE: _type_due,
}

# wizard action → (the steps it is accepted at (empty: any), callback)
_WIZARD_ACTIONS: dict[
    str, tuple[frozenset[str], Callable[[Turn, tuple[str, ...]], Awaitable[None]]]
] = {
    "stop": (frozenset(), _press_stop),
    "skip": (frozenset({TH, EN}), _press_skip),
    "add_a": (frozenset({ACTIONS}), _press_add),
    "send": (frozenset({ACTIONS}), _press_send),
    "xi": (frozenset({WHAT, OWNER, DUE}), _press_cancel_item),
    "own": (frozenset({OWNER}), _press_owner),
    calendar.MONTH: (frozenset({DUE}), _press_month),
    calendar.DAY: (frozenset({DUE}), _press_day),
}

_ACTIONS: dict[str, Action] = {
    "list": _show_list,
    "mt": _show_meeting,
    "done": _close_item,
    "mn": _start_minutes,
    "sl": _open_shortlist,
    "tg": _toggle,
    "trim": _back_to_trim,
    "rn": _choose_rename,
    "rni": _ask_label,
    "add": _ask_label,
    "ov": _open_the_vote,
    "pick": _pick_attendance,
    "at": _show_roster,
    "mp": _mark_present,
    "qr": _refresh_qr,
}
