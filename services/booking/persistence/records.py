"""Persistence helpers the booking use cases share: loading with rules, slots, conflicts,
history and the event snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.booking.domain import (
    MAX_BLOCK_LENGTH,
    Conflict,
    Interval,
    NotFound,
    ResourceRules,
    RuleViolation,
    blocked_interval,
)
from services.booking.persistence.models import (
    Booking,
    Closure,
    HistoryEntry,
    OutboxMessage,
    Resource,
    Slot,
)
from services.booking.schemas import opening_hours_rules
from shared.config import Config
from shared.events import make_envelope
from shared.outbox import enqueue


def rules_of(resource: Resource) -> ResourceRules:
    return ResourceRules(
        resource_id=resource.id,
        name=resource.name,
        active=resource.active,
        capacity=resource.capacity if resource.kind == "venue" else None,
        opening_hours=opening_hours_rules(resource.opening_hours),
        buffer_minutes=resource.buffer_minutes,
        min_notice_hours=resource.min_notice_hours,
        max_advance_days=resource.max_advance_days,
        max_duration_minutes=resource.max_duration_minutes,
        requires_approval=resource.requires_approval,
        managers=frozenset(m.lower() for m in resource.manager_emails),
    )


def get_booking(session: Session, booking_id: str, *, lock: bool = False) -> Booking:
    booking = session.get(Booking, booking_id, with_for_update=lock)
    if booking is None:
        raise NotFound(f"no booking {booking_id}")
    return booking


def get_resource(session: Session, key: str) -> Resource:
    """A resource by id or slug."""
    resource = session.get(Resource, key) or session.scalar(
        select(Resource).where(Resource.slug == key)
    )
    if resource is None:
        raise NotFound(f"no resource {key}")
    return resource


def load_resources(session: Session, ids: Sequence[str]) -> list[Resource]:
    """The named resources (by id or slug), or a 422 naming the unknown ones."""
    found = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))}
    found.update(
        {r.slug: r for r in session.scalars(select(Resource).where(Resource.slug.in_(ids)))}
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise RuleViolation({"resource_ids": [f"unknown resource {m}" for m in missing]})
    resources = [found[i] for i in ids]
    if len({r.id for r in resources}) != len(resources):
        raise RuleViolation({"resource_ids": ["Name each resource once."]})
    return resources


def closures_for(session: Session, resource: Resource, span: Interval):
    rows = session.scalars(
        select(Closure).where(
            Closure.resource_id == resource.id, Closure.start < span.end, Closure.end > span.start
        )
    )
    return [(Interval(c.start, c.end), c.reason) for c in rows]


def blocks_for(
    resources: Iterable[Resource], occurrences: Sequence[tuple[int, Interval]]
) -> list[tuple[Resource, int, Interval, Interval]]:
    """(resource, n, occurrence, blocked interval) for every active occurrence."""
    return [
        (r, n, occ, blocked_interval(occ, r.buffer_minutes))
        for r in resources
        for n, occ in occurrences
    ]


def find_conflicts(
    session: Session, blocks, *, exclude: str | None, holding: bool
) -> list[Conflict]:
    """Slots of other bookings overlapping ``blocks``: approved ones (``holding``) or competing
    pending ones. Each lookup is an index range scan bounded by the longest possible block."""
    found: dict[tuple[str, str, datetime], Conflict] = {}
    for resource, _n, _occ, block in blocks:
        query = (
            select(Slot, Booking.title, Booking.status)
            .join(Booking, Booking.id == Slot.booking_id)
            .where(
                Slot.resource_id == resource.id,
                Slot.block_start >= block.start - MAX_BLOCK_LENGTH,
                Slot.block_start < block.end,
                Slot.block_end > block.start,
            )
        )
        query = query.where(Slot.holds.is_(True) if holding else Slot.pending.is_(True))
        if exclude:
            query = query.where(Slot.booking_id != exclude)
        for slot, title, status in session.execute(query):
            key = (slot.booking_id, slot.resource_id, slot.start)
            found.setdefault(
                key,
                Conflict(slot.booking_id, slot.resource_id, slot.start, slot.end, title, status),
            )
    return sorted(found.values(), key=lambda c: (c.start, c.booking_id))


def sync_slots(session: Session, booking: Booking) -> None:
    """Rewrite the booking's slots from its status, occurrences and resources."""
    session.execute(delete(Slot).where(Slot.booking_id == booking.id))
    if booking.status not in ("pending", "approved"):
        return
    active = [(o.n, Interval(o.start, o.end)) for o in booking.occurrences if o.status == "active"]
    for resource, n, occ, block in blocks_for(booking.resources, active):
        session.add(
            Slot(
                booking_id=booking.id,
                occurrence_n=n,
                resource_id=resource.id,
                start=occ.start,
                end=occ.end,
                block_start=block.start,
                block_end=block.end,
                holds=booking.status == "approved",
                pending=booking.status == "pending",
            )
        )
    session.flush()


def add_history(
    session: Session,
    booking: Booking,
    actor: str,
    action: str,
    changes: list[dict[str, Any]] | None = None,
    reason: str | None = None,
) -> None:
    session.add(
        HistoryEntry(
            booking_id=booking.id,
            actor=actor,
            action=action,
            revision=booking.revision,
            changes=changes or [],
            reason=reason,
        )
    )


def snapshot(booking: Booking, config: Config, **extra: Any) -> dict[str, Any]:
    """The whole current state of a booking, as every event carries it."""
    return {
        "booking_id": booking.id,
        "uid": booking.uid,
        "revision": booking.revision,
        "title": booking.title,
        "description": booking.description or "",
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "timezone": booking.timezone,
        "rrule": booking.rrule,
        "occurrences": [
            {"n": o.n, "start": o.start.isoformat(), "end": o.end.isoformat(), "status": o.status}
            for o in booking.occurrences
        ],
        "status": booking.status,
        "visibility": booking.visibility,
        "language": booking.language,
        "expected_attendees": booking.expected_attendees,
        "resources": [
            {
                "id": r.id,
                "slug": r.slug,
                "name": r.name,
                "kind": r.kind,
                "location": r.location or "",
                "requires_approval": r.requires_approval,
                "managers": r.manager_emails,
            }
            for r in booking.resources
        ],
        "organiser": {"email": booking.organiser.email, "name": booking.organiser.name},
        "participants": booking.participants or [],
        "reason": booking.reason,
        "decided_by": booking.decided_by,
        "url": f"{config.base_url.rstrip('/')}/bookings/{booking.id}",
        "created_at": booking.created_at.isoformat(),
        "updated_at": booking.updated_at.isoformat(),
        **extra,
    }


def record_event(
    session: Session, booking: Booking, event_type: str, config: Config, **extra: Any
) -> None:
    """Write the event with the booking's full snapshot to the outbox, in this transaction."""
    session.flush()
    enqueue(session, OutboxMessage, make_envelope(event_type, snapshot(booking, config, **extra)))
