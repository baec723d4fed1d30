"""feed entries: published (a cancellation shows only where the approval did)

Revision ID: calendar_0004
Revises: calendar_0003
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "calendar_0004"
down_revision: str | None = "calendar_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # entries stored before: listed as they were (approved and cancelled ones)
    entries = sa.table("feed_entries", sa.column("status", sa.String), sa.column("published"))
    op.execute(
        entries.update()
        .where(entries.c.status.in_(["approved", "cancelled"]))
        .values(published=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.drop_column("published")
