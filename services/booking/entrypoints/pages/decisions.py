"""Acting on one request from its page: approving or rejecting its lines (those a form posts
as ``resource_ids``, else every line the reader decides), withdrawing or cancelling it,
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
from services.booking.schemas import ApproveSchema, ReasonSchema, RejectSchema
from services.booking.usecases import bookings
from shared.events import Status
from shared.messages import N_, Msg
from shared.schema import ValidationError

APPROVE, REJECT, REASON = ApproveSchema(), RejectSchema(), ReasonSchema()


def _lines_posted() -> dict[str, list[str]]:
    """The lines a decision form is about (``resource_ids``), when it names them."""
    chosen = [key for key in request.form.getlist("resource_ids") if key.strip()]
    return {"resource_ids": chosen} if chosen else {}


def _decided(booking: BookingView, whole: Status, whole_words: str, part_words: str) -> str:
    """What the page says after a decision: the booking's new status when the decision
    settled it; else that the reader's part is decided and the rest goes on."""
    return t(whole_words if booking.status == whole else part_words, title=booking.title)


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
        found = flat(exc.messages)
        shown = found.get("reason") or [m for messages in found.values() for m in messages]
        return render_request(
            booking_id, 422, errors={reason_at: shown}, values={reason_at: reason}
        )
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
        cmd = APPROVE.load(_lines_posted())
        approval = bookings.approve_booking(ctx(), actor(), booking_id, cmd)
    except SlotTaken as exc:
        return render_request(
            booking_id, 409, action_error=Msg("approve_taken"), taken=exc.conflicts
        )
    except InvalidTransition as exc:
        return render_request(booking_id, 409, action_error=exc.message)
    message = _decided(
        approval.booking, Status.APPROVED, N_("approved_flash"), N_("lines_approved_flash")
    )
    if approval.competing:
        count = len({c.booking_id for c in approval.competing})
        message += " " + t("competing_left", count=count)
    return _back(approval.booking, message)


@bp.post("/bookings/<booking_id>/reject")
@login_required
def reject(booking_id: str):
    """Decline lines with a reason (required). A refused reason is shown beside the form
    that sent it: the one for all the reader's lines, or one line's (its ``part``)."""

    def act(reason: str) -> BookingView:
        cmd = REJECT.load({"reason": reason, **_lines_posted()})
        return bookings.reject_booking(ctx(), actor(), booking_id, cmd)

    def done(booking: BookingView) -> str:
        return _decided(booking, Status.REJECTED, N_("rejected_flash"), N_("lines_declined_flash"))

    part = request.form.get("part", "").strip()
    return _act(booking_id, act, f"reason-{part}" if part else "reason", done)


@bp.post("/bookings/<booking_id>/cancel")
@login_required
def cancel(booking_id: str):
    """Withdraw or cancel (a reason optional)."""

    def act(reason: str) -> BookingView:
        cmd = REASON.load({"reason": reason})
        return bookings.cancel_booking(ctx(), actor(), booking_id, cmd)

    return _act(booking_id, act, "cancel_reason", lambda b: t("cancelled_flash", title=b.title))


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
