"""The organiser's pages: a new request, my requests, one request with its history, and
changing, withdrawing or deciding on it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.booking.commands import (
    BookingQuery,
    CancelBooking,
    CancelOccurrence,
    ChangeBooking,
    SubmitBooking,
)
from services.booking.domain import InvalidTransition, RuleViolation, SlotTaken, next_status
from services.booking.entrypoints.pages.availability import (
    alternatives,
    availability,
    describe_conflicts,
)
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import (
    actor,
    ctx,
    decides_on,
    form_fields,
    login_required,
    safe_next,
    t,
)
from services.booking.entrypoints.pages.formatting import fdatetime, localise, localise_errors
from services.booking.entrypoints.pages.forms import (
    Errors,
    booking_errors_on_form,
    booking_form_values,
    read_request,
    read_when,
    rrule_fields,
)
from services.booking.schemas import STATUSES, ReasonSchema, RejectSchema
from services.booking.usecases import bookings, queries
from services.booking.views import BookingView as Booking
from shared.i18n import current_language
from shared.messages import N_

MULTI = ("resource_ids", "weekdays")
WHEN_FIELDS = (
    "date",
    "start_time",
    "end_time",
    "end_date",
    "repeat",
    "weekdays",
    "repeat_end",
    "repeat_count",
    "repeat_until",
    "rrule_kept",
)
PREFILL = ("date", "start_time", "end_time", "resource")


@bp.get("/")
@login_required
def home():
    return redirect(url_for("pages.my_requests"))


# --- my requests -------------------------------------------------------------------------------


@bp.get("/bookings")
@login_required
def my_requests():
    mine = queries.list_bookings(ctx(), actor(), BookingQuery(mine=True))
    counts = {s: sum(1 for b in mine if b.status == s) for s in STATUSES}
    status = request.args.get("status")
    shown = [b for b in mine if b.status == status] if status in STATUSES else mine
    now = ctx().clock()
    upcoming = [b for b in shown if _last_end(b) >= now]
    past = sorted((b for b in shown if _last_end(b) < now), key=lambda b: b.start, reverse=True)
    return render_template(
        "booking/requests.html",
        upcoming=upcoming,
        past=past,
        counts=counts,
        status=status if status in STATUSES else None,
        total=len(mine),
    )


def _last_end(booking: Booking):
    return booking.last_end


# --- the request form --------------------------------------------------------------------------


def _form_page(
    values: MultiDict,
    errors: Errors,
    *,
    booking: Booking | None = None,
    status: int = 200,
    taken: list[dict[str, Any]] | None = None,
    suggested: list[Any] | None = None,
):
    """The request form with what was typed, the errors beside their fields and what is free
    for the chosen time."""
    data = {k: v for k, v in _as_dict(values).items() if k in WHEN_FIELDS}
    when, _ = read_when(data) if data.get("date") else (None, {})
    errors = dict(errors)
    try:
        free = availability(when, own_booking=booking)
    except RuleViolation as exc:
        errors.update(booking_errors_on_form(exc.errors))
        free = availability(None)
    return render_template(
        "booking/request_form.html",
        values=values,
        errors=localise_errors(errors),
        free=free,
        booking=booking,
        taken=taken or [],
        suggested=suggested or [],
        zone=ctx().config.timezone,
    ), status


def _as_dict(values: MultiDict) -> dict[str, Any]:
    """Typed values without the blank ones (a blank optional field is one not sent)."""
    data: dict[str, Any] = {}
    for key in values:
        if key in MULTI:
            data[key] = [v for v in values.getlist(key) if v.strip()]
        elif (values.get(key) or "").strip():
            data[key] = values.get(key)
    return data


@bp.route("/bookings/new", methods=["GET", "POST"])
@login_required
def new_request():
    if request.method == "GET":
        values = MultiDict(
            {
                "visibility": "internal",
                "language": current_language(),
                "repeat": "none",
                "repeat_end": "count",
            }
        )
        for key in PREFILL:
            if request.args.get(key):
                values[key if key != "resource" else "resource_ids"] = request.args[key][:80]
        return _form_page(values, {})
    return _submit_form(None)


@bp.route("/bookings/<booking_id>/edit", methods=["GET", "POST"])
@login_required
def edit_request(booking_id: str):
    booking = queries.read_booking(ctx(), actor(), booking_id)
    next_status(booking.status, "change")  # InvalidTransition unless pending or approved
    if request.method == "GET":
        return _form_page(MultiDict(booking_form_values(booking)), {}, booking=booking)
    return _submit_form(booking)


def _submit_form(booking: Booking | None):
    """Check availability, or send the request (new or changed)."""
    values = request.form
    data = form_fields(MULTI)
    if request.form.get("step") == "check":
        _, errors = read_when({k: v for k, v in data.items() if k in WHEN_FIELDS})
        return _form_page(values, errors, booking=booking, status=422 if errors else 200)
    cmd, errors = read_request(data)
    if cmd is None:
        return _form_page(values, errors, booking=booking, status=422)
    try:
        if booking is None:
            saved = bookings.submit_booking(ctx(), actor(), SubmitBooking(**cmd.values()))
        else:
            saved = bookings.change_booking(ctx(), actor(), booking.id, _as_change(booking, cmd))
    except RuleViolation as exc:
        return _form_page(values, booking_errors_on_form(exc.errors), booking=booking, status=422)
    except SlotTaken as exc:
        return _taken_page(values, booking, cmd, exc)
    message = N_("request_sent") if booking is None else N_("request_changed")
    flash(t(message, title=saved.title), "ok")
    return redirect(url_for("pages.request_page", booking_id=saved.id))


def _as_change(booking: Booking, cmd: ChangeBooking) -> ChangeBooking:
    """The whole form as a change: cleared fields are cleared, and a series the form shows
    the same way keeps its rule's text (so it does not count as moved)."""
    values = {"description": "", "notes": "", "expected_attendees": None, **cmd.values()}
    first = values["start"].astimezone(ctx().zone).date()
    if rrule_fields(values.get("rrule"), first) == rrule_fields(booking.rrule, first):
        values["rrule"] = booking.rrule
    return ChangeBooking.of(**values)


