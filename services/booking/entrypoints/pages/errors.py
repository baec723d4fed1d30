"""Errors on booking's pages answer as pages in the layout (the API keeps its JSON)."""

from __future__ import annotations

import hmac

from flask import abort, current_app, render_template, request, session
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from services.booking import domain
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.formatting import localise
from shared.csrf import FIELD

TITLES = {
    400: "err_page_400",
    401: "err_page_401",
    403: "err_page_403",
    404: "err_page_404",
    405: "err_page_405",
    409: "err_page_409",
    413: "err_page_413",
    422: "err_page_422",
    500: "err_page_500",
}


def error_page(status: int, detail: str | None = None):
    title = TITLES.get(status, "err_page_500")
    return render_template(
        "booking/error.html", status=status, title_key=title, detail=detail
    ), status


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    code = exc.code or 500
    # The CSRF check's own description is English; the page says it in the visitor's words.
    return error_page(code, None)


@bp.errorhandler(domain.Forbidden)
def _forbidden(exc: domain.Forbidden):
    return error_page(403)


@bp.errorhandler(domain.NotFound)
def _not_found(exc: domain.NotFound):
    return error_page(404)


@bp.errorhandler(domain.InvalidTransition)
def _transition(exc: domain.InvalidTransition):
    return error_page(409, localise(exc.message))


@bp.errorhandler(domain.RuleViolation)
def _rule(exc: domain.RuleViolation):
    return error_page(422, " ".join(localise(m) for ms in exc.errors.values() for m in ms))


@bp.errorhandler(domain.SlotTaken)
def _taken(exc: domain.SlotTaken):
    return error_page(409)


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    return error_page(422)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
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
