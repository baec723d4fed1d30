"""Acting on one request from its page: approving, rejecting, withdrawing or cancelling it,
and cancelling one date of a series. A refused action shows the request again with why."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from services.booking.commands import CancelOccurrence
from services.booking.domain import InvalidTransition, SlotTaken
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, safe_next, t
from services.booking.entrypoints.pages.formatting import fdatetime
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.entrypoints.pages.request_pages import render_request
from services.booking.schemas import ReasonSchema, RejectSchema
from services.booking.usecases import bookings
from services.booking.views import BookingView
from shared.messages import Msg
from shared.schema import ValidationError

REJECT, REASON = RejectSchema(), ReasonSchema()


def _back(booking: BookingView):
    return redirect(
        safe_next(request.form.get("next")) or url_for("pages.request_page", booking_id=booking.id)
    )


@bp.post("/bookings/<booking_id>/approve")
@login_required
def approve(booking_id: str):
    try:
        approval = bookings.approve_booking(ctx(), actor(), booking_id)
    except SlotTaken as exc:
        return render_request(
            booking_id, 409, action_error=Msg("approve_taken"), taken=exc.conflicts
        )
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    message = t("approved_flash", title=approval.booking.title)
    if approval.competing:
        count = len({c.booking_id for c in approval.competing})
        message += " " + t("competing_left", count=count)
    flash(message, "ok")
    return _back(approval.booking)


@bp.post("/bookings/<booking_id>/reject")
@login_required
def reject(booking_id: str):
    reason = request.form.get("reason", "")
    try:
        cmd = REJECT.load({"reason": reason})
        booking = bookings.reject_booking(ctx(), actor(), booking_id, cmd)
    except ValidationError as exc:
        return render_request(booking_id, 422, errors=flat(exc.messages), values={"reason": reason})
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    flash(t("rejected_flash", title=booking.title), "ok")
    return _back(booking)


@bp.post("/bookings/<booking_id>/cancel")
@login_required
def cancel(booking_id: str):
    try:
        cmd = REASON.load({"reason": request.form.get("reason", "")})
        booking = bookings.cancel_booking(ctx(), actor(), booking_id, cmd)
    except ValidationError as exc:
        errors = {"cancel_reason": flat(exc.messages).get("reason", [])}
        return render_request(booking_id, 422, errors=errors)
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    flash(t("cancelled_flash", title=booking.title), "ok")
    return _back(booking)


@bp.post("/bookings/<booking_id>/occurrences/<int:n>/cancel")
@login_required
def cancel_occurrence(booking_id: str, n: int):
    try:
        reason = REASON.load({"reason": request.form.get("reason", "")}).reason
        cmd = CancelOccurrence(n, reason)
        booking = bookings.cancel_occurrence(ctx(), actor(), booking_id, cmd)
    except ValidationError:
        return render_request(booking_id, 422)
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    occurrence = next(o for o in booking.occurrences if o.n == n)
    flash(t("occurrence_cancelled_flash", when=fdatetime(occurrence.start)), "ok")
    return _back(booking)
