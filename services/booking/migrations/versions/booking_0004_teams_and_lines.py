"""teams, one decision per resource (lines), resource revisions, decision links, alerts

Revision ID: booking_0004
Revises: booking_0003
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "booking_0004"
down_revision: str | None = "booking_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "email"),
    )
    op.create_index("ix_team_members_email", "team_members", ["email"], unique=False)
    op.create_table(
        "decision_link_uses",
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("used_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("link_id"),
    )

    op.add_column(
        "users", sa.Column("alerts", sa.String(length=8), server_default="each", nullable=False)
    )
    op.add_column(
        "resources",
        sa.Column("self_approval", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("resources", sa.Column("team_id", sa.String(length=36), nullable=True))
    op.create_index("ix_resources_team_id", "resources", ["team_id"], unique=False)
    op.add_column(
        "resources", sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column(
        "resources", sa.Column("former_slugs", sa.JSON(), server_default="[]", nullable=False)
    )

    line = "booking_resources"
    op.add_column(
        line, sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
    )
    op.add_column(line, sa.Column("decided_by", sa.String(length=254), nullable=True))
    op.add_column(
        line, sa.Column("decided_at", shared.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(line, sa.Column("reason", sa.Text(), nullable=True))
    op.add_column(
        line, sa.Column("waiting_since", shared.db.UTCDateTime(timezone=True), nullable=True)
    )
    # Each line starts where its booking stood: approved (also one cancelled after its
    # approval) and rejected bookings were decided as a whole; pending ones wait since
    # they were last changed.
    op.execute(
        "UPDATE booking_resources SET "
        "status = CASE "
        " WHEN b.status = 'approved' OR (b.status = 'cancelled' AND b.decided_by IS NOT NULL)"
        "  THEN 'approved' "
        " WHEN b.status = 'rejected' THEN 'declined' ELSE 'pending' END, "
        "decided_by = b.decided_by, "
        "decided_at = CASE WHEN b.decided_by IS NOT NULL THEN b.updated_at END, "
        "reason = CASE WHEN b.status = 'rejected' THEN b.reason END, "
        "waiting_since = CASE WHEN b.status = 'pending' THEN b.updated_at END "
        "FROM bookings AS b WHERE b.id = booking_resources.booking_id"
    )


def downgrade() -> None:
    line = "booking_resources"
    with op.batch_alter_table(line) as batch_op:
        for column in ("waiting_since", "reason", "decided_at", "decided_by", "status"):
            batch_op.drop_column(column)
    with op.batch_alter_table("resources") as batch_op:
        batch_op.drop_index("ix_resources_team_id")
        for column in ("former_slugs", "revision", "team_id", "self_approval"):
            batch_op.drop_column(column)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("alerts")
    op.drop_table("decision_link_uses")
    op.drop_index("ix_team_members_email", table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
