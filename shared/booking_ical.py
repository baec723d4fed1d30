"""A booking snapshot (the event contract) as a VEVENT: one mapping for calendar's feeds and
notify's invitations, so both carry the same UID, SEQUENCE, times and status."""

from __future__ import annotations

import hashlib

from shared.events import (
    Assignee,
    AssigneeKind,
    BookingSnapshot,
    Kind,
    LineStatus,
    Status,
    Visibility,
)
from shared.ical import Attendee, EventSpec, Person
from shared.messages import Msg, text

STATUS = {
    "approved": "CONFIRMED",
    "pending": "TENTATIVE",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
}
BUSY_SUMMARY = Msg("feed_busy_summary")  # "Bokad" / "Booked"
JOBS, CATEGORY, ORGANISER = Msg("assignment_jobs"), Msg("assignment_category"), Msg("organiser")


def busy_uid(uid: str) -> str:
    """The UID a busy-only block shows: stable for the life of the booking, so clients
    follow it, yet not the booking's id (a resource feed is open to anyone, and the id is
    not theirs to know)."""
    return f"busy-{hashlib.sha256(uid.encode()).hexdigest()[:32]}@evenemang"


def location_of(snapshot: BookingSnapshot) -> str:
    """Venues and studios first (where people go), then the services booked."""
    places = [r for r in snapshot.resources if r.kind is not Kind.SERVICE]
    return "; ".join(f"{r.name}, {r.location}" if r.location else r.name for r in places)


def _when(snapshot: BookingSnapshot, status: str | None) -> dict:
    """A booking's VEVENT fields of time and state: its revision as SEQUENCE, its times and
    series (cancelled occurrences as EXDATE), when it changed, its STATUS (or ``status``)."""
    return dict(
        sequence=snapshot.revision,
        start=snapshot.start,
        end=snapshot.end,
        zone=snapshot.timezone,
        dtstamp=snapshot.updated_at,
        last_modified=snapshot.updated_at,
        status=status or STATUS[snapshot.status],
        rrule=snapshot.rrule,
        exdates=[o.start for o in snapshot.occurrences if not o.active] if snapshot.rrule else (),
    )


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
        **_when(snapshot, status),
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


# --- a booking's jobs, as their assignees' calendars show them ----------------------------


def assignment_uid(uid: str) -> str:
    """The UID of a booking's jobs in its assignees' calendars (their feed, their
    invitation): not the booking's own, so cancelling the job never takes the booking out
    of a calendar that also holds it (an assignee may organise or take part in it too)."""
    return f"assignment-{uid}"


def jobs(snapshot: BookingSnapshot) -> list[tuple[str, Assignee]]:
    """Each line's job that someone is assigned to (a declined line's assignee has none),
    as (resource id, assignee), in the lines' order."""
    return [
        (line.resource_id, line.assignee)
        for line in snapshot.lines
        if line.assignee is not None and line.status is not LineStatus.DECLINED
    ]


def assigned_people(snapshot: BookingSnapshot, *, suppliers: bool = False) -> dict[str, Person]:
    """Whose calendars hold the booking's jobs, by lower-case address: the staff assigned
    (``suppliers``: also a supplier that has a contact address); no one once it has ended."""
    people: dict[str, Person] = {}
    if snapshot.status in (Status.CANCELLED, Status.REJECTED):
        return people
    for _, assignee in jobs(snapshot):
        staff = assignee.kind is AssigneeKind.STAFF
        if assignee.email and (staff or suppliers):
            email = assignee.email.strip()
            people.setdefault(email.lower(), Person(email, assignee.name))
    return people


def assignment_spec(
    snapshot: BookingSnapshot,
    *,
    language: str | None = None,
    attendee: Person | None = None,
    status: str | None = None,
) -> EventSpec:
    """The VEVENT of a booking's jobs: its title, times and place; which job each assignee
    does (by the resource's name), its category and the organiser's contact, worded in
    ``language`` (by default the booking's own); ``attendee``: the assignee an
    invitation goes to."""
    language = language or snapshot.language.value
    organiser = Person(snapshot.organiser.email, snapshot.organiser.name)
    done = []
    for resource_id, assignee in jobs(snapshot):
        resource = snapshot.resource(resource_id)
        name = resource.name if resource else resource_id
        done.append(f"{name} ({assignee.name or assignee.email})")
    rows = []
    if done:
        rows.append(f"{text(JOBS, language)}: {', '.join(done)}")
    if snapshot.category is not None:
        rows.append(f"{text(CATEGORY, language)}: {snapshot.category.name(language)}")
    contact = f"{organiser.name} <{organiser.email}>" if organiser.name else organiser.email
    rows.append(f"{text(ORGANISER, language)}: {contact}")
    if snapshot.description:
        rows += ["", snapshot.description]
    return EventSpec(
        uid=assignment_uid(snapshot.uid),
        **_when(snapshot, status),
        summary=snapshot.title,
        description="\n".join(rows),
        categories=[snapshot.category.name(language)] if snapshot.category else (),
        location=location_of(snapshot),
        url=snapshot.url,
        classification="PRIVATE",
        organizer=organiser,
        attendees=[Attendee(attendee.email, attendee.name)] if attendee else (),
    )
