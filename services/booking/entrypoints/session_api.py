"""Logging in and out for scripts and the JSON API (the HTML login page uses the same
use case): ``POST /api/v1/session`` sets the shared session cookie (429 with Retry-After
while the account or the address must wait), ``DELETE /api/v1/session`` ends it, and
``DELETE /api/v1/sessions`` ends every session of the caller (log out everywhere)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from services.booking.entrypoints.api import endpoint
from services.booking.usecases.logins import log_in
from services.booking.usecases.sessions import end_every_session
from services.booking.usecases.users import record_login
from shared.auth import current_principal, current_session, login, logout
from shared.messages import Msg
from shared.problems import problem
from shared.requests import json_body
from shared.schema import Schema, StrictSchema, fields, validate

bp = Blueprint("session_api", __name__)


class LoginSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=512))


class SessionOut(Schema):
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)


class EndedOut(Schema):
    ended = fields.Integer(required=True)


@endpoint(
    "/session",
    "POST",
    summary="Log in with a password: sets the session cookie (429 while one must wait)",
    role=None,
    body=LoginSchema,
    answer=SessionOut,
    errors=(401, 403, 429),
    blueprint=bp,
)
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


@endpoint(
    "/session", "DELETE", summary="Log out: this session ends", role=None, status=204, blueprint=bp
)
def delete_session():
    logout()
    return "", 204


@endpoint(
    "/sessions",
    "DELETE",
    summary="Log out everywhere: every session of mine ends (API tokens keep working)",
    answer=EndedOut,
    blueprint=bp,
)
def delete_sessions():
    """Log out everywhere: every session of the caller ends (API tokens keep working)."""
    ctx = current_app.extensions["booking_context"]
    ended = end_every_session(ctx.db, current_principal().user_id, ctx.clock())
    if current_session() is not None:
        logout()  # this one ended with the rest: clear its cookie too
    return jsonify(ended=ended)
