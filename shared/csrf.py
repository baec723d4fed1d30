"""CSRF protection for HTML forms: a per-session secret, a hidden field in every form, and a
check on every unsafe form request. JSON requests are not forms: browsers cannot send them
cross-site without a CORS preflight, and the session cookie is SameSite=Lax."""

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
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return
        sent = request.form.get(FIELD, "")
        expected = session.get(FIELD, "")
        if not expected or not hmac.compare_digest(sent, expected):
            abort(400, "The form expired or did not come from this site; reload and try again.")
