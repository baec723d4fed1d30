"""What the database holds, as the domain, the read models and the events see it: a
resource's rules, a booking's view and its event snapshot. Called inside a unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import time
from typing import Any

from services.booking.commands import OpeningHours
from services.booking.domain import Conflict, ResourceRules
from services.booking.persistence.models import Booking, Closure, HistoryEntry, Resource
from services.booking.views import (
    BookingView,
    ClosureView,
    HistoryView,
    HoursText,
    ResourceView,
)
from shared.events import (
    BookingSnapshot,
    Change,
    Kind,
    Language,
    Occurrence,
    OccurrenceStatus,
    Person,
    ResourceRef,
    Status,
    Visibility,
)


def hours_text(hours: OpeningHours | None) -> dict[str, list[list[str]]] | None:
    """Opening hours as kept: ``{"mon": [["08:00", "17:00"]]}``."""
    if hours is None:
        return None
    return {
        day: [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in windows] for day, windows in hours.items()
    }


def hours_of(kept: Mapping[str, Any] | None) -> OpeningHours | None:
    if kept is None:
        return None
    return {
        day: tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in windows)
        for day, windows in kept.items()
    }


def _hours_view(kept: Mapping[str, Any] | None) -> HoursText | None:
    if kept is None:
        return None
    return {day: tuple((a, b) for a, b in windows) for day, windows in kept.items()}


def managers_of(resource: Resource) -> tuple[str, ...]:
    return tuple(sorted(m.email.lower() for m in resource.managers))


def rules_of(resource: Resource) -> ResourceRules:
    return ResourceRules(
        resource_id=resource.id,
        name=resource.name,
        active=resource.active,
        capacity=resource.capacity if resource.kind == Kind.VENUE else None,
        opening_hours=hours_of(resource.opening_hours),
        buffer_minutes=resource.buffer_minutes,
        min_notice_hours=resource.min_notice_hours,
        max_advance_days=resource.max_advance_days,
        max_duration_minutes=resource.max_duration_minutes,
        requires_approval=resource.requires_approval,
        managers=frozenset(managers_of(resource)),
    )


def resource_view(resource: Resource) -> ResourceView:
    return ResourceView(
        id=resource.id,
        slug=resource.slug,
        name=resource.name,
        kind=Kind(resource.kind),
        description=resource.description or "",
        capacity=resource.capacity,
        location=resource.location or "",
        features=tuple(resource.features or ()),
        opening_hours=_hours_view(resource.opening_hours),
        requires_approval=resource.requires_approval,
        buffer_minutes=resource.buffer_minutes,
        min_notice_hours=resource.min_notice_hours,
        max_advance_days=resource.max_advance_days,
        max_duration_minutes=resource.max_duration_minutes,
        managers=managers_of(resource),
        active=resource.active,
    )


def resource_ref(resource: Resource) -> ResourceRef:
    return ResourceRef(
        id=resource.id,
        slug=resource.slug,
        name=resource.name,
        kind=Kind(resource.kind),
        location=resource.location or "",
        requires_approval=resource.requires_approval,
        managers=managers_of(resource),
    )


def occurrences_of(booking: Booking) -> tuple[Occurrence, ...]:
    return tuple(
        Occurrence(o.n, o.start, o.end, OccurrenceStatus(o.status))
        for o in sorted(booking.occurrences, key=lambda o: o.n)
    )


def participants_of(booking: Booking) -> tuple[Person, ...]:
    return tuple(Person(p["email"], p.get("name") or "") for p in booking.participants or ())


def _sorted_resources(booking: Booking) -> list[Resource]:
    return sorted(booking.resources, key=lambda r: r.name)


def booking_view(booking: Booking, conflicts: Iterable[Conflict] = ()) -> BookingView:
    return BookingView(
        id=booking.id,
        uid=booking.uid,
        title=booking.title,
        description=booking.description or "",
        start=booking.start,
        end=booking.end,
        timezone=booking.timezone,
        status=Status(booking.status),
        revision=booking.revision,
        resources=tuple(resource_ref(r) for r in _sorted_resources(booking)),
        organiser=Person(booking.organiser.email, booking.organiser.name),
        organiser_id=booking.organiser_id,
        participants=participants_of(booking),
        visibility=Visibility(booking.visibility),
        language=Language(booking.language),
        expected_attendees=booking.expected_attendees,
        notes=booking.notes or "",
        rrule=booking.rrule,
        occurrences=occurrences_of(booking),
        decided_by=booking.decided_by,
        reason=booking.reason,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        conflicts=tuple(conflicts),
    )


def snapshot(
    booking: Booking,
    base_url: str,
    *,
    changes: Sequence[Change] = (),
    cancelled_occurrence: int | None = None,
) -> BookingSnapshot:
    """The whole current state of a booking, as every event about it carries it."""
    return BookingSnapshot(
        booking_id=booking.id,
        uid=booking.uid,
        revision=booking.revision,
        title=booking.title,
        description=booking.description or "",
        start=booking.start,
        end=booking.end,
        timezone=booking.timezone,
        rrule=booking.rrule,
        occurrences=occurrences_of(booking),
        status=Status(booking.status),
        visibility=Visibility(booking.visibility),
        language=Language(booking.language),
        expected_attendees=booking.expected_attendees,
        resources=tuple(resource_ref(r) for r in _sorted_resources(booking)),
        organiser=Person(booking.organiser.email, booking.organiser.name),
        participants=participants_of(booking),
        reason=booking.reason,
        decided_by=booking.decided_by,
        changes=tuple(changes),
        cancelled_occurrence=cancelled_occurrence,
        url=f"{base_url.rstrip('/')}/bookings/{booking.id}",
        created_at=booking.created_at,
        updated_at=booking.updated_at,
    )


def change_of(entry: Mapping[str, Any]) -> Change:
    return Change(entry["field"], entry.get("from"), entry.get("to"))


def history_view(entry: HistoryEntry) -> HistoryView:
    return HistoryView(
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        revision=entry.revision,
        changes=tuple(change_of(c) for c in entry.changes or ()),
        reason=entry.reason,
    )


def closure_view(closure: Closure) -> ClosureView:
    return ClosureView(closure.id, closure.resource_id, closure.start, closure.end, closure.reason)
