"""The delivery log: outbox messages, and one delivery per recipient sent exactly once.

A message is enqueued under a unique `purpose` (e.g. "broadcast:12"); each recipient gets one
delivery keyed "<purpose>|<recipient>", so enqueueing again never sends twice. The dispatcher
claims due deliveries (pending → sending), sends them and records the outcome: sent, blocked,
failed, or pending again for a retry. Texts arrive rendered; storage only picks the language.

Most messages are text: `content` maps a language to its text. A message of kind `poll` is a
native poll: `content` maps a language to {"question", "options", "is_anonymous",
"allows_multiple_answers"}, checked against Telegram's limits when it is enqueued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypedDict

from sqlalchemy import Table, bindparam, func, update
from sqlmodel import SQLModel, col, select

from storage import audit, citizens, clock
from storage.checks import check_text as _check_text
from storage.checks import require_aware as _aware
from storage.database import AsyncSession
from storage.enums import DeliveryStatus, Purpose
from storage.errors import UnknownMessage
from storage.models import Citizen, Consent, Delivery, OutboxMessage
from storage.sql import insert_ignoring_conflicts

RECIPIENT_LANGUAGES: Final = ("th", "en", "both")
PURPOSE_MAX_LENGTH: Final = 96
KIND_MAX_LENGTH: Final = 16
AUDIENCE_MAX_LENGTH: Final = 64
ACTOR_MAX_LENGTH: Final = 64
RECIPIENT_MAX_LENGTH: Final = 64
KEY_MAX_LENGTH: Final = 160
ERROR_MAX_LENGTH: Final = 255
ENQUEUE_CHUNK: Final = 1000  # rows per executemany batch
OPEN_STATUSES: Final = (DeliveryStatus.pending, DeliveryStatus.sending)
_TEXT_FALLBACKS: Final = ("both", "en", "th")
POLL_KIND: Final = "poll"
# Telegram's limits on a poll (sendPoll): refused here rather than by every send.
POLL_QUESTION_MAX_LENGTH: Final = 300
POLL_OPTION_MAX_LENGTH: Final = 100
POLL_MIN_OPTIONS: Final = 2
POLL_MAX_OPTIONS: Final = 12
_POLL_KEYS: Final = frozenset({"question", "options", "is_anonymous", "allows_multiple_answers"})
# Messages that rest on a citizen's consent, by purpose prefix: checked again when a delivery
# is claimed, so a consent withdrawn after queueing stops the send (PDPA: withdrawal is final).
CONSENT_BY_PREFIX: Final[Mapping[str, Purpose]] = {
    "reminder:": Purpose.reminders,
    "broadcast:": Purpose.reminders,
    "survey-invite:": Purpose.needs_survey,
    "quickpoll:": Purpose.needs_survey,
    "library-feedback:": Purpose.human_library,
    "council-agenda:": Purpose.coffee_council,
    "council-minutes:": Purpose.coffee_council,
}


class PollContent(TypedDict):
    """A poll in one language, as a `poll` message's content holds it (JSON)."""

    question: str
    options: list[str]
    is_anonymous: bool
    allows_multiple_answers: bool


@dataclass(frozen=True)
class PollSpec:
    """A claimed poll delivery's poll, in the recipient's language."""

    question: str
    options: tuple[str, ...]
    is_anonymous: bool
    allows_multiple_answers: bool


@dataclass(frozen=True)
class Recipient:
    """Who gets a message: "tg:<user id>" or "chat:<chat id>", the chat and the language."""

    recipient: str
    chat_id: int
    language: str


@dataclass(frozen=True)
class DeliveryTask:
    """A claimed delivery, ready to send: `text` is the content in the recipient's language.

    For a `poll` message, `poll` is the poll in that language and `text` its question.
    """

    id: int
    message_id: int
    purpose: str
    kind: str
    chat_id: int
    language: str
    text: str
    attempt: int
    poll: PollSpec | None = None


