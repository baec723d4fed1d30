"""Opting out of being photographed or filmed, ``/optout/{token}``: no login, the personal
link in a participant's invitation or reminder is the credential.

GET shows what the link would do (the event's title and date, a confirm button) and changes
nothing: mail scanners and link previews follow links. POST records the opt-out (once:
again changes nothing) or, with ``undo``, takes it back. The page speaks the mail's
language. A token that is too long, forged or cut short gets a 404 page that says no more;
an event that is over or cancelled says so."""

from __future__ import annotations

from flask import g, render_template, request

from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import ctx
from services.booking.entrypoints.pages.decide import MAX_TOKEN, private
from services.booking.entrypoints.pages.errors import error_page
from services.booking.readmodels import OptOutState, OptOutView
from services.booking.usecases import optouts
from shared import optout_links
from shared.auth import secret_key
from shared.optout_links import LinkInvalid

# How each state answers: the page that can act is 200; one that no longer can, 410.
STATUS = {state: 200 if state.open else 410 for state in OptOutState}


@bp.route("/optout/<token>", methods=["GET", "POST"])
def opt_out_link(token: str):
    if len(token) > MAX_TOKEN:
        return private(error_page(400))
    try:
        link = optout_links.read(secret_key(), token)
    except LinkInvalid:
        return private(error_page(404))
    if not request.args.get("lang"):
        g.language = link.language  # the mail's language, unless the reader chose one
    if request.method != "POST":  # GET and HEAD (Flask's) only read
        return _page(optouts.open_opt_out(ctx(), link))
    undo = request.form.get("undo") == "1"
    shown = optouts.set_opt_out(ctx(), link, opted_out=not undo)
    return _page(shown, done="undone" if undo else "done")


def _page(shown: OptOutView, done: str = ""):
    """The link's page in its state; ``done`` says what this POST did."""
    page = render_template("booking/optout.html", shown=shown, done=done)
    return private((page, STATUS[shown.state]))
