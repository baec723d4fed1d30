"""A booking snapshot (the event contract) as a VEVENT: one mapping for calendar's feeds and
notify's invitations, so both carry the same UID, SEQUENCE, times and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.ical import Attendee, EventSpec, Person

STATUS = {
    "approved": "CONFIRMED",
    "pending": "TENTATIVE",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
}
BUSY_LABEL = {"sv": "Bokad", "en": "Booked"}


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def location_of(snapshot: dict[str, Any]) -> str:
    """Venues and studios first (where people go), then the services booked."""
    places = [r for r in snapshot["resources"] if r["kind"] != "service"]
    return "; ".join(
        f"{r['name']}, {r['location']}" if r.get("location") else r["name"] for r in places
    )


def booking_spec(
    snapshot: dict[str, Any],
    *,
    busy_only: bool = False,
    status: str | None = None,
    fallback_organizer: Person,
    attendees: bool = False,
    language: str = "sv",
) -> EventSpec:
    """The VEVENT of a booking. ``busy_only`` hides title, description and people (a
    non-public booking in a resource feed)."""
    occurrences = snapshot.get("occurrences") or []
    cancelled = [_time(o["start"]) for o in occurrences if o["status"] == "cancelled"]
    rrule = snapshot.get("rrule")
    updated = _time(snapshot["updated_at"])
    common = dict(
        uid=snapshot["uid"],
        sequence=int(snapshot["revision"]),
        start=_time(snapshot["start"]),
        end=_time(snapshot["end"]),
        zone=snapshot["timezone"],
        dtstamp=updated,
        last_modified=updated,
        status=status or STATUS[snapshot["status"]],
        rrule=rrule,
        exdates=cancelled if rrule else (),
        categories=sorted({r["kind"] for r in snapshot["resources"]}),
    )
    if busy_only:
        return EventSpec(
            summary=BUSY_LABEL.get(language, "Booked"),
            classification="PRIVATE",
            organizer=fallback_organizer,
            location=location_of(snapshot),
            **common,
        )
    organiser = snapshot["organiser"]
    people = [Attendee(p["email"], p.get("name") or "") for p in snapshot.get("participants", [])]
    services = [r["name"] for r in snapshot["resources"] if r["kind"] == "service"]
    description = snapshot.get("description") or ""
    if services:
        description = (description + "\n\n" if description else "") + ", ".join(services)
    return EventSpec(
        summary=snapshot["title"],
        description=description,
        location=location_of(snapshot),
        url=snapshot.get("url"),
        classification="PUBLIC" if snapshot["visibility"] == "public" else "PRIVATE",
        organizer=Person(organiser["email"], organiser.get("name") or ""),
        attendees=people if attendees else (),
        **common,
    )