@dataclass(frozen=True)
class DeliveryReport:
    """How the deliveries of one message stand."""

    message_id: int
    purpose: str
    total: int
    pending: int
    sending: int
    sent: int
    blocked: int
    failed: int
    dropped: int

    @property
    def finished(self) -> bool:
        """True when nothing is pending or being sent any more."""
        return self.pending == 0 and self.sending == 0


def citizen_recipient(telegram_user_id: int, language: str) -> Recipient:
    """A citizen's private chat (same id as the user), in their language."""
    return Recipient(audit.actor_for(telegram_user_id), telegram_user_id, language)


def group_recipient(chat_id: int) -> Recipient:
    """A registered group, which gets the "both" text (Thai and English together)."""
    return Recipient(f"chat:{chat_id}", chat_id, "both")


def delivery_key(purpose: str, recipient: str) -> str:
    """The unique key of one delivery: "<purpose>|<recipient>"."""
    return f"{purpose}|{recipient}"


async def enqueue(
    purpose: str,
    kind: str,
    content: Mapping[str, str | PollContent],
    recipients: Sequence[Recipient],
    *,
    created_by: str,
    audience: str,
    report_to_chat_id: int | None = None,
    not_before: datetime | None = None,
    status: str = DeliveryStatus.pending,
    session: AsyncSession,
) -> OutboxMessage:
    """Log a message and one delivery per recipient, due at `not_before` (default: now).

    Idempotent by `purpose`: enqueueing it again adds only recipients it does not have yet and
    keeps the first call's content, audience and report chat. Safe against concurrent calls.
    `status="dropped"` records deliveries that must not be sent (e.g. a reminder planned too
    late). `content` maps "th", "en" or "both" to the text, or for `kind="poll"` to a
    `PollContent`. Raises ValueError for bad content, recipients or lengths.
    """
    _check_text("purpose", purpose, PURPOSE_MAX_LENGTH)
    _check_text("kind", kind, KIND_MAX_LENGTH)
    _check_text("audience", audience, AUDIENCE_MAX_LENGTH)
    _check_text("created_by", created_by, ACTOR_MAX_LENGTH)
    texts = _checked_poll_content(content) if kind == POLL_KIND else _checked_content(content)
    initial = DeliveryStatus(status)
    if initial not in (DeliveryStatus.pending, DeliveryStatus.dropped):
        raise ValueError(f"deliveries start pending or dropped, not {initial.value}")
    now = clock.now()
    due = now if not_before is None else _aware("not_before", not_before)

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for recipient in recipients:  # all checked before anything is written
        _check_recipient(purpose, recipient)
        if recipient.recipient in seen:
            continue
        seen.add(recipient.recipient)
        rows.append(
            {
                "key": delivery_key(purpose, recipient.recipient),
                "recipient": recipient.recipient,
                "chat_id": recipient.chat_id,
                "language": recipient.language,
                "status": initial,
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
                "updated_at": now,
            }
        )

    await session.exec(
        insert_ignoring_conflicts(session, _OUTBOX, ["purpose"]).values(
            purpose=purpose,
            kind=kind,
            content=texts,
            audience=audience,
            created_by=created_by,
            created_at=now,
            report_to_chat_id=report_to_chat_id,
        )
    )
    message = (
        await session.exec(select(OutboxMessage).where(OutboxMessage.purpose == purpose))
    ).one()
    assert message.id is not None
    for row in rows:
        row["message_id"] = message.id
    statement = insert_ignoring_conflicts(session, _DELIVERIES, ["key"])
    for start in range(0, len(rows), ENQUEUE_CHUNK):
        await session.exec(statement, params=rows[start : start + ENQUEUE_CHUNK])
    return message


