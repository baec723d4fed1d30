"""Mail and its recipients: what a mail is about (its kind), to whom, and the organiser's
mail of each step of their booking."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shared.events import BookingSnapshot, Event, EventType, Person, Status


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


def reply_to(mail: Mail, infra_team: Sequence[str]) -> list[Person]:
    """Replies reach whoever can answer: the infra team for an organiser's mail about their
    booking, the organiser for deciders and participants (never the recipient themself)."""
    if mail.kind.about_own_booking or mail.for_organiser:
        candidates = [Person(address) for address in infra_team]
    else:
        candidates = people([mail.snapshot.organiser])
    return [p for p in candidates if address_key(p.email) != mail.recipient]
