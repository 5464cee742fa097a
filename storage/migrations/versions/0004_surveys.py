"""Learning-needs surveys, need categories, free-text needs, quick polls and the polls sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-02-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    """Create the survey, poll and need tables, parents first."""
    op.create_table(
        "need_categories",
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unesco_feature", sa.String(length=32), nullable=False),
        sa.Column("sdgs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_need_categories")),
    )

    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_surveys_key_version")),
    )
    # At most one open survey, whatever happens concurrently.
    op.create_index(
        "ix_surveys_one_open",
        "surveys",
        ["status"],
        unique=True,
        sqlite_where=ONE_OPEN,
        postgresql_where=ONE_OPEN,
    )

    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_questions_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
        sa.UniqueConstraint("survey_id", "key", name=op.f("uq_survey_questions_survey_id_key")),
    )

    op.create_table(
        "survey_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("category_key", sa.String(length=48), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_key"],
            ["need_categories.key"],
            name=op.f("fk_survey_options_category_key_need_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_options_question_id_survey_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_options")),
        sa.UniqueConstraint("question_id", "key", name=op.f("uq_survey_options_question_id_key")),
    )

    op.create_table(
        "quick_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quick_polls")),
    )

    op.create_table(
        "sent_polls",
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("quick_poll_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("option_keys", sa.Text(), nullable=False),
        sa.Column("recipient_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("vote_counts", sa.Text(), nullable=True),
        sa.Column("total_voters", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_sent_polls_question_id_survey_questions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quick_poll_id"],
            ["quick_polls.id"],
            name=op.f("fk_sent_polls_quick_poll_id_quick_polls"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("poll_id", name=op.f("pk_sent_polls")),
    )
    op.create_index(
        "ix_sent_polls_kind_question_id", "sent_polls", ["kind", "question_id"], unique=False
    )
    op.create_index("ix_sent_polls_quick_poll_id", "sent_polls", ["quick_poll_id"], unique=False)

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("option_keys", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("poll_id", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_survey_answers_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["sent_polls.poll_id"],
            name=op.f("fk_survey_answers_poll_id_sent_polls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_answers_question_id_survey_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint(
            "question_id", "citizen_id", name=op.f("uq_survey_answers_question_id_citizen_id")
        ),
    )
    op.create_index(
        op.f("ix_survey_answers_citizen_id"), "survey_answers", ["citizen_id"], unique=False
    )
    op.create_index(op.f("ix_survey_answers_poll_id"), "survey_answers", ["poll_id"], unique=False)

    op.create_table(
        "quick_poll_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quick_poll_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("option_keys", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("poll_id", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_quick_poll_answers_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["sent_polls.poll_id"],
            name=op.f("fk_quick_poll_answers_poll_id_sent_polls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quick_poll_id"],
            ["quick_polls.id"],
            name=op.f("fk_quick_poll_answers_quick_poll_id_quick_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quick_poll_answers")),
        sa.UniqueConstraint(
            "quick_poll_id",
            "citizen_id",
            name=op.f("uq_quick_poll_answers_quick_poll_id_citizen_id"),
        ),
    )
    op.create_index(
        op.f("ix_quick_poll_answers_citizen_id"), "quick_poll_answers", ["citizen_id"], unique=False
    )
    op.create_index(
        op.f("ix_quick_poll_answers_poll_id"), "quick_poll_answers", ["poll_id"], unique=False
    )

    op.create_table(
        "free_text_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_free_text_needs_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_free_text_needs_survey_id_surveys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_free_text_needs")),
    )
    op.create_index(
        op.f("ix_free_text_needs_citizen_id"), "free_text_needs", ["citizen_id"], unique=False
    )


def downgrade() -> None:
    """Drop what upgrade added, children first."""
    op.drop_index(op.f("ix_free_text_needs_citizen_id"), table_name="free_text_needs")
    op.drop_table("free_text_needs")
    op.drop_index(op.f("ix_quick_poll_answers_poll_id"), table_name="quick_poll_answers")
    op.drop_index(op.f("ix_quick_poll_answers_citizen_id"), table_name="quick_poll_answers")
    op.drop_table("quick_poll_answers")
    op.drop_index(op.f("ix_survey_answers_poll_id"), table_name="survey_answers")
    op.drop_index(op.f("ix_survey_answers_citizen_id"), table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_sent_polls_quick_poll_id", table_name="sent_polls")
    op.drop_index("ix_sent_polls_kind_question_id", table_name="sent_polls")
    op.drop_table("sent_polls")
    op.drop_table("quick_polls")
    op.drop_table("survey_options")
    op.drop_table("survey_questions")
    op.drop_index("ix_surveys_one_open", table_name="surveys")
    op.drop_table("surveys")
    op.drop_table("need_categories")
