"""Who gets which mail about a booking: pure rules over booking snapshots (no I/O).

| event | organiser | participants | deciders |
|---|---|---|---|
| submitted (pending) | receipt | — | one alert each |
| approved | confirmation | invitation (REQUEST) | — |
| rejected | the reason | CANCEL if invited before | — |
| changed | what changed | REQUEST if time or place changed | if it needs a new decision |
| cancelled (all or one) | with the reason | CANCEL (all, or that occurrence) | — |
| reminder | yes | yes | — |

Participants' mail follows state, not event types: each participant's calendar is sent a
REQUEST once the booking is approved, an update when what it was last sent no longer
matches (time, place, status), and a CANCEL when the booking, one occurrence, or that
participant is taken away. So a participant added by a change is invited, a removed one is
told, and a batch of events that skips a revision still ends with each calendar right."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.booking_ical import STATUS, location_of
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
    BOOKING_OCCURRENCE_CANCELLED,
    BOOKING_REJECTED,
    BOOKING_SUBMITTED,
    Event,
)

ORGANISER_KINDS = {
    BOOKING_SUBMITTED: "receipt",
    BOOKING_APPROVED: "approved",
    BOOKING_REJECTED: "rejected",
    BOOKING_CHANGED: "changed",
    BOOKING_CANCELLED: "cancelled",
    BOOKING_OCCURRENCE_CANCELLED: "occurrence_cancelled",
}
DECISION_NEEDED = "decision_needed"
INVITATION = "invitation"
INVITATION_UPDATE = "invitation_update"
INVITATION_CANCEL = "invitation_cancel"
REMINDER = "reminder"
IMIP_METHOD = {INVITATION: "REQUEST", INVITATION_UPDATE: "REQUEST", INVITATION_CANCEL: "CANCEL"}
KINDS = (*ORGANISER_KINDS.values(), DECISION_NEEDED, *IMIP_METHOD, REMINDER)
ENDED = ("cancelled", "rejected")
REMINDER_NAMESPACE = uuid.UUID("6f1d6c2e-2d0b-4c55-9d1c-8f3b0e5a7c41")


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""

    @property
    def key(self) -> str:
        """The address as the delivery log keys it (case does not make another person)."""
        return self.email.strip().lower()


@dataclass(frozen=True, eq=False)
class Mail:
    """One mail to plan: its kind, its recipient, the event (or reminder) it is about and
    the booking snapshot it describes."""

    kind: str
    to: Person
    event_id: str
    event_type: str
    snapshot: Mapping[str, Any]
    occurrence: int | None = None  # the occurrence a CANCEL or a reminder is about
    removed: bool = False  # a participant taken off the list
    flags: Mapping[str, Any] = field(default_factory=dict)

    @property
    def booking_id(self) -> str:
        return self.snapshot["booking_id"]


@dataclass(frozen=True)
class Invited:
    """What a participant's calendar was last sent for one booking."""

    name: str
    fingerprint: str
    active: bool


def people(entries: Iterable[Mapping[str, Any]]) -> list[Person]:
    """Persons from snapshot entries, each address once (first spelling wins)."""
    seen: dict[str, Person] = {}
    for entry in entries:
        person = Person(str(entry["email"]).strip(), str(entry.get("name") or "").strip())
        seen.setdefault(person.key, person)
    return list(seen.values())


def organiser_of(snapshot: Mapping[str, Any]) -> Person:
    return people([snapshot["organiser"]])[0]


def organiser_mail(event: Event) -> Mail | None:
    """The organiser hears of every step of their booking."""
    kind = ORGANISER_KINDS.get(event.type)
    if kind is None:
        return None
    snapshot = event.snapshot_json
    occurrence = snapshot.get("cancelled_occurrence")
    return Mail(kind, organiser_of(snapshot), event.id, event.type, snapshot, occurrence)


def deciders(
    snapshot: Mapping[str, Any], infra_team: Sequence[str], slugs: Iterable[str] | None = None
) -> list[Person]:
    """The infra team's address and the managers of the resources that need approval
    (only of ``slugs`` when given)."""
    wanted = set(slugs) if slugs is not None else None
    managers = [
        {"email": email}
        for resource in snapshot["resources"]
        if resource.get("requires_approval", True)
        and (wanted is None or resource["slug"] in wanted)
        for email in resource.get("managers") or []
    ]
    team = [{"email": email} for email in infra_team] if wanted is None else []
    return people([*team, *managers])


def decider_mails(event: Event, infra_team: Sequence[str]) -> list[Mail]:
    """Deciders get only mail that asks them to act: a new request waiting for approval,
    a change that sent a booking back for a new decision, or (to the managers of resources
    added to a pending request) a request that now needs them too."""
    snapshot = event.snapshot_json
    if snapshot["status"] != "pending":
        return []
    again = False
    if event.type == BOOKING_SUBMITTED:
        targets = deciders(snapshot, infra_team)
    elif event.type == BOOKING_CHANGED:
        changes = snapshot.get("changes") or []
        if any(c["field"] == "status" and c.get("to") == "pending" for c in changes):
            targets, again = deciders(snapshot, infra_team), True
        else:
            added = _added_resources(changes)
            targets = deciders(snapshot, infra_team, added) if added else []
    else:
        targets = []
    return [
        Mail(DECISION_NEEDED, person, event.id, event.type, snapshot, flags={"again": again})
        for person in targets
    ]


