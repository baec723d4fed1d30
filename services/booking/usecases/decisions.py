"""Deciding on a request (approve, reject) and cancelling a booking or one of its dates."""

from __future__ import annotations

from services.booking.commands import CancelBooking, CancelOccurrence, RejectBooking
from services.booking.domain import (
    Actor,
    Block,
    InvalidTransition,
    NotFound,
    SlotTaken,
    check_reason,
    collisions,
    next_status,
)
from services.booking.persistence.mapping import booking_view
from services.booking.persistence.models import Booking
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context, SlotRace
from services.booking.readmodels import Approval, BookingView
from services.booking.usecases.common import (
    active_dates,
    add_history,
    blocks_held_by,
    bump,
    decidable,
    organiser_or_decider,
    publish,
    taken_now,
)
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CANCELLED,
    BOOKING_OCCURRENCE_CANCELLED,
    BOOKING_REJECTED,
    Change,
    EventType,
    OccurrenceStatus,
    Status,
)
from shared.messages import Msg


def approve_booking(ctx: Context, actor: Actor, booking_id: str) -> Approval:
    """Approve a pending request. Refused (409) when an approved booking holds the slot; the
    competing pending requests it beats are returned and stay pending for a decision."""
    blocks: list[Block] = []
    try:
        with ctx.uow() as uow:
            booking = decidable(uow, actor, booking_id)
            status = next_status(booking.status, "approve")
            blocks = blocks_held_by(booking)
            near = uow.slots.near(blocks, {Status.APPROVED, Status.PENDING})
            held = collisions(blocks, [h for h in near if h.status == Status.APPROVED], booking.id)
            if held:
                raise SlotTaken(held)
            competing = collisions(
                blocks, [h for h in near if h.status == Status.PENDING], booking.id
            )
            booking.decided_by = actor.email
            _settle(ctx, uow, booking, actor, status, "approved", BOOKING_APPROVED)
            approval = Approval(booking_view(booking), tuple(competing))
            uow.commit()
        return approval
    except SlotRace:
        raise taken_now(ctx, blocks, booking_id) from None


def reject_booking(ctx: Context, actor: Actor, booking_id: str, cmd: RejectBooking) -> BookingView:
    """Reject a pending request; the reason is required and kept."""
    with ctx.uow() as uow:
        booking = decidable(uow, actor, booking_id)
        status = next_status(booking.status, "reject")
        check_reason(cmd.reason)
        booking.decided_by = actor.email
        _settle(ctx, uow, booking, actor, status, "rejected", BOOKING_REJECTED, cmd.reason)
        view = booking_view(booking)
        uow.commit()
    return view


def cancel_booking(ctx: Context, actor: Actor, booking_id: str, cmd: CancelBooking) -> BookingView:
    """Cancel a pending or approved booking (every date)."""
    with ctx.uow() as uow:
        booking = organiser_or_decider(uow, actor, booking_id)
        status = next_status(booking.status, "cancel")
        _settle(ctx, uow, booking, actor, status, "cancelled", BOOKING_CANCELLED, cmd.reason)
        view = booking_view(booking)
        uow.commit()
    return view


def _settle(
    ctx: Context,
    uow: UnitOfWork,
    booking: Booking,
    actor: Actor,
    status: Status,
    action: str,
    event: EventType,
    reason: str | None = None,
) -> None:
    """A booking's new status and its reason: the slots follow, the history and the outbox
    record it (in this transaction)."""
    booking.status = status
    bump(booking)
    booking.reason = reason
    uow.slots.sync(booking)
    add_history(uow, booking, actor.email, action, reason=reason)
    publish(ctx, uow, booking, event)


def cancel_occurrence(
    ctx: Context, actor: Actor, booking_id: str, cmd: CancelOccurrence
) -> BookingView:
    """Cancel one date of a series; cancelling the last active one cancels the whole."""
    with ctx.uow() as uow:
        booking = organiser_or_decider(uow, actor, booking_id)
        next_status(booking.status, "cancel")
        occurrence = next((o for o in booking.occurrences if o.n == cmd.n), None)
        if occurrence is None:
            raise NotFound(Msg("no_such_occurrence", n=cmd.n))
        if occurrence.status == OccurrenceStatus.CANCELLED:
            raise InvalidTransition(Msg("occurrence_already_cancelled", n=cmd.n))
        occurrence.status = OccurrenceStatus.CANCELLED
        bump(booking)
        if not active_dates(booking):
            booking.status = Status.CANCELLED
            booking.reason = cmd.reason
        uow.slots.sync(booking)
        change = Change(f"occurrences[{cmd.n}].status", "active", "cancelled")
        add_history(
            uow, booking, actor.email, "occurrence_cancelled", changes=[change], reason=cmd.reason
        )
        whole = booking.status == Status.CANCELLED
        publish(
            ctx,
            uow,
            booking,
            BOOKING_CANCELLED if whole else BOOKING_OCCURRENCE_CANCELLED,
            cancelled_occurrence=cmd.n,
        )
        view = booking_view(booking)
        uow.commit()
    return view
