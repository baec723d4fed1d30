"""Teams (admins): the list, and creating and changing a team (name, short name, shared
mailbox, members one a line). A resource is given its team on the resource form."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

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


def _save(
    save: Callable[[Any], TeamView], form: dict[str, Any], *, creating: bool
) -> tuple[TeamView | None, Errors, int]:
    """The form read and saved: the team, or the errors by field and the status (422 for
    bad input, 409 for a taken short name)."""
    cmd, errors = read_team(form, creating=creating)
    if cmd is None:
        return None, errors, 422
    try:
        return save(cmd), {}, 200
    except AlreadyExists as exc:
        return None, {exc.field: [exc.message]}, 409
    except RuleViolation as exc:
        return None, on_form(exc.errors), 422


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def new_team():
    require(actor().is_admin)
    if request.method == "GET":
        return _team_form(MultiDict(), {})
    create = functools.partial(teams.create_team, ctx(), actor())
    created, errors, status = _save(create, form_fields(), creating=True)
    if created is None:
        return _team_form(request.form, errors, status=status)
    flash(t("team_created", name=created.name), "ok")
    return redirect(url_for("pages.teams_page"))


@bp.route("/teams/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_team(slug: str):
    require(actor().is_admin)
    team = teams.read_team(ctx(), slug)
    if request.method == "GET":
        return _team_form(MultiDict(team_form_values(team)), {}, team)
    change = functools.partial(teams.update_team, ctx(), actor(), team.slug)
    changed, errors, status = _save(change, form_fields(), creating=False)
    if changed is None:
        return _team_form(request.form, errors, team, status=status)
    flash(t("team_saved", name=changed.name), "ok")
    return redirect(url_for("pages.teams_page"))
