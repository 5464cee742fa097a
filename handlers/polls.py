"""`/poll` (facilitators): bilingual quick polls, survey questions in groups, results, closing.

A quick poll is typed in the private chat: the question in Thai, then in English, then one
message per option as `ไทย / English`, "Done", one or several answers, the audience (citizens
who agreed to the learning-needs survey, each in their own language, or one registered group,
which gets one poll showing both languages), a preview with the number of recipients, and
"Send". The typed steps wait in the conversation (memory); the preview stashes the whole draft
in the database behind a short key, which is all the Send button carries.

Sending to many is a paced loop in a background task, not the dispatcher: the dispatcher sends
text only, and a poll must be recorded (`record_sent_poll`) with the message Telegram returns,
or its votes cannot be attributed. The loop takes its turns from the dispatcher's RateLimiter,
so polls and announcements share one budget under Telegram's limits, and sends with the
dispatcher's own Bot (no PTB pacing on top). Closing stops every sent poll the same way.

Every poll is non-anonymous, so answers are attributed (and stored only with consent, by
`storage.surveys`); in a group, members see each other's votes, so a short notice in both
languages goes just before the poll. Votes arrive through `handlers.needs` (`poll_answer`,
`poll`), which stores them for every kind of poll.
"""

from __future__ import annotations

import functools
import html
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n.catalog import Raw
from bot.services import AnyApplication, Services, services_of
from handlers import callback_data as cb
from handlers.guard import allows, requires
from handlers.people import Person, load_person
from handlers.replies import answer_expired, edit, reply, t
from schedules.dispatcher import PollSent, retry_after_seconds
from schedules.rate_limit import RateLimiter, Rates
from storage import button_states, citizens, clock, deliveries, groups, surveys
from storage.audit import actor_for
from storage.database import AsyncSession
from storage.deliveries import Recipient
from storage.enums import PollKind, Purpose, QuickPollStatus, Role
from storage.errors import NotRegistered, PollSpecError
from storage.models import ChatGroup, QuickPoll, SentPoll

logger = logging.getLogger(__name__)

FLOW = "poll"
DRAFT_KEY = "quick_poll_draft"
LIMITER_KEY = "poll_limiter"  # only when no dispatcher runs
QUICK_POLL_PURPOSE = "quickpoll:"
# Its own group (one handler runs per group; /broadcast waits for text in -3, /needs in -2).
TEXT_INPUT_GROUP = -4
DRAFT_MINUTES = 30  # after this, typed text is no longer taken as part of a poll
CITIZENS = "all"
SEPARATOR = " / "
MAX_QUESTION = 300  # Telegram's limits for a native poll, in Unicode code points
MAX_OPTION = 100
MIN_OPTIONS = 2  # Telegram allows 1, but a poll with one option asks nothing
MAX_OPTIONS = 12
LIST_LIMIT = 10
LIST_DAYS = 90  # open quick polls are looked up among those created in this many days
LABEL_CHARS = 28
SEND_ATTEMPTS = 3  # a 429 is waited out this many times before a send counts as failed
STATUS_EVERY = 25  # the send loop checks this often whether the poll was closed meanwhile
ALREADY_CLOSED = "poll has already been closed"
FACILITATORS = frozenset({Role.facilitator, Role.admin})

T = TypeVar("T")
# A button's action: (update, context, the presser, the data's arguments).
Action = Callable[[Update, ContextTypes.DEFAULT_TYPE, Person, tuple[str, ...]], Awaitable[None]]


@dataclass
class QuickPollDraft:
    """A quick poll being typed; memory only until the preview."""

    step: str = "q_th"  # q_th → q_en → options → multi → audience
    thai: str = ""
    english: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    multiple: bool = False
    since: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class _Target:
    """One poll to send: the chat, its language (th, en or both) and the citizen, if private."""

    chat_id: int
    language: str
    recipient_telegram_id: int | None


