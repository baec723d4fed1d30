"""Reading bookings: lists, one booking with what it collides with, history, availability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from services.booking.domain import (
    Actor,
    Conflict,
    Forbidden,
    Interval,
    check_resource_rules,
    may_decide,
    may_see,
    require,
)
from services.booking.persistence.models import (
    Booking,
    BookingResource,
    HistoryEntry,
    Resource,
    ResourceManager,
    Slot,
)
from services.booking.persistence.records import (
    blocks_for,
    closures_for,
    find_conflicts,
    get_booking,
    get_resource,
    rules_of,
)
from services.booking.persistence.unit_of_work import Context


def _visible(actor: Actor, booking: Booking) -> bool:
    return may_see(actor, booking.organiser_id, [rules_of(r) for r in booking.resources])


def read_booking(ctx: Context, actor: Actor, booking_id: str) -> tuple[Booking, list[Conflict]]:
    """One booking and what it collides with (approved bookings and competing requests)."""
    with ctx.db.transaction(readonly=True) as session:
        booking = get_booking(session, booking_id)
        require(
            _visible(actor, booking),
            "Only its organiser, the infrastructure team or a manager of its resources "
            "may see this booking.",
        )
        return booking, _conflicts(session, booking)


def _conflicts(session, booking: Booking) -> list[Conflict]:
    if booking.status not in ("pending", "approved"):
        return []
    active = [(o.n, Interval(o.start, o.end)) for o in booking.occurrences if o.status == "active"]
    blocks = blocks_for(booking.resources, active)
    held = find_conflicts(session, blocks, exclude=booking.id, holding=True)
    competing = find_conflicts(session, blocks, exclude=booking.id, holding=False)
    return held + competing


def list_bookings(ctx: Context, actor: Actor, query: dict[str, Any]) -> list[Booking]:
    """Organisers see their own; managers also their resources'; infra and admin all."""
    with ctx.db.transaction(readonly=True) as session:
        stmt = select(Booking).order_by(Booking.start, Booking.id)
        if query.get("mine") or not actor.is_infra:
            managed = (
                select(BookingResource.booking_id)
                .join(ResourceManager, ResourceManager.resource_id == BookingResource.resource_id)
                .where(ResourceManager.email == actor.email.lower())
            )
            mine = Booking.organiser_id == actor.user_id
            stmt = stmt.where(mine if query.get("mine") else or_(mine, Booking.id.in_(managed)))
        if "status" in query:
            stmt = stmt.where(Booking.status == query["status"])
        if "resource_id" in query:
            stmt = stmt.where(
                Booking.id.in_(
                    select(BookingResource.booking_id).where(
                        BookingResource.resource_id == query["resource_id"]
                    )
                )
            )
        if "from_" in query:
            stmt = stmt.where(
                Booking.id.in_(select(Slot.booking_id).where(Slot.end > query["from_"]))
                | (Booking.end > query["from_"])
            )
        if "to" in query:
            stmt = stmt.where(Booking.start < query["to"])
        stmt = stmt.limit(query.get("limit", 500))
        return list(session.scalars(stmt))


def booking_history(ctx: Context, actor: Actor, booking_id: str) -> list[HistoryEntry]:
    with ctx.db.transaction(readonly=True) as session:
        booking = get_booking(session, booking_id)
        require(_visible(actor, booking), "You may not see this booking's history.")
        return list(
            session.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.booking_id == booking_id)
                .order_by(HistoryEntry.id)
            )
        )


def decision_queue(ctx: Context, actor: Actor) -> list[Booking]:
    """Pending requests waiting for this actor's decision, soonest first."""
    with ctx.db.transaction(readonly=True) as session:
        stmt = select(Booking).where(Booking.status == "pending").order_by(Booking.start)
        if not actor.is_infra:
            stmt = stmt.where(
                Booking.id.in_(
                    select(BookingResource.booking_id)
                    .join(
                        ResourceManager, ResourceManager.resource_id == BookingResource.resource_id
                    )
                    .where(ResourceManager.email == actor.email.lower())
                )
            )
        found = list(session.scalars(stmt))
        # a manager decides only on bookings whose every resource they manage
        return [b for b in found if may_decide(actor, [rules_of(r) for r in b.resources])]


def find_available(ctx: Context, query: dict[str, Any]) -> list[Resource]:
    """Active resources free for the whole interval: no approved booking (buffers included),
    no closure, inside opening hours; optionally of a kind, capacity and features."""
    interval = Interval(query["start"], query["end"])
    wanted = {f.strip().lower() for f in (query.get("features") or "").split(",") if f.strip()}
    with ctx.db.transaction(readonly=True) as session:
        stmt = (
            select(Resource).where(Resource.active.is_(True)).order_by(Resource.kind, Resource.name)
        )
        if "kind" in query:
            stmt = stmt.where(Resource.kind == query["kind"])
        if "min_capacity" in query:
            stmt = stmt.where(Resource.capacity >= query["min_capacity"])
        free = []
        for resource in session.scalars(stmt):
            if wanted - {f.lower() for f in resource.features or []}:
                continue
            if check_resource_rules(
                rules_of(resource),
                [interval],
                ctx.clock(),
                ctx.zone,
                None,
                closures_for(session, resource, interval),
            ).get("start"):
                continue
            if find_conflicts(
                session, blocks_for([resource], [(0, interval)]), exclude=None, holding=True
            ):
                continue
            free.append(resource)
        return free


def busy_blocks(
    ctx: Context, actor: Actor, key: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """A resource's approved bookings and closures in a range. Titles only where the actor may
    see the booking or it is public."""
    with ctx.db.transaction(readonly=True) as session:
        resource = get_resource(session, key)
        decider = may_decide(actor, [rules_of(resource)])
        rows = session.execute(
            select(Slot, Booking)
            .join(Booking, Booking.id == Slot.booking_id)
            .where(
                Slot.resource_id == resource.id,
                Slot.holds.is_(True),
                Slot.block_start < end,
                Slot.block_end > start,
            )
            .order_by(Slot.start)
        )
        blocks: list[dict[str, Any]] = []
        for slot, booking in rows:
            shown = (
                decider or booking.visibility == "public" or booking.organiser_id == actor.user_id
            )
            blocks.append(
                {
                    "kind": "booking",
                    "start": slot.start,
                    "end": slot.end,
                    "booking_id": booking.id if shown else None,
                    "title": booking.title if shown else None,
                }
            )
        for closure, reason in closures_for(session, resource, Interval(start, end)):
            blocks.append(
                {
                    "kind": "closure",
                    "start": closure.start,
                    "end": closure.end,
                    "booking_id": None,
                    "title": reason,
                }
            )
        return sorted(blocks, key=lambda b: b["start"])


__all__ = [
    "Forbidden",
    "busy_blocks",
    "booking_history",
    "decision_queue",
    "find_available",
    "list_bookings",
    "read_booking",
]
