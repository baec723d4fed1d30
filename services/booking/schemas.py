"""Booking's marshmallow schemas, at the edge only: each input shape loads straight into its
command (:mod:`services.booking.commands`), each answer dumps a read model
(:mod:`services.booking.views`). Every error is a message id (``shared.schema``)."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import (
    ValidationError,
    post_load,
    pre_load,
    validates,
    validates_schema,
)
from marshmallow import validate as ma_validate

from services.booking.commands import (
    AddClosure,
    AvailabilityQuery,
    BookingQuery,
    CancelBooking,
    ChangeBooking,
    ChangeResource,
    CreateResource,
    RejectBooking,
    ResourceQuery,
    SubmitBooking,
    TimeRange,
)
from services.booking.domain import MAX_BUFFER_MINUTES, WEEKDAYS
from shared.events import Kind, Language, Person, Status, Visibility
from shared.messages import Msg
from shared.schema import Schema, StrictSchema, fields, validate
from shared.timezones import ZonedDateTime

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
STATUSES = tuple(Status)
MAX_RESOURCES = 10


def _printable(value: str) -> None:
    """Text may hold line breaks and tabs, but no other control characters (NUL breaks
    PostgreSQL, and none of them means anything to a reader)."""
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 0x7F for ch in value):
        raise ValidationError(Msg("remove_control_characters"))


def text(maximum: int, *, required: bool = False, minimum: int = 0, **kw: Any) -> fields.String:
    return fields.String(
        required=required,
        validate=[validate.Length(min=minimum or None, max=maximum), _printable],
        **kw,
    )


class Count(ma_validate.Length):
    """How many items a list holds, in words that speak of items, not characters."""

    def __init__(self, *, few: Msg | None = None, many: Msg, minimum=None, maximum=None) -> None:
        super().__init__(min=minimum, max=maximum)
        self.few, self.many = few, many

    def __call__(self, value: Any) -> Any:
        if self.min is not None and len(value) < self.min:
            raise ValidationError(self.few or self.many)
        if self.max is not None and len(value) > self.max:
            raise ValidationError(self.many)
        return value


def _enum(enum: type, **kw: Any) -> fields.Enum:
    return fields.Enum(enum, by_value=True, **kw)


class _Stripped(StrictSchema):
    """Request bodies: unknown fields refused, text trimmed."""

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


def _end_after_start(data: dict[str, Any]) -> None:
    if "start" in data and "end" in data and data["end"] <= data["start"]:
        raise ValidationError(Msg("end_before_start"), "end")


# --- resources -----------------------------------------------------------------------------


class OpeningHoursField(fields.Field):
    """``{"mon": [["08:00", "20:00"]], ...}``: per weekday, windows that do not overlap.
    Loads as windows of :class:`datetime.time`; dumps as it is kept (``"HH:MM"`` text)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValidationError(Msg("opening_hours_shape"))
        return {day: _windows(day, windows) for day, windows in value.items()}

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return {day: [list(w) for w in windows] for day, windows in value.items()}


def _windows(day: str, windows: Any) -> tuple[tuple[time, time], ...]:
    if day not in WEEKDAYS:
        raise ValidationError(Msg("unknown_weekday", day=day, days=", ".join(WEEKDAYS)))
    if not isinstance(windows, list) or len(windows) > 6:
        raise ValidationError(Msg("opening_hours_windows", day=day))
    parsed = []
    for window in windows:
        if not (
            isinstance(window, list | tuple)
            and len(window) == 2
            and all(isinstance(t, str) and HHMM.match(t) for t in window)
        ):
            raise ValidationError(Msg("opening_hours_window_shape", day=day))
        opens, closes = window
        if closes != "00:00" and closes <= opens:
            raise ValidationError(Msg("closes_before_opens", day=day, opens=opens, closes=closes))
        parsed.append((opens, closes))
    parsed.sort()
    for (_, a_end), (b_start, _) in zip(parsed, parsed[1:], strict=False):
        if a_end == "00:00" or b_start < a_end:
            raise ValidationError(Msg("windows_overlap", day=day))
    return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in parsed)


