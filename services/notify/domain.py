"""Who gets which mail about a booking, and when: pure rules over typed booking snapshots
(no I/O, no Flask, no SQLAlchemy).

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shared.booking_ical import STATUS, location_of
from shared.events import (
    BookingSnapshot,
    Event,
    EventType,
    Occurrence,
    OccurrenceStatus,
    Person,
    Status,
)


class MailKind(StrEnum):
    """What a mail is about; the delivery log's ``kind`` and the template's name."""

    RECEIPT = "receipt"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    OCCURRENCE_CANCELLED = "occurrence_cancelled"
    DECISION_NEEDED = "decision_needed"
    INVITATION = "invitation"
    INVITATION_UPDATE = "invitation_update"
    INVITATION_CANCEL = "invitation_cancel"
    REMINDER = "reminder"

    @property
    def imip_method(self) -> str | None:
        """The iTIP METHOD of a calendar mail (RFC 5546), None for the others."""
        return IMIP_METHOD.get(self)

    @property
    def about_own_booking(self) -> bool:
        """Mail that tells the organiser of a step of their booking."""
        return self in ORGANISER_KINDS.values()


ORGANISER_KINDS = {
    EventType.BOOKING_SUBMITTED: MailKind.RECEIPT,
    EventType.BOOKING_APPROVED: MailKind.APPROVED,
    EventType.BOOKING_REJECTED: MailKind.REJECTED,
    EventType.BOOKING_CHANGED: MailKind.CHANGED,
    EventType.BOOKING_CANCELLED: MailKind.CANCELLED,
    EventType.BOOKING_OCCURRENCE_CANCELLED: MailKind.OCCURRENCE_CANCELLED,
}
IMIP_METHOD = {
    MailKind.INVITATION: "REQUEST",
    MailKind.INVITATION_UPDATE: "REQUEST",
    MailKind.INVITATION_CANCEL: "CANCEL",
}
ENDED = (Status.CANCELLED, Status.REJECTED)
REMINDER_NAMESPACE = uuid.UUID("6f1d6c2e-2d0b-4c55-9d1c-8f3b0e5a7c41")


def address_key(email: str) -> str:
    """An address as the delivery log keys it (case does not make another person)."""
    return email.strip().lower()


@dataclass(frozen=True, eq=False)
class Mail:
    """One mail to plan: its kind, its recipient, the event (or reminder) it is about and
    the booking snapshot it describes."""

    kind: MailKind
    to: Person
    event_id: str
    snapshot: BookingSnapshot
    occurrence: int | None = None  # the occurrence a CANCEL or a reminder is about
    removed: bool = False  # a participant taken off the list
    again: bool = False  # a decision asked for again after a change

    @property
    def booking_id(self) -> str:
        return self.snapshot.booking_id

    @property
    def recipient(self) -> str:
        return address_key(self.to.email)

    @property
    def for_organiser(self) -> bool:
        return self.recipient == address_key(self.snapshot.organiser.email)


@dataclass(frozen=True)
class Invited:
    """What a participant's calendar was last sent for one booking."""

    name: str
    fingerprint: str
    active: bool


@dataclass(frozen=True)
class MailPlan:
    """The mail a batch of one booking's events calls for, and what each participant's
    calendar will then have been sent (keyed by address)."""

    mails: tuple[Mail, ...]
    invited: Mapping[str, Invited]


def people(persons: Iterable[Person]) -> list[Person]:
    """Each address once (first spelling wins), blanks around address and name dropped."""
    seen: dict[str, Person] = {}
    for person in persons:
        seen.setdefault(
            address_key(person.email), Person(person.email.strip(), person.name.strip())
        )
    return list(seen.values())


def plan_mail(
    events: Sequence[Event], invited: Mapping[str, Invited], infra_team: Sequence[str]
) -> MailPlan:
    """The mail of one booking's fresh events (oldest first): the organiser hears of each
    event; deciders and participants follow the newest state."""
    newest = events[-1]
    mails = [mail for event in events if (mail := organiser_mail(event)) is not None]
    mails += decider_mails(newest, infra_team)
    participants, invited_after = participant_mails(newest, invited)
    return MailPlan(tuple(mails + participants), invited_after)


def organiser_mail(event: Event) -> Mail | None:
    """The organiser hears of every step of their booking."""
    kind = ORGANISER_KINDS.get(event.type)
    if kind is None:
        return None
    snapshot = event.data
    organiser = people([snapshot.organiser])[0]
    return Mail(kind, organiser, event.id, snapshot, snapshot.cancelled_occurrence)


def deciders(
    snapshot: BookingSnapshot, infra_team: Sequence[str], slugs: Iterable[str] | None = None
) -> list[Person]:
    """The infra team's addresses and the managers of the resources that need approval
    (only of ``slugs`` when given)."""
    wanted = set(slugs) if slugs is not None else None
    managers = [
        Person(email)
        for resource in snapshot.resources
        if resource.requires_approval and (wanted is None or resource.slug in wanted)
        for email in resource.managers
    ]
    team = [Person(email) for email in infra_team] if wanted is None else []
    return people([*team, *managers])