def register(app: AnyApplication) -> None:
    """Add /poll, its buttons, and the typed question and options it waits for."""
    app.add_handler(CommandHandler("poll", _on_poll, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    private_text = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT
    # Group -4 runs before /broadcast (-3), /needs (-2) and the fallback (0). Text steps aside
    # (returns without stopping) when no poll is waiting for it; any command drops a waiting
    # draft and goes on to its own handler, so /broadcast or /needs never see poll input.
    app.add_handler(
        MessageHandler(private_text & ~filters.COMMAND, _on_text), group=TEXT_INPUT_GROUP
    )
    app.add_handler(
        MessageHandler(private_text & filters.COMMAND, _on_command), group=TEXT_INPUT_GROUP
    )


# --- the menu -----------------------------------------------------------------------------


@requires(Role.facilitator)
async def _on_poll(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Offer a new quick poll, a survey question for a group, and results of open polls."""
    _drop_draft(context)
    lang = person.language
    services = services_of(context)
    async with services.db.session() as session:
        survey = await surveys.open_survey_now(session=session)
        active = await groups.active_groups(session=session)
        mine = await _open_quick_polls(person, session)
        group_polls = await _group_polls(survey.id if survey else None, session)
    rows = [[_button(context, lang, "button.poll_new", "new")]]
    if survey is not None and survey.questions and active:
        rows.append([_button(context, lang, "button.poll_group", "grp")])
    if mine:
        rows.append([_button(context, lang, "button.poll_open", "open")])
    if group_polls:
        rows.append([_button(context, lang, "button.poll_group_results", "glist")])
    rows.append([_button(context, lang, "button.cancel", "stop")])
    await reply(update, context, lang, "poll.menu", markup=InlineKeyboardMarkup(rows))


def _button(
    context: ContextTypes.DEFAULT_TYPE, lang: str, key: str, action: str, *args: object
) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(context, lang, key), callback_data=cb.encode(FLOW, action, *args))


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> QuickPollDraft | None:
    draft = context.user_data.pop(DRAFT_KEY, None) if context.user_data is not None else None
    return draft if isinstance(draft, QuickPollDraft) else None


def _draft(context: ContextTypes.DEFAULT_TYPE) -> QuickPollDraft | None:
    """The draft being typed, unless it is missing or too old (then it is dropped)."""
    draft = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    if not isinstance(draft, QuickPollDraft):
        return None
    if time.monotonic() - draft.since > DRAFT_MINUTES * 60:
        _drop_draft(context)
        return None
    return draft


@requires(Role.facilitator)
async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Every /poll button; whatever the data names is re-checked against the database."""
    query = update.callback_query
    data = cb.decode(query.data if query else None)
    if query is None:
        return
    if data is None:
        await answer_expired(query, context, person.language)
        return
    handler = _ACTIONS.get(data.action)
    if handler is None:
        await answer_expired(query, context, person.language)
        return
    await handler(update, context, person, data.args)


async def _stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Cancel the menu or the poll being typed."""
    query = _query(update)
    _drop_draft(context)
    await query.answer()
    await edit(query, t(context, person.language, "poll.cancelled"))


def _query(update: Update) -> CallbackQuery:
    """The pressed button (the guard and `_on_button` made sure there is one)."""
    assert update.callback_query is not None
    return update.callback_query


# --- a new quick poll ---------------------------------------------------------------------


async def _new(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Start typing a quick poll: the Thai question first."""
    query = _query(update)
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = QuickPollDraft()
    await query.answer()
    await edit(query, t(context, person.language, "poll.ask_question_th", limit=MAX_QUESTION))


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command ends the typing of a quick poll; the command itself is handled as usual."""
    _drop_draft(context)


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The Thai question, the English question, then the options of a quick poll."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or message is None or message.text is None:
        return  # not ours: other flows and the fallback answer
    person = await load_person(update, context)
    if not allows(person, FACILITATORS):
        _drop_draft(context)
        return
    draft.since = time.monotonic()
    text = message.text.strip()
    lang = person.language
    if draft.step in ("q_th", "q_en"):
        if not text or len(text) > MAX_QUESTION:
            await reply(update, context, lang, "poll.question_too_long", limit=MAX_QUESTION)
        elif draft.step == "q_th":
            draft.thai, draft.step = text, "q_en"
            await reply(update, context, lang, "poll.ask_question_en", limit=MAX_QUESTION)
        else:
            draft.english, draft.step = text, "options"
            await reply(update, context, lang, "poll.ask_options", min=MIN_OPTIONS, max=MAX_OPTIONS)
        raise ApplicationHandlerStop
    if draft.step == "options":
        await _add_option(update, context, person, draft, text)
        raise ApplicationHandlerStop
    await reply(update, context, lang, "poll.use_buttons")
    raise ApplicationHandlerStop


async def _add_option(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    draft: QuickPollDraft,
    text: str,
) -> None:
    lang = person.language
    parts = [part.strip() for part in text.split(SEPARATOR)]
    if len(parts) != 2 or not all(parts):
        await reply(update, context, lang, "poll.option_format")
        return
    thai, english = parts
    if len(thai) > MAX_OPTION or len(english) > MAX_OPTION:
        await reply(update, context, lang, "poll.option_too_long", limit=MAX_OPTION)
        return
    if any(thai == th or english == en for th, en in draft.options):
        await reply(update, context, lang, "poll.option_duplicate")
        return
    draft.options.append((thai, english))
    number = len(draft.options)
    if number >= MAX_OPTIONS:
        draft.step = "multi"
        await reply(update, context, lang, "poll.options_full", number=number, thai=thai,
                    english=english, max=MAX_OPTIONS)  # fmt: skip
        markup = _multiple_markup(context, lang)
        await reply(update, context, lang, "poll.ask_multiple", markup=markup)
        return
    if number < MIN_OPTIONS:
        await reply(update, context, lang, "poll.option_added_first", number=number, thai=thai,
                    english=english)  # fmt: skip
        return
    markup = InlineKeyboardMarkup([[_button(context, lang, "button.poll_done", "done")]])
    await reply(update, context, lang, "poll.option_added", markup=markup, number=number,
                thai=thai, english=english)  # fmt: skip


def _multiple_markup(context: ContextTypes.DEFAULT_TYPE, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(context, lang, "button.poll_single", "multi", 0),
          _button(context, lang, "button.poll_multiple", "multi", 1)],
         [_button(context, lang, "button.cancel", "stop")]]
    )  # fmt: skip


async def _done(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The options are complete: ask whether several answers are allowed."""
    query = _query(update)
    draft = _draft(context)
    lang = person.language
    if draft is None or draft.step != "options":
        await answer_expired(query, context, lang)
        return
    if len(draft.options) < MIN_OPTIONS:
        await query.answer(t(context, lang, "poll.need_more_options", min=MIN_OPTIONS))
        return
    draft.step = "multi"
    await query.answer()
    await edit(query, t(context, lang, "poll.ask_multiple"), _multiple_markup(context, lang))


async def _multi(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """One or several answers; then who gets the poll."""
    query = _query(update)
    draft = _draft(context)
    if draft is None or draft.step != "multi" or args not in (("0",), ("1",)):
        await answer_expired(query, context, person.language)
        return
    draft.multiple, draft.step = args == ("1",), "audience"
    await query.answer()
    await _ask_audience(query, context, person.language, "poll.choose_audience")


async def _ask_audience(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, lang: str, key: str
) -> None:
    async with services_of(context).db.session() as session:
        count = await deliveries.count_broadcast_recipients(
            purpose=Purpose.needs_survey, session=session
        )
        active = await groups.active_groups(session=session)
    rows = [[InlineKeyboardButton(t(context, lang, "poll.audience_citizens", count=count),
                                  callback_data=cb.encode(FLOW, "aud", CITIZENS))]]  # fmt: skip
    rows += [
        [InlineKeyboardButton(_group_label(group), callback_data=cb.encode(FLOW, "aud",
                                                                           group.telegram_chat_id))]
        for group in active
    ]  # fmt: skip
    rows.append([_button(context, lang, "button.cancel", "stop")])
    await edit(query, t(context, lang, key, question_limit=MAX_QUESTION,
                        option_limit=MAX_OPTION), InlineKeyboardMarkup(rows))  # fmt: skip


def _group_label(group: ChatGroup) -> str:
    return group.title[:40] or str(group.telegram_chat_id)


async def _audience(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The audience; a group must fit both languages in one poll. Then the preview."""
    query = _query(update)
    draft = _draft(context)
    lang = person.language
    audience = args[0] if args else None
    if draft is None or draft.step != "audience" or audience is None:
        await answer_expired(query, context, lang)
        return
    recipients = await _recipients(context, audience)
    if recipients is None:
        await answer_expired(query, context, lang)
        return
    question = {"th": draft.thai, "en": draft.english}
    options = [{"th": th, "en": en} for th, en in draft.options]
    if audience != CITIZENS and not _fits_one_poll(question, options):
        await query.answer()
        await _ask_audience(query, context, lang, "poll.group_too_long")
        return
    if not recipients:
        await query.answer(t(context, lang, "poll.no_recipients"), show_alert=True)
        return
    async with services_of(context).db.session() as session:
        key = await button_states.stash(
            FLOW,
            {"audience": audience, "question": question, "options": options,
             "multiple": draft.multiple},
            owner_telegram_id=person.telegram_user_id,
            session=session,
        )  # fmt: skip
        group = (
            None if audience == CITIZENS else await groups.get_group(int(audience), session=session)
        )
    _drop_draft(context)
    await query.answer()
    who = (
        t(context, lang, "poll.audience_citizens_name")
        if group is None
        else t(context, lang, "poll.audience_group_name", title=_group_label(group))
    )
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(context, lang, "poll.send", count=len(recipients)),
                               callback_data=cb.encode(FLOW, "send", key)),
          _button(context, lang, "button.cancel", "cancel", key)]]
    )  # fmt: skip
    text = t(
        context,
        lang,
        "poll.preview",
        thai=Raw(_preview_block(question["th"], [o["th"] for o in options])),
        english=Raw(_preview_block(question["en"], [o["en"] for o in options])),
        answers=Raw(
            t(context, lang, "poll.answers_multiple" if draft.multiple else "poll.answers_single")
        ),
        audience=Raw(who),
        count=len(recipients),
    )
    await edit(query, text, markup)


def _preview_block(question: str, options: Sequence[str]) -> str:
    lines = [f"<b>{html.escape(question, quote=False)}</b>"]
    lines += [f"• {html.escape(option, quote=False)}" for option in options]
    return "\n".join(lines)


def _both(texts: Mapping[str, object]) -> str:
    """Thai and English in one text, as a group sees them."""
    return f"{texts['th']}{SEPARATOR}{texts['en']}"


def _fits_one_poll(question: Mapping[str, object], options: Sequence[Mapping[str, object]]) -> bool:
    """Whether both languages together still fit Telegram's limits."""
    return len(_both(question)) <= MAX_QUESTION and all(
        len(_both(option)) <= MAX_OPTION for option in options
    )


async def _recipients(context: ContextTypes.DEFAULT_TYPE, audience: str) -> list[Recipient] | None:
    """Who gets the poll, read now; None if the audience does not exist (any more)."""
    async with services_of(context).db.session() as session:
        if audience == CITIZENS:
            return await deliveries.broadcast_recipients(
                purpose=Purpose.needs_survey, session=session
            )
        try:
            chat_id = int(audience)
        except ValueError:
            return None
        group = await groups.get_group(chat_id, session=session)
    if group is None or not group.active:
        return None
    return [deliveries.group_recipient(group.telegram_chat_id)]


async def _send(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Send the previewed poll."""
    await _send_or_cancel(update, context, person, args, send=True)


async def _cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Drop the previewed poll."""
    await _send_or_cancel(update, context, person, args, send=False)


async def _send_or_cancel(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    args: tuple[str, ...],
    *,
    send: bool,
) -> None:
    """Send the previewed poll (stored first, then sent in the background), or drop it."""
    query = _query(update)
    lang = person.language
    key = args[0] if args else ""
    services = services_of(context)
    async with services.db.session() as session:
        draft = await button_states.fetch(
            key, flow=FLOW, owner_telegram_id=person.telegram_user_id, session=session
        )
        if draft is not None:
            await button_states.discard(key, session=session)
    if draft is None:
        await answer_expired(query, context, lang)
        return
    await query.answer()
    if not send:
        await edit(query, t(context, lang, "poll.cancelled"))
        return
    audience = str(draft["audience"])
    recipients = await _recipients(context, audience)
    if recipients is None:
        await edit(query, t(context, lang, "poll.audience_gone"))
        return
    if not recipients:
        await edit(query, t(context, lang, "poll.no_recipients"))
        return
    question = draft["question"]
    options = draft["options"]
    assert isinstance(question, dict) and isinstance(options, list)
    actor = actor_for(person.telegram_user_id)
    try:
        async with services.db.session() as session:
            quick = await surveys.create_quick_poll(
                {str(k): str(v) for k, v in question.items()},
                [{str(k): str(v) for k, v in option.items()} for option in options],
                multiple=bool(draft["multiple"]),
                created_by=actor,
                audience="citizens:needs_survey" if audience == CITIZENS else f"group:{audience}",
                session=session,
            )
    except PollSpecError:
        logger.warning("a previewed quick poll was refused by storage", exc_info=True)
        await edit(query, t(context, lang, "poll.invalid"))
        return
    assert quick.id is not None
    targets = [
        _Target(r.chat_id, r.language, r.chat_id if r.chat_id > 0 else None) for r in recipients
    ]
    markup = InlineKeyboardMarkup([[_button(context, lang, "button.poll_results", "show",
                                            quick.id)]])  # fmt: skip
    await edit(query, t(context, lang, "poll.sending", count=len(targets)), markup)
    if audience == CITIZENS and services.dispatcher is not None:
        # Many private chats: the delivery log sends each exactly once, paced, across restarts.
        await _queue_quick_poll(services, quick, recipients, person)
        return
    context.application.create_task(
        _send_quick_poll(context, quick.id, targets, person),
        name=f"quick-poll-{quick.id}",
    )


def quick_poll_purpose(quick_poll_id: int) -> str:
    """The delivery-log purpose of a quick poll sent to citizens."""
    return f"{QUICK_POLL_PURPOSE}{quick_poll_id}"


async def _queue_quick_poll(
    services: Services, quick: QuickPoll, recipients: list[Recipient], person: Person
) -> None:
    """One poll per citizen in their language, through the dispatcher; it reports when done."""
    assert quick.id is not None and services.dispatcher is not None
    content: dict[str, str | deliveries.PollContent] = {}
    for language in ("th", "en"):
        question, options = _poll_texts(quick, language)
        content[language] = {
            "question": question,
            "options": options,
            "is_anonymous": False,
            "allows_multiple_answers": quick.multiple,
        }
    async with services.db.session() as session:
        await deliveries.enqueue(
            quick_poll_purpose(quick.id),
            deliveries.POLL_KIND,
            content,
            recipients,
            created_by=actor_for(person.telegram_user_id),
            audience=quick.audience,
            report_to_chat_id=person.telegram_user_id,
            session=session,
        )
    services.dispatcher.wake()


async def on_startup(app: AnyApplication, services: Services) -> None:
    """Record each quick poll the dispatcher sends, so its votes are attributed."""
    if services.dispatcher is None:
        return

    async def record(sent: PollSent) -> None:
        quick_poll_id = int(sent.purpose.removeprefix(QUICK_POLL_PURPOSE))
        async with services.db.session() as session:
            quick = await surveys.get_quick_poll(quick_poll_id, session=session)
            if quick is None:
                return
            await surveys.record_sent_poll(
                sent.poll_id,
                chat_id=sent.chat_id,
                message_id=sent.telegram_message_id,
                kind=PollKind.quick,
                option_keys=[str(option["key"]) for option in quick.options],
                language=sent.language,
                quick_poll_id=quick_poll_id,
                recipient_telegram_id=sent.telegram_user_id,
                session=session,
            )

    services.dispatcher.on_poll_sent(QUICK_POLL_PURPOSE, record)


# --- sending, paced -----------------------------------------------------------------------


def _sender(context: ContextTypes.DEFAULT_TYPE) -> tuple[Bot, RateLimiter]:
    """The dispatcher's Bot and limiter (one budget for every send to many), or fallbacks."""
    services = services_of(context)
    if services.dispatcher is not None:
        return services.dispatcher.bot, services.dispatcher.limiter
    limiter = context.application.bot_data.get(LIMITER_KEY)
    if not isinstance(limiter, RateLimiter):
        limiter = RateLimiter(Rates())
        context.application.bot_data[LIMITER_KEY] = limiter
    return context.bot, limiter


async def _paced(limiter: RateLimiter, chat_id: int, send: Callable[[], Awaitable[T]]) -> T:
    """One call in its turn; a 429 pauses every sender and is tried again."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        await limiter.acquire(chat_id)
        try:
            return await send()
        except RetryAfter as error:
            limiter.pause(retry_after_seconds(error))
            if attempt == SEND_ATTEMPTS:
                raise
    raise AssertionError("not reached")


def _poll_texts(quick: QuickPoll, language: str) -> tuple[str, list[str]]:
    if language == "both":
        return _both(quick.question), [_both(option) for option in quick.options]
    return str(quick.question[language]), [str(option[language]) for option in quick.options]


async def _send_poll(
    bot: Bot,
    limiter: RateLimiter,
    chat_id: int,
    question: str,
    options: Sequence[str],
    multiple: bool,
) -> Message:
    """A non-anonymous poll as typed (no parse mode: the text is shown exactly as written)."""
    choices = [InputPollOption(option, text_parse_mode=None) for option in options]
    send = functools.partial(
        bot.send_poll,
        chat_id,
        question,
        choices,
        is_anonymous=False,
        allows_multiple_answers=multiple,
        question_parse_mode=None,
    )
    return await _paced(limiter, chat_id, send)


async def _send_group_notice(
    context: ContextTypes.DEFAULT_TYPE, bot: Bot, limiter: RateLimiter, chat_id: int
) -> None:
    """Tell the group, in both languages, that everyone sees who voted for what."""
    text = "\n\n".join(t(context, lang, "poll.group_notice") for lang in ("th", "en"))
    send = functools.partial(bot.send_message, chat_id, text, parse_mode="HTML")
    await _paced(limiter, chat_id, send)


async def _send_quick_poll(
    context: ContextTypes.DEFAULT_TYPE, quick_poll_id: int, targets: list[_Target], person: Person
) -> None:
    """Send the quick poll to every target, record each, then report to the facilitator."""
    services = services_of(context)
    bot, limiter = _sender(context)
    sent = failed = 0
    try:
        async with services.db.session() as session:
            quick = await surveys.get_quick_poll(quick_poll_id, session=session)
        assert quick is not None
        keys = [str(option["key"]) for option in quick.options]
        for index, target in enumerate(targets):
            if index and index % STATUS_EVERY == 0 and await _closed(services, quick_poll_id):
                break
            if await _send_one(context, services, bot, limiter, quick, keys, target):
                sent += 1
            else:
                failed += 1
    except Exception:
        logger.exception("sending quick poll %d stopped", quick_poll_id)
    lang = person.language
    try:
        await context.bot.send_message(
            person.telegram_user_id,
            t(context, lang, "poll.sent_report", sent=sent, total=len(targets), failed=failed),
            reply_markup=InlineKeyboardMarkup(
                [[_button(context, lang, "button.poll_results", "show", quick_poll_id)]]
            ),
        )
    except TelegramError:
        logger.warning("could not report a quick poll's sending", exc_info=True)


async def _closed(services: Services, quick_poll_id: int) -> bool:
    async with services.db.session() as session:
        quick = await surveys.get_quick_poll(quick_poll_id, session=session)
    return quick is None or quick.status is QuickPollStatus.closed


async def _send_one(
    context: ContextTypes.DEFAULT_TYPE,
    services: Services,
    bot: Bot,
    limiter: RateLimiter,
    quick: QuickPoll,
    keys: list[str],
    target: _Target,
) -> bool:
    """One poll (after the group notice, for a group) and its record; False if it failed."""
    assert quick.id is not None
    question, options = _poll_texts(quick, target.language)
    try:
        if target.recipient_telegram_id is None:
            await _send_group_notice(context, bot, limiter, target.chat_id)
        message = await _send_poll(bot, limiter, target.chat_id, question, options, quick.multiple)
    except Forbidden:
        if target.recipient_telegram_id is not None:
            await _mark_unreachable(services, target.recipient_telegram_id)
        return False
    except TelegramError:
        logger.warning("a quick poll could not be sent to a chat", exc_info=True)
        return False
    if message.poll is None:
        return False
    async with services.db.session() as session:
        await surveys.record_sent_poll(
            message.poll.id,
            chat_id=target.chat_id,
            message_id=message.message_id,
            kind=PollKind.quick,
            option_keys=keys,
            language=target.language,
            quick_poll_id=quick.id,
            recipient_telegram_id=target.recipient_telegram_id,
            session=session,
        )
    return True


async def _mark_unreachable(services: Services, telegram_user_id: int) -> None:
    try:
        async with services.db.session() as session:
            await citizens.set_reachable(telegram_user_id, False, session=session)
    except NotRegistered:
        pass


async def _stop_polls(context: ContextTypes.DEFAULT_TYPE, polls: list[tuple[int, int]]) -> None:
    """stopPoll for every (chat, message); a poll already closed is fine."""
    bot, limiter = _sender(context)
    for chat_id, message_id in polls:
        try:
            await _paced(limiter, chat_id, functools.partial(bot.stop_poll, chat_id, message_id))
        except BadRequest as error:
            if ALREADY_CLOSED not in error.message.lower():
                logger.warning("could not stop a poll: %s", error.message)
        except TelegramError:
            logger.warning("could not stop a poll", exc_info=True)


# --- open quick polls: results and closing ------------------------------------------------


async def _open_quick_polls(person: Person, session: AsyncSession) -> list[QuickPoll]:
    """This facilitator's open quick polls, newest first."""
    return await surveys.open_quick_polls(
        created_by=actor_for(person.telegram_user_id),
        since=clock.now() - timedelta(days=LIST_DAYS),
        limit=LIST_LIMIT,
        session=session,
    )


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


async def _open_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The facilitator's open quick polls, one button each."""
    query = _query(update)
    lang = person.language
    async with services_of(context).db.session() as session:
        mine = await _open_quick_polls(person, session)
    await query.answer()
    if not mine:
        await edit(query, t(context, lang, "poll.no_open"))
        return
    rows = [
        [InlineKeyboardButton(_short(str(quick.question.get(lang, ""))),
                              callback_data=cb.encode(FLOW, "show", quick.id))]
        for quick in mine
    ]  # fmt: skip
    await edit(query, t(context, lang, "poll.open_list"), InlineKeyboardMarkup(rows))


async def _own_quick_poll(
    context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> QuickPoll | None:
    """The quick poll the data names, if it exists and is this facilitator's (or an admin's)."""
    if len(args) != 1 or not args[0].isdigit():
        return None
    async with services_of(context).db.session() as session:
        quick = await surveys.get_quick_poll(int(args[0]), session=session)
    if quick is None:
        return None
    if quick.created_by != actor_for(person.telegram_user_id) and person.role is not Role.admin:
        return None
    return quick


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Results so far, with Close (while open) and Refresh."""
    query = _query(update)
    quick = await _own_quick_poll(context, person, args)
    if quick is None or quick.id is None:
        await answer_expired(query, context, person.language)
        return
    await query.answer()
    await _edit_results(query, context, person.language, quick.id)


async def _edit_results(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, lang: str, quick_poll_id: int
) -> None:
    async with services_of(context).db.session() as session:
        result = await surveys.quick_poll_result(quick_poll_id, session=session)
    row = [_button(context, lang, "button.poll_refresh", "show", quick_poll_id)]
    if result.status is QuickPollStatus.open:
        row.insert(0, _button(context, lang, "button.poll_close", "close", quick_poll_id))
    await edit(query, _quick_results_text(context, lang, result), InlineKeyboardMarkup([row]))


def _label(labels: Mapping[str, str], lang: str, fallback: str) -> str:
    return labels.get(lang) or next(iter(labels.values()), fallback)


def _quick_results_text(
    context: ContextTypes.DEFAULT_TYPE, lang: str, result: surveys.QuickPollResult
) -> str:
    lines: list[str] = []
    for index, key in enumerate(result.option_keys):
        label = _label(result.labels[index], lang, key)
        anonymous = result.anonymous_counts[index]
        if anonymous:
            lines.append(t(context, lang, "poll.result_line_anonymous", label=label,
                           count=result.counts[index], anonymous=anonymous))  # fmt: skip
        else:
            lines.append(t(context, lang, "poll.result_line", label=label,
                           count=result.counts[index]))  # fmt: skip
    status = "poll.status_open" if result.status is QuickPollStatus.open else "poll.status_closed"
    return t(
        context,
        lang,
        "poll.results",
        question=_label(result.question, lang, ""),
        status=Raw(t(context, lang, status)),
        lines=Raw("\n".join(lines)),
        respondents=result.respondents,
        anonymous=result.anonymous_voters,
    )


async def _close(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Close the quick poll: no more answers are stored; its polls are stopped; results."""
    query = _query(update)
    quick = await _own_quick_poll(context, person, args)
    if quick is None or quick.id is None:
        await answer_expired(query, context, person.language)
        return
    async with services_of(context).db.session() as session:
        await surveys.close_quick_poll(
            quick.id, actor=actor_for(person.telegram_user_id), session=session
        )
        # Polls not sent yet are not sent at all.
        await deliveries.drop_pending(quick_poll_purpose(quick.id), session=session)
        polls = await surveys.quick_poll_polls(quick.id, session=session)
    await query.answer()
    await _edit_results(query, context, person.language, quick.id)
    context.application.create_task(
        _stop_polls(context, [(poll.chat_id, poll.message_id) for poll in polls]),
        name=f"stop-quick-poll-{quick.id}",
    )


# --- a survey question in a group ---------------------------------------------------------


async def _group_polls(survey_id: int | None, session: AsyncSession) -> list[SentPoll]:
    """The open survey's polls in groups, newest first."""
    if survey_id is None:
        return []
    polls = await surveys.survey_polls(survey_id, session=session)
    return [poll for poll in reversed(polls) if poll.kind is PollKind.group][:LIST_LIMIT]


async def _choose_group(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Which registered group gets a survey question."""
    query = _query(update)
    lang = person.language
    async with services_of(context).db.session() as session:
        survey = await surveys.open_survey_now(session=session)
        active = await groups.active_groups(session=session)
    await query.answer()
    if survey is None:
        await edit(query, t(context, lang, "poll.no_survey"))
        return
    if not active:
        await edit(query, t(context, lang, "poll.no_groups"))
        return
    rows = [
        [InlineKeyboardButton(_group_label(group),
                              callback_data=cb.encode(FLOW, "gg", group.telegram_chat_id))]
        for group in active
    ]  # fmt: skip
    rows.append([_button(context, lang, "button.cancel", "stop")])
    await edit(query, t(context, lang, "poll.choose_group"), InlineKeyboardMarkup(rows))


async def _active_group(context: ContextTypes.DEFAULT_TYPE, raw: str | None) -> ChatGroup | None:
    try:
        chat_id = int(raw or "")
    except ValueError:
        return None
    async with services_of(context).db.session() as session:
        group = await groups.get_group(chat_id, session=session)
    return group if group is not None and group.active else None


async def _choose_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """Which question of the open survey goes to the chosen group."""
    query = _query(update)
    lang = person.language
    group = await _active_group(context, args[0] if args else None)
    async with services_of(context).db.session() as session:
        survey = await surveys.open_survey_now(session=session)
    if group is None or survey is None:
        await answer_expired(query, context, lang)
        return
    await query.answer()
    rows = [
        [InlineKeyboardButton(f"{number}. {_short(question.text.get(lang, question.key))}",
                              callback_data=cb.encode(FLOW, "gs", group.telegram_chat_id,
                                                      question.id))]
        for number, question in enumerate(survey.questions, start=1)
    ]  # fmt: skip
    rows.append([_button(context, lang, "button.cancel", "stop")])
    text = t(context, lang, "poll.choose_question", title=survey.title.get(lang, survey.key),
             group=_group_label(group))  # fmt: skip
    await edit(query, text, InlineKeyboardMarkup(rows))


async def _send_group_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The question as one poll in both languages, after the notice that votes are visible."""
    query = _query(update)
    lang = person.language
    group = await _active_group(context, args[0] if args else None)
    services = services_of(context)
    async with services.db.session() as session:
        survey = await surveys.open_survey_now(session=session)
    question = None
    if survey is not None and len(args) == 2 and args[1].isdigit():
        question = next((q for q in survey.questions if q.id == int(args[1])), None)
    if group is None or question is None:
        await answer_expired(query, context, lang)
        return
    labels = [option.label for option in question.options]
    if not _fits_one_poll(question.text, labels):
        await query.answer(t(context, lang, "poll.group_question_too_long"), show_alert=True)
        return
    await query.answer()
    bot, limiter = _sender(context)
    try:
        await _send_group_notice(context, bot, limiter, group.telegram_chat_id)
        message = await _send_poll(
            bot, limiter, group.telegram_chat_id, _both(question.text),
            [_both(label) for label in labels], question.multiple,
        )  # fmt: skip
    except TelegramError:
        logger.warning("a survey question could not be sent to a group", exc_info=True)
        await edit(query, t(context, lang, "poll.group_send_failed", group=_group_label(group)))
        return
    assert message.poll is not None
    async with services.db.session() as session:
        await surveys.record_sent_poll(
            message.poll.id,
            chat_id=group.telegram_chat_id,
            message_id=message.message_id,
            kind=PollKind.group,
            question_id=question.id,
            language="both",
            option_keys=question.option_keys,
            session=session,
        )
    assert survey is not None
    number = survey.questions.index(question) + 1
    button = _group_result_button(context, lang, message.poll.id)
    await edit(
        query,
        t(context, lang, "poll.group_sent", number=number, group=_group_label(group)),
        InlineKeyboardMarkup([[button]]) if button else None,
    )


def _group_result_button(
    context: ContextTypes.DEFAULT_TYPE, lang: str, poll_id: str, label: str | None = None
) -> InlineKeyboardButton | None:
    """A button for one group poll's result; None if Telegram's poll id does not fit the data."""
    try:
        data = cb.encode(FLOW, "gres", poll_id)
    except ValueError:
        return None
    return InlineKeyboardButton(label or t(context, lang, "button.poll_results"),
                                callback_data=data)  # fmt: skip


async def _group_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """The open survey's polls in groups, to read their results."""
    query = _query(update)
    lang = person.language
    rows: list[list[InlineKeyboardButton]] = []
    async with services_of(context).db.session() as session:
        survey = await surveys.open_survey_now(session=session)
        polls = await _group_polls(survey.id if survey else None, session)
        numbers = {q.id: n for n, q in enumerate(survey.questions, 1)} if survey else {}
        for poll in polls:
            group = await groups.get_group(poll.chat_id, session=session)
            title = _group_label(group) if group else str(poll.chat_id)
            number = numbers.get(poll.question_id or 0, 0)
            button = _group_result_button(context, lang, poll.poll_id, _short(f"{number}. {title}"))
            if button is not None:
                rows.append([button])
    await query.answer()
    if not rows:
        await edit(query, t(context, lang, "poll.no_group_polls"))
        return
    await edit(query, t(context, lang, "poll.group_list"), InlineKeyboardMarkup(rows))


async def _group_result(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, args: tuple[str, ...]
) -> None:
    """One group poll's votes: answers stored with consent, and the others only counted."""
    query = _query(update)
    lang = person.language
    poll_id = args[0] if len(args) == 1 else ""
    async with services_of(context).db.session() as session:
        sent = await surveys.sent_poll(poll_id, session=session)
        result = await surveys.group_poll_result(poll_id, session=session)
        question = (
            await surveys.get_question(sent.question_id, session=session)
            if sent is not None and sent.question_id is not None
            else None
        )
        group = await groups.get_group(sent.chat_id, session=session) if sent else None
    if sent is None or sent.kind is not PollKind.group or result is None:
        await answer_expired(query, context, lang)
        return
    await query.answer()
    lines = [
        t(context, lang, "poll.group_result_line", label=_label(result.labels[index], lang, key),
          total=result.consented_counts[index] + result.anonymous_counts[index],
          consented=result.consented_counts[index], anonymous=result.anonymous_counts[index])
        for index, key in enumerate(result.option_keys)
    ]  # fmt: skip
    text = t(
        context,
        lang,
        "poll.group_results",
        question=question.text.get(lang, question.key) if question else "",
        group=_group_label(group) if group else str(sent.chat_id),
        lines=Raw("\n".join(lines)),
        total=result.total_voters,
        consented=result.consented_voters,
        anonymous=result.anonymous_voters,
    )
    button = _group_result_button(context, lang, poll_id, t(context, lang, "button.poll_refresh"))
    await edit(query, text, InlineKeyboardMarkup([[button]]) if button else None)


_ACTIONS: dict[str, Action] = {
    "stop": _stop,
    "new": _new,
    "done": _done,
    "multi": _multi,
    "aud": _audience,
    "send": _send,
    "cancel": _cancel,
    "open": _open_list,
    "show": _show,
    "close": _close,
    "grp": _choose_group,
    "gg": _choose_question,
    "gs": _send_group_question,
    "glist": _group_list,
    "gres": _group_result,
}
