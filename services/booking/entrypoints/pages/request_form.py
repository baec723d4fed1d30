"""The request form: a new request or a change of one, with what is free for the chosen
time ("show free venues and services") and, when the slot is taken, what holds it and what
is free instead."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.commands import SuggestionQuery
from services.booking.domain import MAX_OCCURRENCE_LENGTH, RuleViolation, SlotTaken, next_status
from services.booking.entrypoints.pages.availability import (
    Availability,
    availability,
    describe_conflicts,
)
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, form_fields, login_required, t
from services.booking.entrypoints.pages.forms.errors import Errors
from services.booking.entrypoints.pages.forms.prefill import prefilled, suggestion_taken
from services.booking.entrypoints.pages.forms.request import (
    as_change,
    booking_form_values,
    in_form_order,
    read_request,
    request_errors,
)
from services.booking.entrypoints.pages.forms.when import WHEN_FIELDS, When, read_when
from services.booking.readmodels import BookingView, ResourceCheck, ResourceView, Suggestions
from services.booking.schemas import MAX_RESOURCES
from services.booking.usecases import bookings, catalog, queries
from shared.i18n import current_language
from shared.messages import N_, Msg

MULTI = ("resource_ids", "weekdays")


def _form_page(
    values: MultiDict,
    errors: Errors,
    *,
    booking: BookingView | None = None,
    status: int = 200,
    taken: SlotTaken | None = None,
    rule_refused: bool = False,
    checked: bool = False,
    used: bool = False,
):
    """The request form with what was typed, the errors beside their fields and what is free
    for the chosen time; with ``taken`` (or chosen resources the check finds taken), what
    holds the slot, the next free times and what is free instead. A time with errors shows
    nothing as free; a repeat rule just refused is not walked again."""
    timed = values.get("date") and not rule_refused and not set(errors) & set(WHEN_FIELDS)
    when, _ = read_when(_typed(values)) if timed else (None, {})
    errors = in_form_order(errors)
    try:
        free = availability(when, booking)
    except RuleViolation as exc:  # a series the rules refuse (too many dates, none)
        errors = in_form_order({**errors, **request_errors(exc.errors)})
        free = availability(None)
        status = 422 if status == 200 else status
    chosen = [v for v in values.getlist("resource_ids") if v]
    return render_template(
        "booking/request_form.html",
        values=values,
        errors=errors,
        free=free,
        booking=booking,
        **_taken(taken, free, chosen, when, booking),
        checked=checked,
        used=used,
        repeat_sentence=when.rrule if when else None,
        first_start=when.start if when else None,
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


def _taken(
    taken: SlotTaken | None,
    free: Availability,
    chosen: list[str],
    when: When | None,
    booking: BookingView | None,
) -> dict[str, Any]:
    """What holds the slot (a refused send's conflicts, or the chosen resources the check
    finds taken), the next free times for them and other free resources of their kinds,
    each with the form values that take it."""
    if taken is not None:
        named = [c.resource for c in free.check.resources] if free.check else []
        held = describe_conflicts(taken.conflicts, named)
        taken_ids = {c.resource_id for c in taken.conflicts}
    else:
        held, taken_ids = _taken_by_check(free, chosen)
    if not held:
        return {"taken": [], "suggested": [], "times": None}
    kept = [c for c in chosen if c not in taken_ids and not _named(free, c, taken_ids)]
    suggested = [(r, ",".join([*kept, r.id])) for r in _alternatives(free, taken_ids)]
    return {"taken": held, "suggested": suggested, "times": _free_times(when, chosen, booking)}


def _named(free: Availability, key: str, ids: set[str]) -> bool:
    """Whether ``key`` (an id or a slug) names one of the resources ``ids``."""
    return any(c.resource.slug == key and c.resource.id in ids for c in _checks(free))


def _checks(free: Availability) -> tuple[ResourceCheck, ...]:
    return free.check.resources if free.check else ()


def _alternatives(free: Availability, taken_ids: set[str]) -> tuple[ResourceView, ...]:
    """Free resources of the kinds taken, besides the taken ones."""
    kinds = {c.resource.kind for c in _checks(free) if c.resource.id in taken_ids}
    return free.check.alternatives(kinds, frozenset(taken_ids)) if free.check else ()


def _taken_by_check(free: Availability, chosen: list[str]) -> tuple[list[dict[str, Any]], set[str]]:
    """The chosen resources the check finds taken, each block that holds them."""
    held: list[dict[str, Any]] = []
    ids: set[str] = set()
    for check in _checks(free):
        r = check.resource
        if check.state == "taken" and (r.id in chosen or r.slug in chosen):
            ids.add(r.id)
            for block in check.taken:
                held.append({"resource": r, "block": block, "title": block.title or None})
    return held, ids


def _free_times(
    when: When | None, chosen: list[str], booking: BookingView | None
) -> Suggestions | None:
    """The next free times for the chosen resources, same length (not for a series: its
    dates move together)."""
    if when is None or when.rrule or not chosen:
        return None
    own = booking.id if booking is not None else None
    query = SuggestionQuery(when.start, when.end, tuple(chosen[:MAX_RESOURCES]), booking_id=own)
    try:
        return queries.suggest(ctx(), query)
    except RuleViolation:  # an unknown resource among the chosen
        return None


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
        return _form_page(prefilled(request.args, current_language()), {})
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
    """Take a suggestion, check what is free, or send the request (new or changed)."""
    values = request.form
    if values.get("use_time") or values.get("use_resources"):
        return _form_page(suggestion_taken(values), {}, booking=booking, used=True)
    data = form_fields(MULTI)
    if request.form.get("step") == "check":
        when, errors = read_when(data)
        errors = errors or _impossible(when)
        status = 422 if errors else 200
        return _form_page(values, errors, booking=booking, status=status, checked=True)
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


def _impossible(when: When | None) -> Errors:
    """A time no resource can be free for: one that has begun, or longer than a date may
    be (the send would refuse it too); the error beside the field."""
    if when is None:
        return {}
    if when.start <= ctx().clock():
        return {"start_time": [Msg("start_in_past")]}
    if when.end - when.start > MAX_OCCURRENCE_LENGTH:
        days = MAX_OCCURRENCE_LENGTH.days
        return {"end_time": [Msg("occurrence_too_long", days=days)]}
    return {}
