"""Text that is not text is refused before anything reads it: a query string, form field or
JSON string holding invalid UTF-8, a lone surrogate (JSON's ``"\\ud800"``) or a NUL is a
400 naming the field, on every route of every service. Werkzeug would quietly replace bad
bytes in forms and queries with U+FFFD, and a surrogate or NUL that reached the database
failed there (SQLite and PostgreSQL cannot store them) as a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.exceptions import BadRequest

from shared.messages import Msg

NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
FORM = "application/x-www-form-urlencoded"


class InvalidText(BadRequest):
    """400: ``field`` (or ``body``) holds something that is not valid Unicode text."""

    def __init__(self, field: str) -> None:
        super().__init__(Msg("invalid_text_in", field=field))
        self.field_errors = {field: [Msg("not_text")]}


def init_text_input(app: Flask) -> None:
    """Check every request's query string, form body and JSON strings first of all."""

    @app.before_request
    def _refuse_what_is_not_text() -> None:
        field = _bad_pair(request.query_string)
        if field is None and request.mimetype == FORM:
            field = _bad_pair(request.get_data(cache=True))
        if field is None and request.is_json:
            try:
                field = _bad_json(request.get_json(silent=True))
            except RecursionError:
                field = None  # json_body answers that the body is nested too deeply
        if field is not None:
            raise InvalidText(field)


def _pairs(raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    for part in raw.split(b"&"):
        if part:
            key, _, value = part.replace(b"+", b" ").partition(b"=")
            yield unquote_to_bytes(key), unquote_to_bytes(value)


def _bad_pair(raw: bytes) -> str | None:
    """The name of the first field of an urlencoded string that is not valid text."""
    for key, value in _pairs(raw):
        try:
            if NOT_TEXT.search(key.decode()) or NOT_TEXT.search(value.decode()):
                return _shown(key.decode(errors="replace"))
        except UnicodeDecodeError:
            return _shown(key.decode(errors="replace"))
    return None


def _bad_json(data: Any) -> str | None:
    """The path (``participants.0.email``) of the first key or string that is not valid
    text, ``body`` for the document itself; without recursion, however deep."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and NOT_TEXT.search(value):
            return _shown(path) or "body"
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                where = f"{path}.{key}" if path else key
                if NOT_TEXT.search(key):
                    return _shown(where)
                stack.append((where, item))
        elif isinstance(value, list):
            items = [(f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value)]
            stack.extend(reversed(items))
    return None


def _shown(name: str) -> str:
    """A field's name as an answer can carry it (what is not text becomes U+FFFD)."""
    return NOT_TEXT.sub("\ufffd", name)