def decider_mails(event: Event, infra_team: Sequence[str]) -> list[Mail]:
    """Deciders get only mail that asks them to act: a new request waiting for approval,
    a change that sent a booking back for a new decision, or (to the managers of resources
    added to a pending request) a request that now needs them too."""
    snapshot = event.data
    if snapshot.status is not Status.PENDING:
        return []
    again = False
    if event.type is EventType.BOOKING_SUBMITTED:
        targets = deciders(snapshot, infra_team)
    elif event.type is EventType.BOOKING_CHANGED:
        if needs_new_decision(snapshot):
            targets, again = deciders(snapshot, infra_team), True
        else:
            added = _added_resources(snapshot)
            targets = deciders(snapshot, infra_team, added) if added else []
    else:
        targets = []
    return [
        Mail(MailKind.DECISION_NEEDED, person, event.id, snapshot, again=again)
        for person in targets
    ]


def needs_new_decision(snapshot: BookingSnapshot) -> bool:
    """The change sent the booking back to pending."""
    return any(c.field == "status" and c.new == Status.PENDING for c in snapshot.changes)


def _added_resources(snapshot: BookingSnapshot) -> set[str]:
    for change in snapshot.changes:
        if change.field == "resources":
            return set(change.new or []) - set(change.old or [])
    return set()


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


def reply_to(mail: Mail, infra_team: Sequence[str]) -> list[Person]:
    """Replies reach whoever can answer: the infra team for an organiser's mail about their
    booking, the organiser for deciders and participants (never the recipient themself)."""
    if mail.kind.about_own_booking or mail.for_organiser:
        candidates = [Person(address) for address in infra_team]
    else:
        candidates = people([mail.snapshot.organiser])
    return [p for p in candidates if address_key(p.email) != mail.recipient]


# --- reminders ------------------------------------------------------------------------------


def occurrence_of(snapshot: BookingSnapshot, n: int | None) -> Occurrence | None:
    """Occurrence number ``n`` of the booking (None when there is no such one)."""
    if n is None:
        return None
    return next((o for o in snapshot.occurrences if o.n == n), None)


def reminder_times(snapshot: BookingSnapshot, now: datetime) -> dict[int, datetime]:
    """The occurrences still ahead that deserve a reminder: those of an approved booking."""
    if snapshot.status is not Status.APPROVED:
        return {}
    return {o.n: o.start for o in snapshot.occurrences if o.active and o.start > now}


def reschedule(
    snapshot: BookingSnapshot,
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
    when = start.astimezone(UTC).isoformat()
    return str(uuid.uuid5(REMINDER_NAMESPACE, f"{booking_id}:{n}:{when}"))


def reminder_mails(snapshot: BookingSnapshot, n: int, start: datetime) -> list[Mail]:
    """A reminder of occurrence ``n`` to the organiser and every participant."""
    rid = reminder_id(snapshot.booking_id, n, start)
    everyone = people([snapshot.organiser, *snapshot.participants])
    return [Mail(MailKind.REMINDER, p, rid, snapshot, occurrence=n) for p in everyone]


# --- the delivery log: states and retries ------------------------------------------------------


class DeliveryStatus(StrEnum):
    """A delivery's state. ``sending`` is a claim under a lease (shown as ``queued``);
    ``dropped``: never sent because it stopped being true (a reminder of a cancelled or
    moved booking, an invitation superseded by a newer one before it went out)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    DROPPED = "dropped"

    @property
    def shown(self) -> DeliveryStatus:
        """The state a reader sees: a claim in progress is still queued to them."""
        return DeliveryStatus.QUEUED if self is DeliveryStatus.SENDING else self


SHOWN_STATUSES = tuple(s for s in DeliveryStatus if s is not DeliveryStatus.SENDING)


DROPPED_SUPERSEDED = "superseded by a newer calendar message"
DROPPED_MOVED = "the occurrence moved or was cancelled"


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: SENT, FAILED (refused for good), QUEUED (to try again
    at ``retry_at``) or DEAD (no attempts left), with the last error."""

    status: DeliveryStatus
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Retry:
    """How hard the sender tries: ``max_attempts`` in all, the first retry after
    ``retry_seconds``, each following one after twice the wait before it."""

    max_attempts: int = 8
    retry_seconds: float = 60.0

    def after(self, outcome: Outcome, attempts: int, now: datetime) -> Outcome:
        """What attempt number ``attempts`` leaves: sent or failed as it was; else queued
        for a later attempt, or dead after the last one."""
        if outcome.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            return outcome
        if attempts >= self.max_attempts:
            return Outcome(DeliveryStatus.DEAD, outcome.error)
        delay = self.retry_seconds * 2 ** (attempts - 1)
        return Outcome(DeliveryStatus.QUEUED, outcome.error, now + timedelta(seconds=delay))
