"""Forgotten passwords and invitations: asking for a reset link (the same confirmation
whatever the address), and choosing a password with a mailed link — once, in its time; a
link that no longer works says why. Only while password login is on."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from services.booking.domain.people import PasswordLinkRefused
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import ctx, t
from services.booking.entrypoints.pages.errors import error_page
from services.booking.entrypoints.pages.forms.people import PASSWORD, RESET, read
from services.booking.usecases import passwords
from shared.messages import Msg

LINK_STATUS = {"invalid": 404, "expired": 410, "used": 409, "inactive": 409}


def _password_login_off():
    if ctx().config.password_login:
        return None
    return error_page(403, [Msg("password_login_off")])


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    refused = _password_login_off()
    if refused is not None:
        return refused
    if request.method == "GET":
        return render_template("booking/password_forgot.html", values={}, errors={})
    asked, errors = read(RESET, request.form)
    if asked is None:
        values = {"email": request.form.get("email", "")}
        return render_template("booking/password_forgot.html", values=values, errors=errors), 422
    passwords.request_password_reset(ctx(), asked["email"])
    return redirect(url_for("pages.reset_requested"))


@bp.get("/password/forgot/sent")
def reset_requested():
    return render_template("booking/password_forgot_sent.html")


def _private(page: str, status: int = 200):
    """A page whose address holds a link's token: not kept by caches, not sent on as a
    referrer."""
    return page, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _dead_link(refused: PasswordLinkRefused):
    page = render_template(
        "booking/password_link_dead.html", reason=refused.reason, message=refused.message
    )
    return _private(page, LINK_STATUS[refused.reason])


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    refused = _password_login_off()
    if refused is not None:
        return refused
    try:
        link = passwords.check_link(ctx(), token)
    except PasswordLinkRefused as dead:
        return _dead_link(dead)
    if request.method == "GET":
        page = render_template("booking/password_reset.html", link=link, token=token, errors={})
        return _private(page)
    chosen, errors = read(PASSWORD, {"password": request.form.get("password", "")})
    if chosen is not None and request.form.get("password_again") != chosen["password"]:
        chosen, errors = None, {"password_again": [Msg("passwords_differ")]}
    if chosen is None:
        page = render_template("booking/password_reset.html", link=link, token=token, errors=errors)
        return _private(page, 422)
    try:
        done = passwords.set_password(ctx(), token, chosen["password"])
    except PasswordLinkRefused as dead:  # used a moment ago in another tab
        return _dead_link(dead)
    flash(t("password_set", email=done.email), "ok")
    return redirect(url_for("pages.login_page"))
