"""Errors on booking's pages answer as pages in the layout (the API keeps its JSON)."""

from __future__ import annotations

import hmac

from flask import abort, current_app, render_template, request, session
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from services.booking import domain
from services.booking.entrypoints.pages.blueprint import bp
from shared.csrf import FIELD
from shared.messages import N_, Msg
from shared.problems import unavailable
from shared.transient import RETRY_AFTER_SECONDS

# Each status's title and what it means, for the visitor.
PAGES = {
    400: (N_("err_page_400"), N_("err_page_400_detail")),
    401: (N_("err_page_401"), N_("err_page_401_detail")),
    403: (N_("err_page_403"), N_("err_page_403_detail")),
    404: (N_("err_page_404"), N_("err_page_404_detail")),
    405: (N_("err_page_405"), N_("err_page_405_detail")),
    409: (N_("err_page_409"), N_("err_page_409_detail")),
    413: (N_("err_page_413"), N_("err_page_413_detail")),
    422: (N_("err_page_422"), N_("err_page_422_detail")),
    429: (N_("err_page_429"), N_("err_page_429_detail")),
    500: (N_("err_page_500"), N_("err_page_500_detail")),
    503: (N_("err_page_503"), N_("database_unavailable")),
}


def error_page(status: int, detail: list[Msg] | None = None):
    """The error page; ``detail`` says what went wrong, else the status's own words."""
    title, meaning = PAGES.get(status, PAGES[500])
    return render_template(
        "booking/error.html", status=status, title=title, detail=detail or [Msg(meaning)]
    ), status


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    # The CSRF check's own description is English; the page says it in the visitor's words.
    # A description that is a message id (which field was not text) is worded as it is.
    detail = [exc.description] if isinstance(exc.description, Msg) else None
    return error_page(exc.code or 500, detail)


@bp.errorhandler(domain.Forbidden)
def _forbidden(exc: domain.Forbidden):
    return error_page(403)


@bp.errorhandler(domain.NotFound)
def _not_found(exc: domain.NotFound):
    return error_page(404)


@bp.errorhandler(domain.InvalidTransition)
def _transition(exc: domain.InvalidTransition):
    return error_page(409, [exc.message])


@bp.errorhandler(domain.RuleViolation)
def _rule(exc: domain.RuleViolation):
    return error_page(422, [m for messages in exc.errors.values() for m in messages])


@bp.errorhandler(domain.LimitReached)
def _limit(exc: domain.LimitReached):
    page, status = error_page(429, [exc.message])
    headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
    return page, status, headers


@bp.errorhandler(domain.SlotTaken)
def _taken(exc: domain.SlotTaken):
    return error_page(409)


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    return error_page(422)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    reason = unavailable(exc)
    if reason is not None:  # the database away: "try again in a moment", never a 500
        page, status = error_page(503, [reason])
        return page, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    current_app.logger.exception("unhandled error on a page")
    return error_page(500)


@bp.before_request
def _every_post_carries_the_token():
    """The shared check skips bodies that are not forms (``text/plain``, none at all); a
    page's POST is always a form, so here every one must carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(FIELD, "")
    expected = session.get(FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400)
