"""Who does a line's job: its deciders give an approved service or studio line to a member
of its team or to a supplier on an agreement, and record the hours delivered after the
event. The booking's revision rises and ``booking.assigned`` goes out with it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.booking.commands import AssigneeChoice, AssignLine
from services.booking.domain import Actor, InvalidTransition, NotFound, may_decide_line, require
from services.booking.domain.assignments import (
    Agreement,
    check_assignable,
    check_staff,
    check_supplier,
)
from services.booking.persistence.mapping import (
    assignee_of,
    booking_view,
    rules_of,
    supplier_view,
)
from services.booking.persistence.models import Booking, BookingLine, Supplier
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import BookingView, SupplierView
from services.booking.usecases.common import active_dates, add_history, bump, plain, publish
from shared.events import BOOKING_ASSIGNED, Assignee, AssigneeKind, Change, Status
from shared.messages import Msg

LIVE = (Status.PENDING, Status.APPROVED)


def assign_line(
    ctx: Context, actor: Actor, booking_id: str, resource_key: str, cmd: AssignLine
) -> BookingView:
    """Give a line's job to someone (or to nobody) and/or record its hours delivered (the
    line's deciders: its team, managers, infra, admin). The same assignment again changes
    nothing and writes no event."""
    with ctx.uow() as uow:
        booking = uow.bookings.get(booking_id, lock=True)
        line = line_of(booking, resource_key)
        rules = rules_of(line.resource)
        require(may_decide_line(actor, rules, booking.organiser_id), Msg("only_deciders_assign"))
        if booking.status not in LIVE:
            raise InvalidTransition(Msg("assign_when_approved", name=line.resource.name))
        check_assignable(line.resource.kind, line.status, line.resource.name)
        before, named = _state(line), assignee_of(line)
        choice = cmd.assignee
        if choice is None:
            _clear(line)
        elif _same(line, choice):
            pass  # kept as it is (hours recorded for someone since retired, say)
        elif choice.kind is AssigneeKind.STAFF:
            check_staff(choice.email, rules, line.resource.name)
            _give_staff(uow, line, choice.email)
        else:
            supplier = _supplier(uow, choice.supplier_id or "")
            agreement = None if supplier is None else _agreement(supplier)
            check_supplier(agreement, _dates(booking, ctx.zone))
            _give_supplier(line, supplier)
        if cmd.hours_given:
            line.hours_delivered = cmd.hours_delivered
        after = _state(line)
        if after == before:
            return booking_view(booking)  # leaving without a commit: nothing written
        if after[:3] != before[:3]:
            line.assigned_by, line.assigned_at = actor.email, ctx.clock()
        bump(booking)
        changes = _changes(line, (before, named), after)
        add_history(uow, booking, actor.email, "assigned", changes=changes)
        publish(ctx, uow, booking, BOOKING_ASSIGNED, changes=changes)
        view = booking_view(booking)
        uow.commit()
    return view


def line_of(booking: Booking, key: str) -> BookingLine:
    """The booking's line of a resource (by id or slug; 404 for one it does not have)."""
    for line in booking.lines:
        if key in (line.resource_id, line.resource.slug):
            return line
    raise NotFound(Msg("not_a_line_of_booking", key=key))


def _same(line: BookingLine, choice: AssigneeChoice) -> bool:
    if choice.kind is AssigneeKind.STAFF:
        return line.assignee_kind == choice.kind and line.assignee_email == choice.email
    return line.assignee_kind == choice.kind and line.supplier_id == choice.supplier_id


def suppliers_for(ctx: Context, actor: Actor, booking: BookingView) -> list[SupplierView]:
    """The suppliers one may give a job of this booking to (active, their agreement
    holding on its dates), for a reader who decides one of its lines."""
    require(
        any(line.decidable_by(actor, booking.organiser_id) for line in booking.lines),
        Msg("only_deciders_assign"),
    )
    days = _days(ctx.zone, [(o.start, o.end) for o in booking.active_occurrences])
    with ctx.uow(readonly=True) as uow:
        return [
            supplier_view(s)
            for s in uow.catalog.suppliers()
            if s.active and (not days or _agreement(s).covers(min(days), max(days)))
        ]


def _state(line: BookingLine) -> tuple[Any, ...]:
    hours = None if line.hours_delivered is None else float(line.hours_delivered)
    return (line.assignee_kind, line.assignee_email, line.supplier_id, hours)


def _clear(line: BookingLine) -> None:
    line.assignee_kind = line.assignee_email = line.supplier_id = None
    line.staff_name = line.supplier_name = line.supplier_email = None


def _give_staff(uow: UnitOfWork, line: BookingLine, email: str) -> None:
    user = uow.user_by_email(email)
    _clear(line)
    line.assignee_kind, line.assignee_email = AssigneeKind.STAFF.value, email
    line.staff_name = user.name if user is not None else None


def _supplier(uow: UnitOfWork, supplier_id: str) -> Supplier | None:
    try:
        return uow.catalog.supplier(supplier_id)
    except NotFound:
        return None


def _agreement(supplier: Supplier) -> Agreement:
    return Agreement(supplier.name, supplier.active, supplier.valid_from, supplier.valid_to)


def _give_supplier(line: BookingLine, supplier: Supplier | None) -> None:
    assert supplier is not None  # check_supplier refused a missing one
    _clear(line)
    line.assignee_kind, line.supplier_id = AssigneeKind.SUPPLIER.value, supplier.id
    line.supplier_name, line.supplier_email = supplier.name, supplier.email or ""


def _dates(booking: Booking, zone: ZoneInfo) -> list[date]:
    return _days(zone, [(d.start, d.end) for d in active_dates(booking)])


def _days(zone: ZoneInfo, spans: list[tuple[datetime, datetime]]) -> list[date]:
    """The local days these dates fall on (an end at midnight is the day before's)."""
    days = []
    for start, end in spans:
        days.append(start.astimezone(zone).date())
        days.append((end - timedelta(microseconds=1)).astimezone(zone).date())
    return days


def _changes(
    line: BookingLine, before: tuple[tuple[Any, ...], Assignee | None], after: tuple[Any, ...]
) -> list[Change]:
    """What the history and the event record: ``lines.<slug>.assignee`` (``{kind, email,
    supplier_id, name}`` or none) and ``lines.<slug>.hours_delivered``."""
    where = f"lines.{line.resource.slug}"
    (state, named), changes = before, []
    if state[:3] != after[:3]:
        changes.append(Change(f"{where}.assignee", _asdict(named), _asdict(assignee_of(line))))
    if state[3] != after[3]:
        changes.append(Change(f"{where}.hours_delivered", state[3], after[3]))
    return changes


def _asdict(assignee: Assignee | None) -> dict[str, Any] | None:
    if assignee is None:
        return None
    return {
        "kind": plain(assignee.kind),
        "email": assignee.email,
        "supplier_id": assignee.supplier_id,
        "name": assignee.name,
    }


__all__ = ["assign_line", "line_of", "suppliers_for"]
