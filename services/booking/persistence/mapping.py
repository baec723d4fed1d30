"""What the database holds, as the domain, the read models and the events see it: a
resource's rules, a booking's view and its event snapshot. Called inside a unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import time
from decimal import Decimal
from typing import Any

from services.booking.commands import OpeningHours
from services.booking.domain import Conflict, ResourceRules, line_deciders
from services.booking.persistence.models import (
    Booking,
    BookingLine,
    Category,
    Closure,
    HistoryEntry,
    Resource,
    Supplier,
    Team,
    Unit,
)
from services.booking.readmodels import (
    BookingView,
    ClosureView,
    HistoryView,
    HoursText,
    LineView,
    ListEntryView,
    ResourceView,
    SupplierView,
    TeamView,
)
from shared.events import (
    Assignee,
    AssigneeKind,
    BookingSnapshot,
    Change,
    Kind,
    Label,
    Language,
    Line,
    LineStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    ResourceRef,
    ResourceSnapshot,
    Status,
    TeamRef,
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


def team_ref(team: Team | None) -> TeamRef | None:
    if team is None:
        return None
    members = tuple(sorted(m.email.lower() for m in team.members))
    return TeamRef(team.slug, team.name, (team.email or "").lower(), members)


def _team_members(resource: Resource) -> frozenset[str]:
    return (
        frozenset(m.email.lower() for m in resource.team.members) if resource.team else frozenset()
    )


def _limits(resource: Resource) -> dict[str, int | None]:
    """The limits a resource puts on a booking's time, as kept, shown and checked."""
    return dict(
        buffer_minutes=resource.buffer_minutes,
        min_notice_hours=resource.min_notice_hours,
        max_advance_days=resource.max_advance_days,
        max_duration_minutes=resource.max_duration_minutes,
    )


def rules_of(resource: Resource) -> ResourceRules:
    return ResourceRules(
        resource_id=resource.id,
        name=resource.name,
        active=resource.active,
        capacity=resource.capacity if resource.kind == Kind.VENUE else None,
        opening_hours=hours_of(resource.opening_hours),
        **_limits(resource),
        requires_approval=resource.requires_approval,
        managers=frozenset(managers_of(resource)),
        team_members=_team_members(resource),
        team_mailbox=(resource.team.email or "").strip().lower() if resource.team else "",
        self_approval=resource.self_approval,
    )


def _named(resource: Resource) -> dict[str, Any]:
    """What a booking says of its resource (a ``ResourceRef``); a ``ResourceView`` says more."""
    return dict(
        id=resource.id,
        slug=resource.slug,
        name=resource.name,
        kind=Kind(resource.kind),
        location=resource.location or "",
        requires_approval=resource.requires_approval,
        managers=managers_of(resource),
        team=team_ref(resource.team),
        self_approval=resource.self_approval,
    )


def resource_view(resource: Resource) -> ResourceView:
    return ResourceView(
        **_named(resource),
        description=resource.description or "",
        capacity=resource.capacity,
        features=tuple(resource.features or ()),
        opening_hours=_hours_view(resource.opening_hours),
        **_limits(resource),
        active=resource.active,
        revision=resource.revision,
    )


def resource_snapshot(resource: Resource) -> ResourceSnapshot:
    """A resource as its ``resource.changed`` event carries it."""
    named = _named(resource)
    return ResourceSnapshot(
        resource_id=named.pop("id"),
        **named,
        active=resource.active,
        revision=resource.revision,
        former_slugs=tuple(resource.former_slugs or ()),
    )


def team_view(team: Team, resources: Iterable[Resource] = ()) -> TeamView:
    ref = team_ref(team)
    assert ref is not None
    return TeamView(
        slug=ref.slug,
        name=ref.name,
        email=ref.email,
        members=ref.members,
        resources=tuple(resource_ref(r) for r in resources),
    )


def resource_ref(resource: Resource) -> ResourceRef:
    return ResourceRef(**_named(resource))


def occurrences_of(booking: Booking) -> tuple[Occurrence, ...]:
    return tuple(
        Occurrence(o.n, o.start, o.end, OccurrenceStatus(o.status))
        for o in sorted(booking.occurrences, key=lambda o: o.n)
    )


def participants_of(booking: Booking) -> tuple[Person, ...]:
    return tuple(Person(p["email"], p.get("name") or "") for p in booking.participants or ())


def _line_facts(booking: Booking) -> list[tuple[BookingLine, dict[str, Any]]]:
    """Each line of a booking (by resource name) with what both its event and its read
    model say of it, who may decide it included."""
    organiser = booking.organiser.email
    return [
        (
            line,
            dict(
                status=LineStatus(line.status),
                decided_by=line.decided_by,
                decided_at=line.decided_at,
                reason=line.reason,
                deciders=line_deciders(rules_of(line.resource), organiser),
                waiting_since=line.waiting_since,
                assignee=assignee_of(line),
                hours_delivered=hours_of_line(line),
            ),
        )
        for line in sorted(booking.lines, key=lambda x: (x.resource.name, x.resource_id))
    ]


