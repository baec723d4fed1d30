"""OpenAPI documents generated from the marshmallow schemas the routes actually use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify
from marshmallow import Schema

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
    many: bool
    status: int
    auth: bool
    errors: tuple[int, ...]
    idempotent: bool = False


@dataclass
class ApiDoc:
    """Collects each route's schemas as it is declared; renders the OpenAPI document."""

    title: str
    version: str = "1.0.0"
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        bp: Blueprint,
        rule: str,
        method: str,
        *,
        summary: str,
        body: type[Schema] | None = None,
        query: type[Schema] | None = None,
        answer: type[Schema] | None = None,
        many: bool = False,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        idempotent: bool = False,
    ) -> Callable:
        def decorate(view: Callable) -> Callable:
            bp.add_url_rule(rule, view_func=view, methods=[method])
            self.operations.append(
                Operation(
                    rule,
                    method.lower(),
                    summary,
                    body,
                    query,
                    answer,
                    many,
                    status,
                    auth,
                    errors,
                    idempotent,
                )
            )
            return view

        return decorate

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
        ok: dict[str, Any] = {"description": "OK"}
        if op.answer is not None:
            schema: Any = op.answer
            if op.many:
                schema = {"type": "array", "items": op.answer}
            ok["content"] = {"application/json": {"schema": schema}}
        responses: dict[str, Any] = {str(op.status): ok}
        # 400 on every route: a field, query parameter or body that is not valid text
        # (shared.text_input), or a body that is not JSON.
        codes = {400} | set(op.errors) | ({401, 403} if op.auth else set())
        if op.body or op.query:
            codes.add(422)
        for code in sorted(codes):
            responses[str(code)] = {"description": _REASONS.get(code, "Error"), **problem}
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
        @bp.get("/openapi.json")
        def openapi():
            return jsonify(self.document(prefix))


_REASONS = {
    400: "Malformed request: not JSON, or a field that is not valid text (errors names it)",
    401: "No credentials",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    422: "Invalid input",
}


def _path_params(rule: str) -> list[tuple[str, str]]:
    import re

    found = []
    for match in re.finditer(r"<(?:(\w+):)?(\w+)>", rule):
        found.append((match.group(1) or "string", match.group(2)))
    return found


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
