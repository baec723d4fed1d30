"""Reading bookings: one booking with what it collides with, lists, history, and the queue
of requests waiting for a decision. Each a read-only unit of work of a few statements."""

from __future__ import annotations

from collections.abc import Sequence

from services.booking.commands import BookingQuery
from services.booking.domain import (
    Actor,
    Block,
    Conflict,
    HeldSlot,
    as_seen_by,
    collisions,
    may_see,
    require,
)
from services.booking.persistence.mapping import booking_view, history_view, rules_of
from services.booking.persistence.models import Booking
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import BookingView, HistoryView, QueueItem
from services.booking.usecases.availability import (
    busy_blocks,
    check_request,
    find_available,
    suggest,
)
from services.booking.usecases.common import blocks_held_by
from shared.events import LineStatus, Status
from shared.messages import Msg

OPEN = (Status.PENDING, Status.APPROVED)


def _visible(actor: Actor, booking: Booking) -> bool:
    return may_see(actor, booking.organiser_id, [rules_of(r) for r in booking.resources])


def _split(
    actor: Actor, booking: Booking, blocks: Sequence[Block], near: Sequence[HeldSlot]
) -> tuple[list[Conflict], list[Conflict]]:
    """(approved bookings holding the time, other requests wanting it), as the actor may
    see them: another organiser's booking as busy only, unless the actor decides on its
    resource (see ``domain.as_seen_by``)."""
    rules = [rules_of(r) for r in booking.resources]
    held = collisions(blocks, [h for h in near if h.status == Status.APPROVED], booking.id)
    competing = collisions(blocks, [h for h in near if h.status == Status.PENDING], booking.id)
    return as_seen_by(actor, held, rules), as_seen_by(actor, competing, rules)


def _conflicts(uow: UnitOfWork, actor: Actor, booking: Booking) -> list[Conflict]:
    if booking.status not in OPEN:
        return []
    blocks = blocks_held_by(booking)
    held, competing = _split(actor, booking, blocks, uow.slots.near(blocks, OPEN, booking.id))
    return held + competing


def read_booking(ctx: Context, actor: Actor, booking_id: str) -> BookingView:
    """One booking and what it collides with (approved bookings and competing requests),
    other organisers' as the actor may see them."""
    with ctx.uow(readonly=True) as uow:
        booking = uow.bookings.get(booking_id)
        require(_visible(actor, booking), Msg("only_those_involved_see"))
        return booking_view(booking, _conflicts(uow, actor, booking))


def list_bookings(
    ctx: Context, actor: Actor, query: BookingQuery | None = None
) -> list[BookingView]:
    """Organisers see their own; managers also their resources'; infra and admin all."""
    with ctx.uow(readonly=True) as uow:
        return [booking_view(b) for b in uow.bookings.list(actor, query or BookingQuery())]


def booking_history(ctx: Context, actor: Actor, booking_id: str) -> list[HistoryView]:
    """Who changed what, when: for those who may see the booking."""
    with ctx.uow(readonly=True) as uow:
        booking = uow.bookings.get(booking_id)
        require(_visible(actor, booking), Msg("only_those_involved_see"))
        return [history_view(entry) for entry in uow.bookings.history(booking_id)]


def decision_queue(ctx: Context, actor: Actor) -> list[QueueItem]:
    """Pending requests with a line waiting for this actor's decision (infra: any line; a
    team member or manager: their resources' lines), soonest first, each with the approved
    bookings and the other requests it collides with. Four statements, however long the
    queue."""
    with ctx.uow(readonly=True) as uow:
        waiting = uow.bookings.waiting(actor)
        blocks = {b.id: blocks_held_by(b) for b in waiting}
        near = uow.slots.near([block for bs in blocks.values() for block in bs], OPEN)
        items = []
        for booking in waiting:
            held, competing = _split(actor, booking, blocks[booking.id], near)
            view = booking_view(booking, held + competing)
            decides = any(line.status is LineStatus.PENDING for line in view.lines_for(actor))
            items.append(QueueItem(view, tuple(held), tuple(competing), decides=decides))
        return items


def queue_size(ctx: Context, actor: Actor) -> int | None:
    """How many requests wait for this actor's decision; ``None`` when they decide on
    nothing (the navigation shows no queue then). One statement."""
    with ctx.uow(readonly=True) as uow:
        return uow.bookings.count_waiting(actor)


__all__ = [
    "booking_history",
    "busy_blocks",
    "check_request",
    "decision_queue",
    "find_available",
    "list_bookings",
    "queue_size",
    "read_booking",
    "suggest",
]
