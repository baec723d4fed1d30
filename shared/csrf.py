"""CSRF protection: a per-session secret, a hidden field in every form, and a check on every
unsafe request that rides on the session cookie, unless it is JSON (browsers cannot send
JSON cross-site without a CORS preflight; the cookie is also SameSite=Lax) or carries a
bearer token."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

FIELD = "csrf_token"


def csrf_token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def init_csrf(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check() -> None:
        if request.method != "POST":
            return  # other unsafe methods cannot be sent cross-site without a preflight
        if request.authorization is not None or request.headers.get("Authorization"):
            return  # a bearer token is no ambient credential: nothing to forge
        if (
            request.mimetype == "application/json"
            or app.config["SESSION_COOKIE_NAME"] not in request.cookies
        ):
            return  # JSON cannot be sent cross-site without a preflight; no cookie, no session
        sent = request.form.get(FIELD, "")
        expected = session.get(FIELD, "")
        if not expected or not hmac.compare_digest(sent, expected):
            abort(400, "The form expired or did not come from this site; reload and try again.")
