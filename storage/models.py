"""SQLModel tables. Times are aware UTC; enums are plain strings; Telegram ids are BIGINT.

Every table of the project is defined in storage (import this module first so that the naming
convention below applies to them); `storage/migrations` must be kept in step by hand.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from storage import clock
from storage.columns import JsonList, JsonText, StrEnumText, UtcDateTime
from storage.enums import (
    ActionStatus,
    AgeBand,
    AgendaSource,
    DeliveryStatus,
    Language,
    MeetingStatus,
    PollKind,
    Purpose,
    QuickPollStatus,
    ReservationStatus,
    Role,
    RsvpAnswer,
    SeriesKind,
    SurveyStatus,
    UnescoFeature,
)

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
    # Indexed: summaries re-derive the need picks of citizens changed since their last refresh.
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False, index=True)
    )


class Consent(SQLModel, table=True):
    """The current decision of one citizen about one purpose; history is in the audit log."""

    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("citizen_id", "purpose"),
        # Summaries leave out people who withdrew a consent: found by a seek (migration 0007).
        Index("ix_consents_purpose_granted", "purpose", "granted", "citizen_id"),
    )

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


class NeedCategory(SQLModel, table=True):
    """A kind of learning need (e.g. digital skills), tied to a UNESCO feature and to SDGs."""

    __tablename__ = "need_categories"

    key: str = Field(sa_column=Column(String(48), primary_key=True))
    name: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    unesco_feature: UnescoFeature = Field(
        sa_column=Column(StrEnumText(UnescoFeature, 32), nullable=False)
    )
    sdgs: list[int] = Field(sa_column=Column(JsonList, nullable=False))


class Survey(SQLModel, table=True):
    """One version of a learning-needs survey; importing a key again adds a version.

    At most one survey is open at a time (a partial unique index holds it).
    """

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index(
            "ix_surveys_one_open",
            "status",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(48), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    title: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    status: SurveyStatus = Field(
        default=SurveyStatus.draft,
        sa_column=Column(StrEnumText(SurveyStatus, 16), nullable=False),
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    opened_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))


class SurveyQuestion(SQLModel, table=True):
    """One question of a survey, asked as one native poll; `text` maps "th" and "en"."""

    __tablename__ = "survey_questions"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(
        sa_column=Column(Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    key: str = Field(sa_column=Column(String(48), nullable=False))
    text: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    multiple: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class SurveyOption(SQLModel, table=True):
    """One answer option of a question; `category_key` is None for format or time options."""

    __tablename__ = "survey_options"
    __table_args__ = (UniqueConstraint("question_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("survey_questions.id", ondelete="CASCADE"), nullable=False
        )
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    key: str = Field(sa_column=Column(String(48), nullable=False))
    label: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    category_key: str | None = Field(
        default=None,
        sa_column=Column(String(48), ForeignKey("need_categories.key"), nullable=True),
    )


class QuickPoll(SQLModel, table=True):
    """A facilitator's bilingual poll; `options` holds {"key", "th", "en"} objects in order."""

    __tablename__ = "quick_polls"

    id: int | None = Field(default=None, primary_key=True)
    question: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    options: list[dict[str, Any]] = Field(sa_column=Column(JsonList, nullable=False))
    multiple: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    audience: str = Field(sa_column=Column(String(64), nullable=False))
    status: QuickPollStatus = Field(
        default=QuickPollStatus.open,
        sa_column=Column(StrEnumText(QuickPollStatus, 16), nullable=False),
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))


