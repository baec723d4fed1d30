"""Deciding from a mail's link, ``/decide/{token}``: no login, the link is the credential.

GET shows what the link would do (the request, its lines, the action; a reason field for a
rejection) and changes nothing: mail scanners and link previews follow links. POST does
it, as the link's decider, once, and only while the request is as the mail found it. A
token that is too long, forged or cut short gets a page that says no more than that; an
expired, used or outdated link says so and links to the request; an address that no
longer decides gets a 403 page."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from services.booking.domain import Forbidden, InvalidTransition, SlotTaken
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import ctx
from services.booking.entrypoints.pages.errors import error_page
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.readmodels import BookingView, LinkState, LinkView
from services.booking.schemas import RejectSchema
from services.booking.usecases import links
from shared import decision_links
from shared.auth import secret_key
from shared.decision_links import Action, DecisionLink, LinkExpired, LinkInvalid
from shared.i18n import current_language
from shared.messages import Msg
from shared.schema import ValidationError

MAX_TOKEN = 1024  # a signed link is a few hundred characters; refuse more before reading it
REJECT = RejectSchema()
# How each state of a link answers.
STATUS = {"ready": 200, "done": 200, "used": 409, "changed": 409, "taken": 409, "expired": 410}


@bp.route("/decide/<token>", methods=["GET", "POST"])
def decide_link(token: str):
    if len(token) > MAX_TOKEN:
        return private(error_page(400))
    try:
        link = decision_links.read(secret_key(), token, now=ctx().clock())
    except LinkInvalid:
        return private(error_page(404))
    except LinkExpired as exc:
        return _page("expired", exc.link)
    try:
        shown = links.open_link(ctx(), link)
    except Forbidden as exc:
        return private(error_page(403, [exc.message]))
    if request.method != "POST" or shown.state is not LinkState.READY:
        return _page(shown.state.value, link, shown)  # GET and HEAD (Flask's) only read
    return _decide(link, shown)


def _decide(link: DecisionLink, shown: LinkView):
    """The link's decision, or the confirmation again saying why not."""
    reason = request.form.get("reason", "")
    if link.action is Action.REJECT:
        try:
            reason = REJECT.load({"reason": reason}).reason
        except ValidationError as exc:
            errors = {"reason": flat(exc.messages).get("reason", [])}
            return _page("ready", link, shown, 422, errors=errors, values={"reason": reason})
    try:
        after = links.decide_by_link(ctx(), link, reason)
    except SlotTaken:
        return _page("taken", link, shown)
    except InvalidTransition as exc:  # used or outdated meanwhile: say which, as a GET would
        shown = links.open_link(ctx(), link)
        if shown.state is LinkState.READY:  # as it was, but a rule refuses (a closure since)
            return _page("ready", link, shown, 409, refusal=exc.message)
        return _page(shown.state.value, link, shown)
    return _page("done", link, shown, booking=after)


def _page(
    state: str,
    link: DecisionLink,
    shown: LinkView | None = None,
    status: int | None = None,
    *,
    booking: BookingView | None = None,
    **form: Any,
):
    """The link's page in one of its states (``ready``: the confirmation; ``done``;
    ``used``, ``changed``, ``expired``, ``taken``: why not, with a way to the request)."""
    booking = booking or (shown.booking if shown else None)
    theirs = {x.resource_id for x in shown.lines} if shown else set()  # of those it names
    lines = tuple(x for x in booking.lines if x.resource_id in theirs) if booking else ()
    page = render_template(
        "booking/decide.html",
        state=state,
        link=link,
        shown=shown,
        booking=booking,
        lines=lines,
        names=", ".join(line.resource.named(current_language()) for line in lines),
        errors=form.get("errors", {}),
        values=form.get("values", {}),
        action_error=Msg("approve_taken") if state == "taken" else form.get("refusal"),
    )
    return private((page, status or STATUS[state]))


def private(answer):
    """A link's page is for the one it was sent to: kept by no cache, and its address (the
    token) sent on to no other site as a referrer."""
    body, status = answer
    return body, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
