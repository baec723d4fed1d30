"""Assignees' calendars follow the booking's jobs: whoever is newly assigned a line's job
is sent an invitation (REQUEST, the assignee as ATTENDEE), an assignee kept is sent an
update when the time, place or status changed, and one taken off the job (unassigned,
reassigned, the line declined) or whose booking ended is sent a CANCEL. Judged against the
snapshot notify held before, so a redelivered event, which changes nothing held, mails
nothing again.

Staff assignees are mailed, and a supplier on an agreement when it has a contact address
(``Assignee.email``); a supplier without one hears nothing from here."""

from __future__ import annotations

from services.notify.domain.mail import Mail, MailKind
from services.notify.domain.participants import fingerprint
from shared.booking_ical import assigned_people, jobs
from shared.events import BookingSnapshot, Event


def jobs_of(snapshot: BookingSnapshot, email: str) -> tuple[str, ...]:
    """The resources (ids) whose job this address is assigned, in the lines' order."""
    key = email.strip().lower()
    return tuple(rid for rid, who in jobs(snapshot) if who.email.strip().lower() == key)


def assignee_mails(event: Event, previous: BookingSnapshot | None) -> list[Mail]:
    """The calendar mail each assignee needs after ``event`` (the newest of a batch), given
    the snapshot held before it."""
    snapshot: BookingSnapshot = event.data  # type: ignore[assignment]
    now = assigned_people(snapshot, suppliers=True)
    before = assigned_people(previous, suppliers=True) if previous is not None else {}
    moved = previous is not None and fingerprint(previous) != fingerprint(snapshot)
    mails = []
    for key, person in before.items():
        if key not in now:
            lines = jobs_of(previous, key)  # type: ignore[arg-type]
            mails.append(Mail(MailKind.ASSIGNMENT_CANCEL, person, event.id, snapshot, lines=lines))
    for key, person in now.items():
        kind = MailKind.ASSIGNMENT if key not in before else MailKind.ASSIGNMENT_UPDATE
        if key not in before or moved:
            mails.append(Mail(kind, person, event.id, snapshot, lines=jobs_of(snapshot, key)))
    return mails
