"""Deciders hear only of what they can act on. Per line of a request that newly waits for a
decision: the resource's team (its shared mailbox, else its members) and its managers,
never the booking's organiser unless the resource allows self-approval; a line no one else
decides alerts the infra team's address. One mail per recipient per event, listing just
that recipient's lines. A decider who chose a daily digest gets digest items instead."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from services.notify.domain.mail import Mail, MailKind, address_key, people
from shared.events import BookingSnapshot, Event, Line, LineStatus, Person, Status

LIVE = (Status.PENDING, Status.APPROVED)


class Asked(Enum):
    """Why a line waits for its deciders in this event: a new line; one decided before and
    sent back by a change (asked again); one that waited already and was changed."""

    NEW = "new"
    AGAIN = "again"
    REVISED = "revised"


@dataclass(frozen=True)
class DigestItem:
    """A line a daily-digest decider will find in their next digest."""

    recipient: str  # an address as the delivery log keys it
    booking_id: str
    resource_id: str


def lines_of(snapshot: BookingSnapshot) -> tuple[Line, ...]:
    """The booking's lines. A snapshot from before lines (an event still on its way at the
    upgrade) has them from its status: while it is pending, each resource that needs
    approval waits and the others are approved."""
    if snapshot.lines:
        return snapshot.lines
    if snapshot.status is Status.REJECTED:
        return tuple(Line(r.id, LineStatus.DECLINED) for r in snapshot.resources)
    pending = snapshot.status is Status.PENDING
    return tuple(
        Line(r.id, LineStatus.PENDING if pending and r.requires_approval else LineStatus.APPROVED)
        for r in snapshot.resources
    )


def waiting_lines(snapshot: BookingSnapshot) -> list[Line]:
    """The lines still waiting for a decision (none once the booking has ended)."""
    if snapshot.status not in LIVE:
        return []
    return [line for line in lines_of(snapshot) if line.pending]


def line_recipients(
    snapshot: BookingSnapshot, resource_id: str, infra_team: Sequence[str]
) -> list[Person]:
    """Who is alerted of one waiting line: the team's mailbox (else its members) and the
    resource's managers, less the organiser unless the resource allows self-approval;
    when that leaves no one, the infra team's address (infra decides every line)."""
    resource = snapshot.resource(resource_id)
    addresses: list[str] = []
    if resource is not None:
        team = resource.team
        if team is not None:
            addresses += [team.email] if team.email else list(team.members)
        addresses += resource.managers
    organiser = address_key(snapshot.organiser.email)
    self_approval = resource is not None and resource.self_approval

    def allowed(address: str) -> bool:
        return bool(address.strip()) and (self_approval or address_key(address) != organiser)

    chosen = [a for a in addresses if allowed(a)]
    if not chosen:
        chosen = [a for a in infra_team if allowed(a)]
    return people(Person(a) for a in chosen)


def newly_waiting(snapshot: BookingSnapshot, previous: BookingSnapshot | None) -> dict[str, Asked]:
    """The lines that wait now and did not in the previous snapshot (or started waiting
    anew: their ``waiting_since`` moved), by resource id, and why they are asked."""
    before = {line.resource_id: line for line in lines_of(previous)} if previous else {}
    sent_back = previous is None and needs_new_decision(snapshot)
    asked: dict[str, Asked] = {}
    for line in waiting_lines(snapshot):
        was = before.get(line.resource_id)
        if was is None:
            asked[line.resource_id] = Asked.AGAIN if sent_back else Asked.NEW
        elif not was.pending:
            asked[line.resource_id] = Asked.AGAIN
        elif was.waiting_since != line.waiting_since:
            asked[line.resource_id] = Asked.REVISED
    return asked


def needs_new_decision(snapshot: BookingSnapshot) -> bool:
    """The change sent the booking back to pending."""
    return any(c.field == "status" and c.new == Status.PENDING for c in snapshot.changes)


def to_deciders(
    kind: MailKind,
    event_id: str,
    snapshot: BookingSnapshot,
    asked: Mapping[str, Asked],
    infra_team: Sequence[str],
    daily: Collection[str] = (),
) -> tuple[list[Mail], list[DigestItem]]:
    """One mail per recipient listing their lines of ``asked`` (in the booking's order);
    a recipient in ``daily`` (addresses that chose the digest) gets digest items instead."""
    mine: dict[str, tuple[Person, list[str]]] = {}
    for line in lines_of(snapshot):
        if line.resource_id not in asked:
            continue
        for person in line_recipients(snapshot, line.resource_id, infra_team):
            mine.setdefault(address_key(person.email), (person, []))[1].append(line.resource_id)
    mails: list[Mail] = []
    items: list[DigestItem] = []
    for key, (person, resource_ids) in mine.items():
        if key in daily:
            items += [DigestItem(key, snapshot.booking_id, r) for r in resource_ids]
            continue
        why = {asked[r] for r in resource_ids}
        mails.append(
            Mail(
                kind,
                person,
                event_id,
                snapshot,
                lines=tuple(resource_ids),
                again=Asked.AGAIN in why,
                revised=why == {Asked.REVISED},
            )
        )
    return mails, items


def decider_mails(
    event: Event,
    previous: BookingSnapshot | None,
    infra_team: Sequence[str],
    daily: Collection[str] = (),
) -> tuple[list[Mail], list[DigestItem]]:
    """The "to decide" mail of an event: to whoever can act on the lines it left newly
    waiting (a request, a line added, a change that sent lines back)."""
    snapshot: BookingSnapshot = event.data  # type: ignore[assignment]
    asked = newly_waiting(snapshot, previous)
    return to_deciders(MailKind.DECISION_NEEDED, event.id, snapshot, asked, infra_team, daily)


def freed_mails(
    event: Event,
    newest: BookingSnapshot | None,
    infra_team: Sequence[str],
    daily: Collection[str] = (),
) -> tuple[list[Mail], list[DigestItem]]:
    """A slot this request wanted was freed (``booking.slot_freed``): the deciders of the
    freed lines still waiting (by the newest snapshot notify holds) hear that it can now be
    approved, and the organiser that the time they asked for is free again."""
    notice: BookingSnapshot = event.data  # type: ignore[assignment]
    still = {line.resource_id for line in waiting_lines(newest or notice)}
    freed = {r: Asked.NEW for r in notice.freed if r in still}
    if not freed:
        return [], []
    mails, items = to_deciders(
        MailKind.DECISION_POSSIBLE, event.id, notice, freed, infra_team, daily
    )
    organiser = people([notice.organiser])[0]
    mails.append(Mail(MailKind.SLOT_FREED, organiser, event.id, notice, lines=tuple(freed)))
    return mails, items
