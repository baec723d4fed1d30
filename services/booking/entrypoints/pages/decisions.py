"""Acting on one request from its page: approving, rejecting, withdrawing or cancelling it,
and cancelling one date of a series. A refused action shows the request again with why."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request, url_for

from services.booking.commands import CancelOccurrence
from services.booking.domain import InvalidTransition, SlotTaken
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, safe_next, t
from services.booking.entrypoints.pages.formatting import fdatetime
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.entrypoints.pages.request_pages import render_request
from services.booking.readmodels import BookingView
from services.booking.schemas import ReasonSchema, RejectSchema
from services.booking.usecases import bookings
from shared.messages import N_, Msg
from shared.schema import ValidationError

REJECT, REASON = RejectSchema(), ReasonSchema()
# A step with a reason: how the reason is read, the use case, where a refused reason is
# shown on the request's page, and what the page says when it is done.
WITH_REASON = {
    "reject": (REJECT, bookings.reject_booking, "reason", N_("rejected_flash")),
    "cancel": (REASON, bookings.cancel_booking, "cancel_reason", N_("cancelled_flash")),
}


def _act(
    booking_id: str,
    act: Callable[[str], BookingView],
    reason_at: str,
    done: Callable[[BookingView], str],
):
    """``act`` with the reason typed, then back with ``done``'s words; or the request's page
    saying why not (the reason beside the field ``reason_at``, or a step its state does not
    allow)."""
    reason = request.form.get("reason", "")
    try:
        booking = act(reason)
    except ValidationError as exc:
        errors = {reason_at: flat(exc.messages).get("reason", [])}
        return render_request(booking_id, 422, errors=errors, values={reason_at: reason})
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    return _back(booking, done(booking))


def _back(booking: BookingView, message: str):
    flash(message, "ok")
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
    return _back(approval.booking, message)


@bp.post("/bookings/<booking_id>/reject", endpoint="reject", defaults={"step": "reject"})
@bp.post("/bookings/<booking_id>/cancel", endpoint="cancel", defaults={"step": "cancel"})
@login_required
def decide_with_reason(booking_id: str, step: str):
    """Reject (a reason needed) or withdraw/cancel (a reason optional)."""
    schema, use_case, reason_at, done = WITH_REASON[step]

    def act(reason: str) -> BookingView:
        return use_case(ctx(), actor(), booking_id, schema.load({"reason": reason}))

    return _act(booking_id, act, reason_at, lambda b: t(done, title=b.title))


@bp.post("/bookings/<booking_id>/occurrences/<int:n>/cancel")
@login_required
def cancel_occurrence(booking_id: str, n: int):
    def act(reason: str) -> BookingView:
        cmd = CancelOccurrence(n, REASON.load({"reason": reason}).reason)
        return bookings.cancel_occurrence(ctx(), actor(), booking_id, cmd)

    def done(booking: BookingView) -> str:
        occurrence = next(o for o in booking.occurrences if o.n == n)
        return t("occurrence_cancelled_flash", when=fdatetime(occurrence.start))

    return _act(booking_id, act, "cancel_reason", done)
