"""indexes for the reports: occurrences by start, lines by decision time, bookings by id

Every report finds its occurrences by the period their start falls in (a range of
``occurrences.start`` per week, month or year), and the decision times their lines by when
they were decided; without these indexes each walked every occurrence or line there is.
Each index also holds the few columns the reports read (end and status of an occurrence;
status, resource, assignee and hours of a line; status, creation, category, unit and attendees of a
booking), so a report over 100,000 bookings reads the indexes, not the rows.

Revision ID: booking_0014
Revises: booking_0011
Create Date: 2026-12-03 09:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "booking_0014"
down_revision: str | None = "booking_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_occurrences_start", "occurrences", ["start", "end", "status", "booking_id"])
    op.create_index(
        "ix_booking_resources_decided_at",
        "booking_resources",
        ["decided_at", "status", "resource_id", "booking_id"],
    )
    op.create_index(
        "ix_booking_resources_report",
        "booking_resources",
        ["booking_id", "status", "resource_id", "assignee_kind", "supplier_id", "hours_delivered"],
    )
    op.create_index(
        "ix_bookings_report",
        "bookings",
        ["id", "status", "created_at", "category", "unit", "expected_attendees"],
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_report", table_name="bookings")
    op.drop_index("ix_booking_resources_report", table_name="booking_resources")
    op.drop_index("ix_booking_resources_decided_at", table_name="booking_resources")
    op.drop_index("ix_occurrences_start", table_name="occurrences")