async def claim_due(
    limit: int, *, now: datetime | None = None, session: AsyncSession
) -> list[DeliveryTask]:
    """Claim up to `limit` due pending deliveries, oldest first: they become `sending`.

    Each claim counts as an attempt. Concurrent claimers never get the same delivery
    (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: writers are serialised). Deliveries without
    a chat (erased) are never claimed; a claimed one whose citizen has since withdrawn the
    consent its message needs (`CONSENT_BY_PREFIX`) is dropped instead of returned.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    at = clock.now() if now is None else _aware("now", now)
    due = (
        select(col(Delivery.id))
        .where(
            col(Delivery.status) == DeliveryStatus.pending,
            col(Delivery.next_attempt_at) <= at,
            col(Delivery.chat_id).is_not(None),
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)  # SQLite leaves the clause out
    )
    ids = [i for i in (await session.exec(due)).all() if i is not None]
    if not ids:
        return []
    claimed = await session.exec(
        update(Delivery)
        .where(col(Delivery.id).in_(ids))
        .values(status=DeliveryStatus.sending, attempts=col(Delivery.attempts) + 1, updated_at=at)
        .returning(
            col(Delivery.id),
            col(Delivery.message_id),
            col(Delivery.chat_id),
            col(Delivery.language),
            col(Delivery.attempts),
        )
        .execution_options(synchronize_session=False)
    )
    rows = {row[0]: row for row in claimed.all()}
    statement = select(OutboxMessage).where(
        col(OutboxMessage.id).in_({row[1] for row in rows.values()})
    )
    messages = {message.id: message for message in (await session.exec(statement)).all()}
    withdrawn = await _drop_withdrawn(rows.values(), messages, at, session)
    tasks: list[DeliveryTask] = []
    for delivery_id in ids:  # RETURNING promises no order: keep the claim's
        if delivery_id in withdrawn:
            continue
        _, message_id, chat_id, language, attempt = rows[delivery_id]
        message = messages[message_id]
        poll = poll_for(message.content, language) if message.kind == POLL_KIND else None
        tasks.append(
            DeliveryTask(
                id=delivery_id,
                message_id=message_id,
                purpose=message.purpose,
                kind=message.kind,
                chat_id=chat_id,
                language=language,
                text=poll.question if poll is not None else text_for(message.content, language),
                attempt=attempt,
                poll=poll,
            )
        )
    return tasks


async def recover_in_flight(*, session: AsyncSession) -> int:
    """At start-up: put every `sending` delivery back to pending; return how many.

    A delivery caught mid-send may or may not have reached Telegram; sending it again is the
    one duplicate the log cannot rule out.
    """
    result = await session.exec(
        update(Delivery)
        .where(col(Delivery.status) == DeliveryStatus.sending)
        .values(status=DeliveryStatus.pending, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def release_claimed(delivery_ids: Sequence[int], *, session: AsyncSession) -> int:
    """Give back claims that were never sent (the dispatcher is stopping): `sending` becomes
    pending again and the claim no longer counts as an attempt. Returns how many."""
    if not delivery_ids:
        return 0
    result = await session.exec(
        update(Delivery)
        .where(
            col(Delivery.id).in_(list(delivery_ids)),
            col(Delivery.status) == DeliveryStatus.sending,
        )
        .values(
            status=DeliveryStatus.pending,
            attempts=col(Delivery.attempts) - 1,  # claim_due added one
            updated_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def mark_sent(
    delivery_id: int, telegram_message_id: int | None, *, session: AsyncSession
) -> bool:
    """Record that Telegram accepted the delivery; False unless it was being sent."""
    now = clock.now()
    recipient = await _finish_sending(
        delivery_id,
        session,
        status=DeliveryStatus.sent,
        telegram_message_id=telegram_message_id,
        sent_at=now,
        updated_at=now,
    )
    return recipient is not None


_DELIVERIES: Final[Table] = SQLModel.metadata.tables["deliveries"]
# `mark_sent` for many deliveries in one statement (executemany): one database round trip
# per batch instead of one per delivery.
_MARK_SENT: Final = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("delivery_id"),
        _DELIVERIES.c.status == DeliveryStatus.sending,
    )
    .values(
        status=DeliveryStatus.sent,
        telegram_message_id=bindparam("telegram_message_id"),
        sent_at=bindparam("now", type_=_DELIVERIES.c.sent_at.type),
        updated_at=bindparam("now", type_=_DELIVERIES.c.updated_at.type),
    )
)


async def mark_sent_many(sent: Sequence[tuple[int, int | None]], *, session: AsyncSession) -> None:
    """`mark_sent` for many (delivery id, Telegram message id) pairs in one statement.

    Deliveries no longer being sent are left as they are, as `mark_sent` leaves them.
    """
    if not sent:
        return
    now = clock.now()
    rows = [
        {"delivery_id": delivery_id, "telegram_message_id": message_id, "now": now}
        for delivery_id, message_id in sent
    ]
    connection = await session.connection()
    await connection.execute(_MARK_SENT, rows)


async def mark_blocked(delivery_id: int, error: str, *, session: AsyncSession) -> bool:
    """Record that the chat refuses the bot; a citizen recipient becomes unreachable.

    False (and nothing changes) unless the delivery was being sent.
    """
    recipient = await _finish_sending(
        delivery_id,
        session,
        status=DeliveryStatus.blocked,
        last_error=_error(error),
        updated_at=clock.now(),
    )
    if recipient is None:
        return False
    telegram_user_id = _citizen_id_of(recipient)
    if telegram_user_id is not None:
        if await citizens.get_citizen(telegram_user_id, session=session) is not None:
            await citizens.set_reachable(telegram_user_id, False, session=session)
    return True


async def mark_failed(delivery_id: int, error: str, *, session: AsyncSession) -> bool:
    """Record that the delivery failed for good; False unless it was being sent."""
    recipient = await _finish_sending(
        delivery_id,
        session,
        status=DeliveryStatus.failed,
        last_error=_error(error),
        updated_at=clock.now(),
    )
    return recipient is not None


async def retry_later(delivery_id: int, at: datetime, error: str, *, session: AsyncSession) -> bool:
    """Put the delivery back to pending, due at `at`; False unless it was being sent."""
    recipient = await _finish_sending(
        delivery_id,
        session,
        status=DeliveryStatus.pending,
        next_attempt_at=_aware("at", at),
        last_error=_error(error),
        updated_at=clock.now(),
    )
    return recipient is not None


async def drop_pending(
    purpose_prefix: str, *, recipient: str | None = None, session: AsyncSession
) -> int:
    """Drop the pending deliveries of every message whose purpose starts with the prefix.

    Only to `recipient` when given. Deliveries already being sent are left alone. Returns how
    many were dropped (e.g. reminders of a cancelled event).
    """
    if not purpose_prefix:
        raise ValueError("a purpose prefix is required")
    messages = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.purpose).startswith(purpose_prefix, autoescape=True)
    )
    statement = update(Delivery).where(
        col(Delivery.status) == DeliveryStatus.pending, col(Delivery.message_id).in_(messages)
    )
    if recipient is not None:
        statement = statement.where(col(Delivery.recipient) == recipient)
    result = await session.exec(
        statement.values(status=DeliveryStatus.dropped, updated_at=clock.now()).execution_options(
            synchronize_session=False
        )
    )
    return result.rowcount


async def drop_pending_to(
    recipient: str, purpose_prefixes: Sequence[str], *, session: AsyncSession
) -> int:
    """Drop every pending delivery to `recipient` whose purpose starts with one of the
    prefixes (a withdrawn consent); returns how many. Deliveries being sent are left alone."""
    total = 0
    for prefix in purpose_prefixes:
        total += await drop_pending(prefix, recipient=recipient, session=session)
    return total


def consent_prefixes(purpose: Purpose) -> tuple[str, ...]:
    """The purpose prefixes of the messages that need consent to `purpose`."""
    return tuple(prefix for prefix, needed in CONSENT_BY_PREFIX.items() if needed is purpose)


def consent_needed(message_purpose: str) -> Purpose | None:
    """The consent a message with this purpose needs from a citizen recipient, or None."""
    for prefix, needed in CONSENT_BY_PREFIX.items():
        if message_purpose.startswith(prefix):
            return needed
    return None


async def get_message(purpose: str, *, session: AsyncSession) -> OutboxMessage | None:
    """The message enqueued under `purpose`, or None."""
    statement = select(OutboxMessage).where(OutboxMessage.purpose == purpose)
    return (await session.exec(statement)).first()


async def report(message_id: int, *, session: AsyncSession) -> DeliveryReport:
    """Count the message's deliveries by status; UnknownMessage if there is no such message."""
    message = await session.get(OutboxMessage, message_id)
    if message is None:
        raise UnknownMessage(message_id)
    return (await _reports([message], session))[0]


