"""deliveries by booking and status: what planning drops (a booking's queued calendar mail,
reminders and waiting reminders) is found by booking and status, not among every queued
mail (SQLite chose the due index on status alone); it replaces the index on booking alone

Revision ID: notify_0006
Revises: notify_0005
Create Date: 2026-12-03 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "notify_0006"
down_revision: str | None = "notify_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as deliveries:
        deliveries.create_index("ix_deliveries_booking_status", ["booking_id", "status"])
        deliveries.drop_index("ix_deliveries_booking_id")


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as deliveries:
        deliveries.create_index("ix_deliveries_booking_id", ["booking_id"])
        deliveries.drop_index("ix_deliveries_booking_status")
