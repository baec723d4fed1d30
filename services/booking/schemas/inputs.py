"""Booking's inputs: each shape loads straight into its command (a partial load of a
request or a resource, as a PATCH is, into the change command)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
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
    GridQuery,
    OpenRange,
    RejectBooking,
    ResourceQuery,
    SubmitBooking,
    SuggestionQuery,
    TimeRange,
)
from services.booking.domain import MAX_ADVANCE_DAYS, MAX_BUFFER_MINUTES, MAX_OCCURRENCE_LENGTH
from services.booking.domain.assignments import MAX_HOURS_DELIVERED
from services.booking.domain.grid import MAX_GRID_DAYS
from services.booking.schemas.parts import (
    MAX_RESOURCES,
    MAX_TEAM_MEMBERS,
    PRINTABLE_PATTERN,
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
from shared.events import (
    AlertMode,
    AssigneeKind,
    Kind,
    Language,
    Person,
    Recording,
    Status,
    Visibility,
)
from shared.messages import Msg
from shared.schema import StrictSchema, fields, validate
from shared.timezones import ZonedDateTime

CURRENCY = re.compile(r"^[A-Za-z]{3}$")
CENT = Decimal("0.01")
MAX_HOURLY_RATE = Decimal("99999999.99")  # what the column holds


def cents(value: Decimal | None) -> Decimal | None:
    """A number as kept (two decimals), once checked as given: 0.004 is refused as below
    0.01, not rounded up to it first."""
    return None if value is None else value.quantize(CENT)


def _features() -> fields.List:
    return fields.List(
        text(60, minimum=1), validate=Count(maximum=40, many=Msg("too_many_items", max=40))
    )


# Each text of a resource kept in both languages: the plain field alone sets both.
BILINGUAL = ("name", "location", "features")


class ResourceInSchema(Stripped):
    """A new resource (``CreateResource``); loaded partially, a change (``ChangeResource``).
    ``name``, ``location`` and ``features`` alone set both languages; ``name_sv``,
    ``name_en`` (and so on) set one."""

    name = text(200, required=True, minimum=1)
    name_sv = text(200, minimum=1)
    name_en = text(200, minimum=1)
    kind = enum_field(Kind, required=True)
    slug = slug_field()
    description = text(5000)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))
    location = text(300)
    location_sv = text(300)
    location_en = text(300)
    features = _features()
    features_sv = _features()
    features_en = _features()
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

    @pre_load
    def _swedish_names_the_resource(self, data: Any, *, partial: Any = None, **_: Any) -> Any:
        """``name_sv`` given without ``name`` is the name (a create needs one)."""
        if not partial and isinstance(data, dict) and "name" not in data and "name_sv" in data:
            return {**data, "name": data["name_sv"]}
        return data

    @post_load
    def _command(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        if "managers" in data:
            data["managers"] = people(data["managers"])
        for base in BILINGUAL:  # the command's plain field is the Swedish one
            both, swedish = data.pop(base, None), data.pop(f"{base}_sv", None)
            if swedish is not None or both is not None:
                data[base] = swedish if swedish is not None else both
            if f"{base}_en" not in data and both is not None:
                data[f"{base}_en"] = both
        for name in ("features", "features_en"):
            if name in data:
                data[name] = tuple(data[name])
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


MAX_NOTICE = 2000


class RecordingInSchema(Stripped):
    """Whether participants and speakers will be photographed or filmed, and how they are
    told (required when either is true). Always whole: what is left out is false or blank
    (also in a change)."""

    photo = fields.Boolean()
    film = fields.Boolean()
    notice = text(MAX_NOTICE)

    @pre_load
    def _whole(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {"photo": False, "film": False, "notice": "", **data}
        return data

    @validates_schema(skip_on_field_errors=True)
    def _told(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("photo") or data.get("film")) and not data.get("notice"):
            raise ValidationError(Msg("recording_notice_required"), "notice")

    @post_load
    def _recording(self, data: dict[str, Any], **_: Any) -> Recording:
        return Recording(data["photo"], data["film"], data["notice"])


class BookingInSchema(Stripped):
    """A request (``SubmitBooking``); loaded partially, a change (``ChangeBooking``)."""

    title = text(200, required=True, minimum=1)
    description = text(5000)
    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    resource_ids = fields.List(
        fields.String(
            validate=validate.Length(min=1, max=80), metadata={"pattern": PRINTABLE_PATTERN}
        ),
        required=True,
        metadata={"uniqueItems": True},  # each once (by the same key): refused otherwise
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
    recording = fields.Nested(RecordingInSchema)
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
        validate=validate.Range(min=CENT, max=MAX_HOURLY_RATE),
        metadata={"type": "number", "minimum": 0.01, "maximum": float(MAX_HOURLY_RATE)},
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
        if "hourly_rate" in data:
            data["hourly_rate"] = cents(data["hourly_rate"])
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
            raise ValidationError(Msg("assignee_one_of"), wanted)
        if data.get(other):
            raise ValidationError(Msg("assignee_one_of"), other)

    @post_load
    def _choice(self, data: dict[str, Any], **_: Any) -> AssigneeChoice:
        return AssigneeChoice(
            data["kind"], (data.get("email") or "").lower(), data.get("supplier_id")
        )


ASSIGNEE_IN = AssigneeInSchema()


class AssigneeField(fields.Field):
    """The assignee (``AssigneeInSchema``) or null, and nothing else: written out for the
    OpenAPI document, where a nested schema that may be null reads as any object."""

    def __init__(self, **kw: Any) -> None:
        shape = {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": [k.value for k in AssigneeKind]},
                "email": {"type": "string", "format": "email", "maxLength": 254},
                "supplier_id": {"type": "string", "minLength": 1, "maxLength": 36},
            },
            "required": ["kind"],
            "additionalProperties": False,
        }
        super().__init__(metadata=shape, **kw)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> AssigneeChoice:
        if not isinstance(value, dict):
            raise ValidationError(Msg("invalid_input"))
        return ASSIGNEE_IN.load(value)


class AssignmentSchema(StrictSchema):
    """Who does a line's job (``null``: nobody), and the hours delivered (``null``: as
    booked; left out: they stay)."""

    assignee = AssigneeField(required=True, allow_none=True)
    hours_delivered = fields.Decimal(
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_HOURS_DELIVERED),
        metadata={
            "type": "number",
            "nullable": True,
            "minimum": 0,
            "maximum": int(MAX_HOURS_DELIVERED),
        },
    )

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> AssignLine:
        hours = data.get("hours_delivered")
        return AssignLine(data["assignee"], cents(hours), hours_given="hours_delivered" in data)


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


class SuggestionQuerySchema(StrictSchema):
    """A time and the resources (ids or slugs, separated by commas) to suggest free times
    for: as long as one date may be, and the resources a request may name."""

    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    resource_ids = fields.String(
        required=True, validate=validate.Length(min=1, max=(80 + 1) * MAX_RESOURCES)
    )

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        end_after_start(data)
        length = data["end"] - data["start"] if {"start", "end"} <= data.keys() else None
        if length is not None and length > MAX_OCCURRENCE_LENGTH:
            raise ValidationError(
                Msg("occurrence_too_long", days=MAX_OCCURRENCE_LENGTH.days), "end"
            )

    @validates("resource_ids")
    def _listed(self, value: str, **_: Any) -> None:
        keys = [k.strip() for k in value.split(",") if k.strip()]
        if not keys:
            raise ValidationError(Msg("choose_a_resource"))
        if len(keys) > MAX_RESOURCES:
            raise ValidationError(Msg("too_many_resources", limit=MAX_RESOURCES))
        if any(len(k) > 80 for k in keys):
            raise ValidationError(Msg("invalid_value"))

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> SuggestionQuery:
        keys = tuple(dict.fromkeys(k.strip() for k in data["resource_ids"].split(",") if k.strip()))
        return SuggestionQuery(data["start"], data["end"], keys)


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


MAX_GRID_RESOURCES = 100


class GridQuerySchema(StrictSchema):
    """A range of at most ``MAX_GRID_DAYS`` days, and which resources: ids or slugs,
    comma-separated (every active one when left out), of a kind when given."""

    start = ZonedDateTime(required=True)
    end = ZonedDateTime(required=True)
    resource_ids = fields.String(
        validate=validate.Length(max=MAX_GRID_RESOURCES * 81),
        metadata={"description": "ids or slugs, comma-separated"},
    )
    kind = enum_field(Kind)

    @validates_schema(skip_on_field_errors=False)
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        end_after_start(data)
        longest = timedelta(days=MAX_GRID_DAYS)
        if "start" in data and "end" in data and data["end"] - data["start"] > longest:
            raise ValidationError(Msg("range_at_most_days", days=MAX_GRID_DAYS), "end")

    @validates("resource_ids")
    def _few_enough(self, value: str, **_: Any) -> None:
        if len(_grid_keys(value)) > MAX_GRID_RESOURCES:
            raise ValidationError(Msg("too_many_items", max=MAX_GRID_RESOURCES))

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> GridQuery:
        keys = tuple(_grid_keys(data.pop("resource_ids", "")))
        return GridQuery(**data, resource_ids=keys)


def _grid_keys(value: str) -> list[str]:
    return list(dict.fromkeys(k.strip() for k in value.split(",") if k.strip()))
