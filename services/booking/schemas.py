"""Booking's marshmallow schemas: one per input shape (JSON and forms alike) and one per
answer. They turn requests into valid typed values once, at the edge."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from services.booking.domain import KINDS, LANGUAGES, ROLES, VISIBILITIES, WEEKDAYS
from shared.timezones import ZonedDateTime

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
STATUSES = ("pending", "approved", "rejected", "cancelled")


def _printable(value: str) -> None:
    """Text may hold line breaks and tabs, but no other control characters (NUL breaks
    PostgreSQL, and none of them means anything to a reader)."""
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 0x7F for ch in value):
        raise ValidationError("Remove the control characters.")


def text(maximum: int, *, required: bool = False, minimum: int = 0, **kw: Any) -> fields.String:
    return fields.String(
        required=required, validate=[validate.Length(min=minimum, max=maximum), _printable], **kw
    )


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


class OpeningHoursField(fields.Field):
    """``{"mon": [["08:00", "20:00"]], ...}``: per weekday, windows that do not overlap."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValidationError("Give an object of weekdays (mon..sun) to lists of windows.")
        result: dict[str, list[list[str]]] = {}
        for day, windows in value.items():
            if day not in WEEKDAYS:
                raise ValidationError(f"Unknown weekday {day!r}; use {', '.join(WEEKDAYS)}.")
            if not isinstance(windows, list) or len(windows) > 6:
                raise ValidationError(f"{day}: give a list of at most 6 [opens, closes] pairs.")
            parsed = []
            for window in windows:
                if not (
                    isinstance(window, list | tuple)
                    and len(window) == 2
                    and all(isinstance(t, str) and HHMM.match(t) for t in window)
                ):
                    raise ValidationError(f'{day}: each window is ["HH:MM", "HH:MM"].')
                opens, closes = window
                if closes != "00:00" and closes <= opens:
                    raise ValidationError(f"{day}: {opens}–{closes} closes before it opens.")
                parsed.append([opens, closes])
            parsed.sort()
            for (_, a_end), (b_start, _) in zip(parsed, parsed[1:], strict=False):
                if a_end == "00:00" or b_start < a_end:
                    raise ValidationError(f"{day}: windows overlap.")
            result[day] = parsed
        return result


def opening_hours_rules(hours: dict[str, list[list[str]]] | None):
    if hours is None:
        return None
    return {
        day: [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in windows]
        for day, windows in hours.items()
    }


class ResourceInSchema(StrictSchema):
    name = text(200, required=True, minimum=1)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    slug = fields.String(
        validate=[
            validate.Length(min=1, max=80),
            validate.Regexp(SLUG, error="Use lower-case letters, digits and single hyphens."),
        ]
    )
    description = text(5000)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))
    location = text(300)
    features = fields.List(text(60, minimum=1), validate=validate.Length(max=40))
    opening_hours = OpeningHoursField(allow_none=True)
    requires_approval = fields.Boolean()
    buffer_minutes = fields.Integer(validate=validate.Range(min=0, max=24 * 60))
    min_notice_hours = fields.Integer(validate=validate.Range(min=0, max=24 * 365))
    max_advance_days = fields.Integer(validate=validate.Range(min=1, max=3650))
    max_duration_minutes = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=14 * 24 * 60)
    )
    managers = fields.List(
        fields.Email(validate=validate.Length(max=254)), validate=validate.Length(max=50)
    )
    active = fields.Boolean()

    @post_load
    def _lower_managers(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "managers" in data:
            data["managers"] = sorted({m.lower() for m in data["managers"]})
        return data


class ClosureInSchema(StrictSchema):
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    reason = text(500, required=True, minimum=1)

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", "end")


class ParticipantSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200)


class BookingInSchema(StrictSchema):
    title = text(200, required=True, minimum=1)
    description = text(5000)
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    resource_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        required=True,
        validate=validate.Length(min=1, max=10),
    )
    expected_attendees = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=100_000)
    )
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    participants = fields.List(fields.Nested(ParticipantSchema), validate=validate.Length(max=500))
    notes = text(5000)
    rrule = fields.String(allow_none=True, validate=validate.Length(max=500))

    @validates("resource_ids")
    def _unique(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("Name each resource once.")

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", "end")

    @post_load
    def _dedupe_participants(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "participants" in data:
            seen: dict[str, dict[str, str]] = {}
            for p in data["participants"]:
                seen.setdefault(
                    p["email"].lower(), {"email": p["email"].lower(), "name": p.get("name", "")}
                )
            data["participants"] = list(seen.values())
        return data


class ReasonSchema(StrictSchema):
    reason = text(2000, allow_none=True)


class RejectSchema(StrictSchema):
    reason = text(2000, required=True, minimum=1)


class BookingQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(STATUSES))
    mine = fields.Boolean()
    resource_id = fields.String(validate=validate.Length(max=80))
    from_ = ZonedDateTime(data_key="from")
    to = ZonedDateTime()
    limit = fields.Integer(validate=validate.Range(min=1, max=1000))


class AvailabilityQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    kind = fields.String(validate=validate.OneOf(KINDS))
    min_capacity = fields.Integer(validate=validate.Range(min=1, max=100_000))
    features = fields.String(validate=validate.Length(max=500))

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", "end")


class RangeQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = ZonedDateTime(data_key="from", required=True)
    to = ZonedDateTime(required=True)


class ResourceQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(validate=validate.OneOf(KINDS))


class UserInSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200, required=True, minimum=1)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(validate=validate.Length(min=8, max=512), load_only=True)


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


class ResourceOut(Schema):
    id = fields.String()
    slug = fields.String()
    name = fields.String()
    kind = fields.String()
    description = fields.String()
    capacity = fields.Integer(allow_none=True)
    location = fields.String()
    features = fields.List(fields.String())
    opening_hours = fields.Dict(allow_none=True)
    requires_approval = fields.Boolean()
    buffer_minutes = fields.Integer()
    min_notice_hours = fields.Integer()
    max_advance_days = fields.Integer()
    max_duration_minutes = fields.Integer(allow_none=True)
    managers = fields.List(fields.String(), attribute="manager_emails")
    active = fields.Boolean()


class HistoryOut(Schema):
    at = ZonedDateTime()
    actor = fields.String()
    action = fields.String()
    revision = fields.Integer()
    changes = fields.List(fields.Dict())
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