class SentPoll(SQLModel, table=True):
    """A native poll the bot sent: what it stands for and how its option indexes map to keys.

    `poll_id` is Telegram's. `recipient_telegram_id` is set for a poll in a private chat and
    None for a group's. `vote_counts` and `total_voters` come from Telegram's `poll` updates.
    """

    __tablename__ = "sent_polls"
    __table_args__ = (
        Index("ix_sent_polls_kind_question_id", "kind", "question_id"),
        Index("ix_sent_polls_quick_poll_id", "quick_poll_id"),
    )

    poll_id: str = Field(sa_column=Column(String(64), primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: PollKind = Field(sa_column=Column(StrEnumText(PollKind, 16), nullable=False))
    question_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("survey_questions.id", ondelete="SET NULL"), nullable=True
        ),
    )
    quick_poll_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("quick_polls.id", ondelete="SET NULL"), nullable=True),
    )
    language: str = Field(sa_column=Column(String(8), nullable=False))
    option_keys: list[str] = Field(sa_column=Column(JsonList, nullable=False))
    recipient_telegram_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    closed: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false())
    )
    vote_counts: list[int] | None = Field(default=None, sa_column=Column(JsonList, nullable=True))
    total_voters: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class SurveyAnswer(SQLModel, table=True):
    """A citizen's current answer to one question: the keys of the options they chose.

    `poll_id` is the poll the answer last came through (a group's counts need it).
    """

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("question_id", "citizen_id"),
        # Summaries: respondents of a period (covering, in citizen order) and the answers
        # changed since need_picks was last refreshed (migration 0007).
        Index("ix_survey_answers_citizen_id_answered_at", "citizen_id", "answered_at"),
        Index("ix_survey_answers_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("survey_questions.id", ondelete="CASCADE"), nullable=False
        )
    )
    citizen_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    option_keys: list[str] = Field(sa_column=Column(JsonList, nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    poll_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(64),
            ForeignKey("sent_polls.poll_id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
    )
    answered_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class QuickPollAnswer(SQLModel, table=True):
    """A consenting citizen's current answer to a quick poll (`poll_id`: the poll it came by)."""

    __tablename__ = "quick_poll_answers"
    __table_args__ = (UniqueConstraint("quick_poll_id", "citizen_id"),)

    id: int | None = Field(default=None, primary_key=True)
    quick_poll_id: int = Field(
        sa_column=Column(Integer, ForeignKey("quick_polls.id", ondelete="CASCADE"), nullable=False)
    )
    citizen_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    option_keys: list[str] = Field(sa_column=Column(JsonList, nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    poll_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(64),
            ForeignKey("sent_polls.poll_id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
    )
    answered_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class FreeTextNeed(SQLModel, table=True):
    """A need told in the citizen's own words, with its detected language (th, en, ms, und).

    `citizen_id` becomes NULL when the citizen is erased, so the need can stay unlinkable.
    """

    __tablename__ = "free_text_needs"

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("citizens.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    survey_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("surveys.id", ondelete="SET NULL"), nullable=True),
    )
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False, index=True)
    )


class FreeTextToken(SQLModel, table=True):
    """One distinct word of a free-text need (migration 0007): themes are a GROUP BY token.

    `citizen_id` and `created_at` are copied from the need so that counting the people who
    used a word in a period reads this table's covering index alone.
    """

    __tablename__ = "free_text_tokens"
    __table_args__ = (
        UniqueConstraint("need_id", "token"),
        # Token first: GROUP BY token and count(DISTINCT citizen_id) stream in index order.
        Index("ix_free_text_tokens_token", "token", "citizen_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("free_text_needs.id", ondelete="CASCADE"), nullable=False
        )
    )
    citizen_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("citizens.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    token: str = Field(sa_column=Column(String(64), nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class NeedPick(SQLModel, table=True):
    """A need category one survey answer chose (migration 0007): officers' summaries read it.

    Derived from `survey_answers` by `storage.need_picks.refresh` (SQL only, incremental):
    decoding each answer's JSON option keys at report time is what would make a summary slow.
    `category_key` "*" marks an answer that chose at least one category (people who named a
    topic). The citizen's `age_band` and `district`, and the answer's local `day` (YYYYMMDD)
    and `month` ("YYYY-MM") in the time zone of `NeedPickState`, are copied in, so every
    breakdown is one scan of a covering index (periods are whole local days).
    """

    __tablename__ = "need_picks"
    __table_args__ = (
        Index("ix_need_picks_place", "category_key", "age_band", "district", "citizen_id", "day"),
        Index("ix_need_picks_language", "category_key", "language", "citizen_id", "day"),
        Index("ix_need_picks_month", "category_key", "month", "citizen_id", "day"),
    )

    answer_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("survey_answers.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    category_key: str = Field(sa_column=Column(String(48), primary_key=True))
    citizen_id: int = Field(sa_column=Column(Integer, nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    day: int = Field(sa_column=Column(Integer, nullable=False))
    month: str = Field(sa_column=Column(String(7), nullable=False))
    age_band: str = Field(sa_column=Column(String(8), nullable=False))
    district: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class NeedPickState(SQLModel, table=True):
    """How far `need_picks` is derived: up to `refreshed_at`, with months in `timezone`."""

    __tablename__ = "need_picks_state"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    refreshed_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


# --- human library (migration 0005) ---------------------------------------------------------

# The statuses that hold or wait for a seat; the partial unique indexes below depend on them.
_ACTIVE_RESERVATION = text("status IN ('reserved', 'waitlisted')")
_RESERVED = text("status = 'reserved'")


class LibraryBook(SQLModel, table=True):
    """A human "book": a person with lived experience whom readers talk to at library events.

    `title` and `blurb` map "th" and "en" to text. The book links its own Telegram account by
    a one-time code (only its SHA-256 is kept) and consents to be listed (`consented_at`).
    """

    __tablename__ = "library_books"

    id: int | None = Field(default=None, primary_key=True)
    title: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    blurb: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    tags: list[str] = Field(sa_column=Column(JsonList, nullable=False))
    languages: list[str] = Field(sa_column=Column(JsonList, nullable=False))
    telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    linked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    consented_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    link_code_hash: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, unique=True)
    )
    link_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    link_used_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    retired_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryBookCategory(SQLModel, table=True):
    """A need category a book speaks to (officers compare needs with what is offered)."""

    __tablename__ = "library_book_categories"
    __table_args__ = (UniqueConstraint("book_id", "category_key"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("library_books.id", ondelete="CASCADE"), nullable=False
        )
    )
    category_key: str = Field(
        sa_column=Column(String(48), ForeignKey("need_categories.key"), nullable=False, index=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryEvent(SQLModel, table=True):
    """A human-library event. Slots are computed, never stored: slot i of every book starts at
    `starts_at + i × (loan_minutes + break_minutes)` and lasts `loan_minutes`.
    """

    __tablename__ = "library_events"

    id: int | None = Field(default=None, primary_key=True)
    starts_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))
    place_text: str = Field(sa_column=Column(String(200), nullable=False))
    latitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    longitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    loan_minutes: int = Field(default=30, sa_column=Column(Integer, nullable=False))
    readers_per_loan: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    slots_per_book: int = Field(sa_column=Column(Integer, nullable=False))
    break_minutes: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    cancelled_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryEventFacilitator(SQLModel, table=True):
    """A person who runs a library event: sees its roster and may stop its loans."""

    __tablename__ = "library_event_facilitators"
    __table_args__ = (UniqueConstraint("event_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("library_events.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryEventBook(SQLModel, table=True):
    """A book offered at an event. Its row is the lock (FOR UPDATE) taken while reserving it."""

    __tablename__ = "library_event_books"
    __table_args__ = (UniqueConstraint("event_id", "book_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("library_events.id", ondelete="CASCADE"), nullable=False
        )
    )
    book_id: int = Field(
        sa_column=Column(Integer, ForeignKey("library_books.id"), nullable=False, index=True)
    )
    withdrawn_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryReservation(SQLModel, table=True):
    """A reader's reservation of one book at one event: a seat in a slot, or a waitlist place.

    `press_order` is the update_id of the button press (the waitlist's order). `reader_name` is
    the name Telegram gave, shown on rosters only. Partial unique indexes keep one active row
    per (event, book, reader) and one reserved row per (event, book, slot, seat).
    """

    __tablename__ = "library_reservations"
    __table_args__ = (
        Index(
            "ix_library_reservations_one_active",
            "event_id",
            "book_id",
            "telegram_user_id",
            unique=True,
            sqlite_where=_ACTIVE_RESERVATION,
            postgresql_where=_ACTIVE_RESERVATION,
        ),
        Index(
            "ix_library_reservations_one_seat",
            "event_id",
            "book_id",
            "slot_index",
            "seat",
            unique=True,
            sqlite_where=_RESERVED,
            postgresql_where=_RESERVED,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("library_events.id", ondelete="CASCADE"), nullable=False
        )
    )
    book_id: int = Field(
        sa_column=Column(Integer, ForeignKey("library_books.id"), nullable=False, index=True)
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    reader_name: str = Field(sa_column=Column(String(128), nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    status: ReservationStatus = Field(
        sa_column=Column(StrEnumText(ReservationStatus, 16), nullable=False)
    )
    slot_index: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    seat: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    press_order: int = Field(sa_column=Column(BigInteger, nullable=False))
    cancelled_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    stopped_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    stopped_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    feedback_rating: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    feedback_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    feedback_language: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    feedback_asked_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryBan(SQLModel, table=True):
    """Safeguarding: this reader may no longer reserve this book (set when a loan is stopped)."""

    __tablename__ = "library_bans"
    __table_args__ = (UniqueConstraint("book_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("library_books.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    reservation_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("library_reservations.id", ondelete="SET NULL"), nullable=True
        ),
    )
    reported_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


class LibraryFeedbackPoll(SQLModel, table=True):
    """A feedback rating poll sent after a loan: Telegram's poll id → the reservation."""

    __tablename__ = "library_feedback_polls"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    reservation_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("library_reservations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False)
    )


# --- recurring series and the coffee council (migration 0006) --------------------------------


def _created() -> Any:
    return Field(default_factory=clock.now, sa_column=Column(UtcDateTime, nullable=False))


class Series(SQLModel, table=True):
    """Something that recurs (a monthly council), or a one-off (`rrule` NULL).

    `rrule` is RFC 5545 RRULE text over local wall-clock times in `timezone`; `first_start` is
    its DTSTART (UTC) and, for a one-off, its only occurrence. `local_time` is "HH:MM".
    """

    __tablename__ = "series"

    id: int | None = Field(default=None, primary_key=True)
    kind: SeriesKind = Field(sa_column=Column(StrEnumText(SeriesKind, 16), nullable=False))
    title: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    place_text: str = Field(sa_column=Column(String(200), nullable=False))
    latitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    longitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    rrule: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    local_time: str = Field(sa_column=Column(String(5), nullable=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    first_start: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    duration_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    cancelled_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    created_at: datetime = _created()
    updated_at: datetime = _created()


class SeriesException(SQLModel, table=True):
    """One occurrence of a series moved (`new_start`) or cancelled, keyed by its rule start."""

    __tablename__ = "series_exceptions"
    __table_args__ = (UniqueConstraint("series_id", "original_start"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(
        sa_column=Column(Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False)
    )
    original_start: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    new_start: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    cancelled: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false())
    )
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()


class CouncilFacilitator(SQLModel, table=True):
    """A person who runs a council series: gets its shortlist and check-in code."""

    __tablename__ = "council_facilitators"
    __table_args__ = (UniqueConstraint("series_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(
        sa_column=Column(Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False)
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = _created()


class CouncilMeeting(SQLModel, table=True):
    """One occurrence of a council series, materialised so people can RSVP to it.

    `original_start` is where the rule put it (unique per series: materialising is
    idempotent); `starts_at` is where it is now (moved or not).
    """

    __tablename__ = "council_meetings"
    __table_args__ = (UniqueConstraint("series_id", "original_start"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(
        sa_column=Column(Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False)
    )
    original_start: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    starts_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))
    ends_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    title: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    place_text: str = Field(sa_column=Column(String(200), nullable=False))
    latitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    longitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    status: MeetingStatus = Field(
        default=MeetingStatus.scheduled,
        sa_column=Column(StrEnumText(MeetingStatus, 16), nullable=False),
    )
    agenda_closes_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    shortlist_offered_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime, nullable=True)
    )
    created_at: datetime = _created()
    updated_at: datetime = _created()


class CouncilRsvp(SQLModel, table=True):
    """A citizen's current answer to a meeting (one row per person: the last answer wins)."""

    __tablename__ = "council_rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("council_meetings.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    answer: RsvpAnswer = Field(sa_column=Column(StrEnumText(RsvpAnswer, 8), nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    display_name: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    created_at: datetime = _created()
    updated_at: datetime = _created()


class CouncilSuggestion(SQLModel, table=True):
    """An agenda topic a citizen suggested for a meeting, with its detected language."""

    __tablename__ = "council_suggestions"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("council_meetings.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    text: str = Field(sa_column=Column(String(500), nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    created_at: datetime = _created()


class CouncilAgendaItem(SQLModel, table=True):
    """One item of a meeting's agenda; `votes` is kept equal to its vote rows."""

    __tablename__ = "council_agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("council_meetings.id", ondelete="CASCADE"), nullable=False
        )
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    label: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    category_key: str | None = Field(
        default=None,
        sa_column=Column(String(48), ForeignKey("need_categories.key"), nullable=True),
    )
    source: AgendaSource = Field(sa_column=Column(StrEnumText(AgendaSource, 16), nullable=False))
    source_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    votes: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = _created()


class CouncilAgendaPoll(SQLModel, table=True):
    """An agenda poll sent to one person: Telegram's poll id → the meeting and its options."""

    __tablename__ = "council_agenda_polls"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    meeting_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("council_meetings.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    language: str = Field(sa_column=Column(String(8), nullable=False))
    item_ids: list[int] = Field(sa_column=Column(JsonList, nullable=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _created()


class CouncilAgendaVote(SQLModel, table=True):
    """One person's vote for one agenda item (a poll answer may hold several)."""

    __tablename__ = "council_agenda_votes"
    __table_args__ = (UniqueConstraint("item_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("council_meetings.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    item_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("council_agenda_items.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = _created()


class CouncilAttendance(SQLModel, table=True):
    """A person present at a meeting: by the rotating code (`checked_in_by` NULL) or marked."""

    __tablename__ = "council_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("council_meetings.id", ondelete="CASCADE"), nullable=False
        )
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    checked_in_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    checked_in_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class CouncilMinutes(SQLModel, table=True):
    """A meeting's minutes, per language ({th?, en?}); recording again replaces them."""

    __tablename__ = "council_minutes"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("council_meetings.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    text: dict[str, Any] = Field(sa_column=Column(JsonText, nullable=False))
    recorded_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    updated_at: datetime = _created()


class CouncilActionItem(SQLModel, table=True):
    """Something agreed at a meeting: what, who, by when (`due_on` local; `due_at` UTC)."""

    __tablename__ = "council_action_items"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("council_meetings.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    what: str = Field(sa_column=Column(String(200), nullable=False))
    owner_telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    owner_name: str = Field(sa_column=Column(String(128), nullable=False))
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    due_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))
    status: ActionStatus = Field(
        default=ActionStatus.open,
        sa_column=Column(StrEnumText(ActionStatus, 8), nullable=False),
    )
    done_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()
