"""Requesting resources and changing a request. Deciding and cancelling are in
:mod:`.decisions` (importable from here too, as the entry points do)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.booking.commands import ChangeBooking, SubmitBooking
from services.booking.domain import (
    Actor,
    Block,
    Interval,
    Limits,
    ResourceRules,
    RuleViolation,
    blocks_of,
    check_capacity,
    check_change_rate,
    check_new_booking,
    check_participants,
    next_status,
    normalise_rrule,
    outside,
    status_of_lines,
)
from services.booking.domain.limits import HOUR
from services.booking.persistence.mapping import booking_view, rules_of, set_label
from services.booking.persistence.models import (
    UNASSIGNED,
    Booking,
    BookingLine,
    Resource,
    User,
    new_id,
)
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context, SlotRace
from services.booking.readmodels import BookingView
from services.booking.usecases.common import (
    add_history,
    bump,
    check_place,
    dates,
    editable,
    held_blocks,
    limits_of,
    offer_freed_slots,
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
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CHANGED,
    BOOKING_SUBMITTED,
    Change,
    Label,
    LineStatus,
    Person,
    Status,
)
from shared.messages import N_, Msg

AUTOMATIC = "automatic"  # who decided a line that needs no approval
UNKNOWN = {"category": N_("unknown_category"), "unit": N_("unknown_unit")}

CONTENT_FIELDS = (
    "title",
    "description",
    "expected_attendees",
    "visibility",
    "language",
    "participants",
    "notes",
    "category",
    "unit",
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
    limits = limits_of(ctx.config)
    check_participants(limits, cmd.participants)
    held_back = _invites_outside(limits, actor, cmd.participants)
    blocks: list[Block] = []
    rules: list[ResourceRules] = []
    try:
        with ctx.uow() as uow:
            # One request of theirs counted at a time; kept: the booking's organiser (the
            # session holds it weakly, and a second look-up would ask the database again).
            organiser = uow.user(actor.user_id, lock=True)
            now = utcnow()
            check_new_booking(limits, *uow.bookings.made_by(actor.user_id, now - HOUR), now)
            labels = chosen_labels(uow, cmd.category, cmd.unit)
            resources = uow.resources.get_many(cmd.resource_ids)
            rules = [rules_of(r) for r in resources]
            occurrences = check_place(
                ctx, uow, rules, cmd.start, cmd.end, rrule, cmd.expected_attendees
            )
            blocks = blocks_of(rules, occurrences)
            refuse_taken(uow, actor, rules, blocks, None)
            booking = _new_booking(ctx, organiser, actor, cmd, rrule)
            for kind, label in labels.items():
                set_label(booking, kind, label)
            booking.lines = [_new_line(r, ctx.clock(), held_back) for r in resources]
            auto = status_of_lines(LineStatus(x.status) for x in booking.lines) is Status.APPROVED
            booking.status = Status.APPROVED if auto else Status.PENDING
            booking.decided_by = AUTOMATIC if auto else None
            booking.occurrences = dates(occurrences)
            uow.bookings.add(booking)
            uow.flush()
            uow.slots.sync(booking)
            add_history(uow, booking, actor.email, "submitted")
            if auto:
                add_history(uow, booking, AUTOMATIC, "approved")
            publish(ctx, uow, booking, BOOKING_APPROVED if auto else BOOKING_SUBMITTED)
            view = booking_view(booking)
            uow.commit()
        return view
    except SlotRace:
        raise taken_now(ctx, actor, rules, blocks, None) from None


def _new_line(resource: Resource, now: datetime, held_back: bool = False) -> BookingLine:
    line = BookingLine(resource=resource, resource_id=resource.id, **UNASSIGNED)
    _wait(line, resource, now, held_back)
    return line


def _invites_outside(limits: Limits, actor: Actor, participants: Iterable[Person]) -> bool:
    """Whether a booking's lines wait for a decider even where the resource needs no
    approval: it invites people outside the internal domains, and the actor is not infra
    (who decides every line anyway). Nothing is mailed to them before someone decides."""
    return not actor.is_infra and bool(outside(limits, (p.email for p in participants)))


def _wait(line: BookingLine, resource: Resource, now: datetime, held_back: bool = False) -> None:
    """A line asked for (again): approved at once when its resource needs no approval
    (unless ``held_back`` for a decider), else waiting from now."""
    auto = not resource.requires_approval and not held_back
    line.status = LineStatus.APPROVED if auto else LineStatus.PENDING
    line.decided_by = AUTOMATIC if auto else None
    line.decided_at = now if auto else None
    line.reason = None
    line.waiting_since = None if auto else now


def _new_booking(
    ctx: Context, organiser: User | None, actor: Actor, cmd: SubmitBooking, rrule: str | None
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
        status=Status.PENDING,
        revision=1,
        visibility=cmd.visibility,
        language=cmd.language,
        expected_attendees=cmd.expected_attendees,
        participants=plain(cmd.participants),
        notes=cmd.notes,
        organiser_id=actor.user_id,
        organiser=organiser,
        reason=None,
        decided_by=None,
        created_at=now,
        updated_at=now,
    )


def change_booking(ctx: Context, actor: Actor, booking_id: str, cmd: ChangeBooking) -> BookingView:
    """Change a pending or approved booking (its organiser, infra, admin). A new time sends
    each approved line that needs approval back to its deciders; a new resource adds a
    line; a resource left out gives its slot up. Slots no longer held are offered on."""
    limits = limits_of(ctx.config)
    if cmd.has("participants"):
        check_participants(limits, cmd.participants)
    blocks: list[Block] = []
    rules: list[ResourceRules] = []
    try:
        with ctx.uow() as uow:
            booking = editable(uow, actor, booking_id)
            next_status(booking.status, "change")
            changed = [h.at for h in uow.bookings.history(booking.id) if h.action == "changed"]
            check_change_rate(limits, changed, utcnow())
            changes = _content_changes(booking, cmd)
            labels = _changed_labels(uow, booking, changes)
            place = _new_place(ctx, uow, booking, cmd)
            if place is not None:
                blocks = place.blocks
                rules = [rules_of(r) for r in place.resources]
                refuse_taken(uow, actor, rules, blocks, booking.id)
                changes += _place_changes(booking, place)
            if not changes:
                return booking_view(booking)
            held_before = held_blocks(booking)
            _apply(
                ctx, uow, booking, cmd, place, changes, _new_outside(limits, actor, booking, cmd)
            )
            for kind, label in labels.items():
                set_label(booking, kind, label)
            bump(booking)
            uow.slots.sync(booking)
            add_history(uow, booking, actor.email, "changed", changes=changes)
            publish(ctx, uow, booking, BOOKING_CHANGED, changes=changes)
            offer_freed_slots(ctx, uow, booking, held_before)
            view = booking_view(booking)
            uow.commit()
        return view
    except SlotRace:
        raise taken_now(ctx, actor, rules, blocks, booking_id) from None


def chosen_labels(
    uow: UnitOfWork, category: str | None, unit: str | None
) -> dict[str, Label | None]:
    """The category and unit a request chooses, with their names (one question, none when
    it chooses neither); 422 naming the field for an unknown or retired one."""
    asked = {"category": category, "unit": unit}
    found = uow.catalog.labels(category, unit) if category or unit else {}
    errors: dict[str, list[Msg]] = {}
    for kind, slug in asked.items():
        if slug is not None and (kind not in found or not found[kind].active):
            errors[kind] = [Msg(UNKNOWN[kind], slug=slug)]
    if errors:
        raise RuleViolation(errors)
    return {kind: found[kind].label if slug else None for kind, slug in asked.items()}


def _changed_labels(
    uow: UnitOfWork, booking: Booking, changes: list[Change]
) -> dict[str, Label | None]:
    """The new category and unit among a change's (a booking keeps a retired one it has,
    but cannot be given one)."""
    new = {c.field: c.new for c in changes if c.field in ("category", "unit")}
    if not new:
        return {}
    labels = chosen_labels(uow, new.get("category"), new.get("unit"))
    return {kind: labels[kind] for kind in new}


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
    ctx: Context,
    uow: UnitOfWork,
    booking: Booking,
    cmd: ChangeBooking,
    place: _Place | None,
    changes: list[Change],
    held_back: bool = False,
) -> None:
    for name in CONTENT_FIELDS:
        if cmd.has(name):
            setattr(booking, name, plain(getattr(cmd, name)))
    if place is not None:
        moved = (place.start, place.end, place.rrule) != (booking.start, booking.end, booking.rrule)
        booking.start, booking.end, booking.rrule = place.start, place.end, place.rrule
        _relines(booking, place.resources, moved, ctx.clock())
        uow.bookings.replace_occurrences(booking, dates(place.occurrences, place.cancelled))
    if held_back:
        for line in booking.lines:
            if line.status == LineStatus.APPROVED and line.decided_by == AUTOMATIC:
                _wait(line, line.resource, ctx.clock(), held_back)
    before = Status(booking.status)
    after = status_of_lines(LineStatus(x.status) for x in booking.lines)
    if after != before:
        changes.append(Change("status", before.value, after.value))
        booking.status = after
        if after is Status.PENDING:
            booking.decided_by = None


def _new_outside(limits: Limits, actor: Actor, booking: Booking, cmd: ChangeBooking) -> bool:
    """Whether a change invites someone new outside the internal domains (then the lines
    approved without a decider wait for one, as for a new request)."""
    if not cmd.has("participants"):
        return False
    before = {p["email"] for p in booking.participants or ()}
    return _invites_outside(limits, actor, [p for p in cmd.participants if p.email not in before])


def _relines(booking: Booking, resources: list[Resource], moved: bool, now: datetime) -> None:
    """The lines after a change of place: a resource left out gives its line up (a declined
    one stays as a record), a new or re-asked one waits (or is approved at once when it
    needs no approval), and a new time sends every line that needs approval back to its
    deciders (a waiting one waits anew: its deciders hear of the change)."""
    wanted = {r.id: r for r in resources}
    kept = []
    for line in booking.lines:
        if line.resource_id not in wanted and line.status != LineStatus.DECLINED:
            continue
        resource = wanted.pop(line.resource_id, None)
        if resource is not None and (
            line.status == LineStatus.DECLINED or (moved and resource.requires_approval)
        ):
            _wait(line, resource, now)
        kept.append(line)
    kept += [_new_line(r, now) for r in wanted.values()]
    booking.lines = kept


__all__ = [
    "approve_booking",
    "cancel_booking",
    "cancel_occurrence",
    "change_booking",
    "reject_booking",
    "submit_booking",
]
