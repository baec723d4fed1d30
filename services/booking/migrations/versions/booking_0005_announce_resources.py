"""announce every resource that exists: a resource.changed event per resource in the outbox

Resources made before resource.changed existed were known to calendar and notify only from
the bookings that named them (a resource's feed answered 404 until its first booking). This
writes one event per resource, at its current revision, so both learn every resource once.
Consumers apply it only when newer than what they hold, so running it on a database whose
resources were announced already changes nothing downstream.

Revision ID: booking_0005
Revises: booking_0004
Create Date: 2026-12-02 14:30:00.000000
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.events import RESOURCE_CHANGED, Kind, ResourceSnapshot, TeamRef, make_envelope

revision: str = "booking_0005"
down_revision: str | None = "booking_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this revision knows them (not the models, which move on).
resources = sa.table(
    "resources",
    sa.column("id"),
    sa.column("slug"),
    sa.column("name"),
    sa.column("kind"),
    sa.column("location"),
    sa.column("active", sa.Boolean),
    sa.column("requires_approval", sa.Boolean),
    sa.column("self_approval", sa.Boolean),
    sa.column("team_id"),
    sa.column("revision", sa.Integer),
    sa.column("former_slugs", sa.JSON),
)
managers = sa.table("resource_managers", sa.column("resource_id"), sa.column("email"))
teams = sa.table("teams", sa.column("id"), sa.column("slug"), sa.column("name"), sa.column("email"))
members = sa.table("team_members", sa.column("team_id"), sa.column("email"))
outbox = sa.table(
    "outbox",
    sa.column("event_id"),
    sa.column("event_type"),
    sa.column("aggregate_id"),
    sa.column("payload"),
    sa.column("created_at", shared.db.UTCDateTime(timezone=True)),
    sa.column("attempts", sa.Integer),
)


def _grouped(rows) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, email in rows:
        found.setdefault(key, []).append(email.lower())
    return {key: sorted(emails) for key, emails in found.items()}


def upgrade() -> None:
    bind = op.get_bind()
    managed = _grouped(bind.execute(sa.select(managers.c.resource_id, managers.c.email)))
    team_members = _grouped(bind.execute(sa.select(members.c.team_id, members.c.email)))
    team_refs = {
        row.id: TeamRef(
            row.slug, row.name, (row.email or "").lower(), tuple(team_members.get(row.id, ()))
        )
        for row in bind.execute(sa.select(teams))
    }
    now = datetime.now(UTC)
    rows = []
    for row in bind.execute(sa.select(resources).order_by(resources.c.name)):
        snapshot = ResourceSnapshot(
            resource_id=row.id,
            slug=row.slug,
            name=row.name,
            kind=Kind(row.kind),
            active=bool(row.active),
            revision=row.revision or 1,
            location=row.location or "",
            former_slugs=tuple(row.former_slugs or ()),
            requires_approval=bool(row.requires_approval),
            self_approval=bool(row.self_approval),
            managers=tuple(managed.get(row.id, ())),
            team=team_refs.get(row.team_id),
        )
        envelope = make_envelope(RESOURCE_CHANGED, snapshot)
        rows.append(
            {
                "event_id": envelope["id"],
                "event_type": envelope["type"],
                "aggregate_id": row.id,
                "payload": json.dumps(envelope, separators=(",", ":"), ensure_ascii=False),
                "created_at": now,
                "attempts": 0,
            }
        )
    for row in rows:
        bind.execute(sa.insert(outbox).values(**row))


def downgrade() -> None:
    pass  # events once published cannot be taken back; nothing to undo in booking's tables
