"""`/needs`: the open survey as native polls, one question after another, then free text.

Each poll is non-anonymous, so Telegram tells us who answered; the poll id is stored with its
question and language, so an answer that arrives after a restart is still attributed. A first
answer moves the person on to the next question; a changed or retracted vote only updates
the stored answer (nothing is sent). The last step asks what else they would like to learn;
each reply is stored with its detected language until they tap "Finish".
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import outage
from bot.language_detection import detect_language
from bot.services import AnyApplication, services_of
from handlers import callback_data as cb
from handlers.input_guard import utf16_length
from handlers.people import Person, as_language, load_person
from handlers.replies import answer_expired, edit, reply, t
from storage import citizens, surveys
from storage.enums import Language, Purpose
from storage.survey_steps import StepFor

logger = logging.getLogger(__name__)

FLOW = "need"
FREE_TEXT_KEY = "needs_free_text"
TEXT_INPUT_GROUP = -2  # /broadcast waits for text in group -3
FREE_TEXT_MINUTES = 30  # after this, stray text is no longer taken as a learning need
MAX_FREE_TEXT = 1000
UNKNOWN_POLL_RETRY_SECONDS = 1.0


@dataclass
class FreeTextState:
    """Waiting for "what else would you like to learn?" replies (memory only)."""

    survey_id: int
    since: float


def register(app: AnyApplication) -> None:
    """Add /needs, poll answers, poll counts and the free-text step."""
    app.add_handler(CommandHandler("needs", _on_needs, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))
    # Its own group (one handler runs per group): sees private text before the fallback in
    # group 0, and steps aside when not waiting for it.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            _on_free_text,
        ),
        group=TEXT_INPUT_GROUP,
    )


async def _on_needs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start or continue the survey; ask for consent first if it was not given."""
    person = await load_person(update, context)
    if not person.registered:
        await reply(update, context, person.language, "needs.unregistered")
        return
    if not await _consents(context, person):
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(context, person.language, "button.needs_consent"),
                                   callback_data=cb.encode(FLOW, "consent"))]]
        )  # fmt: skip
        await reply(update, context, person.language, "needs.ask_consent", markup=markup)
        return
    await _continue(context, person)


async def _consents(context: ContextTypes.DEFAULT_TYPE, person: Person) -> bool:
    async with services_of(context).db.session(readonly=True) as session:
        states = await citizens.consents_of(person.telegram_user_id, session=session)
    state = states.get(Purpose.needs_survey)
    return state is not None and state.granted


