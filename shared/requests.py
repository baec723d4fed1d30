"""Reading request input through a marshmallow schema: JSON bodies and query strings."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import BadRequest


def json_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON object validated by ``schema`` (422 field by field); 400 when the
    body is not JSON at all."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply.") from None
    if data is None:
        if request.get_data(cache=True).strip():
            raise BadRequest("The body is not valid JSON.")
        data = {}
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["The body must be a JSON object."]})
    return schema.load(data, partial=partial)


def query_args(schema: Schema) -> dict[str, Any]:
    """The query string validated by ``schema``; repeated keys keep their last value.
    ``lang`` (the language of the answer's names, ``shared.i18n.reader_language``) is no
    filter and is left out."""
    args = request.args.to_dict()
    args.pop("lang", None)
    return schema.load(args)
