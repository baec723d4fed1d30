"""Booking's JSON API (``/api/v1``): routes of a few lines over the use cases."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from services.booking import schemas as s
from services.booking.commands import CancelOccurrence
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases import bookings, queries, resources
from services.booking.views import BookingView
from shared.auth import current_principal, require_role
from shared.openapi import ApiDoc
from shared.requests import json_body, query_args

bp = Blueprint("api", __name__)
doc = ApiDoc(title="Evenemang booking API")
doc.blueprint_route(bp, "/api/v1")

BOOKING_OUT, BOOKINGS_OUT, APPROVAL_OUT = s.BookingOut(), s.BookingOut(many=True), s.ApprovalOut()
RESOURCE_OUT, RESOURCES_OUT = s.ResourceOut(), s.ResourceOut(many=True)
BOOKING_IN, RESOURCE_IN = s.BookingInSchema(), s.ResourceInSchema()
REASON_IN, REJECT_IN, CLOSURE_IN = s.ReasonSchema(), s.RejectSchema(), s.ClosureInSchema()


def ctx() -> Context:
    return current_app.extensions["booking_context"]


def answer_booking(booking: BookingView, status: int = 200):
    return jsonify(BOOKING_OUT.dump(booking)), status


# --- resources ------------------------------------------------------------------------------


@doc.route(
    bp,
    "/resources",
    "GET",
    summary="List resources",
    query=s.ResourceQuerySchema,
    answer=s.ResourceOut,
    many=True,
)
@require_role()
def list_resources():
    query = query_args(s.ResourceQuerySchema())
    return jsonify(resources=RESOURCES_OUT.dump(resources.list_resources(ctx(), query)))


@doc.route(
    bp,
    "/resources",
    "POST",
    summary="Add a resource (admin)",
    body=s.ResourceInSchema,
    answer=s.ResourceOut,
    status=201,
)
@require_role("admin")
def create_resource():
    resource = resources.create_resource(ctx(), current_principal(), json_body(RESOURCE_IN))
    return jsonify(RESOURCE_OUT.dump(resource)), 201


@doc.route(
    bp,
    "/resources/<resource_id>",
    "GET",
    summary="One resource",
    answer=s.ResourceOut,
    errors=(404,),
)
@require_role()
def get_resource(resource_id: str):
    return jsonify(RESOURCE_OUT.dump(resources.read_resource(ctx(), resource_id)))


@doc.route(
    bp,
    "/resources/<resource_id>",
    "PATCH",
    summary="Change a resource (admin)",
    body=s.ResourceInSchema,
    answer=s.ResourceOut,
    errors=(404,),
)
@require_role("admin")
def patch_resource(resource_id: str):
    cmd = json_body(RESOURCE_IN, partial=True)
    resource = resources.update_resource(ctx(), current_principal(), resource_id, cmd)
    return jsonify(RESOURCE_OUT.dump(resource))


@doc.route(
    bp,
    "/resources/<resource_id>/closures",
    "POST",
    summary="Close a resource",
    body=s.ClosureInSchema,
    answer=s.ClosureOut,
    status=201,
    errors=(404,),
)
@require_role()
def add_closure(resource_id: str):
    closure = resources.add_closure(ctx(), current_principal(), resource_id, json_body(CLOSURE_IN))
    return jsonify(s.ClosureOut().dump(closure)), 201


@doc.route(
    bp,
    "/resources/<resource_id>/busy",
    "GET",
    summary="A resource's busy blocks",
    query=s.RangeQuerySchema,
    answer=s.BusyBlockOut,
    many=True,
    errors=(404,),
)
@require_role()
def busy(resource_id: str):
    span = query_args(s.RangeQuerySchema())
    blocks = queries.busy_blocks(ctx(), current_principal(), resource_id, span.start, span.end)
    return jsonify(busy=s.BusyBlockOut(many=True).dump(blocks))


@doc.route(
    bp,
    "/availability",
    "GET",
    summary="Resources free for a whole interval",
    query=s.AvailabilityQuerySchema,
    answer=s.ResourceOut,
    many=True,
)
@require_role()
def availability():
    free = queries.find_available(ctx(), query_args(s.AvailabilityQuerySchema()))
    return jsonify(resources=RESOURCES_OUT.dump(free))


# --- bookings ---------------------------------------------------------------------------------


@doc.route(
    bp,
    "/bookings",
    "POST",
    summary="Request resources for an event",
    body=s.BookingInSchema,
    answer=s.BookingOut,
    status=201,
    errors=(409,),
)
@require_role()
def submit():
    booking = bookings.submit_booking(ctx(), current_principal(), json_body(BOOKING_IN))
    return answer_booking(booking, 201)


@doc.route(
    bp,
    "/bookings",
    "GET",
    summary="List bookings",
    query=s.BookingQuerySchema,
    answer=s.BookingOut,
    many=True,
)
@require_role()
def list_bookings():
    found = queries.list_bookings(ctx(), current_principal(), query_args(s.BookingQuerySchema()))
    return jsonify(bookings=BOOKINGS_OUT.dump(found))


@doc.route(
    bp, "/bookings/<booking_id>", "GET", summary="One booking", answer=s.BookingOut, errors=(404,)
)
@require_role()
def get_booking(booking_id: str):
    return answer_booking(queries.read_booking(ctx(), current_principal(), booking_id))


@doc.route(
    bp,
    "/bookings/<booking_id>",
    "PATCH",
    summary="Change a booking",
    body=s.BookingInSchema,
    answer=s.BookingOut,
    errors=(404, 409),
)
@require_role()
def patch_booking(booking_id: str):
    cmd = json_body(BOOKING_IN, partial=True)
    return answer_booking(bookings.change_booking(ctx(), current_principal(), booking_id, cmd))


@doc.route(
    bp,
    "/bookings/<booking_id>/approve",
    "POST",
    summary="Approve a request",
    answer=s.BookingOut,
    errors=(404, 409),
)
@require_role()
def approve(booking_id: str):
    approval = bookings.approve_booking(ctx(), current_principal(), booking_id)
    return jsonify(APPROVAL_OUT.dump({**vars(approval.booking), "competing": approval.competing}))


@doc.route(
    bp,
    "/bookings/<booking_id>/reject",
    "POST",
    summary="Reject a request",
    body=s.RejectSchema,
    answer=s.BookingOut,
    errors=(404, 409),
)
@require_role()
def reject(booking_id: str):
    cmd = json_body(REJECT_IN)
    return answer_booking(bookings.reject_booking(ctx(), current_principal(), booking_id, cmd))


@doc.route(
    bp,
    "/bookings/<booking_id>/cancel",
    "POST",
    summary="Cancel a booking",
    body=s.ReasonSchema,
    answer=s.BookingOut,
    errors=(404, 409),
)
@require_role()
def cancel(booking_id: str):
    cmd = json_body(REASON_IN)
    return answer_booking(bookings.cancel_booking(ctx(), current_principal(), booking_id, cmd))


@doc.route(
    bp,
    "/bookings/<booking_id>/occurrences/<int:n>/cancel",
    "POST",
    summary="Cancel one occurrence of a series",
    body=s.ReasonSchema,
    answer=s.BookingOut,
    errors=(404, 409),
)
@require_role()
def cancel_occurrence(booking_id: str, n: int):
    cmd = CancelOccurrence(n, json_body(REASON_IN).reason)
    return answer_booking(bookings.cancel_occurrence(ctx(), current_principal(), booking_id, cmd))


@doc.route(
    bp,
    "/bookings/<booking_id>/history",
    "GET",
    summary="Who changed what, when",
    answer=s.HistoryOut,
    many=True,
    errors=(404,),
)
@require_role()
def history(booking_id: str):
    entries = queries.booking_history(ctx(), current_principal(), booking_id)
    return jsonify(history=s.HistoryOut(many=True).dump(entries))


@doc.route(
    bp, "/queue", "GET", summary="Requests waiting for my decision", answer=s.BookingOut, many=True
)
@require_role()
def queue():
    waiting = queries.decision_queue(ctx(), current_principal())
    return jsonify(bookings=BOOKINGS_OUT.dump([item.booking for item in waiting]))
