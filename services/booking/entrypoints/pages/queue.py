"""The queue: requests with a line waiting for the visitor's decision (infra: every line; a
team member or manager: their resources'), soonest first, filtered by resource, kind and
date. Each request shows its lines, and approving from here approves the visitor's
waiting lines (as posted), only what collides with those counting against it."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from services.booking.domain import KINDS, decides
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, require
from services.booking.entrypoints.pages.forms.queue_filter import read_queue_filter
from services.booking.readmodels import QueueItem
from services.booking.usecases import queries, resources
from shared.auth import Principal
from shared.events import LineStatus


@bp.get("/queue")
@login_required
def queue_page():
    principal = actor()
    choosable = [
        r for r in resources.list_resources(ctx()) if principal.is_infra or decides(principal, r)
    ]
    require(principal.is_infra or bool(choosable))
    waiting = queries.decision_queue(ctx(), principal)
    filters, errors = read_queue_filter(request.args.to_dict())
    rows = [_row(item, principal) for item in waiting if filters.matches(item.booking)]
    return render_template(
        "booking/queue.html",
        rows=rows,
        total=len(waiting),
        filters=request.args,
        errors=errors,
        resources=choosable,
        kinds=KINDS,
    )


def _row(item: QueueItem, principal: Principal) -> dict[str, Any]:
    """One waiting request: its lines, the visitor's waiting ones (``mine``), and how many
    approved bookings and other requests collide with those."""
    booking = item.booking
    mine = [line for line in booking.lines_for(principal) if line.status is LineStatus.PENDING]
    ids = {line.resource_id for line in mine}
    waiting = [line for line in booking.lines if line.status is LineStatus.PENDING]
    return {
        "booking": booking,
        "lines": booking.lines,
        "mine": mine,
        "mine_ids": ids,
        "others_wait": len(waiting) > len(mine),
        "held": len({c.booking_id for c in item.held if c.resource_id in ids}),
        "competing": len({c.booking_id for c in item.competing if c.resource_id in ids}),
    }
