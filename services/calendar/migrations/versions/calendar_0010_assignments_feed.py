"""assignments feeds: feed entries know who is assigned a booking's jobs (and who was taken
off them, with when) and hold the VEVENT of its jobs; who is assigned what, by address;
a feed token says which feed it opens (a private feed, or an assignments feed)

No entry stored before this has assignees (booking assigns no one before it), so nothing
is backfilled: the columns start empty, and every token made before opens a private feed.

Revision ID: calendar_0010
Revises: calendar_0009
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "calendar_0010"
down_revision: str | None = "calendar_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_entries") as entries:
        entries.add_column(sa.Column("assigned", sa.JSON(), server_default="[]", nullable=False))
        entries.add_column(sa.Column("unassigned", sa.JSON(), server_default="{}", nullable=False))
        entries.add_column(
            sa.Column("vevent_assignment", sa.Text(), server_default="", nullable=False)
        )
        entries.add_column(
            sa.Column("vevent_assignment_withdrawn", sa.Text(), server_default="", nullable=False)
        )
    op.create_table(
        "feed_assignees",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("email", "booking_id"),
    )
    with op.batch_alter_table("feed_tokens") as tokens:
        tokens.add_column(
            sa.Column("kind", sa.String(length=16), server_default="private", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("feed_tokens") as tokens:
        tokens.drop_column("kind")
    op.drop_table("feed_assignees")
    with op.batch_alter_table("feed_entries") as entries:
        entries.drop_column("vevent_assignment_withdrawn")
        entries.drop_column("vevent_assignment")
        entries.drop_column("unassigned")
        entries.drop_column("assigned")
