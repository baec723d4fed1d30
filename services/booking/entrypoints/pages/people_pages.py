"""People (admins): the list with search, role, activity, teams and last login; one
person's page (name and role, deactivate or reactivate, the invitation again); inviting
someone by mail. The same use cases as ``/api/v1/users``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.commands import ChangePerson
from services.booking.domain import AlreadyExists
from services.booking.domain.people import PersonConflict
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, require, t
from services.booking.entrypoints.pages.forms.errors import Errors
from services.booking.entrypoints.pages.forms.people import (
    INVITE,
    PAGE_SIZE,
    PERSON,
    read,
    read_filter,
)
from services.booking.entrypoints.pages.single_sign_on import group_rules
from services.booking.entrypoints.pages.words import word
from services.booking.readmodels import PersonView
from services.booking.usecases import people
from shared.events import LANGUAGES, ROLES, Role
from shared.i18n import current_language
from shared.messages import N_, Msg


def _roles() -> list[tuple[str, str]]:
    return [(role.value, word(role.value, "role")) for role in ROLES]


def _admin() -> None:
    require(actor().is_admin)


@bp.get("/users")
@login_required
def users_page():
    _admin()
    query, errors = read_filter(request.args)
    found = people.list_people(ctx(), actor(), query)
    return render_template(
        "booking/users.html",
        people=found,
        filters=request.args,
        errors=errors,
        roles=_roles(),
        more=len(found) >= PAGE_SIZE,
    ), 422 if errors else 200


def _person_page(
    person: PersonView,
    status: int = 200,
    values: MultiDict | dict | None = None,
    errors: Errors | None = None,
    action_error: Msg | None = None,
):
    rules = group_rules()
    return render_template(
        "booking/user.html",
        person=person,
        values=values or {"name": person.name, "role": person.role.value},
        errors=errors or {},
        action_error=action_error,
        roles=_roles(),
        groups_decide_role=person.sso and rules.configured,
        is_me=person.id == actor().user_id,
    ), status


@bp.get("/users/<user_id>")
@login_required
def user_page(user_id: str):
    _admin()
    return _person_page(people.read_person(ctx(), actor(), user_id))


def _change(user_id: str, change: ChangePerson, done: str):
    """Apply a change, then back to the person (to the login page when the admin
    deactivated themself, home when they stepped down); a refusal shows the person's page
    saying why."""
    try:
        person = people.change_person(ctx(), actor(), user_id, change)
    except PersonConflict as exc:
        person = people.read_person(ctx(), actor(), user_id)
        if exc.field == "active":
            return _person_page(person, 409, action_error=exc.message)
        return _person_page(person, 409, request.form, {exc.field: [exc.message]})
    flash(t(done, name=person.name), "ok")
    if person.id == actor().user_id and not person.active:
        return redirect(url_for("pages.login_page"))
    if person.id == actor().user_id and person.role is not Role.ADMIN:
        return redirect(url_for("pages.home"))  # they keep people no more
    return redirect(url_for("pages.user_page", user_id=person.id))


@bp.post("/users/<user_id>")
@login_required
def change_user(user_id: str):
    _admin()
    change, errors = read(PERSON, request.form)
    if change is None:
        person = people.read_person(ctx(), actor(), user_id)
        return _person_page(person, 422, request.form, errors)
    return _change(user_id, change, N_("person_saved"))


@bp.post("/users/<user_id>/deactivate", endpoint="deactivate_user", defaults={"active": False})
@bp.post("/users/<user_id>/reactivate", endpoint="reactivate_user", defaults={"active": True})
@login_required
def set_active(user_id: str, active: bool):
    _admin()
    done = N_("person_reactivated") if active else N_("person_deactivated")
    return _change(user_id, ChangePerson.of(active=active), done)


@bp.post("/users/<user_id>/invitation")
@login_required
def invite_again(user_id: str):
    _admin()
    try:
        person = people.invite_again(ctx(), actor(), user_id)
    except PersonConflict as exc:
        person = people.read_person(ctx(), actor(), user_id)
        return _person_page(person, 409, action_error=exc.message)
    flash(t("invitation_sent", email=person.email), "ok")
    return redirect(url_for("pages.user_page", user_id=person.id))


def _invite_form(values, errors: Errors, status: int = 200):
    return render_template(
        "booking/user_invite.html",
        values=values,
        errors=errors,
        roles=_roles(),
        languages=[(lang.value, word(lang.value, "language"), None) for lang in LANGUAGES],
        sso=ctx().config.oidc_enabled,
        password_login=ctx().config.password_login,
    ), status


@bp.route("/users/invite", methods=["GET", "POST"])
@login_required
def invite_user():
    _admin()
    if request.method == "GET":
        return _invite_form({"role": "organiser", "language": current_language()}, {})
    cmd, errors = read(INVITE, request.form)
    if cmd is None:
        return _invite_form(request.form, errors, 422)
    try:
        person = people.invite_person(ctx(), actor(), cmd)
    except AlreadyExists as exc:
        return _invite_form(request.form, {exc.field: [exc.message]}, 409)
    flash(t("invitation_sent", email=person.email), "ok")
    return redirect(url_for("pages.user_page", user_id=person.id))
