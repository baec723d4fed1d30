"""The queue: requests waiting for the visitor's decision (infra: all; a manager: their
resources'), soonest first, filtered by resource, kind and date."""

from __future__ import annotations

from flask import render_template, request

from services.booking.domain import KINDS
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, require
from services.booking.entrypoints.pages.forms.queue_filter import read_queue_filter
from services.booking.usecases import queries, resources


@bp.get("/queue")
@login_required
def queue_page():
    principal = actor()
    email = principal.email.lower()
    choosable = [
        r for r in resources.list_resources(ctx()) if principal.is_infra or email in r.managers
    ]
    require(principal.is_infra or bool(choosable))
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
        if filters.matches(item.booking)
    ]
    return render_template(
        "booking/queue.html",
        rows=rows,
        total=len(waiting),
        filters=request.args,
        errors=errors,
        resources=choosable,
        kinds=KINDS,
    )