def _added_resources(changes: Sequence[Mapping[str, Any]]) -> set[str]:
    for change in changes:
        if change["field"] == "resources":
            return set(change.get("to") or []) - set(change.get("from") or [])
    return set()


def fingerprint(snapshot: Mapping[str, Any]) -> str:
    """What a participant's calendar entry depends on for "time or place": times, series,
    the active occurrences, the location and the calendar status."""
    active = [
        (o["n"], o["start"], o["end"])
        for o in snapshot.get("occurrences") or []
        if o["status"] == "active"
    ]
    facts = [
        snapshot["start"],
        snapshot["end"],
        snapshot["timezone"],
        snapshot.get("rrule"),
        active,
        location_of(snapshot),  # type: ignore[arg-type]
        STATUS[snapshot["status"]],
    ]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()


def _with_occurrence_active(snapshot: Mapping[str, Any], n: int) -> dict[str, Any]:
    occurrences = [
        {**o, "status": "active"} if o["n"] == n else o for o in snapshot.get("occurrences") or []
    ]
    return {**snapshot, "occurrences": occurrences}


def participant_mails(
    event: Event, invited: Mapping[str, Invited]
) -> tuple[list[Mail], dict[str, Invited]]:
    """The iMIP mail each participant's calendar needs after this event, and what each
    calendar will then have been sent (keyed by address)."""
    snapshot = event.snapshot_json
    now_fp = fingerprint(snapshot)
    current = {p.key: p for p in people(snapshot.get("participants") or [])}
    state = dict(invited)
    mails: list[Mail] = []

    def mail(kind: str, person: Person, **extra: Any) -> None:
        mails.append(Mail(kind, person, event.id, event.type, snapshot, **extra))

    if snapshot["status"] in ENDED:
        for key, was in invited.items():
            if was.active:
                mail(INVITATION_CANCEL, current.get(key) or Person(key, was.name))
                state[key] = Invited(was.name, now_fp, False)
        return mails, state
    for key, was in invited.items():
        if was.active and key not in current:
            mail(INVITATION_CANCEL, Person(key, was.name), removed=True)
            state[key] = Invited(was.name, now_fp, False)
    cancelled = snapshot.get("cancelled_occurrence")
    if event.type != BOOKING_OCCURRENCE_CANCELLED:
        cancelled = None
    before_fp = fingerprint(_with_occurrence_active(snapshot, cancelled)) if cancelled else None
    for key, person in current.items():
        was = invited.get(key)
        if was is None or not was.active:
            if snapshot["status"] == "approved":
                mail(INVITATION, person)
                state[key] = Invited(person.name, now_fp, True)
        elif was.fingerprint == before_fp:
            mail(INVITATION_CANCEL, person, occurrence=cancelled)
            state[key] = Invited(person.name, now_fp, True)
        elif was.fingerprint != now_fp:
            mail(INVITATION_UPDATE, person)
            state[key] = Invited(person.name, now_fp, True)
    return mails, state


# --- reminders ------------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def reminder_times(snapshot: Mapping[str, Any], now: datetime) -> dict[int, datetime]:
    """The occurrences still ahead that deserve a reminder: those of an approved booking."""
    if snapshot["status"] != "approved":
        return {}
    found = {}
    for o in snapshot.get("occurrences") or []:
        start = _time(o["start"])
        if o["status"] == "active" and start > now:
            found[o["n"]] = start
    return found


def reschedule(
    snapshot: Mapping[str, Any],
    scheduled: Mapping[int, datetime],
    lead: timedelta,
    now: datetime,
) -> tuple[list[int], dict[int, datetime]]:
    """Reminders to drop (their occurrence moved, was cancelled or the booking ended) and to
    add. A reminder whose time has already passed is not added: the mail that announced the
    new time went out just now."""
    wanted = reminder_times(snapshot, now)
    drop = [n for n, start in scheduled.items() if wanted.get(n) != start]
    add = {
        n: start for n, start in wanted.items() if scheduled.get(n) != start and start - lead > now
    }
    return drop, add


def reminder_id(booking_id: str, n: int, start: datetime) -> str:
    """The delivery log's event id of a reminder: one per occurrence and start time, so a
    moved occurrence gets a new reminder and an unchanged one is never reminded twice."""
    when = _time(start).astimezone(UTC).isoformat()
    return str(uuid.uuid5(REMINDER_NAMESPACE, f"{booking_id}:{n}:{when}"))


def reminder_mails(snapshot: Mapping[str, Any], n: int, start: datetime) -> list[Mail]:
    """A reminder of occurrence ``n`` to the organiser and every participant."""
    rid = reminder_id(snapshot["booking_id"], n, start)
    everyone = people([snapshot["organiser"], *(snapshot.get("participants") or [])])
    return [Mail(REMINDER, p, rid, REMINDER, snapshot, occurrence=n) for p in everyone]
