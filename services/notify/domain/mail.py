"""Mail and its recipients: what a mail is about (its kind), to whom, and the organiser's
mail of each step of their booking."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from shared.events import (
    BookingSnapshot,
    Event,
    EventType,
    LineStatus,
    Person,
    ResourceRef,
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
    LINES_DECIDED = "lines_decided"  # to the organiser: some lines approved or declined
    SLOT_FREED = "slot_freed"  # to the organiser: the time they asked for is free again
    DECISION_POSSIBLE = "decision_possible"  # to deciders: a freed slot, approvable now
    WAITING_REMINDER = "waiting_reminder"  # to deciders: a line waiting for 48 hours
    DIGEST = "digest"  # to a decider who chose it: the day's waiting lines
    ACCOUNT_INVITED = "account_invited"  # to a new user: how to log in, a set-password link
    PASSWORD_RESET = "password_reset"  # to a user who asked: a link to choose a new password
    ASSIGNMENT = "assignment"  # to an assignee: a job of theirs (an invitation, REQUEST)
    ASSIGNMENT_UPDATE = "assignment_update"  # to an assignee: its time, place or status moved
    ASSIGNMENT_CANCEL = "assignment_cancel"  # to an assignee: taken off it, or it is called off

    @property
    def imip_method(self) -> str | None:
        """The iTIP METHOD of a calendar mail (RFC 5546), None for the others."""
        return IMIP_METHOD.get(self)

    @property
    def about_own_booking(self) -> bool:
        """Mail that tells the organiser of a step of their booking."""
        return self in ORGANISER_KINDS.values() or self is MailKind.SLOT_FREED

    @property
    def to_assignee(self) -> bool:
        """Mail about the recipient's own job at a booking, in their language, its calendar
        part naming them (so it is composed for each recipient)."""
        return self in ASSIGNMENT_KINDS

    @property
    def to_decider(self) -> bool:
        """Mail that asks its recipient to decide lines (each recipient's own lines, with
        their decision links)."""
        return self in DECIDER_KINDS


ORGANISER_KINDS = {
    EventType.BOOKING_SUBMITTED: MailKind.RECEIPT,
    EventType.BOOKING_APPROVED: MailKind.APPROVED,
    EventType.BOOKING_REJECTED: MailKind.REJECTED,
    EventType.BOOKING_CHANGED: MailKind.CHANGED,
    EventType.BOOKING_CANCELLED: MailKind.CANCELLED,
    EventType.BOOKING_OCCURRENCE_CANCELLED: MailKind.OCCURRENCE_CANCELLED,
    EventType.BOOKING_LINES_DECIDED: MailKind.LINES_DECIDED,
}
DECIDER_KINDS = frozenset(
    {
        MailKind.DECISION_NEEDED,
        MailKind.DECISION_POSSIBLE,
        MailKind.WAITING_REMINDER,
        MailKind.DIGEST,
    }
)
IMIP_METHOD = {
    MailKind.INVITATION: "REQUEST",
    MailKind.INVITATION_UPDATE: "REQUEST",
    MailKind.INVITATION_CANCEL: "CANCEL",
    MailKind.ASSIGNMENT: "REQUEST",
    MailKind.ASSIGNMENT_UPDATE: "REQUEST",
    MailKind.ASSIGNMENT_CANCEL: "CANCEL",
}
# a booking's calendar mail to participants (its own UID) and to assignees (the UID of its
# jobs): a newer one supersedes an older one queued for the same calendar and UID only
ASSIGNMENT_KINDS = frozenset(
    {MailKind.ASSIGNMENT, MailKind.ASSIGNMENT_UPDATE, MailKind.ASSIGNMENT_CANCEL}
)
INVITATION_KINDS = frozenset(IMIP_METHOD) - ASSIGNMENT_KINDS
ENDED = (Status.CANCELLED, Status.REJECTED)
RECORDING_KINDS = frozenset({MailKind.INVITATION, MailKind.INVITATION_UPDATE, MailKind.REMINDER})


def address_key(email: str) -> str:
    """An address as the delivery log keys it (case does not make another person)."""
    return email.strip().lower()


@dataclass(frozen=True)
class Waiting:
    """Some lines of one booking waiting for a recipient (by resource id, in its order)."""

    snapshot: BookingSnapshot
    lines: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Mail:
    """One mail to plan: its kind, its recipient, the event (or reminder) it is about and
    the booking snapshot it describes. A digest is about several bookings (``items``; its
    snapshot is the first one's, for the language)."""

    kind: MailKind
    to: Person
    event_id: str
    snapshot: BookingSnapshot
    occurrence: int | None = None  # the occurrence a CANCEL or a reminder is about
    removed: bool = False  # a participant taken off the list
    again: bool = False  # a decision asked for again after a change
    revised: bool = False  # a waiting request changed, to be decided as it now is
    lines: tuple[str, ...] = ()  # the lines (resource ids) a decider's or assignee's mail is about
    items: tuple[Waiting, ...] = ()  # a digest's bookings and lines
    # what the mail may name of resources the snapshot no longer holds (declined lines),
    # and the newest names of those it holds (renamed since), by resource id
    known: Mapping[str, ResourceRef] = field(default_factory=dict)
    language: str | None = None  # worded in this language, not the booking's (an assignee's)

    @property
    def booking_id(self) -> str:
        return "" if self.kind is MailKind.DIGEST else self.snapshot.booking_id

    @property
    def waiting(self) -> tuple[Waiting, ...]:
        """The lines the recipient is asked to decide, booking by booking."""
        if self.items:
            return self.items
        return (Waiting(self.snapshot, self.lines),) if self.kind.to_decider else ()

    def resource(self, resource_id: str) -> ResourceRef | None:
        """A resource as the mail names it: the snapshot's (renamed to the newest name
        known), else what is known of it (a declined line's resource)."""
        return self.snapshot.resource(resource_id) or self.known.get(resource_id)

    @property
    def personal(self) -> bool:
        """Composed for its recipient alone: a removal's calendar names that attendee, a
        decider's lines and links are theirs, an assignee's job and language theirs."""
        return self.removed or self.kind.to_decider or self.kind.to_assignee

    @property
    def recipient(self) -> str:
        return address_key(self.to.email)

    @property
    def for_organiser(self) -> bool:
        return self.recipient == address_key(self.snapshot.organiser.email)

    @property
    def tells_of_recording(self) -> bool:
        """A participant's invitation or reminder of an event that will be photographed or
        filmed: it carries the notice and the participant's own link to opt out."""
        recording = self.snapshot.recording
        return (
            self.kind in RECORDING_KINDS
            and recording is not None
            and recording.any
            and not self.for_organiser
        )


def people(persons: Iterable[Person]) -> list[Person]:
    """Each address once (first spelling wins), blanks around address and name dropped."""
    seen: dict[str, Person] = {}
    for person in persons:
        seen.setdefault(
            address_key(person.email), Person(person.email.strip(), person.name.strip())
        )
    return list(seen.values())


def organiser_mail(event: Event) -> Mail | None:
    """The organiser hears of every step of their booking."""
    kind = ORGANISER_KINDS.get(event.type)
    if kind is None:
        return None
    snapshot = event.data
    organiser = people([snapshot.organiser])[0]
    return Mail(kind, organiser, event.id, snapshot, snapshot.cancelled_occurrence)


# Mail that tells the organiser why lines were declined: a reply goes to who declined them.
ANSWERED_BY_DECIDERS = frozenset({MailKind.REJECTED, MailKind.LINES_DECIDED})


def reply_to(mail: Mail, infra_team: Sequence[str]) -> list[Person]:
    """Replies reach whoever can answer: for a rejection (or declined lines) whoever
    declined them, else their resources' team mailbox; the infra team for the organiser's
    other mail about their booking; the organiser for deciders and participants (never
    the recipient themself)."""
    if mail.kind is MailKind.DIGEST:  # about many bookings: no one in particular
        return []
    if mail.kind.about_own_booking or mail.for_organiser:
        decliners = _decliners(mail) if mail.kind in ANSWERED_BY_DECIDERS else []
        candidates = decliners or [Person(address) for address in infra_team]
    else:
        candidates = people([mail.snapshot.organiser])
    return [p for p in candidates if address_key(p.email) != mail.recipient]


def _decliners(mail: Mail) -> list[Person]:
    """Who declined the booking's declined lines (their addresses), else the mailboxes of
    those lines' resources' teams."""
    snapshot = mail.snapshot
    declined = [line for line in snapshot.lines if line.status is LineStatus.DECLINED]
    people_ = [line.decided_by for line in declined] + [snapshot.decided_by]
    found = [who for who in people_ if who and "@" in who]
    if not found:
        refs = [mail.resource(line.resource_id) for line in declined]
        found = [ref.team_mailbox for ref in refs if ref is not None and ref.team_mailbox]
    return [Person(address) for address in dict.fromkeys(a.strip().lower() for a in found)]


def renamed(snapshot: BookingSnapshot, known: Mapping[str, ResourceRef]) -> BookingSnapshot:
    """The snapshot naming each resource as ``known`` does where it knows it (slug, name,
    place): the resource replica follows renames that a stored snapshot predates."""
    if not any(r.id in known for r in snapshot.resources):
        return snapshot
    resources = tuple(
        replace(r, slug=k.slug, **k.naming()) if (k := known.get(r.id)) else r
        for r in snapshot.resources
    )
    return snapshot.replace(resources=resources)


def in_its_language(mail: Mail) -> Mail:
    """The mail naming every resource (name and place) in the language it is written in,
    the booking's: resources are kept in Swedish and English."""
    language = mail.snapshot.language.value

    def local(snapshot: BookingSnapshot) -> BookingSnapshot:
        return snapshot.replace(resources=tuple(r.localized(language) for r in snapshot.resources))

    return replace(
        mail,
        snapshot=local(mail.snapshot),
        items=tuple(Waiting(local(w.snapshot), w.lines) for w in mail.items),
        known={key: ref.localized(language) for key, ref in mail.known.items()},
    )


def with_names(mails: Iterable[Mail], known: Mapping[str, ResourceRef]) -> list[Mail]:
    """Mail naming resources by their newest known names (each snapshot renamed once), and
    knowing the names of resources their snapshots no longer hold (declined lines)."""
    mails = list(mails)
    if not known:
        return mails
    done: dict[int, BookingSnapshot] = {}

    def rename(snapshot: BookingSnapshot) -> BookingSnapshot:
        if id(snapshot) not in done:
            done[id(snapshot)] = renamed(snapshot, known)
        return done[id(snapshot)]

    return [
        replace(
            mail,
            snapshot=rename(mail.snapshot),
            items=tuple(Waiting(rename(w.snapshot), w.lines) for w in mail.items),
            known=known,
        )
        for mail in mails
    ]
