"""Where a person appears in the schema: every column that can name a Telegram user.

`/mydata` exports by this registry and `/forget` erases by it, so a table added later with a
person column and no entry here would be silently left out: the test
`tests/storage/test_person_columns.py` walks the schema and fails on any such column.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Link(StrEnum):
    """How a column names a person."""

    telegram_id = "telegram_id"  # the Telegram user id itself (BIGINT)
    actor = "actor"  # the string "tg:<user id>" (audit and delivery logs)
    citizen = "citizen"  # citizens.id of the person
    private_chat = "private_chat"  # a chat id, the user id when the chat is private


class Erase(StrEnum):
    """What `/forget` does to a row whose column names the erased person."""

    delete = "delete"  # the row is only about them
    pseudonym = "pseudonym"  # counted in aggregates: moved to an unlinkable pseudonym
    tombstone = "tombstone"  # a log or a record of who acted: a random tombstone id
    null = "null"  # an optional pointer: cleared


@dataclass(frozen=True)
class PersonColumn:
    """One column naming a person. `subject`: the row is about them (exported whole);
    otherwise they only acted on it (exported as a reference, the row being someone else's)."""

    table: str
    column: str
    link: Link
    erase: Erase
    subject: bool = True


def _c(table: str, column: str, link: Link, erase: Erase, subject: bool = True) -> PersonColumn:
    return PersonColumn(table, column, link, erase, subject)


_ID, _ACT, _CIT, _CHAT = Link.telegram_id, Link.actor, Link.citizen, Link.private_chat
_DEL, _PSEUDO, _TOMB, _NULL = Erase.delete, Erase.pseudonym, Erase.tombstone, Erase.null

PERSON_COLUMNS: Final[tuple[PersonColumn, ...]] = (
    _c("citizens", "telegram_user_id", _ID, _DEL),
    _c("consents", "citizen_id", _CIT, _DEL),
    _c("audit_log", "actor", _ACT, _TOMB),
    _c("audit_log", "target", _ACT, _TOMB),
    _c("invites", "used_by", _ACT, _TOMB),
    _c("invites", "created_by", _ACT, _TOMB, subject=False),
    _c("chat_groups", "added_by", _ACT, _TOMB, subject=False),
    _c("button_states", "owner_telegram_id", _ID, _DEL),
    _c("outbox_messages", "created_by", _ACT, _TOMB, subject=False),
    _c("outbox_messages", "report_to_chat_id", _CHAT, _NULL, subject=False),
    _c("deliveries", "recipient", _ACT, _TOMB),
    _c("deliveries", "chat_id", _CHAT, _NULL),
    _c("event_attendees", "telegram_user_id", _ID, _DEL),
    _c("quick_polls", "created_by", _ACT, _TOMB, subject=False),
    _c("sent_polls", "recipient_telegram_id", _ID, _TOMB),
    _c("sent_polls", "chat_id", _CHAT, _TOMB),
    _c("survey_answers", "citizen_id", _CIT, _PSEUDO),
    _c("quick_poll_answers", "citizen_id", _CIT, _PSEUDO),
    _c("free_text_needs", "citizen_id", _CIT, _PSEUDO),
    _c("free_text_tokens", "citizen_id", _CIT, _PSEUDO),
    _c("need_picks", "citizen_id", _CIT, _PSEUDO),
    _c("library_books", "telegram_user_id", _ID, _NULL),
    _c("library_books", "created_by", _ID, _TOMB, subject=False),
    _c("library_events", "created_by", _ID, _TOMB, subject=False),
    _c("library_event_facilitators", "telegram_user_id", _ID, _DEL),
    _c("library_reservations", "telegram_user_id", _ID, _PSEUDO),
    _c("library_reservations", "stopped_by", _ID, _TOMB, subject=False),
    _c("library_bans", "telegram_user_id", _ID, _DEL),
    _c("library_bans", "reported_by", _ID, _TOMB, subject=False),
    _c("series", "created_by", _ID, _TOMB, subject=False),
    _c("series_exceptions", "created_by", _ID, _TOMB, subject=False),
    _c("council_facilitators", "telegram_user_id", _ID, _DEL),
    _c("council_rsvps", "telegram_user_id", _ID, _PSEUDO),
    _c("council_suggestions", "telegram_user_id", _ID, _PSEUDO),
    _c("council_agenda_polls", "chat_id", _CHAT, _TOMB),
    _c("council_agenda_votes", "telegram_user_id", _ID, _PSEUDO),
    _c("council_attendance", "telegram_user_id", _ID, _PSEUDO),
    _c("council_attendance", "checked_in_by", _ID, _TOMB, subject=False),
    _c("council_minutes", "recorded_by", _ID, _TOMB, subject=False),
    _c("council_action_items", "owner_telegram_user_id", _ID, _NULL),
    _c("council_action_items", "created_by", _ID, _TOMB, subject=False),
)

# Columns that look like a person's but are not (checked by the same test, so each is a
# decision someone made, not an oversight).
NOT_PERSONAL: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        ("chat_groups", "telegram_chat_id"),  # a group, not a person
        ("deliveries", "telegram_message_id"),
        ("sent_polls", "message_id"),
        ("council_agenda_polls", "message_id"),
        ("library_reservations", "press_order"),  # an update id (waitlist order)
        ("library_events", "readers_per_loan"),  # counts
        ("sent_polls", "total_voters"),
        # Names beside a registered id column: exported with the row, blanked by erasure.
        ("library_reservations", "reader_name"),
        ("council_action_items", "owner_name"),
    }
)


def columns_of(table: str) -> tuple[PersonColumn, ...]:
    """The registered person columns of one table."""
    return tuple(c for c in PERSON_COLUMNS if c.table == table)


def tables() -> tuple[str, ...]:
    """Every table with a person column, in registry order."""
    return tuple(dict.fromkeys(c.table for c in PERSON_COLUMNS))
