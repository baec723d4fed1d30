"""My settings: how requests waiting for my decision reach me (a mail each, or a daily
digest; the same use case as ``PATCH /api/v1/me/settings``), and the sessions I am logged
in with, with "log out everywhere" (``account.logout_everywhere``)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from marshmallow import EXCLUDE

from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, form_fields, login_required, t
from services.booking.entrypoints.pages.forms.errors import flat
from services.booking.entrypoints.pages.navigation import queue_size
from services.booking.schemas import SettingsSchema
from services.booking.usecases import users
from services.booking.usecases.sessions import live_sessions
from shared.auth import current_session
from shared.schema import ValidationError


class SettingsForm(SettingsSchema):
    class Meta:
        unknown = EXCLUDE  # the post carries the page's token


SETTINGS_FORM = SettingsForm()


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings_page():
    me = users.read_user(ctx().db, actor().user_id)
    values, errors, status = {"alerts": me.alerts.value}, {}, 200
    if request.method == "POST":
        try:
            chosen = SETTINGS_FORM.load(form_fields())
        except ValidationError as exc:
            values, errors, status = request.form, flat(exc.messages), 422
        else:
            users.set_alerts(ctx().db, me.id, chosen["alerts"])
            flash(t("settings_saved"), "ok")
            return redirect(url_for("pages.settings_page"))
    decider = queue_size() is not None
    return render_template(
        "booking/settings.html",
        me=me,
        values=values,
        errors=errors,
        decider=decider,
        **_sessions(),
    ), status


def _sessions() -> dict:
    """My live sessions, which of them this is, and how long a session lives."""
    limits = current_app.extensions["evenemang_auth"].limits
    this = current_session()
    return {
        "sessions": live_sessions(ctx().db, actor().user_id, ctx().clock(), limits),
        "this_session": this.session_id if this else None,
        "idle_hours": ctx().config.session_idle_hours,
        "max_days": ctx().config.session_max_days,
    }
