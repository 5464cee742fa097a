"""SQLModel tables. Times are aware UTC; enums are plain strings; Telegram ids are BIGINT.

Every table of the project is defined in storage (import this module first so that the naming
convention below applies to them); `storage/migrations` must be kept in step by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from storage import clock
from storage.columns import JsonList, JsonText, StrEnumText, UtcDateTime
from storage.enums import AgeBand, DeliveryStatus, Language, Purpose, Role

# Named constraints: Alembic batch mode on SQLite and later migrations need stable names.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class Citizen(SQLModel, table=True):
    """A person who registered (after consent); the only link to Telegram is the user id."""

    __tablename__ = "citizens"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, nullable=False, unique=True, index=True)
    )
    language: Language = Field(sa_column=Column(String(8), nullable=False))
    role: Role = Field(
        default=Role.citizen,
        sa_column=Column(StrEnumText(Role, 16), nullable=False, server_default=Role.citizen.value),
    )
    age_band: AgeBand = Field(sa_column=Column(StrEnumText(AgeBand, 8), nullable=False))
    guardian_confirmed_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    district: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    reachable: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true())
    )
    reminders_enabled: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true())
    )
    # Lead times in minutes before an event, largest first; NULL means the defaults.
    reminder_leads: list[int] | None = Field(
        default=None, sa_column=Column(JsonList, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class Consent(SQLModel, table=True):
    """The current decision of one citizen about one purpose; history is in the audit log."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("citizen_id", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(
        sa_column=Column(Integer, ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False)
    )
    purpose: Purpose = Field(sa_column=Column(StrEnumText(Purpose, 32), nullable=False))
    granted: bool = Field(sa_column=Column(Boolean, nullable=False))
    decided_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class AuditEntry(SQLModel, table=True):
    """One line of the audit log. Actor and target are strings so /forget can tombstone them."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False, index=True)
    )
    actor: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    target: str | None = Field(
        default=None, sa_column=Column(String(128), nullable=True, index=True)
    )
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonText, nullable=True))


class Invite(SQLModel, table=True):
    """A one-time invite to a role, redeemed through a deep link (`inv-<code>`)."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(24), nullable=False, unique=True))
    role: Role = Field(sa_column=Column(StrEnumText(Role, 16), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    used_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))


class ChatGroup(SQLModel, table=True):
    """A Telegram group the bot was added to; polls and announcements go only to active ones."""

    __tablename__ = "chat_groups"

    id: int | None = Field(default=None, primary_key=True)
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    title: str = Field(sa_column=Column(String(255), nullable=False))
    added_by: str = Field(sa_column=Column(String(64), nullable=False))
    added_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true())
    )
    removed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))


class ButtonState(SQLModel, table=True):
    """State behind a button whose callback data (64 bytes) cannot hold it; it expires."""

    __tablename__ = "button_states"

    key: str = Field(sa_column=Column(String(16), primary_key=True))
    flow: str = Field(sa_column=Column(String(16), nullable=False))
    owner_telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    payload: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))


class OutboxMessage(SQLModel, table=True):
    """One message to send to many recipients, already rendered per language.

    `purpose` names it uniquely (e.g. "broadcast:12"), which makes enqueueing idempotent.
    `content` maps "th", "en" and optionally "both" (for groups) to the text.
    """

    __tablename__ = "outbox_messages"

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(sa_column=Column(String(96), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    content: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    audience: str = Field(sa_column=Column(String(64), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    report_to_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reported_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))


class Delivery(SQLModel, table=True):
    """One message to one chat: exactly once per (purpose, recipient), through `key`.

    `recipient` is "tg:<user id>" or "chat:<chat id>", a string so /forget can tombstone it
    (and null `chat_id`).
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("outbox_messages.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    recipient: str = Field(sa_column=Column(String(64), nullable=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending,
        sa_column=Column(StrEnumText(DeliveryStatus, 16), nullable=False),
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    last_error: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    telegram_message_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))


class ScheduledEvent(SQLModel, table=True):
    """Something people attend at a time (a library event, a council meeting), for reminders.

    `kind` and `ref` point at the owning record (e.g. "council", "meeting:7"); the title and
    place are kept here per language so reminders need no other table.
    """

    __tablename__ = "scheduled_events"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    ref: str = Field(sa_column=Column(String(64), nullable=False))
    title: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    place: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonText, nullable=True))
    starts_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))
    cancelled_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class EventAttendee(SQLModel, table=True):
    """A person expected at a scheduled event (booked or RSVPed): who gets its reminders."""

    __tablename__ = "event_attendees"
    __table_args__ = (UniqueConstraint("event_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("scheduled_events.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    added_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
