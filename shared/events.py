"""The event contract: envelope and booking snapshot as marshmallow schemas.

Every event carries the whole current snapshot of a booking and its revision, so a
consumer applies an event only when the revision is newer than what it holds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})

BOOKING_SUBMITTED = "booking.submitted"
BOOKING_APPROVED = "booking.approved"
BOOKING_REJECTED = "booking.rejected"
BOOKING_CHANGED = "booking.changed"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_OCCURRENCE_CANCELLED = "booking.occurrence_cancelled"
USER_CHANGED = "user.changed"
BOOKING_EVENT_TYPES = (
    BOOKING_SUBMITTED,
    BOOKING_APPROVED,
    BOOKING_REJECTED,
    BOOKING_CHANGED,
    BOOKING_CANCELLED,
    BOOKING_OCCURRENCE_CANCELLED,
)
EVENT_TYPES = (*BOOKING_EVENT_TYPES, USER_CHANGED)
STATUSES = ("pending", "approved", "rejected", "cancelled")
VISIBILITIES = ("public", "internal", "private")


class _Lenient(Schema):
    """Payload parts ignore unknown fields, so a producer may add fields without breaking
    consumers (a breaking change raises the schema version instead)."""

    class Meta:
        unknown = EXCLUDE


class PersonSchema(_Lenient):
    email = fields.Email(required=True)
    name = fields.String(load_default="", allow_none=True)


class ResourceRefSchema(_Lenient):
    id = fields.String(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("venue", "studio", "service")))
    location = fields.String(load_default="", allow_none=True)
    requires_approval = fields.Boolean(load_default=True)
    managers = fields.List(fields.Email(), load_default=list)


class OccurrenceSchema(_Lenient):
    n = fields.Integer(required=True, validate=validate.Range(min=0))
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("active", "cancelled")))


class ChangeSchema(_Lenient):
    field = fields.String(required=True)
    old = fields.Raw(load_default=None, allow_none=True, data_key="from")
    new = fields.Raw(load_default=None, allow_none=True, data_key="to")


class BookingSnapshotSchema(_Lenient):
    booking_id = fields.String(required=True)
    uid = fields.String(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    title = fields.String(required=True)
    description = fields.String(load_default="", allow_none=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True)
    rrule = fields.String(load_default=None, allow_none=True)
    occurrences = fields.List(fields.Nested(OccurrenceSchema), load_default=list)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    visibility = fields.String(required=True, validate=validate.OneOf(VISIBILITIES))
    language = fields.String(load_default="sv", validate=validate.OneOf(("sv", "en")))
    expected_attendees = fields.Integer(load_default=None, allow_none=True)
    resources = fields.List(fields.Nested(ResourceRefSchema), load_default=list)
    organiser = fields.Nested(PersonSchema, required=True)
    participants = fields.List(fields.Nested(PersonSchema), load_default=list)
    reason = fields.String(load_default=None, allow_none=True)
    decided_by = fields.String(load_default=None, allow_none=True)
    changes = fields.List(fields.Nested(ChangeSchema), load_default=list)
    cancelled_occurrence = fields.Integer(load_default=None, allow_none=True)
    url = fields.String(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class UserSnapshotSchema(_Lenient):
    """A user as the other services need to know it: to honour role changes, deactivation
    and revoked API tokens without calling booking."""

    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="")
    role = fields.String(required=True, validate=validate.OneOf(("organiser", "infra", "admin")))
    active = fields.Boolean(required=True)
    revoked_tokens = fields.List(fields.String(), load_default=list)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))


class EnvelopeSchema(Schema):
    """The envelope is strict: an unknown version or a missing field is a poison message."""

    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    version = fields.Integer(
        required=True,
        validate=validate.OneOf(
            sorted(SUPPORTED_VERSIONS), error="unsupported schema version {input}"
        ),
    )
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(required=True)
    data = fields.Dict(required=True)

    @post_load
    def _load_payload(self, envelope: dict[str, Any], **_: Any) -> dict[str, Any]:
        schema = USER if envelope["type"].startswith("user.") else SNAPSHOT
        try:
            envelope["data"] = schema.load(envelope["data"])
        except ValidationError as exc:
            raise ValidationError({"data": exc.messages}) from exc
        return envelope


SNAPSHOT = BookingSnapshotSchema()
USER = UserSnapshotSchema()
ENVELOPE = EnvelopeSchema()


@dataclass(frozen=True)
class Event:
    """A validated event as consumers see it."""

    id: str
    type: str
    version: int
    occurred_at: datetime
    producer: str
    data: dict[str, Any]
    raw: dict[str, Any]

    @property
    def booking_id(self) -> str:
        """The aggregate the event is about (a booking's id, or a user's id)."""
        return self.data.get("booking_id") or self.data["user_id"]

    @property
    def revision(self) -> int:
        return self.data["revision"]


def make_envelope(
    event_type: str,
    snapshot: dict[str, Any],
    *,
    producer: str = "booking",
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """Build and validate a wire-ready envelope (a JSON-compatible dict) around a snapshot."""
    envelope = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": SCHEMA_VERSION,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "producer": producer,
        "data": snapshot,
    }
    ENVELOPE.load(envelope)  # a producer never emits what a consumer would refuse
    return json.loads(json.dumps(envelope, default=str))


def parse_event(body: Any) -> Event:
    """Validate a message body (dict, JSON text or bytes) into an :class:`Event`.

    Raises :class:`marshmallow.ValidationError` with the reason when it is not one."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ValidationError({"_schema": [f"not JSON: {exc}"]}) from exc
    if not isinstance(body, dict):
        raise ValidationError({"_schema": ["an event must be a JSON object"]})
    loaded = ENVELOPE.load(body)
    return Event(
        id=str(loaded["id"]),
        type=loaded["type"],
        version=loaded["version"],
        occurred_at=loaded["occurred_at"],
        producer=loaded["producer"],
        data=loaded["data"],
        raw=body,
    )
