"""One-time role invites, registered groups and button state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-12

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create invites, chat_groups and button_states."""
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by", sa.String(length=64), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_invites_code")),
    )

    op.create_table(
        "chat_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_groups")),
        sa.UniqueConstraint("telegram_chat_id", name=op.f("uq_chat_groups_telegram_chat_id")),
    )

    op.create_table(
        "button_states",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("flow", sa.String(length=16), nullable=False),
        sa.Column("owner_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_button_states")),
    )
    op.create_index(
        op.f("ix_button_states_owner_telegram_id"),
        "button_states",
        ["owner_telegram_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_button_states_expires_at"), "button_states", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Drop the tables created by upgrade."""
    op.drop_index(op.f("ix_button_states_expires_at"), table_name="button_states")
    op.drop_index(op.f("ix_button_states_owner_telegram_id"), table_name="button_states")
    op.drop_table("button_states")
    op.drop_table("chat_groups")
    op.drop_table("invites")
