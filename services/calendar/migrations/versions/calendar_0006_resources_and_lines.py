"""resources known from their own events (by id, with former slugs that redirect); feed
entries list the resources whose feeds show them, and those that show them called off

Revision ID: calendar_0006
Revises: calendar_0005
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "calendar_0006"
down_revision: str | None = "calendar_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER = datetime(2000, 1, 1, tzinfo=UTC)  # a resource known only from bookings
BOOKINGS = sa.table(
    "bookings",
    sa.column("booking_id", sa.String),
    sa.column("snapshot", sa.JSON),
    sa.column("updated_at", shared.db.UTCDateTime),
)
ENTRIES = sa.table(
    "feed_entries",
    sa.column("booking_id", sa.String),
    sa.column("status", sa.String),
    sa.column("published", sa.Boolean),
    sa.column("cancelled_at", shared.db.UTCDateTime),
    sa.column("listed_resources", sa.JSON),
    sa.column("withdrawn_resources", sa.JSON),
    sa.column("resource_slugs", sa.JSON),
)


def _snapshots() -> dict[str, dict]:
    """Each booking's newest snapshot as calendar stored it, oldest change first."""
    rows = op.get_bind().execute(
        sa.select(BOOKINGS.c.booking_id, BOOKINGS.c.snapshot).order_by(BOOKINGS.c.updated_at)
    )
    return {booking_id: snapshot for booking_id, snapshot in rows}


def upgrade() -> None:
    snapshots = _snapshots()
    _entries_list_resources_by_id(snapshots)
    _resources_by_id(snapshots)


def _entries_list_resources_by_id(snapshots: dict[str, dict]) -> None:
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listed_resources", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("withdrawn_resources", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column("vevent_withdrawn_full", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("vevent_withdrawn_busy", sa.Text(), server_default="", nullable=False)
        )
        batch_op.drop_column("resource_slugs")
    # entries stored before: an approved booking is listed in its resources' feeds (those of
    # its approved lines, if it has lines), a published one that ended shows there as
    # cancelled since it ended, as the public feed shows it
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            ENTRIES.c.booking_id, ENTRIES.c.status, ENTRIES.c.published, ENTRIES.c.cancelled_at
        )
    ).all()
    for booking_id, status, published, cancelled_at in rows:
        snapshot = snapshots.get(booking_id) or {}
        ids = sorted(r["id"] for r in snapshot.get("resources") or ())
        lines = snapshot.get("lines") or ()
        listed: list[str] = []
        if status in ("pending", "approved") and lines:
            listed = sorted(line["resource_id"] for line in lines if line["status"] == "approved")
        elif status == "approved":
            listed = ids
        withdrawn = {}
        if status in ("cancelled", "rejected") and published and cancelled_at is not None:
            withdrawn = {rid: cancelled_at.isoformat() for rid in ids}
        if listed or withdrawn:
            connection.execute(
                ENTRIES.update()
                .where(ENTRIES.c.booking_id == booking_id)
                .values(listed_resources=listed, withdrawn_resources=withdrawn)
            )


def _resources_by_id(snapshots: dict[str, dict]) -> None:
    connection = op.get_bind()
    old = connection.execute(sa.text("SELECT slug, name, kind FROM known_resources")).all()
    op.drop_table("known_resources")
    resources = op.create_table(
        "known_resources",
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=300), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changed_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resource_id"),
    )
    with op.batch_alter_table("known_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_resources_slug"), ["slug"], unique=False)
    op.create_table(
        "resource_former_slugs",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    with op.batch_alter_table("resource_former_slugs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_former_slugs_resource_id"), ["resource_id"], unique=False
        )
    # the resources known before, now by id: the id the newest booking naming the slug gives
    # (every known resource was learnt from a booking, and calendar keeps every booking)
    by_slug = {
        ref["slug"]: ref
        for snapshot in snapshots.values()
        for ref in snapshot.get("resources") or ()
    }
    rows = {}
    for slug, name, kind in old:
        if (ref := by_slug.get(slug)) is not None:
            rows[ref["id"]] = {
                "resource_id": ref["id"],
                "slug": slug,
                "name": name,
                "kind": kind,
                "location": ref.get("location") or "",
                "active": True,
                "revision": 0,
                "changed_at": NEVER,
            }
    if rows:
        op.bulk_insert(resources, [rows[key] for key in sorted(rows)])


def downgrade() -> None:
    connection = op.get_bind()
    known = connection.execute(sa.text("SELECT slug, name, kind FROM known_resources"))
    old = {slug: {"slug": slug, "name": name, "kind": kind} for slug, name, kind in known}
    with op.batch_alter_table("resource_former_slugs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_former_slugs_resource_id"))
    op.drop_table("resource_former_slugs")
    with op.batch_alter_table("known_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_resources_slug"))
    op.drop_table("known_resources")
    resources = op.create_table(
        "known_resources",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    if old:
        op.bulk_insert(resources, [old[slug] for slug in sorted(old)])

    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resource_slugs", sa.JSON(), server_default="[]", nullable=False)
        )
    snapshots = _snapshots()
    for booking_id, snapshot in snapshots.items():
        booked = sorted(r["slug"] for r in snapshot.get("resources") or ())
        connection.execute(
            ENTRIES.update().where(ENTRIES.c.booking_id == booking_id).values(resource_slugs=booked)
        )
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.drop_column("vevent_withdrawn_busy")
        batch_op.drop_column("vevent_withdrawn_full")
        batch_op.drop_column("withdrawn_resources")
        batch_op.drop_column("listed_resources")
