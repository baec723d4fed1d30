"""Participants' calendars follow state, not event types: each participant's calendar is
sent a REQUEST once the booking is approved, an update when what it was last sent no longer
matches (time, place, status), and a CANCEL when the booking, one occurrence, or that
participant is taken away. So a participant added by a change is invited, a removed one is
told, and a batch of events that skips a revision still ends with each calendar right."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from services.notify.domain.mail import ENDED, Mail, MailKind, address_key, people
from shared.booking_ical import STATUS, location_of
from shared.events import BookingSnapshot, Event, EventType, OccurrenceStatus, Person, Status


@dataclass(frozen=True)
class Invited:
    """What a participant's calendar was last sent for one booking."""

    name: str
    fingerprint: str
    active: bool


def fingerprint(snapshot: BookingSnapshot) -> str:
    """What a participant's calendar entry depends on for "time or place": times, series,
    the active occurrences, the location and the calendar status. (Times in their wire
    form, so fingerprints stored before the typed contract still match.)"""
    active = [
        (o.n, o.start.isoformat(), o.end.isoformat()) for o in snapshot.occurrences if o.active
    ]
    facts = [
        snapshot.start.isoformat(),
        snapshot.end.isoformat(),
        snapshot.timezone,
        snapshot.rrule,
        active,
        location_of(snapshot),
        STATUS[snapshot.status.value],
    ]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()


def _with_occurrence_active(snapshot: BookingSnapshot, n: int) -> BookingSnapshot:
    occurrences = tuple(
        replace(o, status=OccurrenceStatus.ACTIVE) if o.n == n else o for o in snapshot.occurrences
    )
    return snapshot.replace(occurrences=occurrences)


def participant_mails(
    event: Event, invited: Mapping[str, Invited]
) -> tuple[list[Mail], dict[str, Invited]]:
    """The iMIP mail each participant's calendar needs after this event, and what each
    calendar will then have been sent (keyed by address)."""
    snapshot = event.data
    now_fp = fingerprint(snapshot)
    current = {address_key(p.email): p for p in people(snapshot.participants)}
    state = dict(invited)
    mails: list[Mail] = []

    def mail(kind: MailKind, person: Person, now: Invited, **extra: object) -> None:
        mails.append(Mail(kind, person, event.id, snapshot, **extra))  # type: ignore[arg-type]
        state[address_key(person.email)] = now

    if snapshot.status in ENDED:
        for key, was in invited.items():
            if was.active:
                to = current.get(key) or Person(key, was.name)
                mail(MailKind.INVITATION_CANCEL, to, Invited(was.name, now_fp, False))
        return mails, state
    for key, was in invited.items():
        if was.active and key not in current:
            gone = Invited(was.name, now_fp, False)
            mail(MailKind.INVITATION_CANCEL, Person(key, was.name), gone, removed=True)
    cancelled = snapshot.cancelled_occurrence
    if event.type is not EventType.BOOKING_OCCURRENCE_CANCELLED:
        cancelled = None
    before_fp = fingerprint(_with_occurrence_active(snapshot, cancelled)) if cancelled else None
    for key, person in current.items():
        was = invited.get(key)
        sent = Invited(person.name, now_fp, True)
        if was is None or not was.active:
            if snapshot.status is Status.APPROVED:
                mail(MailKind.INVITATION, person, sent)
        elif was.fingerprint == before_fp:
            mail(MailKind.INVITATION_CANCEL, person, sent, occurrence=cancelled)
        elif was.fingerprint != now_fp:
            mail(MailKind.INVITATION_UPDATE, person, sent)
    return mails, state
