"""The organiser's pages: my requests, and one request with its dates, conflicts, history
and what the reader may do with it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import redirect, render_template, request, url_for

from services.booking.commands import BookingQuery, CheckRequest
from services.booking.domain import Conflict, may_edit
from services.booking.domain.assignments import ASSIGNABLE_KINDS
from services.booking.entrypoints.pages.availability import (
    PREVIEW_OCCURRENCES,
    alternatives,
    describe_conflicts,
)
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import (
    actor,
    ctx,
    decides_on,
    login_required,
    t,
)
from services.booking.entrypoints.pages.forms.errors import Errors
from services.booking.readmodels import BookingView, LineView, RequestCheck
from services.booking.usecases import assignments, queries
from shared.auth import Principal
from shared.events import AssigneeKind, LineStatus, Status
from shared.i18n import current_language
from shared.messages import Msg

OPEN = (Status.PENDING, Status.APPROVED)


@bp.get("/")
@login_required
def home():
    return redirect(url_for("pages.my_requests"))


@bp.get("/bookings")
@login_required
def my_requests():
    mine = queries.list_bookings(ctx(), actor(), BookingQuery(mine=True))
    counts = {s.value: sum(1 for b in mine if b.status == s) for s in Status}
    status = request.args.get("status")
    status = status if status in counts else None
    shown = [b for b in mine if b.status == status] if status else mine
    now = ctx().clock()
    upcoming = [b for b in shown if b.last_end >= now]
    past = sorted((b for b in shown if b.last_end < now), key=lambda b: b.start, reverse=True)
    return render_template(
        "booking/requests.html",
        upcoming=upcoming,
        past=past,
        counts=counts,
        status=status,
        total=len(mine),
    )


@bp.get("/bookings/<booking_id>")
@login_required
def request_page(booking_id: str):
    return render_request(booking_id)


def render_request(
    booking_id: str,
    status: int = 200,
    *,
    action_error: Msg | None = None,
    taken: Iterable[Conflict] = (),
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
):
    """One request as its reader may see it; after a refused action, why (``action_error``,
    the approved bookings holding the time) or the form's ``errors`` with what was typed."""
    principal = actor()
    booking = queries.read_booking(ctx(), principal, booking_id)
    history = queries.booking_history(ctx(), principal, booking_id)
    decider = decides_on(principal, booking.resources)
    organiser = booking.organiser_id == principal.user_id
    check = _check(booking)
    lines = _lines(booking, principal)
    suggested = ()
    if booking.status == Status.PENDING and booking.conflicts:
        suggested = alternatives(check, booking.conflicts, {r.id for r in booking.resources})
    return render_template(
        "booking/request.html",
        booking=booking,
        history=history,
        decider=decider,
        organiser=organiser,
        editor=may_edit(principal, booking.organiser_id),
        lines=lines,
        assigning=_assigning(booking, principal, lines["assignable"]),
        language=current_language(),
        line_names={line.resource.slug: line.resource.name for line in booking.lines},
        conflicts=describe_conflicts(booking.conflicts, booking.resources),
        suggested=suggested,
        action_error=action_error,
        taken=describe_conflicts(taken, booking.resources),
        errors=errors or {},
        values=values or {},
        open=booking.status in OPEN,
    ), status


def _lines(booking: BookingView, principal: Principal) -> dict[str, Any]:
    """The request's lines as its page shows them: every line; those the reader decides
    (``mine``, by resource id); the pending ones among them, which the decision forms act
    on (``to_decide``); the declined ones, which the organiser is told of; and who
    approved the approved ones (``approvers``)."""
    live = booking.status in OPEN
    mine = {line.resource_id for line in booking.lines_for(principal)} if live else set()
    approved = [line for line in booking.lines if line.status is LineStatus.APPROVED]
    return {
        "approvers": sorted(
            {
                t("automatically") if x.decided_by == "automatic" else x.decided_by or ""
                for x in approved
            }
            - {""}
        ),
        "all": booking.lines,
        "mine": mine,
        "to_decide": [
            line
            for line in booking.lines
            if line.resource_id in mine and line.status is LineStatus.PENDING
        ],
        "declined": [line for line in booking.lines if line.status is LineStatus.DECLINED],
        "assignable": [
            line
            for line in booking.lines
            if line.resource_id in mine
            and line.status is LineStatus.APPROVED
            and line.resource.kind in ASSIGNABLE_KINDS
        ],
    }


def _assigning(
    booking: BookingView, principal: Principal, assignable: list[LineView]
) -> dict[str, Any]:
    """What the reader's assignment forms offer: per line (by resource id), the team's
    members and the resource's managers (and whoever does it now), and the suppliers whose
    agreement holds on the booking's dates (and the one doing it now)."""
    if not assignable:
        return {"staff": {}, "suppliers": {}}
    valid = assignments.suppliers_for(ctx(), principal, booking)
    staff, suppliers = {}, {}
    for line in assignable:
        ref, now = line.resource, line.assignee
        people = set(ref.team.members if ref.team else ()) | set(ref.managers)
        if now is not None and now.kind is AssigneeKind.STAFF:
            people.add(now.email)
        staff[line.resource_id] = sorted(people)
        offered = [(s.id, f"{s.name} ({s.agreement_ref})") for s in valid]
        kept = now is not None and now.kind is AssigneeKind.SUPPLIER and now.supplier_id
        if kept and kept not in {s.id for s in valid}:
            offered.append((kept, now.name if now else ""))
        suppliers[line.resource_id] = offered
    return {"staff": staff, "suppliers": suppliers}


def _check(booking: BookingView) -> RequestCheck | None:
    """What is free at a pending request's (first) dates: for alternatives to it."""
    if not (booking.conflicts and booking.status == Status.PENDING):
        return None
    cmd = CheckRequest(
        booking.start, booking.end, booking.rrule, booking_id=booking.id, limit=PREVIEW_OCCURRENCES
    )
    return queries.check_request(ctx(), actor(), cmd)
