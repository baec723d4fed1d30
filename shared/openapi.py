"""OpenAPI documents generated from the marshmallow schemas the routes actually use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify
from marshmallow import Schema, fields

PROBLEM = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "codes": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "conflicts": {"type": "array", "items": {"type": "object"}},
        "suggestions": {
            "type": "object",
            "description": "A taken time's free times and other free resources then",
            "properties": {
                "times": {"type": "array", "items": {"type": "object"}},
                "alternatives": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
    "required": ["title", "status"],
}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "Makes the create retryable: a retry with the same key by the same person within "
        "24 hours answers the first result (status, body, Location) and creates nothing; the "
        "same key with another request is a 422."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
}


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    body: type[Schema] | None
    query: type[Schema] | None
    answer: type[Schema] | None
    listed: str | None
    status: int
    auth: bool
    errors: tuple[int, ...]
    idempotent: bool = False
    files: tuple[str, ...] = ()  # media types the answer may also come as (format=...)


@dataclass
class ApiDoc:
    """Collects each route's schemas as it is declared; renders the OpenAPI document."""

    title: str
    version: str = "1.0.0"
    operations: list[Operation] = field(default_factory=list)

    def route(self, bp: Blueprint, rule: str, method: str, **spec: Any) -> Callable:
        """Register the view for ``rule`` on ``bp`` and document it (:meth:`describe`)."""

        def decorate(view: Callable) -> Callable:
            bp.add_url_rule(rule, view_func=view, methods=[method])
            self.describe(rule, method, **spec)
            return view

        return decorate

    def describe(
        self,
        rule: str,
        method: str,
        *,
        summary: str,
        body: type[Schema] | None = None,
        query: type[Schema] | None = None,
        answer: type[Schema] | None = None,
        listed: str | None = None,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        idempotent: bool = False,
        files: tuple[str, ...] = (),
    ) -> None:
        """Document a route: ``answer`` is the body of a success (with ``listed``, a list of
        them under that key of an object); ``errors``, the refusals besides those every
        operation may give."""
        self.operations.append(
            Operation(
                rule,
                method.lower(),
                summary,
                body,
                query,
                answer,
                listed,
                status,
                auth,
                errors,
                idempotent,
                files,
            )
        )

    def document(self, prefix: str) -> dict[str, Any]:
        spec = APISpec(
            title=self.title,
            version=self.version,
            openapi_version="3.0.3",
            plugins=[MarshmallowPlugin()],
        )
        spec.components.schema("Problem", PROBLEM)
        spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
        spec.components.security_scheme(
            "session", {"type": "apiKey", "in": "cookie", "name": "evenemang_session"}
        )
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            path = prefix + _openapi_path(op.path)
            paths.setdefault(path, {})[op.method] = self._operation(op)
        for path, operations in paths.items():
            spec.path(path=path, operations=operations)
        return spec.to_dict()

    def _operation(self, op: Operation) -> dict[str, Any]:
        problem = {
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
        }
        ok: dict[str, Any] = {"description": "OK" if op.status != 204 else "Done"}
        if op.answer is not None:
            schema: Any = op.answer
            if op.listed:
                schema = {
                    "type": "object",
                    "properties": {op.listed: {"type": "array", "items": op.answer}},
                    "required": [op.listed],
                }
            ok["content"] = {"application/json": {"schema": schema}}
        for media in op.files:
            ok.setdefault("content", {})[media] = {"schema": {"type": "string", "format": "binary"}}
        responses: dict[str, Any] = {str(op.status): ok}
        # Every operation may find the service unable to reach its database (503, with
        # Retry-After: shared.problems), and a field, query parameter or body that is not
        # valid text (400: shared.text_input); one that reads a body or a query may find it
        # invalid (422).
        codes = {400, 503} | set(op.errors) | ({401, 403} if op.auth else set())
        if op.body or op.query:
            codes.add(422)
        for code in sorted(codes):
            responses[str(code)] = {"description": _REASONS.get(code, "Error"), **problem}
        responses["503"]["headers"] = {"Retry-After": _RETRY_AFTER}
        operation: dict[str, Any] = {"summary": op.summary, "responses": responses}
        if op.auth:
            operation["security"] = [{"bearer": []}, {"session": []}]
        if op.query is not None:
            operation["parameters"] = [{"in": "query", "schema": op.query}]
        if op.idempotent:
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
        parameters = [
            {
                "in": "path",
                "name": name,
                "required": True,
                "schema": {"type": "integer" if kind == "int" else "string"},
            }
            for kind, name in _path_params(op.path)
        ]
        if parameters:
            operation.setdefault("parameters", []).extend(parameters)
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": op.body}},
            }
        return operation

    def blueprint_route(self, bp: Blueprint, prefix: str) -> None:
        """``GET {prefix}/openapi.json`` on ``bp``; the document names it too, and
        ``GET /api/v1/me``, which every service answers (shared.auth)."""

        @bp.get("/openapi.json")
        def openapi():
            return jsonify(self.document(prefix))

        self.describe(
            "/openapi.json",
            "GET",
            summary="This document (OpenAPI 3)",
            answer=OpenApiDocument,
            auth=False,
        )
        self.describe("/me", "GET", summary="Who the request is authenticated as", answer=Whoami)


class Whoami(Schema):
    """``GET /api/v1/me``."""

    user_id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)


class OpenApiDocument(Schema):
    """An OpenAPI document: an object with its version and paths."""

    openapi = fields.String(required=True)
    paths = fields.Dict(required=True)


_REASONS = {
    400: "Malformed request: not JSON, or a field that is not valid text (errors names it)",
    401: "No credentials",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests: wait as long as Retry-After says",
    503: "The database is away for a moment (database_unavailable), or went away while the "
    "change was being saved (outcome_unknown: look before trying again)",
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}


def _path_params(rule: str) -> list[tuple[str, str]]:
    import re

    found = []
    for match in re.finditer(r"<(?:(\w+):)?(\w+)>", rule):
        found.append((match.group(1) or "string", match.group(2)))
    return found


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
