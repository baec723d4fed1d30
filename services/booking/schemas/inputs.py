"""Booking's inputs: each shape loads straight into its command (a partial load of a
request or a resource, as a PATCH is, into the change command)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, post_load, pre_load, validates, validates_schema

from services.booking.commands import (
    AddClosure,
    ApproveBooking,
    AssigneeChoice,
    AssignLine,
    AvailabilityQuery,
    BookingQuery,
    CancelBooking,
    ChangeBooking,
    ChangeListEntry,
    ChangeResource,
    ChangeSupplier,
    ChangeTeam,
    CreateListEntry,
    CreateResource,
    CreateSupplier,
    CreateTeam,
    OpenRange,
    RejectBooking,
    ResourceQuery,
    SubmitBooking,
    TimeRange,
)
from services.booking.domain import MAX_ADVANCE_DAYS, MAX_BUFFER_MINUTES
from services.booking.domain.assignments import MAX_HOURS_DELIVERED
from services.booking.schemas.parts import (
    MAX_RESOURCES,
    MAX_TEAM_MEMBERS,
    SLUG,
    Count,
    OpeningHoursField,
    Stripped,
    emails,
    end_after_start,
    enum_field,
    people,
    slug_field,
    text,
)
from shared.config import MAX_PARTICIPANTS
from shared.events import AlertMode, AssigneeKind, Kind, Language, Person, Status, Visibility
from shared.messages import Msg
from shared.schema import StrictSchema, fields, validate
from shared.timezones import ZonedDateTime

CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MAX_HOURLY_RATE = 99_999_999.99  # what the column holds


class ResourceInSchema(Stripped):
    """A new resource (``CreateResource``); loaded partially, a change (``ChangeResource``)."""

    name = text(200, required=True, minimum=1)
    kind = enum_field(Kind, required=True)
    slug = slug_field()
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
    max_advance_days = fields.Integer(validate=validate.Range(min=1, max=MAX_ADVANCE_DAYS))
    max_duration_minutes = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=14 * 24 * 60)
    )
    managers = emails(50)
    active = fields.Boolean()
    team = slug_field(allow_none=True)
    self_approval = fields.Boolean()

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        if "managers" in data:
            data["managers"] = people(data["managers"])
        if "features" in data:
            data["features"] = tuple(data["features"])
        return ChangeResource.of(**data) if partial else CreateResource(**data)


class TeamInSchema(Stripped):
    """A new team (``CreateTeam``); loaded partially, a change (``ChangeTeam``)."""

    name = text(200, required=True, minimum=1)
    slug = slug_field()
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    members = emails(MAX_TEAM_MEMBERS)

    @pre_load
    def _no_mailbox(self, data: Any, **_: Any) -> Any:
        """An empty mailbox is none (alerts go to each member)."""
        email = data.get("email") if isinstance(data, dict) else None
        if isinstance(email, str) and not email.strip():
            return {**data, "email": None}
        return data

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        if "email" in data:
            data["email"] = (data["email"] or "").lower()
        if "members" in data:
            data["members"] = people(data["members"])
        return ChangeTeam.of(**data) if partial else CreateTeam(**data)


class ClosureInSchema(Stripped):
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    reason = text(500, required=True, minimum=1)
    cancel_bookings = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        end_after_start(data)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> AddClosure:
        return AddClosure(**data)


# --- bookings ------------------------------------------------------------------------------


class ParticipantSchema(Stripped):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200)

    @post_load
    def _person(self, data: dict[str, Any], **_: Any) -> Person:
        return Person(data["email"].lower(), data.get("name", ""))


class BookingInSchema(Stripped):
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
    visibility = enum_field(Visibility)
    language = enum_field(Language)
    participants = fields.List(
        fields.Nested(ParticipantSchema),
        validate=Count(maximum=MAX_PARTICIPANTS, many=Msg("too_many_items", max=MAX_PARTICIPANTS)),
    )
    notes = text(5000)
    rrule = fields.String(allow_none=True, validate=validate.Length(max=500))
    category = slug_field(allow_none=True, metadata={"description": "a category's slug"})
    unit = slug_field(allow_none=True, metadata={"description": "a unit's slug"})

    @validates("resource_ids")
    def _unique(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError(Msg("name_each_resource_once"))

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        end_after_start(data)

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


class ReasonSchema(Stripped):
    reason = text(2000, allow_none=True)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> CancelBooking:
        return CancelBooking(data.get("reason") or None)


def _line_keys() -> fields.List:
    """The lines a decision is about, by resource id or slug (all of the actor's if left
    out)."""
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        load_default=None,
        validate=Count(
            minimum=1,
            maximum=MAX_RESOURCES,
            few=Msg("choose_a_resource"),
            many=Msg("too_many_resources", limit=MAX_RESOURCES),
        ),
    )


def _keys(data: dict[str, Any]) -> tuple[str, ...] | None:
    keys = data.get("resource_ids")
    return None if keys is None else tuple(dict.fromkeys(keys))


class ApproveSchema(StrictSchema):
    resource_ids = _line_keys()

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> ApproveBooking:
        return ApproveBooking(_keys(data))


class RejectSchema(Stripped):
    reason = text(2000, required=True, minimum=1)
    resource_ids = _line_keys()

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> RejectBooking:
        return RejectBooking(data["reason"], _keys(data))


class SettingsSchema(StrictSchema):
    """A person's own settings: how requests waiting for their decision reach them."""

    alerts = enum_field(AlertMode, required=True)


