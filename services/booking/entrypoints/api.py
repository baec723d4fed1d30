"""Booking's JSON API (``/api/v1``): routes of a few lines over the use cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for
from marshmallow import Schema

from services.booking import schemas as s
from services.booking.commands import CancelOccurrence
from services.booking.entrypoints.idempotency import idempotent
from services.booking.persistence import models
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import BookingView
from services.booking.usecases import bookings, queries, resources, teams, users
from shared.auth import current_principal, require_role
from shared.openapi import ApiDoc
from shared.requests import json_body, query_args

bp = Blueprint("api", __name__)
doc = ApiDoc(title="Evenemang booking API")
doc.blueprint_route(bp, "/api/v1")
CLOSURES_AHEAD = timedelta(days=365)

BOOKING_OUT, BOOKINGS_OUT, APPROVAL_OUT = s.BookingOut(), s.BookingOut(many=True), s.ApprovalOut()
RESOURCE_OUT, RESOURCES_OUT = s.ResourceOut(), s.ResourceOut(many=True)
BOOKING_IN, RESOURCE_IN = s.BookingInSchema(), s.ResourceInSchema()
REASON_IN, REJECT_IN, CLOSURE_IN = s.ReasonSchema(), s.RejectSchema(), s.ClosureInSchema()
APPROVE_IN = s.ApproveSchema()
TEAM_IN, TEAM_OUT, TEAMS_OUT = s.TeamInSchema(), s.TeamOut(), s.TeamOut(many=True)
CLOSURES_OUT = s.ClosureOut(many=True)
SETTINGS_IN, SETTINGS_OUT = s.SettingsSchema(), s.SettingsOut()


def ctx() -> Context:
    return current_app.extensions["booking_context"]


def read_by_me(booking: BookingView) -> BookingView:
    """A booking as the signed-in reader may read it (the opt-outs of being recorded)."""
    return booking.read_by(current_principal())


def answer_booking(booking: BookingView, status: int = 200):
    return jsonify(BOOKING_OUT.dump(read_by_me(booking))), status


def created(answer: Response | tuple[Response, int], endpoint: str, **values: str) -> Response:
    """201 with the new thing, and where it is (``Location``, an absolute URL)."""
    response = answer[0] if isinstance(answer, tuple) else answer
    response.status_code = 201
    response.headers["Location"] = url_for(endpoint, _external=True, **values)
    return response


def read(booking_id: str) -> BookingView:
    return queries.read_booking(ctx(), current_principal(), booking_id)


def answer_resource(key: str):
    return jsonify(RESOURCE_OUT.dump(resources.read_resource(ctx(), key)))


def answer_team(slug: str):
    return jsonify(TEAM_OUT.dump(teams.read_team(ctx(), slug)))


def endpoint(
    rule: str,
    method: str,
    *,
    role: str | None = "organiser",
    errors: tuple[int, ...] = (),
    blueprint: Blueprint = bp,
    **spec: Any,
) -> Callable:
    """A documented ``/api/v1`` route (of ``blueprint``) for a signed-in person of at least
    ``role`` (``None``: for anyone); one that names something by id in its path answers 404
    when there is no such thing."""
    if "<" in rule:
        errors = (404, *errors)

    def decorate(view: Callable) -> Callable:
        guarded = view if role is None else require_role(role)(view)
        route = doc.route(blueprint, rule, method, errors=errors, auth=role is not None, **spec)
        return route(guarded)

    return decorate


def listing(
    rule: str,
    summary: str,
    query: type[Schema] | None,
    answer: type[Schema],
    listed: str,
    **spec: Any,
):
    """A GET answering with a list under the key ``listed``, filtered by a query."""
    return endpoint(rule, "GET", summary=summary, query=query, answer=answer, listed=listed, **spec)


def creation(
    rule: str,
    summary: str,
    body: type[Schema],
    answer: type[Schema],
    errors: tuple[int, ...] = (),
    **spec: Any,
):
    """A POST that makes something and answers with it (201); a person who makes too many
    too fast is told to wait (429); retryable with an ``Idempotency-Key`` (the view is
    wrapped in :func:`idempotent`)."""
    return endpoint(
        rule,
        "POST",
        summary=summary,
        body=body,
        answer=answer,
        status=201,
        errors=(429, *errors),
        idempotent=True,
        **spec,
    )


def booking_action(
    rule: str,
    summary: str,
    body: type[Schema] | None = None,
    method: str = "POST",
    errors: tuple[int, ...] = (409,),
) -> Callable:
    """A change to one booking, answered with the booking (404 unknown, 409 not now)."""
    return endpoint(
        f"/bookings/<booking_id>{rule}",
        method,
        summary=summary,
        body=body,
        answer=s.BookingOut,
        errors=errors,
    )


# --- resources ------------------------------------------------------------------------------


@listing("/resources", "List resources", s.ResourceQuerySchema, s.ResourceOut, "resources")
def list_resources():
    query = query_args(s.ResourceQuerySchema())
    return jsonify(resources=RESOURCES_OUT.dump(resources.list_resources(ctx(), query)))


@creation("/resources", "Add a resource (admin)", s.ResourceInSchema, s.ResourceOut, role="admin")
@idempotent(
    models.Resource,
    reread=lambda key: created(answer_resource(key), "api.get_resource", resource_id=key),
)
def create_resource():
    resource = resources.create_resource(ctx(), current_principal(), json_body(RESOURCE_IN))
    return created(
        jsonify(RESOURCE_OUT.dump(resource)), "api.get_resource", resource_id=resource.id
    )


@endpoint("/resources/<resource_id>", "GET", summary="One resource", answer=s.ResourceOut)
def get_resource(resource_id: str):
    return answer_resource(resource_id)


@endpoint(
    "/resources/<resource_id>",
    "PATCH",
    summary="Change a resource (admin)",
    body=s.ResourceInSchema,
    answer=s.ResourceOut,
    role="admin",
)
def patch_resource(resource_id: str):
    cmd = json_body(RESOURCE_IN, partial=True)
    resource = resources.update_resource(ctx(), current_principal(), resource_id, cmd)
    return jsonify(RESOURCE_OUT.dump(resource))


@creation(
    "/resources/<resource_id>/closures",
    "Close a resource (409 listing approved bookings then, unless cancel_bookings)",
    s.ClosureInSchema,
    s.ClosureOut,
    errors=(409,),
)
@idempotent(models.Closure)
def add_closure(resource_id: str):
    closure = resources.add_closure(ctx(), current_principal(), resource_id, json_body(CLOSURE_IN))
    return jsonify(s.ClosureOut().dump(closure)), 201


@listing(
    "/resources/<resource_id>/closures",
    "A resource's closures (from now, a year ahead, unless from and to say)",
    s.ClosureQuerySchema,
    s.ClosureOut,
    "closures",
)
def list_closures(resource_id: str):
    span = query_args(s.ClosureQuerySchema())
    start = span.start or ctx().clock()
    end = span.end or start + CLOSURES_AHEAD
    found = resources.list_closures(ctx(), resource_id, start, end)
    return jsonify(closures=CLOSURES_OUT.dump(found))


@endpoint(
    "/resources/<resource_id>/closures/<closure_id>",
    "DELETE",
    summary="Open a resource again: remove a closure",
    status=204,
)
def remove_closure(resource_id: str, closure_id: str):
    resources.remove_closure(ctx(), current_principal(), resource_id, closure_id)
    return "", 204


# --- teams ------------------------------------------------------------------------------------


@listing("/teams", "List teams", None, s.TeamOut, "teams")
def list_teams():
    return jsonify(teams=TEAMS_OUT.dump(teams.list_teams(ctx())))


@creation("/teams", "Add a team (admin)", s.TeamInSchema, s.TeamOut, role="admin", errors=(409,))
@idempotent(
    models.Team, "slug", reread=lambda slug: created(answer_team(slug), "api.get_team", slug=slug)
)
def create_team():
    team = teams.create_team(ctx(), current_principal(), json_body(TEAM_IN))
    return created(jsonify(TEAM_OUT.dump(team)), "api.get_team", slug=team.slug)


@endpoint("/teams/<slug>", "GET", summary="One team", answer=s.TeamOut)
def get_team(slug: str):
    return answer_team(slug)


@endpoint(
    "/teams/<slug>",
    "PATCH",
    summary="Change a team (admin); its resources get resource.changed",
    body=s.TeamInSchema,
    answer=s.TeamOut,
    role="admin",
    errors=(409,),
)
def patch_team(slug: str):
    cmd = json_body(TEAM_IN, partial=True)
    return jsonify(TEAM_OUT.dump(teams.update_team(ctx(), current_principal(), slug, cmd)))


# --- my settings ------------------------------------------------------------------------------


@endpoint("/me/settings", "GET", summary="My settings (alerts)", answer=s.SettingsOut)
def my_settings():
    me = users.read_user(ctx().db, current_principal().user_id)
    return jsonify(SETTINGS_OUT.dump(me))


@endpoint(
    "/me/settings",
    "PATCH",
    summary="Change my settings: alerts each (a mail per request) or daily (a digest)",
    body=s.SettingsSchema,
    answer=s.SettingsOut,
)
def patch_my_settings():
    wanted = json_body(SETTINGS_IN)
    me = users.set_alerts(ctx().db, current_principal().user_id, wanted["alerts"])
    return jsonify(SETTINGS_OUT.dump(me))


@listing(
    "/resources/<resource_id>/busy",
    "A resource's busy blocks",
    s.RangeQuerySchema,
    s.BusyBlockOut,
    "busy",
)
def busy(resource_id: str):
    span = query_args(s.RangeQuerySchema())
    blocks = queries.busy_blocks(ctx(), current_principal(), resource_id, span.start, span.end)
    return jsonify(busy=s.BusyBlockOut(many=True).dump(blocks))


@listing(
    "/availability",
    "Resources free for a whole interval",
    s.AvailabilityQuerySchema,
    s.ResourceOut,
    "resources",
)
def availability():
    free = queries.find_available(ctx(), query_args(s.AvailabilityQuerySchema()))
    return jsonify(resources=RESOURCES_OUT.dump(free))


# --- bookings ---------------------------------------------------------------------------------


@creation(
    "/bookings",
    "Request resources for an event (429: the organiser's limits)",
    s.BookingInSchema,
    s.BookingOut,
    errors=(409, 429),
)
@idempotent(
    models.Booking,
    reread=lambda booking_id: created(
        answer_booking(read(booking_id)), "api.get_booking", booking_id=booking_id
    ),
)
def submit():
    booking = bookings.submit_booking(ctx(), current_principal(), json_body(BOOKING_IN))
    return created(answer_booking(booking), "api.get_booking", booking_id=booking.id)


@listing("/bookings", "List bookings", s.BookingQuerySchema, s.BookingOut, "bookings")
def list_bookings():
    found = queries.list_bookings(ctx(), current_principal(), query_args(s.BookingQuerySchema()))
    return jsonify(bookings=BOOKINGS_OUT.dump([read_by_me(b) for b in found]))


@endpoint("/bookings/<booking_id>", "GET", summary="One booking", answer=s.BookingOut)
def get_booking(booking_id: str):
    return answer_booking(read(booking_id))


@booking_action(
    "", "Change a booking (429: changed too often)", s.BookingInSchema, "PATCH", (409, 429)
)
def patch_booking(booking_id: str):
    cmd = json_body(BOOKING_IN, partial=True)
    return answer_booking(bookings.change_booking(ctx(), current_principal(), booking_id, cmd))


@booking_action("/approve", "Approve the lines of a request I decide", s.ApproveSchema)
def approve(booking_id: str):
    cmd = json_body(APPROVE_IN)
    approval = bookings.approve_booking(ctx(), current_principal(), booking_id, cmd)
    booking = read_by_me(approval.booking)
    return jsonify(APPROVAL_OUT.dump({**vars(booking), "competing": approval.competing}))


@booking_action("/reject", "Decline the lines of a request I decide", s.RejectSchema)
def reject(booking_id: str):
    cmd = json_body(REJECT_IN)
    return answer_booking(bookings.reject_booking(ctx(), current_principal(), booking_id, cmd))


@booking_action("/cancel", "Cancel a booking", s.ReasonSchema)
def cancel(booking_id: str):
    cmd = json_body(REASON_IN)
    return answer_booking(bookings.cancel_booking(ctx(), current_principal(), booking_id, cmd))


@booking_action("/occurrences/<int:n>/cancel", "Cancel one occurrence of a series", s.ReasonSchema)
def cancel_occurrence(booking_id: str, n: int):
    cmd = CancelOccurrence(n, json_body(REASON_IN).reason)
    return answer_booking(bookings.cancel_occurrence(ctx(), current_principal(), booking_id, cmd))


@endpoint(
    "/bookings/<booking_id>/history",
    "GET",
    summary="Who changed what, when",
    answer=s.HistoryOut,
    listed="history",
)
def history(booking_id: str):
    entries = queries.booking_history(ctx(), current_principal(), booking_id)
    return jsonify(history=s.HistoryOut(many=True).dump(entries))


@endpoint(
    "/queue",
    "GET",
    summary="Requests waiting for my decision",
    answer=s.BookingOut,
    listed="bookings",
)
def queue():
    waiting = queries.decision_queue(ctx(), current_principal())
    return jsonify(bookings=BOOKINGS_OUT.dump([read_by_me(item.booking) for item in waiting]))
