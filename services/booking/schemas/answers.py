"""Booking's answers: the read models as JSON (and as the OpenAPI document shows them)."""

from __future__ import annotations

from services.booking.schemas.parts import OpeningHoursField, enum_field
from shared.events import (
    AlertMode,
    AssigneeKind,
    Kind,
    Language,
    LineStatus,
    OccurrenceStatus,
    Status,
    Visibility,
)
from shared.schema import Schema, fields
from shared.timezones import ZonedDateTime


class SpanOut(Schema):
    """A stretch of time, ``start`` to ``end`` (ISO 8601 with offset)."""

    start = ZonedDateTime()
    end = ZonedDateTime()


class ResourceRefOut(Schema):
    id = fields.String()
    slug = fields.String()
    name = fields.String()
    kind = enum_field(Kind)
    location = fields.String()


class PersonOut(Schema):
    email = fields.String()
    name = fields.String()


class OccurrenceOut(SpanOut):
    n = fields.Integer()
    status = enum_field(OccurrenceStatus)


class ConflictOut(SpanOut):
    """Another booking in the way; one the reader may not see is only busy (``busy_only``:
    no id, no title)."""

    booking_id = fields.String(allow_none=True)
    resource_id = fields.String()
    status = fields.String()
    title = fields.String()
    busy_only = fields.Boolean()


class AssigneeOut(Schema):
    """Who does a line's job: a staff member (``email``) or a supplier (``supplier_id``;
    ``email``: its contact, if any), by name."""

    kind = enum_field(AssigneeKind)
    email = fields.String()
    supplier_id = fields.String(allow_none=True)
    name = fields.String()


class LineOut(Schema):
    """One resource of a booking and its own decision; who does its job, and the hours
    delivered (``null``: as booked)."""

    resource_id = fields.String()
    resource = fields.Nested(ResourceRefOut)
    status = enum_field(LineStatus)
    decided_by = fields.String(allow_none=True)
    decided_at = ZonedDateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    deciders = fields.List(fields.String())
    assignee = fields.Nested(AssigneeOut, allow_none=True)
    hours_delivered = fields.Float(allow_none=True)


class LabelOut(Schema):
    slug = fields.String()
    name_sv = fields.String()
    name_en = fields.String()


def _slug(name: str) -> fields.Pluck:
    """A list entry's slug (``null``: none chosen)."""
    return fields.Pluck(
        LabelOut, "slug", allow_none=True, metadata={"description": f"the {name}'s slug"}
    )


class BookingOut(Schema):
    id = fields.String()
    uid = fields.String()
    title = fields.String()
    description = fields.String()
    start = ZonedDateTime()
    end = ZonedDateTime()
    timezone = fields.String()
    status = enum_field(Status)
    revision = fields.Integer()
    resources = fields.List(fields.Nested(ResourceRefOut))
    organiser = fields.Nested(PersonOut)
    participants = fields.List(fields.Nested(PersonOut))
    visibility = enum_field(Visibility)
    language = enum_field(Language)
    expected_attendees = fields.Integer(allow_none=True)
    notes = fields.String()
    rrule = fields.String(allow_none=True)
    occurrences = fields.List(fields.Nested(OccurrenceOut))
    lines = fields.List(fields.Nested(LineOut))
    conflicts = fields.List(fields.Nested(ConflictOut))
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = ZonedDateTime()
    updated_at = ZonedDateTime()
    category = _slug("category")
    unit = _slug("unit")


class ApprovalOut(BookingOut):
    """An approved booking, and the competing requests still waiting."""

    competing = fields.List(fields.Nested(ConflictOut))


class ResourceOut(ResourceRefOut):
    """A resource in full: what a booking names of it, and its rules."""

    description = fields.String()
    capacity = fields.Integer(allow_none=True)
    features = fields.List(fields.String())
    opening_hours = OpeningHoursField(allow_none=True)
    requires_approval = fields.Boolean()
    buffer_minutes = fields.Integer()
    min_notice_hours = fields.Integer()
    max_advance_days = fields.Integer()
    max_duration_minutes = fields.Integer(allow_none=True)
    managers = fields.List(fields.String())
    active = fields.Boolean()
    team = fields.Function(
        lambda r: r.team.slug if r.team else None,
        allow_none=True,
        metadata={"type": "string", "nullable": True, "description": "the team's slug"},
    )
    self_approval = fields.Boolean()
    revision = fields.Integer()


class TeamOut(Schema):
    """A team: who decides its resources' lines, where its alerts go, which resources."""

    slug = fields.String()
    name = fields.String()
    email = fields.String()
    members = fields.List(fields.String())
    resources = fields.Pluck(ResourceRefOut, "slug", many=True)


class ListEntryOut(Schema):
    """A category or unit: its slug, names, place in the list, and whether it may still be
    chosen."""

    slug = fields.String()
    name_sv = fields.String()
    name_en = fields.String()
    position = fields.Integer()
    active = fields.Boolean()


class SupplierOut(Schema):
    """A supplier on a procured agreement (``valid_to`` inclusive; ``null``: open)."""

    id = fields.String()
    name = fields.String()
    agreement_ref = fields.String()
    hourly_rate = fields.Float()
    currency = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    email = fields.String()
    active = fields.Boolean()


class SettingsOut(Schema):
    alerts = enum_field(AlertMode)


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


class ClosureOut(SpanOut):
    id = fields.String()
    resource_id = fields.String()
    reason = fields.String()


class BusyBlockOut(SpanOut):
    booking_id = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    kind = fields.String()
