"""A fast path for loading event envelopes: the typed :class:`~shared.events.Event` built
straight from the JSON object when its shape is exactly what the schemas expect, at a
fraction of marshmallow's cost (every consumer parses every event it takes).

The loaders are compiled from the marshmallow schemas themselves (their fields, defaults,
``allow_none``, validators and the ``blank_if_none`` post-load step), so the two cannot
drift apart. Anything the fast path is not sure of (a missing field, a value of another
type than JSON's natural one, a failing validator, a field kind it does not know) makes it
give up: :func:`load_event` then returns None and :func:`shared.events.parse_event` asks
the schema, which loads what it accepts and words the errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from marshmallow import Schema, fields, missing

__all__ = ["load_event"]


class _Unsure(Exception):
    """The fast path cannot vouch for this input: the schema decides."""


Convert = Callable[[Any], Any]
_UNSURE = _Unsure()
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _exactly(kind: type) -> Convert:
    """A value of JSON's natural type for the field (``type`` is: no bool for an int)."""

    def convert(value: Any) -> Any:
        if type(value) is not kind:
            raise _UNSURE
        return value

    return convert


_string, _integer, _boolean = _exactly(str), _exactly(int), _exactly(bool)


def _number(value: Any) -> float:
    """A JSON number (never a bool), finite, as a float."""
    if type(value) not in (int, float) or value != value or value in (_INF, -_INF):
        raise _UNSURE
    return float(value)


_INF = float("inf")


def _aware(value: Any) -> datetime:
    if type(value) is not str:
        raise _UNSURE
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _UNSURE from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _UNSURE
    return moment


def _raw(value: Any) -> Any:
    return value


def _enum(field: fields.Enum) -> Convert:
    members = {member.value: member for member in field.enum}

    def convert(value: Any) -> Any:
        if type(value) is not str:
            raise _UNSURE
        try:
            return members[value]
        except KeyError:
            raise _UNSURE from None

    return convert


def _sequence(inner: Convert) -> Convert:
    def convert(value: Any) -> tuple:
        if type(value) is not list:
            raise _UNSURE
        return tuple(inner(item) for item in value)

    return convert


def _nested(load: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is not dict:
            raise _UNSURE
        return load(value)

    return convert


def _validated(
    convert: Convert, validators: list[Callable[[Any], Any]], *, memo: bool = False
) -> Convert:
    """``convert``, then the field's validators; with ``memo`` the verdict on each string
    is remembered (the same few addresses come in event after event, and marshmallow's
    Email validator formats its error message even for a good one)."""
    if not validators:
        return convert

    def valid(value: Any) -> bool:
        try:
            return all(validator(value) is not False for validator in validators)
        except Exception:
            return False

    if memo:
        valid = lru_cache(maxsize=4096)(valid)

    def checked(value: Any) -> Any:
        result = convert(value)
        if not valid(result):
            raise _UNSURE
        return result

    return checked


def _converter(field: fields.Field) -> Convert:
    """The fast conversion of one field's value, or NotImplementedError for a kind of
    field it does not know (the schema then always takes the slow path)."""
    if type(field) in (fields.String, fields.Email):
        base: Convert = _string
    elif type(field) is fields.Integer and not field.strict:
        base = _integer
    elif type(field) is fields.Boolean:
        base = _boolean
    elif type(field) is fields.Float and not field.allow_nan:
        base = _number
    elif type(field) is fields.AwareDateTime and field.default_timezone is None:
        if field.format not in (None, "iso", "iso8601"):
            raise NotImplementedError(field)
        base = _aware
    elif type(field) is fields.Enum and field.by_value is True:
        base = _enum(field)
    elif type(field) is fields.Raw:
        base = _raw
    elif type(field) is fields.Nested and not field.many:
        base = _nested(_compile(field.schema))
    elif isinstance(field, fields.List) and type(field).__name__ == "_TupleList":
        base = _sequence(_converter(field.inner))
    else:
        raise NotImplementedError(field)
    return _validated(base, list(field.validators), memo=type(field) is fields.Email)


def _compile(schema: Schema) -> Convert:
    """A loader for a payload schema (``shared.events._Lenient``): JSON object -> its
    dataclass, as ``schema.load`` gives it."""
    make = getattr(schema, "dataclass", None)
    hooks = {name for name, found in type(schema)._hooks.items() if found}
    if make is None or hooks - {"post_load"}:
        raise NotImplementedError(schema)
    blank = tuple(schema.blank_if_none)
    plan = []
    for name, field in schema.fields.items():
        if field.attribute not in (None, name):
            raise NotImplementedError(field)
        default = field.load_default
        plan.append(
            (
                field.data_key or name,
                name,
                _converter(field),
                field.required,
                default,
                field.allow_none,
            )
        )

    def load(data: dict) -> Any:
        values: dict[str, Any] = {}
        for key, name, convert, required, default, allow_none in plan:
            value = data.get(key, missing)
            if value is missing:
                if required:
                    raise _UNSURE
                if default is missing:
                    continue
                values[name] = default() if callable(default) else default
            elif value is None:
                if not allow_none:
                    raise _UNSURE
                values[name] = None
            else:
                values[name] = convert(value)
        for name in blank:
            if values.get(name) is None:
                values[name] = ""
        return make(**values)

    return load


_loaders: dict[str, Convert] | None = None


def _payload_loaders() -> dict[str, Convert]:
    global _loaders
    if _loaders is None:
        from shared import events

        loaders = {}
        for aggregate, schema in events._SCHEMAS.items():
            try:
                loaders[aggregate] = _compile(schema)
            except NotImplementedError:
                continue  # that payload always takes the schema's path
        _loaders = loaders
    return _loaders


def load_event(body: Mapping[str, Any]) -> Any:
    """The :class:`~shared.events.Event` of a JSON object, or None when the fast path is
    not sure (then the schema must load it, and word any error)."""
    from shared.events import SUPPORTED_VERSIONS, Event, EventType

    try:
        event_id = body["id"]
        if type(event_id) is not str or not _UUID.match(event_id):
            raise _UNSURE
        event_type = EventType(body["type"]) if type(body["type"]) is str else None
        version = body["version"]
        if event_type is None or type(version) is not int or version not in SUPPORTED_VERSIONS:
            raise _UNSURE
        occurred_at = _aware(body["occurred_at"])
        producer = _string(body["producer"])
        data = body["data"]
        load = _payload_loaders().get(event_type.aggregate)
        if type(data) is not dict or load is None:
            raise _UNSURE
        snapshot = load(data)
    except (_Unsure, KeyError, ValueError, TypeError):
        return None
    return Event(
        id=event_id,  # canonical already, as str(UUID(...)) would give it
        type=event_type,
        version=version,
        occurred_at=occurred_at,
        producer=producer,
        data=snapshot,
        wire=body,
    )
