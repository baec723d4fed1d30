"""A booking snapshot (the event contract) as a VEVENT: one mapping for calendar's feeds and
notify's invitations, so both carry the same UID, SEQUENCE, times and status."""

from __future__ import annotations

import hashlib

from shared.events import BookingSnapshot, Kind, Visibility
from shared.ical import Attendee, EventSpec, Person
from shared.messages import Msg, text

STATUS = {
    "approved": "CONFIRMED",
    "pending": "TENTATIVE",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
}
BUSY_SUMMARY = Msg("feed_busy_summary")  # "Bokad" / "Booked"


def busy_uid(uid: str) -> str:
    """The UID a busy-only block shows: stable for the life of the booking, so clients
    follow it, yet not the booking's id (a resource feed is open to anyone, and the id is
    not theirs to know)."""
    return f"busy-{hashlib.sha256(uid.encode()).hexdigest()[:32]}@evenemang"


def location_of(snapshot: BookingSnapshot) -> str:
    """Venues and studios first (where people go), then the services booked."""
    places = [r for r in snapshot.resources if r.kind is not Kind.SERVICE]
    return "; ".join(f"{r.name}, {r.location}" if r.location else r.name for r in places)


def booking_spec(
    snapshot: BookingSnapshot,
    *,
    busy_only: bool = False,
    status: str | None = None,
    fallback_organizer: Person,
    attendees: bool = False,
    language: str | None = None,
) -> EventSpec:
    """The VEVENT of a booking. ``busy_only`` hides title, description, people and id (a
    non-public booking in a resource feed: its UID is ``busy_uid``), and says "Booked" in
    ``language`` (by default the booking's own)."""
    common = dict(
        uid=snapshot.uid,
        sequence=snapshot.revision,
        start=snapshot.start,
        end=snapshot.end,
        zone=snapshot.timezone,
        dtstamp=snapshot.updated_at,
        last_modified=snapshot.updated_at,
        status=status or STATUS[snapshot.status],
        rrule=snapshot.rrule,
        exdates=[o.start for o in snapshot.occurrences if not o.active] if snapshot.rrule else (),
        categories=sorted({r.kind.value for r in snapshot.resources}),
        location=location_of(snapshot),
    )
    if busy_only:
        return EventSpec(
            summary=text(BUSY_SUMMARY, language or snapshot.language),
            classification="PRIVATE",
            organizer=fallback_organizer,
            **(common | {"uid": busy_uid(snapshot.uid)}),
        )
    services = [r.name for r in snapshot.resources if r.kind is Kind.SERVICE]
    description = snapshot.description
    if services:
        description = (description + "\n\n" if description else "") + ", ".join(services)
    public = snapshot.visibility is Visibility.PUBLIC
    return EventSpec(
        summary=snapshot.title,
        description=description,
        url=snapshot.url,
        classification="PUBLIC" if public else "PRIVATE",
        organizer=Person(snapshot.organiser.email, snapshot.organiser.name),
        attendees=[Attendee(p.email, p.name) for p in snapshot.participants] if attendees else (),
        **common,
    )
