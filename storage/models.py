"""SQLModel tables. Times are aware UTC; enums are plain strings; Telegram ids are BIGINT.

Every table of the project is defined in storage (import this module first so that the naming
convention below applies to them); `storage/migrations` must be kept in step by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from storage import clock
from storage.columns import JsonText, StrEnumText, UtcDateTime
from storage.enums import AgeBand, Language, Purpose, Role

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