async def finished_unreported(
    *, session: AsyncSession
) -> list[tuple[OutboxMessage, DeliveryReport]]:
    """Messages that want a report, have none yet and have no open delivery; oldest first."""
    still_open = (
        select(col(Delivery.id))
        .where(
            col(Delivery.message_id) == col(OutboxMessage.id),
            col(Delivery.status).in_(OPEN_STATUSES),
        )
        .exists()
    )
    statement = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.report_to_chat_id).is_not(None),
            col(OutboxMessage.reported_at).is_(None),
            ~still_open,
        )
        .order_by(col(OutboxMessage.id))
    )
    messages = list((await session.exec(statement)).all())
    return list(zip(messages, await _reports(messages, session), strict=True))


async def mark_reported(message_id: int, *, session: AsyncSession) -> bool:
    """Record that the outcome was reported; False if it already was (or no such message)."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.reported_at).is_(None))
        .values(reported_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def next_due_at(*, session: AsyncSession) -> datetime | None:
    """When the earliest pending delivery is due (perhaps already past), or None."""
    statement = select(func.min(col(Delivery.next_attempt_at))).where(
        col(Delivery.status) == DeliveryStatus.pending, col(Delivery.chat_id).is_not(None)
    )
    value: datetime | None = (await session.exec(statement)).one()
    return value


async def counts_by_status(*, session: AsyncSession) -> dict[str, int]:
    """How many deliveries there are in each status (every status present, zero or not)."""
    statement = select(col(Delivery.status), func.count()).group_by(col(Delivery.status))
    counts = {status.value: 0 for status in DeliveryStatus}
    for status, count in (await session.exec(statement)).all():
        counts[DeliveryStatus(status).value] = int(count)
    return counts


async def broadcast_recipients(
    *, purpose: Purpose = Purpose.reminders, session: AsyncSession
) -> list[Recipient]:
    """Every reachable citizen who consents to `purpose` (by default reminders and
    announcements), in their language."""
    statement = (
        select(col(Citizen.telegram_user_id), col(Citizen.language))
        .join(Consent, col(Consent.citizen_id) == col(Citizen.id))
        .where(*_broadcast_conditions(purpose))
        .order_by(col(Citizen.id))
    )
    return [
        citizen_recipient(telegram_user_id, language)
        for telegram_user_id, language in (await session.exec(statement)).all()
    ]


async def count_broadcast_recipients(
    *, purpose: Purpose = Purpose.reminders, session: AsyncSession
) -> int:
    """How many citizens `broadcast_recipients` would return (for the preview)."""
    statement = (
        select(func.count())
        .select_from(Citizen)
        .join(Consent, col(Consent.citizen_id) == col(Citizen.id))
        .where(*_broadcast_conditions(purpose))
    )
    return int((await session.exec(statement)).one())


def text_for(content: Mapping[str, Any], language: str) -> str:
    """The text for `language`, else the "both", "en" or "th" text, in that order."""
    for key in (language, *_TEXT_FALLBACKS):
        text = content.get(key)
        if isinstance(text, str) and text:
            return text
    raise ValueError("the message has no text")


def poll_for(content: Mapping[str, Any], language: str) -> PollSpec:
    """The poll for `language`, else the "both", "en" or "th" poll, in that order."""
    for key in (language, *_TEXT_FALLBACKS):
        poll = content.get(key)
        if isinstance(poll, Mapping):
            # Taken as stored (enqueue checked it): should a limit ever tighten, Telegram's
            # refusal fails the one delivery instead of every claim raising here.
            options = poll.get("options")
            return PollSpec(
                question=str(poll.get("question", "")),
                options=tuple(str(o) for o in options) if isinstance(options, list) else (),
                is_anonymous=bool(poll.get("is_anonymous", True)),
                allows_multiple_answers=bool(poll.get("allows_multiple_answers", False)),
            )
    raise ValueError("the message has no poll")


_OUTBOX: Final[Table] = SQLModel.metadata.tables["outbox_messages"]


def _broadcast_conditions(purpose: Purpose) -> tuple[Any, ...]:
    return (
        col(Consent.purpose) == purpose,
        col(Consent.granted).is_(True),
        col(Citizen.reachable).is_(True),
    )


async def _reports(
    messages: Sequence[OutboxMessage], session: AsyncSession
) -> list[DeliveryReport]:
    """One report per message, from one grouped count."""
    if not messages:
        return []
    counts: dict[int, dict[DeliveryStatus, int]] = {}
    for message in messages:
        assert message.id is not None
        counts[message.id] = {}
    statement = (
        select(col(Delivery.message_id), col(Delivery.status), func.count())
        .where(col(Delivery.message_id).in_(list(counts)))
        .group_by(col(Delivery.message_id), col(Delivery.status))
    )
    for message_id, status, count in (await session.exec(statement)).all():
        counts[message_id][DeliveryStatus(status)] = int(count)
    reports: list[DeliveryReport] = []
    for message in messages:
        assert message.id is not None
        by_status = counts[message.id]
        reports.append(
            DeliveryReport(
                message_id=message.id,
                purpose=message.purpose,
                total=sum(by_status.values()),
                **{status.value: by_status.get(status, 0) for status in DeliveryStatus},
            )
        )
    return reports


async def _finish_sending(delivery_id: int, session: AsyncSession, **values: Any) -> str | None:
    """Move a `sending` delivery on with `values`; its recipient, or None if none matched."""
    statement = (
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == DeliveryStatus.sending)
        .values(**values)
        .returning(col(Delivery.recipient))
        .execution_options(synchronize_session=False)
    )
    row = (await session.exec(statement)).first()
    return None if row is None else str(row[0])


async def _drop_withdrawn(
    claimed: Iterable[Sequence[Any]],
    messages: Mapping[int | None, OutboxMessage],
    at: datetime,
    session: AsyncSession,
) -> set[int]:
    """Drop the just-claimed deliveries whose citizen has withdrawn the consent their message
    needs; return their ids. One query, and none when no claimed message needs consent.

    Recipients who are not (or no longer) citizens are left to the sender's own checks.
    """
    needs: dict[int, tuple[int, Purpose]] = {}
    for delivery_id, message_id, chat_id, _, _ in claimed:
        needed = consent_needed(messages[message_id].purpose)
        if needed is not None and chat_id is not None and chat_id > 0:
            needs[delivery_id] = (chat_id, needed)
    if not needs:
        return set()
    statement = (
        select(col(Citizen.telegram_user_id), col(Consent.purpose), col(Consent.granted))
        .outerjoin(Consent, col(Consent.citizen_id) == col(Citizen.id))
        .where(col(Citizen.telegram_user_id).in_({chat for chat, _ in needs.values()}))
    )
    citizens_seen: set[int] = set()
    granted: set[tuple[int, str]] = set()
    for telegram_user_id, purpose, is_granted in (await session.exec(statement)).all():
        citizens_seen.add(telegram_user_id)
        if is_granted and purpose is not None:
            granted.add((telegram_user_id, str(purpose)))
    withdrawn = {
        delivery_id
        for delivery_id, (chat, needed) in needs.items()
        if chat in citizens_seen and (chat, needed.value) not in granted
    }
    if withdrawn:
        await session.exec(
            update(Delivery)
            .where(col(Delivery.id).in_(withdrawn))
            .values(status=DeliveryStatus.dropped, last_error="consent withdrawn", updated_at=at)
            .execution_options(synchronize_session=False)
        )
    return withdrawn


def _citizen_id_of(recipient: str) -> int | None:
    prefix, _, rest = recipient.partition(":")
    if prefix != "tg":
        return None
    try:
        return int(rest)
    except ValueError:
        return None


def _checked_content(content: Mapping[str, Any]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for key, text in content.items():
        if key not in RECIPIENT_LANGUAGES:
            raise ValueError(f"content keys are {RECIPIENT_LANGUAGES}, not {key!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {key!r} text is empty")
        texts[key] = text
    if not texts:
        raise ValueError("a message needs at least one text")
    return texts


def _checked_poll_content(content: Mapping[str, Any]) -> dict[str, PollContent]:
    polls: dict[str, PollContent] = {}
    for key, poll in content.items():
        if key not in RECIPIENT_LANGUAGES:
            raise ValueError(f"content keys are {RECIPIENT_LANGUAGES}, not {key!r}")
        if not isinstance(poll, Mapping):
            raise ValueError(f"the {key!r} poll is not an object")
        polls[key] = _checked_poll(key, poll)
    if not polls:
        raise ValueError("a poll message needs at least one poll")
    return polls


def _checked_poll(key: str, poll: Mapping[str, Any]) -> PollContent:
    """A plain copy of one language's poll, refused unless Telegram would take it."""
    if set(poll) != _POLL_KEYS:
        raise ValueError(f"the {key!r} poll has the keys {sorted(_POLL_KEYS)}, not {sorted(poll)}")
    question, options = poll["question"], poll["options"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"the {key!r} poll question is empty")
    if len(question) > POLL_QUESTION_MAX_LENGTH:
        raise ValueError(
            f"the {key!r} poll question is longer than {POLL_QUESTION_MAX_LENGTH} characters"
        )
    if not isinstance(options, list | tuple) or not (
        POLL_MIN_OPTIONS <= len(options) <= POLL_MAX_OPTIONS
    ):
        raise ValueError(f"the {key!r} poll needs {POLL_MIN_OPTIONS} to {POLL_MAX_OPTIONS} options")
    for option in options:
        if not isinstance(option, str) or not option.strip():
            raise ValueError(f"the {key!r} poll has an empty option")
        if len(option) > POLL_OPTION_MAX_LENGTH:
            raise ValueError(
                f"the {key!r} poll has an option longer than {POLL_OPTION_MAX_LENGTH} characters"
            )
    if len(set(options)) != len(options):  # Telegram refuses POLL_OPTION_DUPLICATE
        raise ValueError(f"the {key!r} poll repeats an option")
    flags = {name: poll[name] for name in ("is_anonymous", "allows_multiple_answers")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"the {key!r} poll's {name} is true or false")
    return PollContent(
        question=question,
        options=list(options),
        is_anonymous=flags["is_anonymous"],
        allows_multiple_answers=flags["allows_multiple_answers"],
    )


def _check_recipient(purpose: str, recipient: Recipient) -> None:
    _check_text("recipient", recipient.recipient, RECIPIENT_MAX_LENGTH)
    if len(delivery_key(purpose, recipient.recipient)) > KEY_MAX_LENGTH:
        raise ValueError("purpose and recipient together are too long for a delivery key")
    if recipient.language not in RECIPIENT_LANGUAGES:
        raise ValueError(f"a recipient's language is one of {RECIPIENT_LANGUAGES}")
    if isinstance(recipient.chat_id, bool) or not isinstance(recipient.chat_id, int):
        raise ValueError("a recipient's chat id is an integer")


def _error(error: str) -> str:
    return error[:ERROR_MAX_LENGTH]
