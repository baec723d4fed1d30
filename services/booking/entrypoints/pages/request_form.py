"""The request form: a new request or a change of one, with what is free for the chosen
time ("show free venues and services") and, when the slot is taken, what holds it and what
is free instead."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.domain import RuleViolation, SlotTaken, next_status
from services.booking.entrypoints.pages.availability import (
    Availability,
    alternatives,
    availability,
    describe_conflicts,
)
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, form_fields, login_required, t
from services.booking.entrypoints.pages.forms.errors import Errors
from services.booking.entrypoints.pages.forms.request import (
    as_change,
    booking_form_values,
    in_form_order,
    read_request,
    request_errors,
)
from services.booking.entrypoints.pages.forms.when import read_when
from services.booking.readmodels import BookingView
from services.booking.usecases import bookings, catalog, queries
from shared.i18n import current_language
from shared.messages import N_, Msg

MULTI = ("resource_ids", "weekdays")
PREFILL = ("date", "start_time", "end_time", "resource")


def _form_page(
    values: MultiDict,
    errors: Errors,
    *,
    booking: BookingView | None = None,
    status: int = 200,
    taken: SlotTaken | None = None,
    rule_refused: bool = False,
):
    """The request form with what was typed, the errors beside their fields and what is free
    for the chosen time; with ``taken``, what holds the slot and what is free instead. A
    repeat rule just refused is not walked again to show what is free."""
    when, _ = read_when(_typed(values)) if values.get("date") and not rule_refused else (None, {})
    errors = in_form_order(errors)
    try:
        free = availability(when, booking)
    except RuleViolation as exc:  # a series the rules refuse (too many dates, none)
        errors = in_form_order({**errors, **request_errors(exc.errors)})
        free = availability(None)
        status = 422 if status == 200 else status
    return render_template(
        "booking/request_form.html",
        values=values,
        errors=errors,
        free=free,
        booking=booking,
        **_taken(taken, free),
        **_lists(booking),
        zone=ctx().config.timezone,
    ), status


def _lists(booking: BookingView | None) -> dict[str, list[tuple[str, str]]]:
    """The categories and units to choose from, named in the reader's language: the active
    ones, and the one a changed booking has even if it has been retired."""
    language = current_language()
    kept = {"categories": booking.category, "units": booking.unit} if booking else {}
    offered = {}
    for kind, entries in catalog.choices(ctx()).items():
        current = kept.get(kind)
        offered[f"{kind}_offered"] = [
            (e.slug, e.label.name(language))
            for e in entries
            if e.active or (current is not None and current.slug == e.slug)
        ]
    return offered


def _taken(taken: SlotTaken | None, free: Availability) -> dict[str, Any]:
    if taken is None:
        return {"taken": [], "suggested": []}
    conflicts = taken.conflicts
    named = [c.resource for c in free.check.resources] if free.check else []
    return {
        "taken": describe_conflicts(conflicts, named),
        "suggested": alternatives(free.check, conflicts, {c.resource_id for c in conflicts}),
    }


def _typed(values: MultiDict) -> dict[str, Any]:
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


def _submit_form(booking: BookingView | None):
    """Check what is free, or send the request (new or changed)."""
    values = request.form
    data = form_fields(MULTI)
    if request.form.get("step") == "check":
        _, errors = read_when(data)
        return _form_page(values, errors, booking=booking, status=422 if errors else 200)
    cmd, errors = read_request(data)
    if cmd is None:
        return _form_page(values, errors, booking=booking, status=422)
    try:
        if booking is None:
            saved = bookings.submit_booking(ctx(), actor(), cmd)
        else:
            saved = bookings.change_booking(ctx(), actor(), booking.id, as_change(cmd, booking))
    except RuleViolation as exc:
        errors = request_errors(exc.errors, data.get("participants", ""))
        refused = "rrule" in exc.errors
        return _form_page(values, errors, booking=booking, status=422, rule_refused=refused)
    except SlotTaken as exc:
        errors = {"resource_ids": [Msg("slot_taken")]}
        return _form_page(values, errors, booking=booking, status=409, taken=exc)
    message = N_("request_sent") if booking is None else N_("request_changed")
    flash(t(message, title=saved.title), "ok")
    return redirect(url_for("pages.request_page", booking_id=saved.id))
