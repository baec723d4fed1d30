"""outbox claims: the relay holds a batch under a lease instead of a long transaction

Revision ID: booking_0003
Revises: booking_0002
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "booking_0003"
down_revision: str | None = "booking_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN on both backends (no table rebuild on SQLite): the partial index
    # ix_outbox_unpublished stays as it is and still serves the relay's claim query
    op.add_column("outbox", sa.Column("claim_token", sa.String(length=32), nullable=True))
    op.add_column(
        "outbox",
        sa.Column("claimed_until", shared.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_token")