# --- the lists admins keep, suppliers, who does a line's job ---------------------------------


class ListEntryInSchema(Stripped):
    """A new category or unit (``CreateListEntry``); loaded partially, a change."""

    slug = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=40), validate.Regexp(SLUG, error=Msg("slug_format"))],
    )
    name_sv = text(100, required=True, minimum=1)
    name_en = text(100, required=True, minimum=1)
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000))
    active = fields.Boolean()

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        return ChangeListEntry.of(**data) if partial else CreateListEntry(**data)


class SupplierInSchema(Stripped):
    """A new supplier on an agreement (``CreateSupplier``); loaded partially, a change."""

    name = text(200, required=True, minimum=1)
    agreement_ref = text(100, required=True, minimum=1)
    hourly_rate = fields.Decimal(
        required=True,
        places=2,
        validate=validate.Range(min=0.01, max=MAX_HOURLY_RATE),
        metadata={"type": "number", "description": "more than 0"},
    )
    currency = fields.String(validate=validate.Regexp(CURRENCY, error=Msg("currency_format")))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    active = fields.Boolean()

    @pre_load
    def _no_contact(self, data: Any, **_: Any) -> Any:
        """An empty contact address is none."""
        email = data.get("email") if isinstance(data, dict) else None
        if isinstance(email, str) and not email.strip():
            return {**data, "email": None}
        return data

    @validates_schema(skip_on_field_errors=True)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_to")
        if start is not None and end is not None and end < start:
            raise ValidationError(Msg("valid_to_before_valid_from"), "valid_to")

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        if "email" in data:
            data["email"] = (data["email"] or "").lower()
        if "currency" in data:
            data["currency"] = data["currency"].upper()
        return ChangeSupplier.of(**data) if partial else CreateSupplier(**data)


class AssigneeInSchema(StrictSchema):
    """Who is to do the job: a staff member by address, or a supplier by id."""

    kind = enum_field(AssigneeKind, required=True)
    email = fields.Email(validate=validate.Length(max=254))
    supplier_id = fields.String(validate=validate.Length(min=1, max=36))

    @validates_schema(skip_on_field_errors=True)
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        wanted, other = (
            ("email", "supplier_id")
            if data.get("kind") is AssigneeKind.STAFF
            else ("supplier_id", "email")
        )
        if not data.get(wanted):
            raise ValidationError(Msg("field_required"), wanted)
        if data.get(other):
            raise ValidationError(Msg("assignee_one_of"), other)

    @post_load
    def _choice(self, data: dict[str, Any], **_: Any) -> AssigneeChoice:
        return AssigneeChoice(
            data["kind"], (data.get("email") or "").lower(), data.get("supplier_id")
        )


class AssignmentSchema(StrictSchema):
    """Who does a line's job (``null``: nobody), and the hours delivered (``null``: as
    booked; left out: they stay)."""

    assignee = fields.Nested(AssigneeInSchema, required=True, allow_none=True)
    hours_delivered = fields.Decimal(
        allow_none=True,
        places=2,
        validate=validate.Range(min=0, max=int(MAX_HOURS_DELIVERED)),
        metadata={"type": "number", "nullable": True},
    )

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> AssignLine:
        return AssignLine(
            data["assignee"], data.get("hours_delivered"), hours_given="hours_delivered" in data
        )


# --- questions (query strings) -------------------------------------------------------------


class BookingQuerySchema(StrictSchema):
    status = enum_field(Status)
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
    kind = enum_field(Kind)
    min_capacity = fields.Integer(validate=validate.Range(min=1, max=100_000))
    features = fields.String(validate=validate.Length(max=500))

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        end_after_start(data)

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


class ClosureQuerySchema(StrictSchema):
    """A stretch of time to list closures in; either end may be left open."""

    from_ = ZonedDateTime(data_key="from")
    to = ZonedDateTime()

    @validates_schema(skip_on_field_errors=True)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "from_" in data and "to" in data and data["to"] <= data["from_"]:
            raise ValidationError(Msg("end_before_start"), "to")

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> OpenRange:
        return OpenRange(data.get("from_"), data.get("to"))


class ResourceQuerySchema(StrictSchema):
    kind = enum_field(Kind)

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> ResourceQuery:
        return ResourceQuery(**data)