async def _continue(context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """Send the next unanswered question as a poll, or move on to free text."""
    async with services_of(context).db.session(readonly=True) as session:
        step = await surveys.next_step(person.telegram_user_id, session=session)
    await _send_step(context, person.telegram_user_id, person.language, step)


async def _send_step(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, lang: Language, step: surveys.NextStep | None
) -> None:
    """Ask `step`'s question as a poll, or move on to free text (None: no open survey)."""
    services = services_of(context)
    if step is None:
        await context.bot.send_message(chat_id, t(context, lang, "needs.no_survey"))
        return
    question, done, total = step.question, step.answered, step.total
    if question is None:
        if context.user_data is not None:
            context.user_data[FREE_TEXT_KEY] = FreeTextState(step.survey_id, time.monotonic())
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(context, lang, "button.needs_finish"),
                                   callback_data=cb.encode(FLOW, "finish"))]]
        )  # fmt: skip
        await context.bot.send_message(
            chat_id, t(context, lang, "needs.free_text_prompt"), reply_markup=markup
        )
        return
    text = question.text[lang]
    numbered = t(context, lang, "needs.progress", current=done + 1, total=total) + " " + text
    message = await context.bot.send_poll(
        chat_id,
        numbered if len(numbered) <= 300 else text,
        [option.label[lang] for option in question.options],
        is_anonymous=False,
        allows_multiple_answers=question.multiple,
    )
    assert message.poll is not None
    sent = surveys.NewSentPoll(
        message.poll.id,
        chat_id=chat_id,
        message_id=message.message_id,
        kind="survey",
        question_id=question.id,
        language=lang,
        option_keys=[option.key for option in question.options],
        recipient_telegram_id=chat_id,
    )
    if services.answers is not None:  # written with the votes arriving meanwhile
        await services.answers.record_sent_poll(sent)
        return
    async with services.db.session() as session:
        await surveys.record_sent_polls([sent], session=session)


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Consent to the survey, or finish the free-text step."""
    query = update.callback_query
    if query is None:
        return
    person = await load_person(update, context)
    data = cb.decode(query.data)
    if data is None or not person.registered:
        await answer_expired(query, context, person.language)
        return
    if data.action == "consent":
        async with services_of(context).db.session() as session:
            await citizens.set_consent(
                person.telegram_user_id, Purpose.needs_survey, True, session=session
            )
        await query.answer()
        await edit(query, t(context, person.language, "needs.consent_thanks"))
        await _continue(context, person)
        return
    if data.action == "finish":
        state = context.user_data.pop(FREE_TEXT_KEY, None) if context.user_data else None
        if state is None:
            await answer_expired(query, context, person.language)
            return
        await query.answer()
        await edit(query, t(context, person.language, "needs.finished"))
        return
    await answer_expired(query, context, person.language)


async def on_survey_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store a vote (new, changed or retracted); a first answer brings the next question."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    user_id = answer.user.id
    outcome, then = await _store_vote(context, answer.poll_id, user_id, list(answer.option_ids))
    if outcome.status == "unknown_poll":
        # A group member can vote in the milliseconds between a poll's sending and the commit
        # of its record: look once more, a moment later, before ignoring the vote.
        await asyncio.sleep(UNKNOWN_POLL_RETRY_SECONDS)
        outcome, then = await _store_vote(context, answer.poll_id, user_id, list(answer.option_ids))
    if outcome.status in ("unknown_poll", "closed"):
        logger.info("ignored an answer to a %s poll", outcome.status.replace("_poll", ""))
        return
    # Handled again after an outage, the vote may already be in ("unchanged") while the next
    # question was never sent: send it now.
    first = outcome.status == "stored" or (outcome.status == "unchanged" and outage.retrying())
    if first and outcome.kind == "survey":
        language = as_language(then.language) if then is not None else None
        if then is not None and then.reachable and language is not None:
            # Read with the vote's batch: no session of our own (bench/README.md).
            await _send_step(context, user_id, language, then.step)
            return
        person = await load_person(update, context)
        await _continue(context, person)


async def _store_vote(
    context: ContextTypes.DEFAULT_TYPE, poll_id: str, telegram_user_id: int, option_ids: list[int]
) -> tuple[surveys.AnswerOutcome, StepFor | None]:
    """The vote's outcome; with the answer batcher, a first answer's next step too."""
    services = services_of(context)
    if services.answers is not None:  # votes arriving together share one transaction
        return await services.answers.submit_with_step(poll_id, telegram_user_id, option_ids)
    async with services.db.session() as session:
        outcome = await surveys.record_poll_answer(
            poll_id, telegram_user_id, option_ids, session=session
        )
    return outcome, None


async def on_poll_counts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Vote counts of a poll we sent (group polls count people who did not consent)."""
    poll = update.poll
    if poll is None:
        return
    services = services_of(context)
    counts = [option.voter_count for option in poll.options]
    if services.answers is not None:  # one per vote: written with the votes' transactions
        await services.answers.submit_counts(
            poll.id, counts, poll.total_voter_count, poll.is_closed
        )
        return
    async with services.db.session() as session:
        await surveys.record_poll_counts(
            poll.id, counts, poll.total_voter_count, poll.is_closed, session=session
        )


async def _on_free_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A "what else would you like to learn?" reply: stored with its detected language."""
    state = context.user_data.get(FREE_TEXT_KEY) if context.user_data is not None else None
    message = update.effective_message
    if not isinstance(state, FreeTextState) or message is None or not message.text:
        return  # not ours: other flows and the fallback answer
    person = await load_person(update, context)
    if time.monotonic() - state.since > FREE_TEXT_MINUTES * 60:
        if context.user_data is not None:
            context.user_data.pop(FREE_TEXT_KEY, None)
        return
    text = message.text.strip()
    if utf16_length(text) > MAX_FREE_TEXT:  # staff reach here; the input guard stops citizens
        await reply(update, context, person.language, "guard.too_long",
                    limit=MAX_FREE_TEXT, length=utf16_length(text))  # fmt: skip
        raise ApplicationHandlerStop
    async with services_of(context).db.session() as session:
        await surveys.add_free_text(
            person.telegram_user_id, text, detect_language(text),
            survey_id=state.survey_id, session=session,
        )  # fmt: skip
    state.since = time.monotonic()
    await reply(update, context, person.language, "needs.free_text_thanks")
    raise ApplicationHandlerStop
