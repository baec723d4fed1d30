"""single sign-on: a user's identity at the OpenID provider, their last login, logins
waiting for the provider's answer

Revision ID: booking_0006
Revises: booking_0005
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "booking_0006"
down_revision: str | None = "booking_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain columns and a unique index: SQLite adds them in place (no copy of the table).
    op.add_column("users", sa.Column("oidc_issuer", sa.String(length=300), nullable=True))
    op.add_column("users", sa.Column("oidc_subject", sa.String(length=255), nullable=True))
    op.add_column(
        "users", sa.Column("last_login_at", shared.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_users_oidc_identity", "users", ["oidc_issuer", "oidc_subject"], unique=True)
    op.create_table(
        "pending_sign_ins",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_index(
        "ix_pending_sign_ins_created_at", "pending_sign_ins", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pending_sign_ins_created_at", table_name="pending_sign_ins")
    op.drop_table("pending_sign_ins")
    op.drop_index("ix_users_oidc_identity", table_name="users")
    with op.batch_alter_table("users") as users:
        users.drop_column("last_login_at")
        users.drop_column("oidc_subject")
        users.drop_column("oidc_issuer")
