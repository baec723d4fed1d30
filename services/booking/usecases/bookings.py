"""Requests and the approval workflow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.booking import domain
from services.booking.domain import (
    Actor,
    Conflict,
    Interval,
    RuleViolation,
    SlotTaken,
    check_resource_rules,
    check_series,
    check_times,
    expand_occurrences,
    may_decide,
    next_status,
    normalise_rrule,
    require,
    status_after_change,
)
from services.booking.persistence.models import Booking, Occurrence, Resource, User, new_id
from services.booking.persistence.records import (
    add_history,
    blocks_for,
    closures_for,
    find_conflicts,
    get_booking,
    load_resources,
    record_event,
    rules_of,
    sync_slots,
)
from services.booking.persistence.unit_of_work import Context, SlotRace
from shared.db import utcnow
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
    BOOKING_OCCURRENCE_CANCELLED,
    BOOKING_REJECTED,
    BOOKING_SUBMITTED,
)

CONTENT_FIELDS = (
    "title",
    "description",
    "expected_attendees",
    "visibility",
    "language",
    "participants",
    "notes",
)
PLACE_FIELDS = ("start", "end", "rrule", "resource_ids")


def _validate(
    ctx: Context,
    session,
    resources: Sequence[Resource],
    start: datetime,
    end: datetime,
    rrule: str | None,
    attendees: int | None,
) -> list[tuple[int, Interval]]:
    """All time and resource rules, or one :class:`RuleViolation` with every message."""
    now = ctx.clock()
    errors = check_times(start, end, now)
    if errors:
        raise RuleViolation(errors)
    occurrences = expand_occurrences(start, end, rrule, ctx.zone)
    errors = check_series(occurrences, max((r.buffer_minutes for r in resources), default=0))
    if errors:
        raise RuleViolation(errors)
    span = Interval(occurrences[0].start, occurrences[-1].end)
    for resource in resources:
        problems = check_resource_rules(
            rules_of(resource),
            occurrences,
            now,
            ctx.zone,
            attendees,
            closures_for(session, resource, span),
        )
        for key, messages in problems.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise RuleViolation(errors)
    return list(enumerate(occurrences))


def _refuse_taken(session, booking_id: str | None, resources, occurrences) -> None:
    held = find_conflicts(
        session, blocks_for(resources, occurrences), exclude=booking_id, holding=True
    )
    if held:
        raise SlotTaken(held)


def _slot_race(ctx: Context, booking_id: str | None, resources_ids, occurrences) -> SlotTaken:
    """After PostgreSQL refused a slot: what now holds it."""
    with ctx.db.transaction(readonly=True) as session:
        resources = load_resources(session, resources_ids)
        return SlotTaken(
            find_conflicts(
                session, blocks_for(resources, occurrences), exclude=booking_id, holding=True
            )
        )


def submit_booking(ctx: Context, actor: Actor, cmd: dict[str, Any]) -> Booking:
    """Request resources for an event; approved at once when none needs approval and the
    slot is free. A slot held by an approved booking is refused with the conflicts."""
    rrule = normalise_rrule(cmd.get("rrule"))
    try:
        with ctx.transaction() as session:
            resources = load_resources(session, cmd["resource_ids"])
            occurrences = _validate(
                ctx,
                session,
                resources,
                cmd["start"],
                cmd["end"],
                rrule,
                cmd.get("expected_attendees"),
            )
            _refuse_taken(session, None, resources, occurrences)
            auto = not any(r.requires_approval for r in resources)
            now = utcnow()
            booking = Booking(
                id=new_id(),
                title=cmd["title"],
                description=cmd.get("description", ""),
                start=cmd["start"],
                end=cmd["end"],
                timezone=ctx.config.timezone,
                rrule=rrule,
                status="approved" if auto else "pending",
                revision=1,
                visibility=cmd.get("visibility", "internal"),
                language=cmd.get("language", "sv"),
                expected_attendees=cmd.get("expected_attendees"),
                participants=cmd.get("participants", []),
                notes=cmd.get("notes", ""),
                organiser=session.get(User, actor.user_id),
                decided_by="automatic" if auto else None,
                created_at=now,
                updated_at=now,
            )
            booking.uid = f"{booking.id}@evenemang"
            booking.resources = list(resources)
            booking.occurrences = [
                Occurrence(n=n, start=o.start, end=o.end) for n, o in occurrences
            ]
            session.add(booking)
            session.flush()
            sync_slots(session, booking)
            add_history(session, booking, actor.email, "submitted")
            if auto:
                add_history(session, booking, "automatic", "approved")
            record_event(
                session, booking, BOOKING_APPROVED if auto else BOOKING_SUBMITTED, ctx.config
            )
            return booking
    except SlotRace:
        raise _slot_race(ctx, None, cmd["resource_ids"], occurrences) from None


def _decidable(session, actor: Actor, booking_id: str) -> Booking:
    booking = get_booking(session, booking_id, lock=True)
    require(
        may_decide(actor, [rules_of(r) for r in booking.resources]),
        "Only the infrastructure team or a manager of its resources may decide on it.",
    )
    return booking


def _active(booking: Booking) -> list[tuple[int, Interval]]:
    return [(o.n, Interval(o.start, o.end)) for o in booking.occurrences if o.status == "active"]


def approve_booking(ctx: Context, actor: Actor, booking_id: str) -> tuple[Booking, list[Conflict]]:
    """Approve a pending request. Refused (409) when an approved booking holds the slot; the
    competing pending requests it beats are returned and stay pending for a decision."""
    try:
        with ctx.transaction() as session:
            booking = _decidable(session, actor, booking_id)
            booking.status = next_status(booking.status, "approve")
            _refuse_taken(session, booking.id, booking.resources, _active(booking))
            competing = find_conflicts(
                session,
                blocks_for(booking.resources, _active(booking)),
                exclude=booking.id,
                holding=False,
            )
            _bump(booking)
            booking.decided_by = actor.email
            booking.reason = None
            sync_slots(session, booking)
            add_history(session, booking, actor.email, "approved")
            record_event(session, booking, BOOKING_APPROVED, ctx.config)
            return booking, competing
    except SlotRace:
        with ctx.db.transaction(readonly=True) as session:
            booking = get_booking(session, booking_id)
            ids = [r.id for r in booking.resources]
            occurrences = _active(booking)
        raise _slot_race(ctx, booking_id, ids, occurrences) from None


def reject_booking(ctx: Context, actor: Actor, booking_id: str, reason: str) -> Booking:
    """Reject a pending request; the reason is required and kept."""
    with ctx.transaction() as session:
        booking = _decidable(session, actor, booking_id)
        booking.status = next_status(booking.status, "reject")
        _bump(booking)
        booking.reason = reason
        booking.decided_by = actor.email
        sync_slots(session, booking)
        add_history(session, booking, actor.email, "rejected", reason=reason)
        record_event(session, booking, BOOKING_REJECTED, ctx.config)
        return booking


def _organiser_or_decider(session, actor: Actor, booking_id: str) -> Booking:
    booking = get_booking(session, booking_id, lock=True)
    require(
        booking.organiser_id == actor.user_id
        or may_decide(actor, [rules_of(r) for r in booking.resources]),
        "Only its organiser, the infrastructure team or a manager of its resources may.",
    )
    return booking


def cancel_booking(ctx: Context, actor: Actor, booking_id: str, reason: str | None) -> Booking:
    """Cancel a pending or approved booking (every occurrence)."""
    with ctx.transaction() as session:
        booking = _organiser_or_decider(session, actor, booking_id)
        booking.status = next_status(booking.status, "cancel")
        _bump(booking)
        booking.reason = reason
        sync_slots(session, booking)
        add_history(session, booking, actor.email, "cancelled", reason=reason)
        record_event(session, booking, BOOKING_CANCELLED, ctx.config)
        return booking


def cancel_occurrence(
    ctx: Context, actor: Actor, booking_id: str, n: int, reason: str | None
) -> Booking:
    """Cancel one occurrence of a series; cancelling the last active one cancels the whole."""
    with ctx.transaction() as session:
        booking = _organiser_or_decider(session, actor, booking_id)
        next_status(booking.status, "cancel")
        occurrence = next((o for o in booking.occurrences if o.n == n), None)
        if occurrence is None:
            raise domain.NotFound(f"booking {booking_id} has no occurrence {n}")
        if occurrence.status == "cancelled":
            raise domain.InvalidTransition(f"occurrence {n} is already cancelled")
        occurrence.status = "cancelled"
        _bump(booking)
        if not _active(booking):
            booking.status = "cancelled"
            booking.reason = reason
        sync_slots(session, booking)
        add_history(
            session,
            booking,
            actor.email,
            "occurrence_cancelled",
            changes=[{"field": f"occurrences[{n}].status", "from": "active", "to": "cancelled"}],
            reason=reason,
        )
        event = BOOKING_CANCELLED if booking.status == "cancelled" else BOOKING_OCCURRENCE_CANCELLED
        record_event(session, booking, event, ctx.config, cancelled_occurrence=n)
        return booking


def change_booking(ctx: Context, actor: Actor, booking_id: str, cmd: dict[str, Any]) -> Booking:
    """Change a pending or approved booking. A new time or new resources send an approved
    booking back to pending unless none of its resources needs approval."""
    try:
        with ctx.transaction() as session:
            booking = _organiser_or_decider(session, actor, booking_id)
            next_status(booking.status, "change")
            changes = _apply_content(booking, cmd)
            moved = _apply_place(ctx, session, booking, cmd, changes)
            if not changes:
                return booking
            needs_approval = any(r.requires_approval for r in booking.resources)
            before = booking.status
            booking.status = status_after_change(booking.status, moved, needs_approval)
            if booking.status != before:
                changes.append({"field": "status", "from": before, "to": booking.status})
                booking.decided_by = None
            if moved:
                _refuse_taken(session, booking.id, booking.resources, _active(booking))
            _bump(booking)
            sync_slots(session, booking)
            add_history(session, booking, actor.email, "changed", changes=changes)
            record_event(session, booking, BOOKING_CHANGED, ctx.config, changes=changes)
            return booking
    except SlotRace:
        raise _slot_race(ctx, booking_id, cmd.get("resource_ids", []), []) from None


def _apply_content(booking: Booking, cmd: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for name in CONTENT_FIELDS:
        if name in cmd and cmd[name] != getattr(booking, name):
            changes.append({"field": name, "from": getattr(booking, name), "to": cmd[name]})
            setattr(booking, name, cmd[name])
    return changes


def _apply_place(
    ctx: Context, session, booking: Booking, cmd: dict[str, Any], changes: list[dict[str, Any]]
) -> bool:
    """New time, series or resources: validated like a new request. Returns whether moved."""
    start, end = cmd.get("start", booking.start), cmd.get("end", booking.end)
    rrule = normalise_rrule(cmd["rrule"]) if "rrule" in cmd else booking.rrule
    resources = (
        load_resources(session, cmd["resource_ids"])
        if "resource_ids" in cmd
        else list(booking.resources)
    )
    old_ids = [r.id for r in booking.resources]
    moved = (start, end, rrule) != (booking.start, booking.end, booking.rrule)
    moved_resources = sorted(r.id for r in resources) != sorted(old_ids)
    if not moved and not moved_resources:
        if "expected_attendees" in cmd:  # capacity still has to hold
            _validate_attendees(ctx, session, booking, resources)
        return False
    occurrences = _validate(ctx, session, resources, start, end, rrule, booking.expected_attendees)
    for name, old, new in (
        ("start", booking.start, start),
        ("end", booking.end, end),
        ("rrule", booking.rrule, rrule),
    ):
        if old != new:
            changes.append({"field": name, "from": _plain(old), "to": _plain(new)})
    if moved_resources:
        changes.append(
            {
                "field": "resources",
                "from": [r.slug for r in booking.resources],
                "to": [r.slug for r in resources],
            }
        )
    cancelled = (
        {o.n for o in booking.occurrences if o.status == "cancelled"} if not moved else set()
    )
    booking.start, booking.end, booking.rrule = start, end, rrule
    booking.resources = list(resources)
    booking.occurrences.clear()
    session.flush()  # the old occurrences go before the new ones (same numbers) come
    booking.occurrences = [
        Occurrence(
            n=n, start=o.start, end=o.end, status="cancelled" if n in cancelled else "active"
        )
        for n, o in occurrences
    ]
    session.flush()
    return True


def _validate_attendees(ctx: Context, session, booking: Booking, resources) -> None:
    errors: dict[str, list[str]] = {}
    for r in resources:
        cap = r.capacity if r.kind == "venue" else None
        if cap is not None and booking.expected_attendees and booking.expected_attendees > cap:
            errors.setdefault("expected_attendees", []).append(
                f"{r.name}: holds at most {cap} people"
            )
    if errors:
        raise RuleViolation(errors)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _bump(booking: Booking) -> None:
    booking.revision += 1
    booking.updated_at = utcnow()
