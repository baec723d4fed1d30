"""marshmallow at the edge, speaking in message ids: every field and validator here raises
a :class:`~shared.messages.Msg` instead of marshmallow's English, so a form and a problem
detail word the same error the same way in both languages. Schemas of every service build
on these (``from shared.schema import Schema, StrictSchema, fields, validate``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow
from marshmallow import EXCLUDE, RAISE, ValidationError
from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate

from shared.messages import Msg
from shared.timezones import check_year

_ANY_FIELD = {
    "required": Msg("field_required"),
    "null": Msg("field_required"),
    "validator_failed": Msg("invalid_value"),
}


class Schema(marshmallow.Schema):
    """Unknown fields are ignored (queries); schema-level errors are message ids."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"unknown": Msg("unknown_field"), "type": Msg("invalid_input")}


class StrictSchema(Schema):
    """Request bodies: an unknown field is an error, named."""

    class Meta:
        unknown = RAISE


def _with_ids(base: type[ma_fields.Field], **messages: Msg) -> type[ma_fields.Field]:
    return type(base.__name__, (base,), {"default_error_messages": {**_ANY_FIELD, **messages}})


class _Date(ma_fields.Date):
    """A calendar date the suite holds (:func:`~shared.timezones.check_year`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        day = super()._deserialize(value, attr, data, **kwargs)
        check_year(day)
        return day


class _Email(ma_fields.Email):
    """An address mail can reach from here: ASCII only. Notify's relay is not assumed to
    speak SMTPUTF8, and an address accepted but never delivered to is worse than one refused
    (an internationalised domain is written in its xn-- form)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        address = super()._deserialize(value, attr, data, **kwargs)
        if not address.isascii():
            raise self.make_error("not_ascii")
        return address


class fields:  # noqa: N801 - used like the ``marshmallow.fields`` module it stands for
    """marshmallow's fields with message ids."""

    Field = _with_ids(ma_fields.Field)
    Raw = _with_ids(ma_fields.Raw)
    String = _with_ids(
        ma_fields.String, invalid=Msg("invalid_text"), invalid_utf8=Msg("invalid_text")
    )
    Integer = _with_ids(
        ma_fields.Integer, invalid=Msg("invalid_integer"), too_large=Msg("invalid_integer")
    )
    Boolean = _with_ids(ma_fields.Boolean, invalid=Msg("invalid_boolean"))
    Float = _with_ids(ma_fields.Float, invalid=Msg("invalid_number"), special=Msg("invalid_number"))
    Decimal = _with_ids(
        ma_fields.Decimal, invalid=Msg("invalid_number"), special=Msg("invalid_number")
    )
    Email = _with_ids(
        _Email,
        invalid=Msg("invalid_email"),
        invalid_utf8=Msg("invalid_email"),
        not_ascii=Msg("email_not_ascii"),
    )
    DateTime = _with_ids(
        ma_fields.DateTime, invalid=Msg("invalid_datetime"), format=Msg("invalid_datetime")
    )
    AwareDateTime = _with_ids(
        ma_fields.AwareDateTime,
        invalid=Msg("invalid_datetime"),
        invalid_awareness=Msg("invalid_datetime"),
        format=Msg("invalid_datetime"),
    )
    Date = _with_ids(_Date, invalid=Msg("invalid_date"), format=Msg("invalid_date"))
    Time = _with_ids(ma_fields.Time, invalid=Msg("invalid_time"), format=Msg("invalid_time"))
    List = _with_ids(ma_fields.List, invalid=Msg("invalid_list"))
    Dict = _with_ids(ma_fields.Dict, invalid=Msg("invalid_input"))
    Nested = _with_ids(ma_fields.Nested, type=Msg("invalid_input"))
    UUID = _with_ids(ma_fields.UUID, invalid_uuid=Msg("invalid_value"))
    Function = _with_ids(ma_fields.Function)  # answers only: a value computed from the object
    Pluck = _with_ids(ma_fields.Pluck, type=Msg("invalid_input"))
    Enum = _with_ids(
        ma_fields.Enum, unknown=Msg("choose_one_of"), unknown_by_value=Msg("choose_one_of")
    )


class validate:  # noqa: N801 - used like the ``marshmallow.validate`` module
    """marshmallow's validators with message ids."""

    Validator = ma_validate.Validator

    @staticmethod
    def Length(min: int | None = None, max: int | None = None) -> ma_validate.Length:  # noqa: N802, A002
        if min == 1 and max is not None:
            error = Msg("text_required_max", max=max)
        elif max is not None and min is None:
            error = Msg("text_too_long", max=max)
        elif min is not None and max is None:
            error = Msg("text_too_short", min=min)
        else:
            error = Msg("text_length", min=min, max=max)
        return ma_validate.Length(min=min, max=max, error=error)

    @staticmethod
    def Range(min: Any = None, max: Any = None) -> ma_validate.Range:  # noqa: N802, A002
        if min is not None and max is not None:
            error = Msg("number_between", min=min, max=max)
        elif min is not None:
            error = Msg("number_at_least", min=min)
        else:
            error = Msg("number_at_most", max=max)
        return ma_validate.Range(min=min, max=max, error=error)

    @staticmethod
    def OneOf(choices: Iterable[Any]) -> ma_validate.OneOf:  # noqa: N802
        choices = list(choices)
        return ma_validate.OneOf(
            choices, error=Msg("choose_one_of", choices=", ".join(map(str, choices)))
        )

    @staticmethod
    def Regexp(regex: str, error: Msg) -> ma_validate.Regexp:  # noqa: N802
        return ma_validate.Regexp(regex, error=error)


__all__ = ["Schema", "StrictSchema", "ValidationError", "fields", "validate"]
