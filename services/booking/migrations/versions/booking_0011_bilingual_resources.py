"""resources named in Swedish and English: ``name``, ``location`` and ``features`` are the
Swedish ones; ``name_en``, ``location_en`` and ``features_en`` the English ones, filled
with the Swedish until an admin words them

Revision ID: booking_0011
Revises: booking_0010
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "booking_0011"
down_revision: str | None = "booking_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "resources", sa.Column("name_en", sa.String(length=200), server_default="", nullable=False)
    )
    op.add_column(
        "resources",
        sa.Column("location_en", sa.String(length=300), server_default="", nullable=False),
    )
    op.add_column(
        "resources", sa.Column("features_en", sa.JSON(), server_default="[]", nullable=False)
    )
    op.execute(
        "UPDATE resources SET name_en = name, location_en = COALESCE(location, ''),"
        " features_en = features"
    )


def downgrade() -> None:
    with op.batch_alter_table("resources") as resources:
        resources.drop_column("features_en")
        resources.drop_column("location_en")
        resources.drop_column("name_en")