class ResourceInSchema(_Stripped):
    """A new resource (``CreateResource``); loaded partially, a change (``ChangeResource``)."""

    name = text(200, required=True, minimum=1)
    kind = _enum(Kind, required=True)
    slug = fields.String(
        validate=[
            validate.Length(min=1, max=80),
            validate.Regexp(SLUG, error=Msg("slug_format")),
        ]
    )
    description = text(5000)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))
    location = text(300)
    features = fields.List(
        text(60, minimum=1), validate=Count(maximum=40, many=Msg("too_many_items", max=40))
    )
    opening_hours = OpeningHoursField(allow_none=True)
    requires_approval = fields.Boolean()
    buffer_minutes = fields.Integer(validate=validate.Range(min=0, max=MAX_BUFFER_MINUTES))
    min_notice_hours = fields.Integer(validate=validate.Range(min=0, max=24 * 365))
    max_advance_days = fields.Integer(validate=validate.Range(min=1, max=3650))
    max_duration_minutes = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=14 * 24 * 60)
    )
    managers = fields.List(
        fields.Email(validate=validate.Length(max=254)),
        validate=Count(maximum=50, many=Msg("too_many_items", max=50)),
    )
    active = fields.Boolean()

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        if "managers" in data:
            data["managers"] = tuple(sorted({m.lower() for m in data["managers"]}))
        if "features" in data:
            data["features"] = tuple(data["features"])
        return ChangeResource.of(**data) if partial else CreateResource(**data)


class ClosureInSchema(_Stripped):
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    reason = text(500, required=True, minimum=1)

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        _end_after_start(data)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> AddClosure:
        return AddClosure(**data)


# --- bookings ------------------------------------------------------------------------------


class ParticipantSchema(_Stripped):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200)

    @post_load
    def _person(self, data: dict[str, Any], **_: Any) -> Person:
        return Person(data["email"].lower(), data.get("name", ""))


