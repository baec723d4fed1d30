"""People and passwords in the JSON API (``/api/v1``, in the same OpenAPI document):
admins find, change and invite people; anyone may ask for a password reset and set a
password with a mailed link."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services.booking import schemas as s
from services.booking.entrypoints.api import created, ctx, endpoint
from services.booking.usecases import passwords, people
from shared.auth import current_principal
from shared.messages import Msg
from shared.problems import problem, word
from shared.requests import json_body, query_args

bp = Blueprint("users_api", __name__)

USER_OUT, USERS_OUT = s.UserOut(), s.UserOut(many=True)
QUERY, CHANGE, INVITE = s.PeopleQuerySchema(), s.PersonChangeSchema(), s.InviteSchema()
RESET, PASSWORD = s.ResetRequestSchema(), s.NewPasswordSchema()


def admins(rule: str, method: str, summary: str, **spec):
    return endpoint(rule, method, summary=summary, role="admin", blueprint=bp, **spec)


def anyone(rule: str, summary: str, **spec):
    """A POST for anyone; 403 while password login is off."""
    errors = (403, *spec.pop("errors", ()))
    return endpoint(rule, "POST", summary=summary, role=None, blueprint=bp, errors=errors, **spec)


def _password_login_off():
    if ctx().config.password_login:
        return None
    return problem(403, None, Msg("password_login_off"), code="password_login_off")


@admins(
    "/users",
    "GET",
    "Find people (admin)",
    query=s.PeopleQuerySchema,
    answer=s.UserOut,
    listed="users",
)
def list_users():
    found = people.list_people(ctx(), current_principal(), query_args(QUERY))
    return jsonify(users=USERS_OUT.dump(found))


@admins(
    "/users",
    "POST",
    "Invite someone by mail (admin): a link to choose a password, valid seven days, once",
    body=s.InviteSchema,
    answer=s.UserOut,
    status=201,
    errors=(409,),
)
def invite_user():
    person = people.invite_person(ctx(), current_principal(), json_body(INVITE))
    return created(jsonify(USER_OUT.dump(person)), "users_api.get_user", user_id=person.id)


@admins("/users/<user_id>", "GET", "One person (admin)", answer=s.UserOut)
def get_user(user_id: str):
    return jsonify(USER_OUT.dump(people.read_person(ctx(), current_principal(), user_id)))


@admins(
    "/users/<user_id>",
    "PATCH",
    "Change a person's name, role or activity (admin); 409 for the last active admin",
    body=s.PersonChangeSchema,
    answer=s.UserOut,
    errors=(409,),
)
def patch_user(user_id: str):
    change = json_body(CHANGE)
    person = people.change_person(ctx(), current_principal(), user_id, change)
    return jsonify(USER_OUT.dump(person))


@admins(
    "/users/<user_id>/invitation",
    "POST",
    "Mail the invitation again to someone who has no password yet (admin)",
    answer=s.UserOut,
    status=202,
    errors=(409,),
)
def invite_again(user_id: str):
    person = people.invite_again(ctx(), current_principal(), user_id)
    return jsonify(USER_OUT.dump(person)), 202


@anyone(
    "/password-reset",
    "Ask for a password reset link by mail (the same answer whether the address is known)",
    body=s.ResetRequestSchema,
    answer=s.ResetRequestedOut,
    status=202,
)
def request_reset():
    refused = _password_login_off()
    if refused is not None:
        return refused
    passwords.request_password_reset(ctx(), json_body(RESET)["email"])
    return jsonify(detail=word(Msg("reset_requested"))), 202


@anyone(
    "/password-reset/<token>",
    "Set a password with a mailed link, once (410 past its time, 409 used)",
    body=s.NewPasswordSchema,
    answer=s.PasswordSetOut,
    errors=(409, 410),
)
def set_password(token: str):
    refused = _password_login_off()
    if refused is not None:
        return refused
    done = passwords.set_password(ctx(), token, json_body(PASSWORD)["password"])
    return jsonify(email=done.email)
