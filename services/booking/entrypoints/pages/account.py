"""Logging in and out. A login starts a fresh session (no fixation); ``next`` may only be a
path on this site (no open redirect). The page offers the university's account when single
sign-on is set up (``single_sign_on``), and the password form unless it is turned off.
Failed logins make the account and the address wait (429 with Retry-After, the page saying
how long); logging out ends the session on every service, logging out everywhere (from the
settings page) every session of the person."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.booking.domain import LoginThrottled
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, safe_next, t
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.entrypoints.session_api import LoginSchema
from services.booking.usecases.logins import log_in, refuse_if_told
from services.booking.usecases.sessions import end_every_session
from services.booking.usecases.users import record_login
from shared.auth import current_principal, login, logout
from shared.messages import Msg

LOGIN = LoginSchema()


def login_form(target: str | None, values=None, errors=None, refused: bool = False) -> str:
    config = ctx().config
    return render_template(
        "booking/login.html",
        next=target,
        values=values or {},
        errors=errors or {},
        sso=config.oidc_enabled,
        password_login=config.password_login,
        refused=refused,
    )


@bp.route("/login", methods=["GET", "POST"])
def login_page():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return login_form(target)
    if not ctx().config.password_login:
        return login_form(target, refused=True), 403
    values = {"email": request.form.get("email", "")}
    gate = current_app.extensions["login_gate"]
    try:
        refuse_if_told(ctx(), gate, values["email"], request.remote_addr)
    except LoginThrottled as exc:
        # Told to wait and back sooner (a guesser, mostly): a short page, before anything
        # else is read or checked.
        page = render_template("booking/login_wait.html", message=exc.message)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    try:
        cmd = LOGIN.load(
            {"email": values["email"].strip(), "password": request.form.get("password", "")}
        )
    except ValidationError as exc:
        return login_form(target, values, flat(exc.messages)), 422
    try:
        principal = log_in(ctx(), gate, cmd["email"], cmd["password"], request.remote_addr)
    except LoginThrottled as exc:
        page = login_form(target, values, {"password": [exc.message]})
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if principal is None:
        return login_form(target, values, {"password": [Msg("wrong_login")]}), 401
    record_login(ctx().db, principal.user_id)
    login(principal)
    flash(t("welcome"), "ok")  # no name: the cookie carries it to the next page
    return redirect(target or url_for("pages.home"))


@bp.get("/logout")
def logout_page():
    if current_principal() is None:
        return redirect(url_for("pages.login_page"))
    return render_template("booking/logout.html")


@bp.post("/logout")
def logout_now():
    logout()
    flash(t("logged_out"), "ok")
    return redirect(url_for("pages.login_page"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """Every session of mine ends, on all three services; API tokens keep working."""
    ended = end_every_session(ctx().db, actor().user_id, ctx().clock())
    logout()
    flash(t("logged_out_everywhere", n=ended), "ok")
    return redirect(url_for("pages.login_page"))
