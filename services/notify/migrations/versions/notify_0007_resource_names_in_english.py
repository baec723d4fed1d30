"""the resource replica keeps each resource's English name and place beside the Swedish
(``name``, ``location``), so mail names resources in the language it is written in

Revision ID: notify_0007
Revises: notify_0006
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notify_0007"
down_revision: str | None = "notify_0006"
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
    op.execute("UPDATE resources SET name_en = name, location_en = COALESCE(location, '')")


def downgrade() -> None:
    with op.batch_alter_table("resources") as resources:
        resources.drop_column("location_en")
        resources.drop_column("name_en")
