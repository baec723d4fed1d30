"""Logging in and out for scripts and the JSON API (the HTML login page uses the same
use case): ``POST /api/v1/session`` sets the shared session cookie."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from services.booking.usecases.users import authenticate, record_login
from shared.auth import login, logout
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
    db = current_app.extensions["evenemang"]["db"]
    principal = authenticate(db, cmd["email"], cmd["password"])
    if principal is None:
        return problem(401, None, Msg("wrong_login"))
    record_login(db, principal.user_id)
    login(principal)
    return jsonify(email=principal.email, name=principal.name, role=principal.role)


@bp.delete("/session")
def delete_session():
    logout()
    return "", 204
