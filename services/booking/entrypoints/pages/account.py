"""Logging in and out. A login starts a fresh session (no fixation); ``next`` may only be a
path on this site (no open redirect). The page offers the university's account when single
sign-on is set up (``single_sign_on``), and the password form unless it is turned off."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import ctx, safe_next, t
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.entrypoints.session_api import LoginSchema
from services.booking.usecases.users import authenticate, record_login
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
    try:
        cmd = LOGIN.load(
            {"email": values["email"].strip(), "password": request.form.get("password", "")}
        )
    except ValidationError as exc:
        return login_form(target, values, flat(exc.messages)), 422
    principal = authenticate(ctx().db, cmd["email"], cmd["password"])
    if principal is None:
        return login_form(target, values, {"password": [Msg("wrong_login")]}), 401
    record_login(ctx().db, principal.user_id)
    login(principal)
    flash(t("welcome", name=principal.name), "ok")
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
