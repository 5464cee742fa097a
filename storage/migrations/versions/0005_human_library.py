"""Human library: books, their categories, events, facilitators, reservations, bans, polls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-02-09

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep in step with storage.models: the partial unique indexes of library_reservations.
ACTIVE = sa.text("status IN ('reserved', 'waitlisted')")
RESERVED = sa.text("status = 'reserved'")


def upgrade() -> None:
    """Create the human-library tables, parents first."""
    op.create_table(
        "library_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("blurb", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_code_hash", sa.String(length=64), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_books")),
        sa.UniqueConstraint("link_code_hash", name=op.f("uq_library_books_link_code_hash")),
    )
    op.create_index(
        op.f("ix_library_books_telegram_user_id"),
        "library_books",
        ["telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "library_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place_text", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("loan_minutes", sa.Integer(), nullable=False),
        sa.Column("readers_per_loan", sa.Integer(), nullable=False),
        sa.Column("slots_per_book", sa.Integer(), nullable=False),
        sa.Column("break_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_events")),
    )
    op.create_index(
        op.f("ix_library_events_starts_at"), "library_events", ["starts_at"], unique=False
    )

    op.create_table(
        "library_book_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("category_key", sa.String(length=48), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_books.id"],
            name=op.f("fk_library_book_categories_book_id_library_books"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_key"],
            ["need_categories.key"],
            name=op.f("fk_library_book_categories_category_key_need_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_book_categories")),
        sa.UniqueConstraint(
            "book_id",
            "category_key",
            name=op.f("uq_library_book_categories_book_id_category_key"),
        ),
    )
    op.create_index(
        op.f("ix_library_book_categories_category_key"),
        "library_book_categories",
        ["category_key"],
        unique=False,
    )

    op.create_table(
        "library_event_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_books.id"],
            name=op.f("fk_library_event_books_book_id_library_books"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["library_events.id"],
            name=op.f("fk_library_event_books_event_id_library_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_event_books")),
        sa.UniqueConstraint(
            "event_id", "book_id", name=op.f("uq_library_event_books_event_id_book_id")
        ),
    )
    op.create_index(
        op.f("ix_library_event_books_book_id"), "library_event_books", ["book_id"], unique=False
    )

    op.create_table(
        "library_event_facilitators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["library_events.id"],
            name=op.f("fk_library_event_facilitators_event_id_library_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_event_facilitators")),
        sa.UniqueConstraint(
            "event_id",
            "telegram_user_id",
            name=op.f("uq_library_event_facilitators_event_id_telegram_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_library_event_facilitators_telegram_user_id"),
        "library_event_facilitators",
        ["telegram_user_id"],
        unique=False,
    )

    op.create_table(
        "library_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("reader_name", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("slot_index", sa.Integer(), nullable=True),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("press_order", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_by", sa.BigInteger(), nullable=True),
        sa.Column("feedback_rating", sa.Integer(), nullable=True),
        sa.Column("feedback_text", sa.Text(), nullable=True),
        sa.Column("feedback_language", sa.String(length=8), nullable=True),
        sa.Column("feedback_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_books.id"],
            name=op.f("fk_library_reservations_book_id_library_books"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["library_events.id"],
            name=op.f("fk_library_reservations_event_id_library_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_reservations")),
    )
    op.create_index(
        op.f("ix_library_reservations_book_id"), "library_reservations", ["book_id"], unique=False
    )
    op.create_index(
        op.f("ix_library_reservations_telegram_user_id"),
        "library_reservations",
        ["telegram_user_id"],
        unique=False,
    )
    # One active (reserved or waitlisted) row per reader and book at an event, and one reader
    # per seat, whatever happens concurrently.
    op.create_index(
        "ix_library_reservations_one_active",
        "library_reservations",
        ["event_id", "book_id", "telegram_user_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_library_reservations_one_seat",
        "library_reservations",
        ["event_id", "book_id", "slot_index", "seat"],
        unique=True,
        sqlite_where=RESERVED,
        postgresql_where=RESERVED,
    )

    op.create_table(
        "library_bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("reported_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_books.id"],
            name=op.f("fk_library_bans_book_id_library_books"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["library_reservations.id"],
            name=op.f("fk_library_bans_reservation_id_library_reservations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_bans")),
        sa.UniqueConstraint(
            "book_id", "telegram_user_id", name=op.f("uq_library_bans_book_id_telegram_user_id")
        ),
    )
    op.create_index(
        op.f("ix_library_bans_telegram_user_id"), "library_bans", ["telegram_user_id"], unique=False
    )

    op.create_table(
        "library_feedback_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["library_reservations.id"],
            name=op.f("fk_library_feedback_polls_reservation_id_library_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_feedback_polls")),
        sa.UniqueConstraint("poll_id", name=op.f("uq_library_feedback_polls_poll_id")),
    )
    op.create_index(
        op.f("ix_library_feedback_polls_reservation_id"),
        "library_feedback_polls",
        ["reservation_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop what upgrade added, children first."""
    op.drop_index(
        op.f("ix_library_feedback_polls_reservation_id"), table_name="library_feedback_polls"
    )
    op.drop_table("library_feedback_polls")
    op.drop_index(op.f("ix_library_bans_telegram_user_id"), table_name="library_bans")
    op.drop_table("library_bans")
    op.drop_index("ix_library_reservations_one_seat", table_name="library_reservations")
    op.drop_index("ix_library_reservations_one_active", table_name="library_reservations")
    op.drop_index(
        op.f("ix_library_reservations_telegram_user_id"), table_name="library_reservations"
    )
    op.drop_index(op.f("ix_library_reservations_book_id"), table_name="library_reservations")
    op.drop_table("library_reservations")
    op.drop_index(
        op.f("ix_library_event_facilitators_telegram_user_id"),
        table_name="library_event_facilitators",
    )
    op.drop_table("library_event_facilitators")
    op.drop_index(op.f("ix_library_event_books_book_id"), table_name="library_event_books")
    op.drop_table("library_event_books")
    op.drop_index(
        op.f("ix_library_book_categories_category_key"), table_name="library_book_categories"
    )
    op.drop_table("library_book_categories")
    op.drop_index(op.f("ix_library_events_starts_at"), table_name="library_events")
    op.drop_table("library_events")
    op.drop_index(op.f("ix_library_books_telegram_user_id"), table_name="library_books")
    op.drop_table("library_books")
