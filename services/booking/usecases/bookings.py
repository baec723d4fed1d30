"""Requesting resources and changing a request. Deciding and cancelling are in
:mod:`.decisions` (importable from here too, as the entry points do)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.booking.commands import ChangeBooking, SubmitBooking
from services.booking.domain import (
    Actor,
    Block,
    Interval,
    blocks_of,
    check_capacity,
    next_status,
    normalise_rrule,
    status_after_change,
)
from services.booking.persistence.mapping import booking_view, rules_of
from services.booking.persistence.models import Booking, Resource, new_id
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context, SlotRace
from services.booking.readmodels import BookingView
from services.booking.usecases.common import (
    add_history,
    bump,
    check_place,
    dates,
    organiser_or_decider,
    plain,
    publish,
    refuse_taken,
    taken_now,
)
from services.booking.usecases.decisions import (  # noqa: F401 - one place to find them
    approve_booking,
    cancel_booking,
    cancel_occurrence,
    reject_booking,
)
from shared.db import utcnow
from shared.events import BOOKING_APPROVED, BOOKING_CHANGED, BOOKING_SUBMITTED, Change, Status

CONTENT_FIELDS = (
    "title",
    "description",
    "expected_attendees",
    "visibility",
    "language",
    "participants",
    "notes",
)


@dataclass(frozen=True)
class _Place:
    """Where and when a changed booking would be: its resources and dates."""

    start: datetime
    end: datetime
    rrule: str | None
    resources: list[Resource]
    occurrences: list[Interval]
    cancelled: set[int]
    blocks: list[Block]


def submit_booking(ctx: Context, actor: Actor, cmd: SubmitBooking) -> BookingView:
    """Request resources for an event; approved at once when none needs approval and the
    slot is free. A slot held by an approved booking is refused with the conflicts."""
    rrule = normalise_rrule(cmd.rrule)
    blocks: list[Block] = []
    try:
        with ctx.uow() as uow:
            resources = uow.resources.get_many(cmd.resource_ids)
            rules = [rules_of(r) for r in resources]
            occurrences = check_place(
                ctx, uow, rules, cmd.start, cmd.end, rrule, cmd.expected_attendees
            )
            blocks = blocks_of(rules, occurrences)
            refuse_taken(uow, blocks, None)
            auto = not any(r.requires_approval for r in rules)
            booking = _new_booking(ctx, uow, actor, cmd, rrule, auto)
            booking.resources = list(resources)
            booking.occurrences = dates(occurrences)
            uow.bookings.add(booking)
            uow.flush()
            uow.slots.sync(booking)
            add_history(uow, booking, actor.email, "submitted")
            if auto:
                add_history(uow, booking, "automatic", "approved")
            publish(ctx, uow, booking, BOOKING_APPROVED if auto else BOOKING_SUBMITTED)
            view = booking_view(booking)
            uow.commit()
        return view
    except SlotRace:
        raise taken_now(ctx, blocks, None) from None


def _new_booking(
    ctx: Context, uow: UnitOfWork, actor: Actor, cmd: SubmitBooking, rrule: str | None, auto: bool
) -> Booking:
    now = utcnow()
    booking_id = new_id()
    return Booking(
        id=booking_id,
        uid=f"{booking_id}@evenemang",
        title=cmd.title,
        description=cmd.description,
        start=cmd.start,
        end=cmd.end,
        timezone=ctx.config.timezone,
        rrule=rrule,
        status=Status.APPROVED if auto else Status.PENDING,
        revision=1,
        visibility=cmd.visibility,
        language=cmd.language,
        expected_attendees=cmd.expected_attendees,
        participants=plain(cmd.participants),
        notes=cmd.notes,
        organiser_id=actor.user_id,
        organiser=uow.user(actor.user_id),
        reason=None,
        decided_by="automatic" if auto else None,
        created_at=now,
        updated_at=now,
    )


def change_booking(ctx: Context, actor: Actor, booking_id: str, cmd: ChangeBooking) -> BookingView:
    """Change a pending or approved booking. A new time or new resources send an approved
    booking back to pending unless none of its resources needs approval."""
    blocks: list[Block] = []
    try:
        with ctx.uow() as uow:
            booking = organiser_or_decider(uow, actor, booking_id)
            next_status(booking.status, "change")
            changes = _content_changes(booking, cmd)
            place = _new_place(ctx, uow, booking, cmd)
            if place is not None:
                blocks = place.blocks
                refuse_taken(uow, blocks, booking.id)
                changes += _place_changes(booking, place)
            if not changes:
                return booking_view(booking)
            _apply(uow, booking, cmd, place, changes)
            bump(booking)
            uow.slots.sync(booking)
            add_history(uow, booking, actor.email, "changed", changes=changes)
            publish(ctx, uow, booking, BOOKING_CHANGED, changes=changes)
            view = booking_view(booking)
            uow.commit()
        return view
    except SlotRace:
        raise taken_now(ctx, blocks, booking_id) from None


def _content_changes(booking: Booking, cmd: ChangeBooking) -> list[Change]:
    changes = []
    for name in CONTENT_FIELDS:
        if cmd.has(name):
            old, new = plain(getattr(booking, name)), plain(getattr(cmd, name))
            if old != new:
                changes.append(Change(name, old, new))
    return changes


def _new_place(
    ctx: Context, uow: UnitOfWork, booking: Booking, cmd: ChangeBooking
) -> _Place | None:
    """A new time, series or resources, checked like a new request; ``None`` when the
    booking stays where it is (then only a new number of attendees is checked)."""
    start = cmd.start if cmd.has("start") else booking.start
    end = cmd.end if cmd.has("end") else booking.end
    rrule = normalise_rrule(cmd.rrule) if cmd.has("rrule") else booking.rrule
    resources = (
        uow.resources.get_many(cmd.resource_ids)
        if cmd.has("resource_ids")
        else list(booking.resources)
    )
    given = cmd.has("expected_attendees")
    attendees = cmd.expected_attendees if given else booking.expected_attendees
    rules = [rules_of(r) for r in resources]
    moved = (start, end, rrule) != (booking.start, booking.end, booking.rrule)
    if not moved and sorted(r.id for r in resources) == sorted(r.id for r in booking.resources):
        if given:
            check_capacity(rules, attendees)
        return None
    occurrences = check_place(ctx, uow, rules, start, end, rrule, attendees)
    cancelled = set() if moved else {o.n for o in booking.occurrences if o.status == "cancelled"}
    active = [o for n, o in enumerate(occurrences) if n not in cancelled]
    return _Place(start, end, rrule, resources, occurrences, cancelled, blocks_of(rules, active))


def _place_changes(booking: Booking, place: _Place) -> list[Change]:
    changes = [
        Change(name, plain(old), plain(new))
        for name, old, new in (
            ("start", booking.start, place.start),
            ("end", booking.end, place.end),
            ("rrule", booking.rrule, place.rrule),
        )
        if old != new
    ]
    before = [r.slug for r in booking.resources]
    after = [r.slug for r in place.resources]
    if sorted(before) != sorted(after):
        changes.append(Change("resources", before, after))
    return changes


def _apply(
    uow: UnitOfWork,
    booking: Booking,
    cmd: ChangeBooking,
    place: _Place | None,
    changes: list[Change],
) -> None:
    for name in CONTENT_FIELDS:
        if cmd.has(name):
            setattr(booking, name, plain(getattr(cmd, name)))
    if place is not None:
        booking.start, booking.end, booking.rrule = place.start, place.end, place.rrule
        booking.resources = list(place.resources)
        uow.bookings.replace_occurrences(booking, dates(place.occurrences, place.cancelled))
    needs_approval = any(r.requires_approval for r in booking.resources)
    before = Status(booking.status)
    after = Status(status_after_change(before, place is not None, needs_approval))
    if after != before:
        changes.append(Change("status", before.value, after.value))
        booking.status = after
        booking.decided_by = None


__all__ = [
    "approve_booking",
    "cancel_booking",
    "cancel_occurrence",
    "change_booking",
    "reject_booking",
    "submit_booking",
]
