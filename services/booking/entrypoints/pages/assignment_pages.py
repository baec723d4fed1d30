"""Who does a line's job, from the request's page: a line's deciders choose a member of
its team or a supplier (one select: ``staff:<email>``, ``supplier:<id>`` or nobody) and
record the hours delivered, through the API's assignment schema and the same use case."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from services.booking.domain import InvalidTransition, RuleViolation
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, t
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.entrypoints.pages.request_pages import render_request
from services.booking.schemas import AssignmentSchema
from services.booking.usecases import assignments
from shared.schema import ValidationError

ASSIGNMENT = AssignmentSchema()


def assignment_body(form: Any) -> dict[str, Any]:
    """The form as the API's body: the chosen person or supplier (blank: nobody) and the
    hours (blank: as booked)."""
    chosen = (form.get("assignee") or "").strip()
    kind, _, key = chosen.partition(":")
    assignee: dict[str, str] | None = None
    if kind == "staff":
        assignee = {"kind": kind, "email": key}
    elif kind == "supplier":
        assignee = {"kind": kind, "supplier_id": key}
    elif chosen:
        assignee = {"kind": kind}  # refused by the schema, named
    hours = (form.get("hours_delivered") or "").strip().replace(",", ".")
    return {"assignee": assignee, "hours_delivered": hours or None}


@bp.post("/bookings/<booking_id>/lines/<resource_id>/assignment")
@login_required
def assign_line(booking_id: str, resource_id: str):
    key = f"assign-{resource_id}"
    try:
        cmd = ASSIGNMENT.load(assignment_body(request.form))
        booking = assignments.assign_line(ctx(), actor(), booking_id, resource_id, cmd)
    except ValidationError as exc:
        shown = [m for messages in flat(exc.messages).values() for m in messages]
        return render_request(booking_id, 422, errors={key: shown})
    except RuleViolation as exc:
        shown = [m for messages in exc.errors.values() for m in messages]
        return render_request(booking_id, 422, errors={key: shown})
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    flash(t("assignment_saved"), "ok")
    slug = next(
        (x.resource.slug for x in booking.lines if resource_id in (x.resource_id, x.resource.slug)),
        "",
    )
    return redirect(url_for("pages.request_page", booking_id=booking.id) + f"#line-{slug}")
