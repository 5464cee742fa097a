"""Officers' summaries: free-text tokens (themes), need picks derived from survey answers,
and the indexes the summaries' GROUP BYs read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-03-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables and indexes.

    Both new tables start empty: texts stored before this revision get their tokens from
    `storage.tokens.backfill_tokens` (segmenting needs PyThaiNLP, which a migration should
    not import), and need_picks is derived by the first summary (its months depend on the
    configured time zone).
    """
    op.create_table(
        "free_text_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_free_text_tokens_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["free_text_needs.id"],
            name=op.f("fk_free_text_tokens_need_id_free_text_needs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_free_text_tokens")),
        sa.UniqueConstraint("need_id", "token", name=op.f("uq_free_text_tokens_need_id_token")),
    )
    op.create_index(
        op.f("ix_free_text_tokens_citizen_id"), "free_text_tokens", ["citizen_id"], unique=False
    )
    op.create_index(
        "ix_free_text_tokens_token",
        "free_text_tokens",
        ["token", "citizen_id", "created_at"],
        unique=False,
    )

    op.create_table(
        "need_picks",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("category_key", sa.String(length=48), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["survey_answers.id"],
            name=op.f("fk_need_picks_answer_id_survey_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("answer_id", "category_key", name=op.f("pk_need_picks")),
    )
    op.create_index(
        "ix_need_picks_place",
        "need_picks",
        ["category_key", "age_band", "district", "citizen_id", "day"],
        unique=False,
    )
    op.create_index(
        "ix_need_picks_language",
        "need_picks",
        ["category_key", "language", "citizen_id", "day"],
        unique=False,
    )
    op.create_index(
        "ix_need_picks_month",
        "need_picks",
        ["category_key", "month", "citizen_id", "day"],
        unique=False,
    )
    op.create_table(
        "need_picks_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_picks_state")),
    )

    op.create_index(
        op.f("ix_free_text_needs_created_at"), "free_text_needs", ["created_at"], unique=False
    )
    op.create_index(
        "ix_survey_answers_citizen_id_answered_at",
        "survey_answers",
        ["citizen_id", "answered_at"],
        unique=False,
    )
    op.create_index("ix_survey_answers_updated_at", "survey_answers", ["updated_at"], unique=False)
    op.create_index(op.f("ix_citizens_updated_at"), "citizens", ["updated_at"], unique=False)
    op.create_index(
        "ix_consents_purpose_granted",
        "consents",
        ["purpose", "granted", "citizen_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_consents_purpose_granted", table_name="consents")
    op.drop_index(op.f("ix_citizens_updated_at"), table_name="citizens")
    op.drop_index("ix_survey_answers_updated_at", table_name="survey_answers")
    op.drop_index("ix_survey_answers_citizen_id_answered_at", table_name="survey_answers")
    op.drop_index(op.f("ix_free_text_needs_created_at"), table_name="free_text_needs")
    op.drop_table("need_picks_state")
    op.drop_index("ix_need_picks_month", table_name="need_picks")
    op.drop_index("ix_need_picks_language", table_name="need_picks")
    op.drop_index("ix_need_picks_place", table_name="need_picks")
    op.drop_table("need_picks")
    op.drop_index("ix_free_text_tokens_token", table_name="free_text_tokens")
    op.drop_index(op.f("ix_free_text_tokens_citizen_id"), table_name="free_text_tokens")
    op.drop_table("free_text_tokens")
