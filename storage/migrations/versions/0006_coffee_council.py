"""Coffee council: recurring series and their exceptions, meetings, RSVPs, agenda, check-in,
minutes and action items.

Revision ID: 0006
Revises: 0005
Create Date: 2026-02-16

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the series and coffee-council tables, parents first."""
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("place_text", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("first_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
    )
    op.create_table(
        "council_facilitators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_council_facilitators_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_facilitators")),
        sa.UniqueConstraint(
            "series_id",
            "telegram_user_id",
            name=op.f("uq_council_facilitators_series_id_telegram_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_council_facilitators_telegram_user_id"),
        "council_facilitators",
        ["telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "council_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("original_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("place_text", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agenda_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shortlist_offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_council_meetings_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_meetings")),
        sa.UniqueConstraint(
            "series_id", "original_start", name=op.f("uq_council_meetings_series_id_original_start")
        ),
    )
    op.create_index(
        op.f("ix_council_meetings_starts_at"), "council_meetings", ["starts_at"], unique=False
    )

    op.create_table(
        "series_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("original_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_series_exceptions_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_exceptions")),
        sa.UniqueConstraint(
            "series_id",
            "original_start",
            name=op.f("uq_series_exceptions_series_id_original_start"),
        ),
    )
    op.create_table(
        "council_action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("owner_telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("owner_name", sa.String(length=128), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_action_items_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_action_items")),
    )
    op.create_index(
        op.f("ix_council_action_items_due_at"), "council_action_items", ["due_at"], unique=False
    )
    op.create_index(
        op.f("ix_council_action_items_meeting_id"),
        "council_action_items",
        ["meeting_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_council_action_items_owner_telegram_user_id"),
        "council_action_items",
        ["owner_telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "council_agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("category_key", sa.String(length=48), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("votes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_key"],
            ["need_categories.key"],
            name=op.f("fk_council_agenda_items_category_key_need_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_agenda_items_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_agenda_items")),
        sa.UniqueConstraint(
            "meeting_id", "position", name=op.f("uq_council_agenda_items_meeting_id_position")
        ),
    )
    op.create_table(
        "council_agenda_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_agenda_polls_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_agenda_polls")),
        sa.UniqueConstraint("poll_id", name=op.f("uq_council_agenda_polls_poll_id")),
    )
    op.create_index(
        op.f("ix_council_agenda_polls_meeting_id"),
        "council_agenda_polls",
        ["meeting_id"],
        unique=False,
    )

    op.create_table(
        "council_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_in_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_attendance_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_attendance")),
        sa.UniqueConstraint(
            "meeting_id",
            "telegram_user_id",
            name=op.f("uq_council_attendance_meeting_id_telegram_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_council_attendance_telegram_user_id"),
        "council_attendance",
        ["telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "council_minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_minutes_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_minutes")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_council_minutes_meeting_id")),
    )
    op.create_table(
        "council_rsvps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_rsvps_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_rsvps")),
        sa.UniqueConstraint(
            "meeting_id",
            "telegram_user_id",
            name=op.f("uq_council_rsvps_meeting_id_telegram_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_council_rsvps_telegram_user_id"),
        "council_rsvps",
        ["telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "council_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_suggestions_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_suggestions")),
    )
    op.create_index(
        op.f("ix_council_suggestions_telegram_user_id"),
        "council_suggestions",
        ["telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "council_agenda_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["council_agenda_items.id"],
            name=op.f("fk_council_agenda_votes_item_id_council_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["council_meetings.id"],
            name=op.f("fk_council_agenda_votes_meeting_id_council_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_agenda_votes")),
        sa.UniqueConstraint(
            "item_id",
            "telegram_user_id",
            name=op.f("uq_council_agenda_votes_item_id_telegram_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_council_agenda_votes_meeting_id"),
        "council_agenda_votes",
        ["meeting_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_council_agenda_votes_telegram_user_id"),
        "council_agenda_votes",
        ["telegram_user_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop what upgrade added, children first."""
    op.drop_index(
        op.f("ix_council_agenda_votes_telegram_user_id"), table_name="council_agenda_votes"
    )
    op.drop_index(op.f("ix_council_agenda_votes_meeting_id"), table_name="council_agenda_votes")

    op.drop_table("council_agenda_votes")
    op.drop_index(op.f("ix_council_suggestions_telegram_user_id"), table_name="council_suggestions")

    op.drop_table("council_suggestions")
    op.drop_index(op.f("ix_council_rsvps_telegram_user_id"), table_name="council_rsvps")

    op.drop_table("council_rsvps")
    op.drop_table("council_minutes")
    op.drop_index(op.f("ix_council_attendance_telegram_user_id"), table_name="council_attendance")

    op.drop_table("council_attendance")
    op.drop_index(op.f("ix_council_agenda_polls_meeting_id"), table_name="council_agenda_polls")

    op.drop_table("council_agenda_polls")
    op.drop_table("council_agenda_items")
    op.drop_index(
        op.f("ix_council_action_items_owner_telegram_user_id"), table_name="council_action_items"
    )
    op.drop_index(op.f("ix_council_action_items_meeting_id"), table_name="council_action_items")
    op.drop_index(op.f("ix_council_action_items_due_at"), table_name="council_action_items")

    op.drop_table("council_action_items")
    op.drop_table("series_exceptions")
    op.drop_index(op.f("ix_council_meetings_starts_at"), table_name="council_meetings")

    op.drop_table("council_meetings")
    op.drop_index(
        op.f("ix_council_facilitators_telegram_user_id"), table_name="council_facilitators"
    )

    op.drop_table("council_facilitators")
    op.drop_table("series")
