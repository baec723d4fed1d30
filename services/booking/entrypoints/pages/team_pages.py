"""Teams (admins): the list, and creating and changing a team (name, short name, shared
mailbox, members one a line). A resource is given its team on the resource form."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.domain import AlreadyExists, RuleViolation
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import (
    actor,
    ctx,
    form_fields,
    login_required,
    require,
    t,
)
from services.booking.entrypoints.pages.forms.errors import Errors, on_form
from services.booking.entrypoints.pages.forms.team import read_team, team_form_values
from services.booking.readmodels import TeamView
from services.booking.usecases import teams


@bp.get("/teams")
@login_required
def teams_page():
    require(actor().is_admin)
    return render_template("booking/teams.html", teams=teams.list_teams(ctx()))


def _team_form(values: MultiDict, errors: Errors, team: TeamView | None = None, status=200):
    return render_template(
        "booking/team_form.html", values=values, errors=errors, team=team
    ), status


def _refused(exc: AlreadyExists | RuleViolation) -> Errors:
    if isinstance(exc, AlreadyExists):
        return {exc.field: [exc.message]}
    return on_form(exc.errors)


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def new_team():
    require(actor().is_admin)
    if request.method == "GET":
        return _team_form(MultiDict(), {})
    cmd, errors = read_team(form_fields(), creating=True)
    status = 422
    if cmd is not None:
        try:
            created = teams.create_team(ctx(), actor(), cmd)
        except (AlreadyExists, RuleViolation) as exc:
            errors, status = _refused(exc), 409 if isinstance(exc, AlreadyExists) else 422
        else:
            flash(t("team_created", name=created.name), "ok")
            return redirect(url_for("pages.teams_page"))
    return _team_form(request.form, errors, status=status)


@bp.route("/teams/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_team(slug: str):
    require(actor().is_admin)
    team = teams.read_team(ctx(), slug)
    if request.method == "GET":
        return _team_form(MultiDict(team_form_values(team)), {}, team)
    cmd, errors = read_team(form_fields(), creating=False)
    status = 422
    if cmd is not None:
        try:
            changed = teams.update_team(ctx(), actor(), team.slug, cmd)
        except (AlreadyExists, RuleViolation) as exc:
            errors, status = _refused(exc), 409 if isinstance(exc, AlreadyExists) else 422
        else:
            flash(t("team_saved", name=changed.name), "ok")
            return redirect(url_for("pages.teams_page"))
    return _team_form(request.form, errors, team, status=status)
