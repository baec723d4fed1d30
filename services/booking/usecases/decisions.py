"""Deciding on a request, line by line (approve, reject), and cancelling a booking or one of
its dates. Whatever frees a held slot offers it on to the requests that wanted it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from services.booking.commands import (
    ApproveBooking,
    CancelBooking,
    CancelOccurrence,
    LinkUse,
    RejectBooking,
)
from services.booking.domain import (
    Actor,
    Block,
    Forbidden,
    Interval,
    InvalidTransition,
    NotFound,
    ResourceRules,
    RuleViolation,
    SlotTaken,
    as_seen_by,
    check_reason,
    closed_for,
    collisions,
    may_decide_line,
    next_status,
    status_of_lines,
)
from services.booking.persistence.mapping import booking_view, rules_of
from services.booking.persistence.models import Booking, BookingLine
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context, SlotRace
from services.booking.readmodels import Approval, BookingView
from services.booking.usecases.common import (
    active_dates,
    add_history,
    bump,
    changed_since,
    closures_during,
    held_blocks,
    line_blocks,
    offer_freed_slots,
    organiser_or_decider,
    publish,
    taken_now,
)
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CANCELLED,
    BOOKING_LINES_DECIDED,
    BOOKING_OCCURRENCE_CANCELLED,
    BOOKING_REJECTED,
    Change,
    EventType,
    LineStatus,
    OccurrenceStatus,
    Status,
)
from shared.messages import Msg, Named


def approve_booking(
    ctx: Context, actor: Actor, booking_id: str, cmd: ApproveBooking | None = None
) -> Approval:
    """Approve the pending lines the actor decides (``resource_ids`` narrows them). Refused
    (409) when an approved booking holds one of their slots; the competing requests it
    beats are returned and stay pending. The booking is approved once every line that is
    left is approved."""
    cmd = cmd or ApproveBooking()
    blocks: list[Block] = []
    rules: list[ResourceRules] = []
    try:
        with ctx.uow() as uow:
            booking = uow.bookings.get(booking_id, lock=True)
            _check_link(uow, booking, cmd.link)
            next_status(booking.status, "approve")
            lines = _lines_to_decide(booking, actor, cmd.resource_ids, {LineStatus.PENDING})
            _refuse_closed(ctx, uow, booking, lines)
            blocks = line_blocks(booking, lines)
            rules = [rules_of(line.resource) for line in lines]
            near = uow.slots.near(blocks, {Status.APPROVED, Status.PENDING}, booking.id)
            held = collisions(blocks, [h for h in near if h.status == Status.APPROVED], booking.id)
            if held:
                raise SlotTaken(as_seen_by(actor, held, rules))
            competing = as_seen_by(
                actor,
                collisions(blocks, [h for h in near if h.status == Status.PENDING], booking.id),
                rules,
            )
            before = held_blocks(booking)
            changes = _decide(lines, LineStatus.APPROVED, actor.email, ctx.clock(), None)
            _settle_lines(ctx, uow, booking, actor, changes, "approved", None, before)
            approval = Approval(booking_view(booking), tuple(competing))
            uow.commit()
        return approval
    except SlotRace:
        raise taken_now(ctx, actor, rules, blocks, booking_id) from None


def reject_booking(ctx: Context, actor: Actor, booking_id: str, cmd: RejectBooking) -> BookingView:
    """Decline the pending lines the actor decides, with a reason (``resource_ids`` narrows
    them, and may name approved lines too: their approval is withdrawn and their slots are
    offered on). The booking goes on with the rest; it is rejected when no line is left."""
    with ctx.uow() as uow:
        booking = uow.bookings.get(booking_id, lock=True)
        _check_link(uow, booking, cmd.link)
        next_status(booking.status, "reject")
        states = {LineStatus.PENDING}
        if cmd.resource_ids is not None:
            states.add(LineStatus.APPROVED)
        lines = _lines_to_decide(booking, actor, cmd.resource_ids, states)
        check_reason(cmd.reason)
        before = held_blocks(booking)
        changes = _decide(lines, LineStatus.DECLINED, actor.email, ctx.clock(), cmd.reason)
        _settle_lines(ctx, uow, booking, actor, changes, "rejected", cmd.reason, before)
        view = booking_view(booking)
        uow.commit()
    return view


def decline_lines(
    ctx: Context,
    uow: UnitOfWork,
    booking: Booking,
    actor: Actor,
    lines: Sequence[BookingLine],
    reason: str,
) -> None:
    """Decline these lines of a live booking for a reason not the organiser's (a closure):
    the booking goes on with the rest, and is cancelled when nothing is left of it."""
    before = held_blocks(booking)
    changes = _decide(lines, LineStatus.DECLINED, actor.email, ctx.clock(), reason)
    if status_of_lines(LineStatus(line.status) for line in booking.lines) is Status.REJECTED:
        _cancel(ctx, uow, booking, actor, reason, before)
    else:
        _settle_lines(ctx, uow, booking, actor, changes, "rejected", reason, before)


def _check_link(uow: UnitOfWork, booking: Booking, link: LinkUse | None) -> None:
    """A mail's link decides only once, and only the revision it was written for. A used
    link says so first: its own decision changed the revision too."""
    if link is None:
        return
    if not uow.bookings.use_link(link.link_id, booking.id):
        raise InvalidTransition(Msg("link_used"))
    if changed_since(uow, booking, link.revision):
        raise InvalidTransition(Msg("request_changed_since"))  # the use is rolled back


def _refuse_closed(
    ctx: Context, uow: UnitOfWork, booking: Booking, lines: Sequence[BookingLine]
) -> None:
    """409 when a resource to approve was closed on one of the dates after the request was
    made (a closure is refused only over approved bookings, so requests may wait in it):
    the decider declines that line or the organiser moves the request."""
    names = {line.resource_id: Named(line.resource.name, line.resource.name_en) for line in lines}
    for closure in closures_during(uow, list(names), active_dates(booking)):
        closed = Interval(closure.start, closure.end)
        name = names[closure.resource_id]
        raise InvalidTransition(closed_for(name, closed, closure.reason, ctx.zone))


def _lines_to_decide(
    booking: Booking,
    actor: Actor,
    resource_ids: Sequence[str] | None,
    states: Collection[LineStatus],
) -> list[BookingLine]:
    """The lines (in ``states``) the actor decides among those asked for: every line of the
    booking, or the named ones (ids or slugs; 422 for one the booking does not have).
    403 when the actor decides none of them; 409 when none of theirs is left to decide."""
    asked = list(booking.lines)
    if resource_ids is not None:
        by_key = {line.resource.slug: line for line in asked} | {
            line.resource_id: line for line in asked
        }
        unknown = [key for key in resource_ids if key not in by_key]
        if unknown:
            raise RuleViolation(
                {"resource_ids": [Msg("not_a_line_of_booking", key=key) for key in unknown]}
            )
        asked = list({by_key[key].resource_id: by_key[key] for key in resource_ids}.values())
    mine = [
        line
        for line in asked
        if may_decide_line(actor, rules_of(line.resource), booking.organiser_id)
    ]
    if not mine:
        own = actor.user_id == booking.organiser_id
        raise Forbidden(Msg("no_self_approval") if own else Msg("only_deciders"))
    todo = [line for line in mine if LineStatus(line.status) in states]
    if not todo:
        raise InvalidTransition(Msg("lines_already_decided"))
    return todo


def _decide(
    lines: Sequence[BookingLine],
    status: LineStatus,
    actor: str,
    now: datetime,
    reason: str | None,
) -> list[tuple[BookingLine, Change]]:
    """Each line decided, with the change its history records (``lines.<slug>``)."""
    changes = [
        (line, Change(f"lines.{line.resource.slug}", line.status, status.value)) for line in lines
    ]
    for line in lines:
        line.status = status
        line.decided_by = actor
        line.decided_at = now
        line.reason = reason
        line.waiting_since = None
    return changes


def _settle_lines(
    ctx: Context,
    uow: UnitOfWork,
    booking: Booking,
    actor: Actor,
    decided: Sequence[tuple[BookingLine, Change]],
    action: str,
    reason: str | None,
    held_before: Sequence[Block],
) -> None:
    """The booking's status after some of its lines were decided: the slots follow, the
    history and the outbox record which lines (in this transaction), and slots it no longer
    holds are offered on."""
    before = Status(booking.status)
    after = status_of_lines(LineStatus(line.status) for line in booking.lines)
    booking.status = after
    booking.decided_by = actor.email
    booking.reason = reason if after is Status.REJECTED else None
    bump(booking)
    uow.slots.sync(booking)
    changes = [change for _, change in decided]
    add_history(uow, booking, actor.email, action, changes=changes, reason=reason)
    if after is Status.APPROVED and before is not Status.APPROVED:
        event: EventType = BOOKING_APPROVED
    elif after is Status.REJECTED:
        event = BOOKING_REJECTED
    else:
        event = BOOKING_LINES_DECIDED
    publish(ctx, uow, booking, event, decided=[line.resource_id for line, _ in decided])
    offer_freed_slots(ctx, uow, booking, held_before)


def cancel_booking(ctx: Context, actor: Actor, booking_id: str, cmd: CancelBooking) -> BookingView:
    """Cancel a pending or approved booking (every date); its slots are offered on."""
    with ctx.uow() as uow:
        booking = organiser_or_decider(uow, actor, booking_id)
        _cancel(ctx, uow, booking, actor, cmd.reason, held_blocks(booking))
        view = booking_view(booking)
        uow.commit()
    return view


def _cancel(
    ctx: Context,
    uow: UnitOfWork,
    booking: Booking,
    actor: Actor,
    reason: str | None,
    held_before: Sequence[Block],
) -> None:
    booking.status = next_status(booking.status, "cancel")
    booking.reason = reason
    bump(booking)
    uow.slots.sync(booking)
    add_history(uow, booking, actor.email, "cancelled", reason=reason)
    publish(ctx, uow, booking, BOOKING_CANCELLED)
    offer_freed_slots(ctx, uow, booking, held_before)


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
        before = held_blocks(booking)
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
        offer_freed_slots(ctx, uow, booking, before)
        view = booking_view(booking)
        uow.commit()
    return view


__all__ = [
    "approve_booking",
    "cancel_booking",
    "cancel_occurrence",
    "decline_lines",
    "reject_booking",
]
