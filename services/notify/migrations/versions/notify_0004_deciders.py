"""deciders: resource names, alert preferences, digest items, 48-hour reminders

Revision ID: notify_0004
Revises: notify_0003
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "notify_0004"
down_revision: str | None = "notify_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id"),
    )
    op.create_table(
        "decider_preferences",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("alerts", sa.String(length=8), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("decider_preferences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decider_preferences_email"), ["email"], unique=False)

    op.create_table(
        "digest_items",
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("added_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient", "booking_id", "resource_id"),
    )
    with op.batch_alter_table("digest_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_items_added_at"), ["added_at"], unique=False)

    op.create_table(
        "waiting_reminders",
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("waiting_since", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("remind_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("booking_id", "resource_id"),
    )
    with op.batch_alter_table("waiting_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waiting_reminders_remind_at"), ["remind_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("waiting_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_reminders_remind_at"))

    op.drop_table("waiting_reminders")
    with op.batch_alter_table("digest_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_items_added_at"))

    op.drop_table("digest_items")
    with op.batch_alter_table("decider_preferences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decider_preferences_email"))

    op.drop_table("decider_preferences")
    op.drop_table("resources")
