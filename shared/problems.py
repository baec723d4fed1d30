"""The one error format of every API: RFC 9457 problem details, worded at the edge.

A problem's ``title``, ``detail`` and field ``errors`` are :class:`~shared.messages.Msg`
ids worded in the request's language (``?lang=`` or Accept-Language; English by default,
as scripts expect); ``code`` and ``codes`` (field → ids) carry the same ids for machines."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, Response, has_request_context, json, request
from werkzeug.exceptions import HTTPException

from shared.messages import LANGUAGES, N_, Msg, text
from shared.transient import RETRY_AFTER_SECONDS, OutcomeUnknown, is_database_outage

PROBLEM_JSON = "application/problem+json"
HTTP_TITLES = {
    400: N_("http_400"),
    401: N_("http_401"),
    403: N_("http_403"),
    404: N_("http_404"),
    405: N_("http_405"),
    406: N_("http_406"),
    409: N_("http_409"),
    410: N_("http_410"),
    413: N_("http_413"),
    415: N_("http_415"),
    422: N_("http_422"),
    429: N_("http_429"),
    500: N_("http_500"),
    503: N_("http_503"),
}


def api_language() -> str:
    """The language of an API answer: ``?lang=``, else Accept-Language, else English."""
    if not has_request_context():
        return "en"
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def word(message: Msg | str, language: str | None = None) -> str:
    """A message (or plain text) in the answer's language."""
    return text(message, language or api_language()) if isinstance(message, Msg) else message


def problem(
    status: int,
    title: Msg | str | None = None,
    detail: Msg | str | None = None,
    *,
    code: str | None = None,
    **extra: Any,
) -> Response:
    """A problem-details answer; ``title`` defaults to the status's own name."""
    title = title or Msg(HTTP_TITLES.get(status, "http_500"))
    body: dict[str, Any] = {"type": "about:blank", "title": word(title), "status": status}
    body["code"] = code or (detail.code if isinstance(detail, Msg) else None) or _code(title)
    if detail:
        body["detail"] = word(detail)
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def _code(title: Msg | str) -> str:
    return title.code if isinstance(title, Msg) else "_".join(str(title).lower().split())


def validation_problem(errors: Mapping[str, Sequence[Msg | str]]) -> Response:
    """422 with every field's messages worded, and their ids under ``codes``."""
    language = api_language()
    return problem(
        422,
        Msg("http_422"),
        Msg("invalid_fields"),
        code="invalid_input",
        errors={field: [word(m, language) for m in ms] for field, ms in errors.items()},
        codes={field: [_id(m) for m in ms] for field, ms in errors.items()},
    )


def _id(message: Msg | str) -> str:
    return message.code if isinstance(message, Msg) else "invalid_value"


def install_error_handlers(app: Flask) -> None:
    """Every HTTP error, and any unexpected one, answers as problem details (never a bare 500
    page); unexpected errors are logged with their traceback."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        title = Msg(HTTP_TITLES[status]) if status in HTTP_TITLES else exc.name
        fields = getattr(exc, "field_errors", None)  # which field, where the error knows it
        if fields:
            language = api_language()
            extra = {
                "errors": {f: [word(m, language) for m in ms] for f, ms in fields.items()},
                "codes": {f: [_id(m) for m in ms] for f, ms in fields.items()},
            }
        else:
            extra = {}
        response = problem(status, title, exc.description, code=_code(exc.name), **extra)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        reason = unavailable(exc)
        if reason is not None:
            response = problem(503, Msg("http_503"), reason)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        app.logger.exception("unhandled error")
        return problem(500, Msg("http_500"), Msg("server_error"), code="internal_server_error")


def unavailable(exc: BaseException) -> Msg | None:
    """Why a request failed for a while only (the database away, or gone during the
    commit), logged as such; None for any other error."""
    if isinstance(exc, OutcomeUnknown):
        reason = Msg("outcome_unknown")
    elif is_database_outage(exc):
        reason = Msg("database_unavailable")
    else:
        return None
    cause = exc.__cause__ or exc
    logging.getLogger(__name__).warning("503 (%s): %s", reason.code, f"{cause!r}"[:500])
    return reason


def install_validation_handler(app: Flask) -> None:
    from marshmallow import ValidationError

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> Response:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return validation_problem(flatten_errors(messages))


def flatten_errors(messages: Mapping[Any, Any], prefix: str = "") -> dict[str, list[Msg | str]]:
    """``{"participants": {0: {"email": [...]}}}`` → ``{"participants.0.email": [...]}``."""
    flat: dict[str, list[Msg | str]] = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_errors(value, name + "."))
        elif isinstance(value, list | tuple):
            flat[name] = list(value)
        else:
            flat[name] = [value]
    return flat
