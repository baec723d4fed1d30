"""Logging in and out for scripts and the JSON API (the HTML login page uses the same
use case): ``POST /api/v1/session`` sets the shared session cookie (429 with Retry-After
while the account or the address must wait), ``DELETE /api/v1/session`` ends it, and
``DELETE /api/v1/sessions`` ends every session of the caller (log out everywhere)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from services.booking.usecases.logins import log_in
from services.booking.usecases.sessions import end_every_session
from services.booking.usecases.users import record_login
from shared.auth import current_principal, current_session, login, logout, require_role
from shared.messages import Msg
from shared.problems import problem
from shared.requests import json_body
from shared.schema import StrictSchema, fields, validate

bp = Blueprint("session_api", __name__)


class LoginSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=512))


@bp.post("/session")
def create_session():
    if not current_app.extensions["evenemang"]["config"].password_login:
        return problem(403, None, Msg("password_login_off"), code="password_login_off")
    cmd = json_body(LoginSchema())
    ctx = current_app.extensions["booking_context"]
    gate = current_app.extensions["login_gate"]
    principal = log_in(ctx, gate, cmd["email"], cmd["password"], request.remote_addr)
    if principal is None:
        return problem(401, None, Msg("wrong_login"))
    record_login(ctx.db, principal.user_id)
    login(principal)
    return jsonify(email=principal.email, name=principal.name, role=principal.role)


@bp.delete("/session")
def delete_session():
    logout()
    return "", 204


@bp.delete("/sessions")
@require_role()
def delete_sessions():
    """Log out everywhere: every session of the caller ends (API tokens keep working)."""
    ctx = current_app.extensions["booking_context"]
    ended = end_every_session(ctx.db, current_principal().user_id, ctx.clock())
    if current_session() is not None:
        logout()  # this one ended with the rest: clear its cookie too
    return jsonify(ended=ended)