def assignee_of(line: BookingLine) -> Assignee | None:
    """Who does a line's job, named: a staff member by their name (their address when they
    have no account), a supplier by its name (and its contact address)."""
    if line.assignee_kind == AssigneeKind.STAFF:
        email = line.assignee_email or ""
        return Assignee(AssigneeKind.STAFF, email=email, name=line.staff_name or email)
    if line.assignee_kind == AssigneeKind.SUPPLIER:
        return Assignee(
            AssigneeKind.SUPPLIER,
            email=line.supplier_email or "",
            name=line.supplier_name or "",
            supplier_id=line.supplier_id,
        )
    return None


def hours_of_line(line: BookingLine) -> float | None:
    return None if line.hours_delivered is None else float(line.hours_delivered)


def lines_of(booking: Booking) -> tuple[Line, ...]:
    return tuple(
        Line(resource_id=line.resource_id, **facts) for line, facts in _line_facts(booking)
    )


def line_views(booking: Booking) -> tuple[LineView, ...]:
    return tuple(
        LineView(resource=resource_ref(line.resource), **facts)
        for line, facts in _line_facts(booking)
    )


def labels_of(booking: Booking) -> dict[str, Label | None]:
    """The booking's category and unit, with both names (read with the booking's row)."""
    return {
        "category": None
        if booking.category is None
        else Label(booking.category, booking.category_sv or "", booking.category_en or ""),
        "unit": None
        if booking.unit is None
        else Label(booking.unit, booking.unit_sv or "", booking.unit_en or ""),
    }


def set_label(booking: Booking, kind: str, label: Label | None) -> None:
    """Set a booking's category or unit (``kind``) with its names, as its event reads them."""
    setattr(booking, kind, None if label is None else label.slug)
    setattr(booking, f"{kind}_sv", None if label is None else label.name_sv)
    setattr(booking, f"{kind}_en", None if label is None else label.name_en)


def _described(booking: Booking) -> dict[str, Any]:
    """What both a booking's read model and its snapshot (in every event) say of it."""
    return dict(
        uid=booking.uid,
        title=booking.title,
        description=booking.description or "",
        start=booking.start,
        end=booking.end,
        timezone=booking.timezone,
        status=Status(booking.status),
        revision=booking.revision,
        resources=tuple(resource_ref(r) for r in booking.resources),
        organiser=Person(booking.organiser.email, booking.organiser.name),
        participants=participants_of(booking),
        visibility=Visibility(booking.visibility),
        language=Language(booking.language),
        expected_attendees=booking.expected_attendees,
        rrule=booking.rrule,
        occurrences=occurrences_of(booking),
        decided_by=booking.decided_by,
        reason=booking.reason,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        **labels_of(booking),
    )


def booking_view(booking: Booking, conflicts: Iterable[Conflict] = ()) -> BookingView:
    return BookingView(
        **_described(booking),
        id=booking.id,
        organiser_id=booking.organiser_id,
        notes=booking.notes or "",
        lines=line_views(booking),
        conflicts=tuple(conflicts),
    )


def snapshot(
    booking: Booking,
    base_url: str,
    *,
    changes: Sequence[Change] = (),
    cancelled_occurrence: int | None = None,
    decided: Sequence[str] = (),
    freed: Sequence[str] = (),
) -> BookingSnapshot:
    """The whole current state of a booking, as every event about it carries it."""
    return BookingSnapshot(
        **_described(booking),
        booking_id=booking.id,
        changes=tuple(changes),
        cancelled_occurrence=cancelled_occurrence,
        lines=lines_of(booking),
        decided=tuple(decided),
        freed=tuple(freed),
        url=f"{base_url.rstrip('/')}/bookings/{booking.id}",
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


def entry_view(entry: Category | Unit) -> ListEntryView:
    return ListEntryView(entry.slug, entry.name_sv, entry.name_en, entry.position, entry.active)


def supplier_view(supplier: Supplier) -> SupplierView:
    return SupplierView(
        id=supplier.id,
        name=supplier.name,
        agreement_ref=supplier.agreement_ref,
        hourly_rate=Decimal(supplier.hourly_rate),
        currency=supplier.currency,
        valid_from=supplier.valid_from,
        valid_to=supplier.valid_to,
        email=supplier.email or "",
        active=supplier.active,
    )


def closure_view(closure: Closure) -> ClosureView:
    return ClosureView(closure.id, closure.resource_id, closure.start, closure.end, closure.reason)