class BookingInSchema(_Stripped):
    """A request (``SubmitBooking``); loaded partially, a change (``ChangeBooking``)."""

    title = text(200, required=True, minimum=1)
    description = text(5000)
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    resource_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        required=True,
        validate=Count(
            minimum=1,
            maximum=MAX_RESOURCES,
            few=Msg("choose_a_resource"),
            many=Msg("too_many_resources", limit=MAX_RESOURCES),
        ),
    )
    expected_attendees = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=100_000)
    )
    visibility = _enum(Visibility)
    language = _enum(Language)
    participants = fields.List(
        fields.Nested(ParticipantSchema),
        validate=Count(maximum=500, many=Msg("too_many_items", max=500)),
    )
    notes = text(5000)
    rrule = fields.String(allow_none=True, validate=validate.Length(max=500))

    @validates("resource_ids")
    def _unique(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError(Msg("name_each_resource_once"))

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        _end_after_start(data)

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        if "resource_ids" in data:
            data["resource_ids"] = tuple(data["resource_ids"])
        if "participants" in data:  # each address once, the first name given kept
            seen: dict[str, Person] = {}
            for person in data["participants"]:
                seen.setdefault(person.email, person)
            data["participants"] = tuple(seen.values())
        return ChangeBooking.of(**data) if partial else SubmitBooking(**data)


class ReasonSchema(_Stripped):
    reason = text(2000, allow_none=True)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> CancelBooking:
        return CancelBooking(data.get("reason") or None)


class RejectSchema(_Stripped):
    reason = text(2000, required=True, minimum=1)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> RejectBooking:
        return RejectBooking(data["reason"])


# --- questions (query strings) -------------------------------------------------------------


class BookingQuerySchema(StrictSchema):
    status = _enum(Status)
    mine = fields.Boolean()
    resource_id = fields.String(validate=validate.Length(max=80))
    from_ = ZonedDateTime(data_key="from")
    to = ZonedDateTime()
    limit = fields.Integer(validate=validate.Range(min=1, max=1000))

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> BookingQuery:
        return BookingQuery(**data)


class AvailabilityQuerySchema(StrictSchema):
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    kind = _enum(Kind)
    min_capacity = fields.Integer(validate=validate.Range(min=1, max=100_000))
    features = fields.String(validate=validate.Length(max=500))

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        _end_after_start(data)

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> AvailabilityQuery:
        wanted = data.pop("features", "") or ""
        features = frozenset(f.strip().lower() for f in wanted.split(",") if f.strip())
        return AvailabilityQuery(**data, features=features)


class RangeQuerySchema(StrictSchema):
    from_ = ZonedDateTime(data_key="from", required=True)
    to = ZonedDateTime(required=True)

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> TimeRange:
        return TimeRange(data["from_"], data["to"])


class ResourceQuerySchema(StrictSchema):
    kind = _enum(Kind)

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> ResourceQuery:
        return ResourceQuery(**data)


# --- answers (documented in the OpenAPI document) ------------------------------------------


class ResourceRefOut(Schema):
    id = fields.String()
    slug = fields.String()
    name = fields.String()
    kind = fields.String()
    location = fields.String()


class PersonOut(Schema):
    email = fields.String()
    name = fields.String()


class OccurrenceOut(Schema):
    n = fields.Integer()
    start = ZonedDateTime()
    end = ZonedDateTime()
    status = fields.String()


class ConflictOut(Schema):
    booking_id = fields.String()
    resource_id = fields.String()
    start = ZonedDateTime()
    end = ZonedDateTime()
    status = fields.String()
    title = fields.String()


class BookingOut(Schema):
    id = fields.String()
    uid = fields.String()
    title = fields.String()
    description = fields.String()
    start = ZonedDateTime()
    end = ZonedDateTime()
    timezone = fields.String()
    status = fields.String()
    revision = fields.Integer()
    resources = fields.List(fields.Nested(ResourceRefOut))
    organiser = fields.Nested(PersonOut)
    participants = fields.List(fields.Nested(PersonOut))
    visibility = fields.String()
    language = fields.String()
    expected_attendees = fields.Integer(allow_none=True)
    notes = fields.String()
    rrule = fields.String(allow_none=True)
    occurrences = fields.List(fields.Nested(OccurrenceOut))
    conflicts = fields.List(fields.Nested(ConflictOut))
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = ZonedDateTime()
    updated_at = ZonedDateTime()


class ApprovalOut(BookingOut):
    """An approved booking, and the competing requests still waiting."""

    competing = fields.List(fields.Nested(ConflictOut))


class ResourceOut(Schema):
    id = fields.String()
    slug = fields.String()
    name = fields.String()
    kind = fields.String()
    description = fields.String()
    capacity = fields.Integer(allow_none=True)
    location = fields.String()
    features = fields.List(fields.String())
    opening_hours = OpeningHoursField(allow_none=True)
    requires_approval = fields.Boolean()
    buffer_minutes = fields.Integer()
    min_notice_hours = fields.Integer()
    max_advance_days = fields.Integer()
    max_duration_minutes = fields.Integer(allow_none=True)
    managers = fields.List(fields.String())
    active = fields.Boolean()


class ChangeOut(Schema):
    field = fields.String()
    old = fields.Raw(data_key="from", allow_none=True)
    new = fields.Raw(data_key="to", allow_none=True)


class HistoryOut(Schema):
    at = ZonedDateTime()
    actor = fields.String()
    action = fields.String()
    revision = fields.Integer()
    changes = fields.List(fields.Nested(ChangeOut))
    reason = fields.String(allow_none=True)


class ClosureOut(Schema):
    id = fields.String()
    resource_id = fields.String()
    start = ZonedDateTime()
    end = ZonedDateTime()
    reason = fields.String()


class BusyBlockOut(Schema):
    start = ZonedDateTime()
    end = ZonedDateTime()
    booking_id = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    kind = fields.String()
