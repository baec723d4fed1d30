"""Closing a resource for a while: the API's closure schema over a form of dates with
optional times (no end time: the whole last day), loading into the same
:class:`~services.booking.commands.AddClosure`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from marshmallow import EXCLUDE, post_load, validates_schema

from services.booking.commands import AddClosure
from services.booking.entrypoints.pages.forms.errors import Errors, flat
from services.booking.entrypoints.pages.forms.when import required, wall_time
from services.booking.schemas import ClosureInSchema
from shared.messages import Msg
from shared.schema import ValidationError, fields


def _interval(data: dict[str, Any]) -> tuple[datetime, datetime]:
    start = wall_time(data["start_date"], data["start_time"])
    if data["end_time"] is None:  # the whole last day
        return start, wall_time(data["end_date"] + timedelta(days=1), time(0))
    return start, wall_time(data["end_date"], data["end_time"])


class ClosureForm(ClosureInSchema):
    """The API's closure with date and time fields instead of ``start`` and ``end``."""

    class Meta:
        unknown = EXCLUDE  # the post carries the page's token
        exclude = ("start", "end")

    start_date = fields.Date(required=True, error_messages=required(Msg("date_required")))
    start_time = fields.Time(load_default=time(0))
    end_date = fields.Date(required=True, error_messages=required(Msg("date_required")))
    end_time = fields.Time(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if {"start_date", "end_date"} <= data.keys() and "start_time" in data:
            start, end = _interval({"end_time": None, **data})
            if end <= start:
                raise ValidationError(Msg("end_before_start"), "end_date")

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> AddClosure:
        start, end = (moment.astimezone(UTC) for moment in _interval(data))
        chosen = {"cancel_bookings": data["cancel_bookings"]}
        return super()._command({"start": start, "end": end, "reason": data["reason"], **chosen})


CLOSURE_FORM = ClosureForm()


def read_closure(data: dict[str, Any]) -> tuple[AddClosure | None, Errors]:
    try:
        return CLOSURE_FORM.load(data), {}
    except ValidationError as exc:
        return None, flat(exc.messages)