def _taken_page(values: MultiDict, booking: Booking | None, cmd: ChangeBooking, exc: SlotTaken):
    """The slot is held: what it collides with, and what is free instead."""
    taken = describe_conflicts(exc.conflicts, decider=False)
    taken_ids = {c.resource_id for c in exc.conflicts}
    kinds = {item["resource"].kind for item in taken if item["resource"] is not None}
    suggested = alternatives(cmd.start, cmd.end, kinds, exclude=taken_ids)
    errors = {"resource_ids": [t("slot_taken")]}
    return _form_page(values, errors, booking=booking, status=409, taken=taken, suggested=suggested)


# --- one request ------------------------------------------------------------------------------


@bp.get("/bookings/<booking_id>")
@login_required
def request_page(booking_id: str):
    return _request_page(booking_id)


def _request_page(
    booking_id: str,
    status: int = 200,
    *,
    action_error: str | None = None,
    taken: list[dict[str, Any]] | None = None,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
):
    principal = actor()
    booking = queries.read_booking(ctx(), principal, booking_id)
    conflicts = booking.conflicts
    history = queries.booking_history(ctx(), principal, booking_id)
    decider = decides_on(principal, booking.resources)
    active = [o for o in booking.occurrences if o.status == "active"]
    suggested = []
    if booking.status == "pending" and active and conflicts:
        colliding = {c.resource_id for c in conflicts}
        suggested = alternatives(
            active[0].start,
            active[0].end,
            {r.kind for r in booking.resources if r.id in colliding},
            exclude={r.id for r in booking.resources},
        )
    return render_template(
        "booking/request.html",
        booking=booking,
        history=history,
        decider=decider,
        organiser=booking.organiser_id == principal.user_id,
        conflicts=describe_conflicts(conflicts, decider=decider),
        suggested=suggested,
        action_error=action_error,
        taken=taken or [],
        errors=localise_errors(errors or {}),
        values=values or {},
        open=booking.status in ("pending", "approved"),
    ), status


def _back(booking: Booking):
    return redirect(
        safe_next(request.form.get("next")) or url_for("pages.request_page", booking_id=booking.id)
    )


@bp.post("/bookings/<booking_id>/approve")
@login_required
def approve(booking_id: str):
    try:
        approval = bookings.approve_booking(ctx(), actor(), booking_id)
        booking, competing = approval.booking, approval.competing
    except SlotTaken as exc:
        return _request_page(
            booking_id,
            409,
            action_error=t("approve_taken"),
            taken=describe_conflicts(exc.conflicts, decider=True),
        )
    except InvalidTransition as exc:
        return _request_page(booking_id, 409, action_error=localise(exc.message))
    message = t("approved_flash", title=booking.title)
    if competing:
        message += " " + t("competing_left", count=len({c.booking_id for c in competing}))
    flash(message, "ok")
    return _back(booking)


@bp.post("/bookings/<booking_id>/reject")
@login_required
def reject(booking_id: str):
    reason = request.form.get("reason", "")
    try:
        cmd = RejectSchema().load({"reason": reason})
        booking = bookings.reject_booking(ctx(), actor(), booking_id, cmd)
    except ValidationError as exc:
        return _request_page(
            booking_id,
            422,
            errors={"reason": exc.messages.get("reason", [])},
            values={"reason": reason},
        )
    except InvalidTransition as exc:
        return _request_page(booking_id, 409, action_error=localise(exc.message))
    flash(t("rejected_flash", title=booking.title), "ok")
    return _back(booking)


def _reason() -> CancelBooking:
    return ReasonSchema().load({"reason": request.form.get("reason", "")})


@bp.post("/bookings/<booking_id>/cancel")
@login_required
def cancel(booking_id: str):
    try:
        booking = bookings.cancel_booking(ctx(), actor(), booking_id, _reason())
    except ValidationError as exc:
        return _request_page(booking_id, 422, errors={"cancel_reason": exc.messages["reason"]})
    except InvalidTransition as exc:
        return _request_page(booking_id, 409, action_error=localise(exc.message))
    flash(t("cancelled_flash", title=booking.title), "ok")
    return _back(booking)


@bp.post("/bookings/<booking_id>/occurrences/<int:n>/cancel")
@login_required
def cancel_occurrence(booking_id: str, n: int):
    try:
        cmd = CancelOccurrence(n, _reason().reason)
        booking = bookings.cancel_occurrence(ctx(), actor(), booking_id, cmd)
    except ValidationError:
        return _request_page(booking_id, 422)
    except InvalidTransition as exc:
        return _request_page(booking_id, 409, action_error=localise(exc.message))
    occurrence = next(o for o in booking.occurrences if o.n == n)
    flash(t("occurrence_cancelled_flash", when=fdatetime(occurrence.start)), "ok")
    return _back(booking)
