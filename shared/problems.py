"""The one error format of every API: RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def validation_problem(errors: dict[str, Any], title: str = "Invalid input") -> Response:
    return problem(422, title, "Some fields are not valid; see errors.", errors=errors)


def install_error_handlers(app: Flask) -> None:
    """Every HTTP error, and any unexpected one, answers as problem details (never a bare 500
    page); unexpected errors are logged with their traceback."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        response = problem(exc.code or 500, exc.name, exc.description)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem(500, "Internal Server Error", "Something went wrong on our side.")


def install_validation_handler(app: Flask) -> None:
    from marshmallow import ValidationError

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> Response:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return validation_problem(_flatten(messages))


def _flatten(messages: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """``{"participants": {0: {"email": [...]}}}`` → ``{"participants.0.email": [...]}``."""
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            flat[name] = [str(v) for v in value]
        else:
            flat[name] = [str(value)]
    return flat
