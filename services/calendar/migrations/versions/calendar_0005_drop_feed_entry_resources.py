"""drop feed_entry_resources: written with every entry, never read (feeds are selected in
memory from the entries' own resource_slugs)

Revision ID: calendar_0005
Revises: calendar_0004
Create Date: 2026-12-02 10:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "calendar_0005"
down_revision: str | None = "calendar_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_entry_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_entry_resources_slug"))
    op.drop_table("feed_entry_resources")


def downgrade() -> None:
    op.create_table(
        "feed_entry_resources",
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["feed_entries.booking_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("booking_id", "slug"),
    )
    with op.batch_alter_table("feed_entry_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_entry_resources_slug"), ["slug"], unique=False)
