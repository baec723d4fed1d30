"""resources named in English too: the replica keeps each resource's English name and place
beside the Swedish (``name``, ``location``; blank, as for every resource known before:
the Swedish serves both), and each feed entry the VEVENTs that name its
resources in English where they differ (``vevents_en``; empty: the stored ones serve both)

Revision ID: calendar_0009
Revises: calendar_0008
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "calendar_0009"
down_revision: str | None = "calendar_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "known_resources",
        sa.Column("name_en", sa.String(length=200), server_default="", nullable=False),
    )
    op.add_column(
        "known_resources",
        sa.Column("location_en", sa.String(length=300), server_default="", nullable=False),
    )
    op.add_column(
        "feed_entries", sa.Column("vevents_en", sa.JSON(), server_default="{}", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("feed_entries") as entries:
        entries.drop_column("vevents_en")
    with op.batch_alter_table("known_resources") as resources:
        resources.drop_column("location_en")
        resources.drop_column("name_en")
