"""A booking snapshot (the event contract) as a VEVENT: one mapping for calendar's feeds and
notify's invitations, so both carry the same UID, SEQUENCE, times and status.

Both functions take the typed :class:`~shared.events.BookingSnapshot`; a snapshot's JSON
form (a mapping, as a read model stores it) is still accepted and loaded first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events import BookingSnapshot, Kind, Visibility, load_snapshot
from shared.ical import Attendee, EventSpec, Person

STATUS = {
    "approved": "CONFIRMED",
    "pending": "TENTATIVE",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
}
BUSY_LABEL = {"sv": "Bokad", "en": "Booked"}

SnapshotLike = BookingSnapshot | Mapping[str, Any]


def _typed(snapshot: SnapshotLike) -> BookingSnapshot:
    return snapshot if isinstance(snapshot, BookingSnapshot) else load_snapshot(snapshot)


def location_of(snapshot: SnapshotLike) -> str:
    """Venues and studios first (where people go), then the services booked."""
    places = [r for r in _typed(snapshot).resources if r.kind is not Kind.SERVICE]
    return "; ".join(f"{r.name}, {r.location}" if r.location else r.name for r in places)


def booking_spec(
    snapshot: SnapshotLike,
    *,
    busy_only: bool = False,
    status: str | None = None,
    fallback_organizer: Person,
    attendees: bool = False,
    language: str = "sv",
) -> EventSpec:
    """The VEVENT of a booking. ``busy_only`` hides title, description and people (a
    non-public booking in a resource feed)."""
    snapshot = _typed(snapshot)
    cancelled = [o.start for o in snapshot.occurrences if not o.active]
    common = dict(
        uid=snapshot.uid,
        sequence=snapshot.revision,
        start=snapshot.start,
        end=snapshot.end,
        zone=snapshot.timezone,
        dtstamp=snapshot.updated_at,
        last_modified=snapshot.updated_at,
        status=status or STATUS[snapshot.status.value],
        rrule=snapshot.rrule,
        exdates=cancelled if snapshot.rrule else (),
        categories=sorted({r.kind.value for r in snapshot.resources}),
    )
    if busy_only:
        return EventSpec(
            summary=BUSY_LABEL.get(language, "Booked"),
            classification="PRIVATE",
            organizer=fallback_organizer,
            location=location_of(snapshot),
            **common,
        )
    people = [Attendee(p.email, p.name) for p in snapshot.participants]
    services = [r.name for r in snapshot.resources if r.kind is Kind.SERVICE]
    description = snapshot.description
    if services:
        description = (description + "\n\n" if description else "") + ", ".join(services)
    return EventSpec(
        summary=snapshot.title,
        description=description,
        location=location_of(snapshot),
        url=snapshot.url,
        classification="PUBLIC" if snapshot.visibility is Visibility.PUBLIC else "PRIVATE",
        organizer=Person(snapshot.organiser.email, snapshot.organiser.name),
        attendees=people if attendees else (),
        **common,
    )
