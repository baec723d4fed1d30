"""known users: the sessions booking ended (logged out, everywhere, deactivated)

Revision ID: notify_0005
Revises: notify_0004
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notify_0005"
down_revision: str | None = "notify_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "known_users",
        sa.Column("ended_sessions", sa.JSON(), server_default="[]", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("known_users") as known_users:
        known_users.drop_column("ended_sessions")
