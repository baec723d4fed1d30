"""Logging in with the university's account (OpenID Connect): ``/login/oidc`` sends the
browser to the provider, ``/login/oidc/callback`` takes it back. The return must carry a
state this browser was given (no login forced on someone else) that has not been used yet
(no replay); anything wrong leads to ``/login/oidc/failed``, a page saying what (which a
reload or the language link shows again, rather than replaying the answer), with no
session and nothing written about the person."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for

from services.booking.domain.identity import GroupRules, SignInRefused
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import ctx, safe_next, t
from services.booking.openid import ProviderError, UniversityProvider
from services.booking.usecases.single_sign_on import begin_sign_in, sign_in, take_sign_in
from shared.auth import login
from shared.config import comma_list, comma_pairs
from shared.messages import Msg

STATES = "sso_states"  # the states this browser was sent to the provider with
FAILURE = "sso_failure"  # why this browser's last login did not work
KEEP_STATES = 5  # logins begun in other tabs that may still come back


def university() -> UniversityProvider:
    provider = current_app.extensions.get("university_provider")
    if provider is None:
        abort(404)
    return provider


@bp.get("/login/oidc")
def sso_start():
    provider = university()
    target = safe_next(request.args.get("next"))
    try:
        authorization = provider.authorization()
    except ProviderError as error:
        return failed(error.message, error.status, str(error), target)
    begin_sign_in(
        ctx().db,
        authorization.state,
        authorization.nonce,
        authorization.code_verifier,
        target,
    )
    session[STATES] = [*session.get(STATES, [])[-(KEEP_STATES - 1) :], authorization.state]
    return redirect(authorization.url)


@bp.get("/login/oidc/callback")
def sso_callback():
    provider = university()
    state = request.args.get("state", "")
    begun = session.get(STATES, [])
    if not state or state not in begun:
        return failed(Msg("sso_state_unknown"), 400, "a state this browser was not given")
    session[STATES] = [s for s in begun if s != state]
    pending = take_sign_in(ctx().db, state)
    if pending is None:
        return failed(Msg("sso_state_used"), 400, "a state used before or expired")
    target = safe_next(pending.next_path)
    try:
        code = provider.check_response(request.args)
        person = provider.identity(code, pending.code_verifier, pending.nonce)
        principal = sign_in(ctx(), person, group_rules())
    except ProviderError as error:
        return failed(error.message, error.status, str(error), target)
    except SignInRefused as refused:
        return failed(refused.message, 403, refused.message.code, target)
    login(principal)
    flash(t("welcome"), "ok")  # no name: the cookie carries it to the next page
    return redirect(target or url_for("pages.home"))


def group_rules() -> GroupRules:
    config = ctx().config
    teams: dict[str, set[str]] = {}
    for slug, group in comma_pairs(config.oidc_team_groups):
        teams.setdefault(slug, set()).add(group)
    return GroupRules(
        infra=frozenset(comma_list(config.oidc_infra_groups)),
        admin=frozenset(comma_list(config.oidc_admin_groups)),
        teams={slug: frozenset(groups) for slug, groups in teams.items()},
    )


def failed(message: Msg, status: int, reason: str, target: str | None = None):
    """To the page saying why logging in did not work (the reason goes to the log)."""
    current_app.logger.warning("single sign-on refused: %s", reason)
    session[FAILURE] = {
        "message": message.code,
        "params": dict(message.params),
        "status": status,
        "next": target,
    }
    return redirect(url_for("pages.sso_failed"))


@bp.get("/login/oidc/failed")
def sso_failed():
    university()
    failure = session.get(FAILURE)
    if not isinstance(failure, dict):
        return redirect(url_for("pages.login_page"))
    page = render_template(
        "booking/sign_in_failed.html",
        message=Msg(failure["message"], **failure["params"]),
        next=safe_next(failure["next"]),
        password_login=ctx().config.password_login,
    )
    return page, failure["status"], {"Cache-Control": "no-store"}
