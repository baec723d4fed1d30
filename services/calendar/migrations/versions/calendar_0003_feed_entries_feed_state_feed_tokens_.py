"""feed entries, feed state, feed tokens, known resources

Revision ID: calendar_0003
Revises: calendar_0002
Create Date: 2026-11-26 13:48:09.666016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "calendar_0003"
down_revision: str | None = "calendar_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_entries",
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("organiser_email", sa.String(length=254), nullable=False),
        sa.Column("resource_slugs", sa.JSON(), nullable=False),
        sa.Column("deciders", sa.JSON(), nullable=False),
        sa.Column("last_end", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("vevent_full", sa.Text(), nullable=False),
        sa.Column("vevent_busy", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("booking_id"),
    )
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_entries_generation"), ["generation"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feed_entries_organiser_email"), ["organiser_email"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feed_entries_status"), ["status"], unique=False)
        batch_op.create_index("ix_feed_entries_window", ["last_end"], unique=False)

    op.create_table(
        "feed_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "feed_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "known_resources",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_table(
        "feed_entry_resources",
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["feed_entries.booking_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("booking_id", "slug"),
    )
    with op.batch_alter_table("feed_entry_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_entry_resources_slug"), ["slug"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_entry_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_entry_resources_slug"))

    op.drop_table("feed_entry_resources")
    op.drop_table("known_resources")
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_tokens_user_id"))

    op.drop_table("feed_tokens")
    op.drop_table("feed_state")
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_entries_window")
        batch_op.drop_index(batch_op.f("ix_feed_entries_status"))
        batch_op.drop_index(batch_op.f("ix_feed_entries_organiser_email"))
        batch_op.drop_index(batch_op.f("ix_feed_entries_generation"))

    op.drop_table("feed_entries")
