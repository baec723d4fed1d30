"""known users

Revision ID: notify_0002
Revises: notify_0001
Create Date: 2026-11-26 13:02:39.123451
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notify_0002"
down_revision: str | None = "notify_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_users",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revoked_tokens", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("known_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_users_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("known_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_users_email"))

    op.drop_table("known_users")
