"""indexes for the limits per person (bookings per hour, pending at once)

Each submit counts the organiser's bookings made in the last hour
(``organiser_id = ? AND created_at > ?``) and those pending now
(``organiser_id = ? AND status = 'pending'``). On the single-column index of
``organiser_id`` both walked every booking the organiser ever made (140 ms per submit for
a heavy organiser); these two indexes answer each from one short range, and the first one
serves every other lookup by organiser, so the single-column index goes.

Revision ID: booking_0009
Revises: booking_0008
Create Date: 2026-12-03 05:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "booking_0009"
down_revision: str | None = "booking_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_bookings_organiser_created", "bookings", ["organiser_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_bookings_organiser_status", "bookings", ["organiser_id", "status"], unique=False
    )
    op.drop_index("ix_bookings_organiser_id", table_name="bookings")


def downgrade() -> None:
    op.create_index("ix_bookings_organiser_id", "bookings", ["organiser_id"], unique=False)
    op.drop_index("ix_bookings_organiser_status", table_name="bookings")
    op.drop_index("ix_bookings_organiser_created", table_name="bookings")
