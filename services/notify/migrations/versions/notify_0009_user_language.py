"""decider preferences: the language of each user (``user.changed``'s ``language``), for
mail about their own jobs (an assignment is worded in the assignee's language)

Rows stored before this say Swedish (the default) until the user's next ``user.changed``.

Revision ID: notify_0009
Revises: notify_0007
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notify_0009"
down_revision: str | None = "notify_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "decider_preferences",
        sa.Column("language", sa.String(length=2), server_default="sv", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("decider_preferences") as preferences:
        preferences.drop_column("language")
