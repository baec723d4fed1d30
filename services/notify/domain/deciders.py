"""Deciders get only mail that asks them to act."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.notify.domain.mail import Mail, MailKind, people
from shared.events import BookingSnapshot, Event, EventType, Person, Status


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
