"""Resources: the list everyone sees, a week of one resource's bookings, and for admins
creating and changing resources (opening hours, team, managers); closures (added, and
removed) for those who decide on the resource."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.domain import KINDS, WEEKDAYS, ClosureOverBookings, RuleViolation
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import (
    actor,
    ctx,
    decides_on,
    form_fields,
    login_required,
    require,
    safe_next,
    t,
)
from services.booking.entrypoints.pages.formatting import local
from services.booking.entrypoints.pages.forms.closure import read_closure
from services.booking.entrypoints.pages.forms.errors import Errors, on_form
from services.booking.entrypoints.pages.forms.resource import (
    NEW_RESOURCE,
    read_resource,
    resource_form_values,
)
from services.booking.readmodels import ClosureView
from services.booking.readmodels import ResourceView as Resource
from services.booking.usecases import queries, resources, teams
from shared.i18n import current_language
from shared.messages import N_
from shared.timezones import in_years

CLOSURES_AHEAD = timedelta(days=365)


def _decides_on(resource: Resource) -> bool:
    return decides_on(actor(), [resource])


@bp.get("/resources")
@login_required
def resources_page():
    listed = resources.list_resources(ctx())
    if not actor().is_admin:
        listed = [r for r in listed if r.active]
    by_kind = {kind: [r for r in listed if r.kind == kind] for kind in KINDS}
    return render_template("booking/resources.html", by_kind=by_kind)


# --- admin: create and change -------------------------------------------------------------------


def _resource_form(values: MultiDict, errors: Errors, resource=None, status: int = 200):
    closures = _closures(resource) if resource is not None else []
    return render_template(
        "booking/resource_form.html",
        values=values,
        errors=errors,
        resource=resource,
        kinds=KINDS,
        weekdays=WEEKDAYS,
        team_choices=[(team.slug, team.name) for team in teams.list_teams(ctx())],
        closures=closures,
        closure_values={},
        closure_errors={},
        closure_conflicts=[],
    ), status


@bp.route("/resources/new", methods=["GET", "POST"])
@login_required
def new_resource():
    require(actor().is_admin)
    if request.method == "GET":
        return _resource_form(MultiDict(NEW_RESOURCE), {})
    cmd, errors = read_resource(form_fields(), creating=True)
    if cmd is not None:
        try:
            created = resources.create_resource(ctx(), actor(), cmd)
        except RuleViolation as exc:
            errors = on_form(exc.errors)
        else:
            flash(t("resource_created", name=created.name), "ok")
            return redirect(url_for("pages.edit_resource", key=created.slug))
    return _resource_form(request.form, errors, status=422)


@bp.route("/resources/<key>/edit", methods=["GET", "POST"])
@login_required
def edit_resource(key: str):
    require(actor().is_admin)
    resource = resources.read_resource(ctx(), key)
    if request.method == "GET":
        return _resource_form(MultiDict(resource_form_values(resource)), {}, resource)
    cmd, errors = read_resource(form_fields(), creating=False)
    if cmd is not None:
        try:
            changed = resources.update_resource(ctx(), actor(), resource.id, cmd)
        except RuleViolation as exc:
            errors = on_form(exc.errors)
        else:
            flash(t("resource_saved", name=changed.name), "ok")
            return redirect(url_for("pages.edit_resource", key=changed.slug))
    return _resource_form(request.form, errors, resource, status=422)


# --- closures --------------------------------------------------------------------------------


def _closures(resource: Resource) -> list[ClosureView]:
    """The resource's closures from now on (a year ahead), soonest first."""
    now = ctx().clock()
    return resources.list_closures(ctx(), resource.id, now, now + CLOSURES_AHEAD)


@bp.post("/resources/<key>/closures")
@login_required
def add_closure(key: str):
    """A closure over approved bookings is shown with them and asks for the choice: close
    and cancel their part of the resource (``cancel_bookings``), or not close."""
    resource = resources.read_resource(ctx(), key)
    require(_decides_on(resource))
    cmd, errors = read_closure(form_fields())
    if cmd is None:
        return _week_page(
            resource, _week_start(None), 422, closure_values=request.form, closure_errors=errors
        )
    try:
        resources.add_closure(ctx(), actor(), resource.id, cmd)
    except ClosureOverBookings as exc:
        return _week_page(
            resource,
            _week_start(local(cmd.start).date().isoformat()),
            409,
            closure_values=request.form,
            closure_conflicts=exc.conflicts,
        )
    said = N_("closure_added_lines_declined") if cmd.cancel_bookings else N_("closure_added")
    flash(t(said, name=resource.named(current_language())), "ok")
    week = local(cmd.start).date().isoformat()
    return redirect(url_for("pages.week_page", key=resource.slug, week=week))


@bp.post("/resources/<key>/closures/<closure_id>/remove")
@login_required
def remove_closure(key: str, closure_id: str):
    resource = resources.read_resource(ctx(), key)
    require(_decides_on(resource))
    resources.remove_closure(ctx(), actor(), resource.id, closure_id)
    flash(t("closure_removed", name=resource.named(current_language())), "ok")
    back = safe_next(request.form.get("next"))
    return redirect(back or url_for("pages.week_page", key=resource.slug))


# --- a week of one resource -------------------------------------------------------------------


def _week_start(value: str | None) -> date:
    """The Monday of the week asked for; this week for a date that is not one or lies
    beyond the years the suite holds."""
    today = local(ctx().clock()).date()
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    day = day if in_years(day) and in_years(day + timedelta(days=7)) else today
    return day - timedelta(days=day.weekday())


@bp.get("/resources/<key>/week")
@login_required
def week_page(key: str):
    resource = resources.read_resource(ctx(), key)
    return _week_page(resource, _week_start(request.args.get("week")))


def _week_page(
    resource: Resource,
    monday: date,
    status: int = 200,
    closure_values=None,
    closure_errors=None,
    closure_conflicts=(),
):
    zone = ctx().zone
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    blocks = queries.busy_blocks(ctx(), actor(), resource.id, start, end)
    decider = _decides_on(resource)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        day_start = datetime.combine(day, time(0), zone)
        day_end = day_start + timedelta(days=1)
        days.append(
            {
                "date": day,
                "weekday": WEEKDAYS[day.weekday()],
                "blocks": [b for b in blocks if b.start < day_end and b.end > day_start],
                "today": day == local(ctx().clock()).date(),
            }
        )
    return render_template(
        "booking/week.html",
        resource=resource,
        days=days,
        monday=monday,
        previous=(monday - timedelta(days=7)).isoformat(),
        next=(monday + timedelta(days=7)).isoformat(),
        decider=decider,
        closures=_closures(resource) if decider else [],
        closure_values=closure_values or {},
        closure_errors=closure_errors or {},
        closure_conflicts=closure_conflicts,
        weekdays=WEEKDAYS,
    ), status
