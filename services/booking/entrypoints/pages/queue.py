"""The queue: requests waiting for the visitor's decision (infra: all; a manager: their
resources'), soonest first, filtered by resource, kind and date."""

from __future__ import annotations

from datetime import date

from flask import render_template, request

from services.booking.domain import KINDS
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import (
    actor,
    ctx,
    login_required,
    managed_resource_ids,
    require,
)
from services.booking.entrypoints.pages.formatting import local, localise_errors
from services.booking.entrypoints.pages.forms import read_queue_filter
from services.booking.usecases import queries, resources


@bp.get("/queue")
@login_required
def queue_page():
    principal = actor()
    managed = managed_resource_ids(principal)
    require(principal.is_infra or bool(managed))
    waiting = queries.decision_queue(ctx(), principal)
    filters, errors = read_queue_filter(request.args.to_dict())
    rows = [
        {
            "booking": item.booking,
            "held": len({c.booking_id for c in item.held}),
            "competing": len({c.booking_id for c in item.competing}),
            "decides": item.decides,
        }
        for item in waiting
        if _matches(item.booking, filters)
    ]
    choosable = [
        r for r in resources.list_resources(ctx()) if principal.is_infra or r.id in managed
    ]
    return render_template(
        "booking/queue.html",
        rows=rows,
        total=len(waiting),
        filters=request.args,
        errors=localise_errors(errors),
        resources=choosable,
        kinds=KINDS,
    )


def _matches(booking, filters) -> bool:
    if "resource" in filters and not any(
        filters["resource"] in (r.id, r.slug) for r in booking.resources
    ):
        return False
    if "kind" in filters and not any(r.kind == filters["kind"] for r in booking.resources):
        return False
    low, high = filters.get("from_", date.min), filters.get("to", date.max)
    return any(
        low <= local(o.start).date() <= high for o in booking.occurrences if o.status == "active"
    )
