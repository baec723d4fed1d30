"""The event contract, the one definition every service uses: enums, the booking and user
snapshots and the envelope as frozen dataclasses, and the marshmallow schemas that load
into them and dump from them.

Every event carries the whole current snapshot of a booking and its revision, so a
consumer applies an event only when the revision is newer than what it holds. A producer
dumps the same typed snapshot a consumer loads.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from shared.fastload import load_event

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})


# --- enums ----------------------------------------------------------------------------


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    PRIVATE = "private"

    @property
    def is_public(self) -> bool:
        return self is Visibility.PUBLIC


class Kind(StrEnum):
    VENUE = "venue"
    STUDIO = "studio"
    SERVICE = "service"


class Role(StrEnum):
    ORGANISER = "organiser"
    INFRA = "infra"
    ADMIN = "admin"

    def at_least(self, minimum: Role) -> bool:
        """Roles are ordered (as declared): each may do what the ones below it may."""
        order = tuple(Role)
        return order.index(self) >= order.index(minimum)


class Language(StrEnum):
    SV = "sv"
    EN = "en"


class OccurrenceStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class LineStatus(StrEnum):
    """Where one resource of a request stands: each line is decided by its own deciders."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class AssigneeKind(StrEnum):
    """Who does a line's job: a staff member of the team, or a supplier on an agreement."""

    STAFF = "staff"
    SUPPLIER = "supplier"


class AlertMode(StrEnum):
    """How a decider hears of requests waiting for them: a mail each, or a daily digest."""

    EACH = "each"
    DAILY = "daily"


class EventType(StrEnum):
    BOOKING_SUBMITTED = "booking.submitted"
    BOOKING_APPROVED = "booking.approved"
    BOOKING_REJECTED = "booking.rejected"
    BOOKING_CHANGED = "booking.changed"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_OCCURRENCE_CANCELLED = "booking.occurrence_cancelled"
    # Some lines decided, the booking's status unchanged (still pending, or approved).
    BOOKING_LINES_DECIDED = "booking.lines_decided"
    # A slot this pending request wanted was freed: it may be approvable now. A notice, not
    # a change: the snapshot's revision is the booking's current one.
    BOOKING_SLOT_FREED = "booking.slot_freed"
    # Who does a line's job (its assignee) or the hours delivered changed: the booking's
    # revision rises; notify tells a newly assigned person, calendar updates their feed.
    BOOKING_ASSIGNED = "booking.assigned"
    # A participant opted out of being photographed or filmed (or took it back), by the
    # personal link in their mail: the revision rises so notify and calendar hold the
    # current opt-outs, but nothing a participant or a feed shows changes, and no one is
    # mailed (the opt-outs are for the line's assignee and deciders alone).
    BOOKING_OPTED_OUT = "booking.opted_out"
    USER_CHANGED = "user.changed"
    RESOURCE_CHANGED = "resource.changed"
    # A mail for one account (notify sends it): an invitation to set a password, or a
    # password reset link. Notices, not state: each is mailed once.
    ACCOUNT_INVITED = "account.invited"
    ACCOUNT_PASSWORD_RESET = "account.password_reset"

    @property
    def aggregate(self) -> str:
        """What the event is about: ``booking``, ``user``, ``resource`` or ``account``."""
        return self.value.split(".", 1)[0]

    @property
    def is_user(self) -> bool:
        return self.aggregate == "user"

    @property
    def is_resource(self) -> bool:
        return self.aggregate == "resource"

    @property
    def is_booking(self) -> bool:
        return self.aggregate == "booking"

    @property
    def is_account(self) -> bool:
        return self.aggregate == "account"

    @property
    def is_notice(self) -> bool:
        """An event that tells of a booking without changing it (its revision repeats)."""
        return self is EventType.BOOKING_SLOT_FREED


# The names the services and tests import; each is the enum member (a ``str``).
BOOKING_SUBMITTED = EventType.BOOKING_SUBMITTED
BOOKING_APPROVED = EventType.BOOKING_APPROVED
BOOKING_REJECTED = EventType.BOOKING_REJECTED
BOOKING_CHANGED = EventType.BOOKING_CHANGED
BOOKING_CANCELLED = EventType.BOOKING_CANCELLED
BOOKING_OCCURRENCE_CANCELLED = EventType.BOOKING_OCCURRENCE_CANCELLED
BOOKING_LINES_DECIDED = EventType.BOOKING_LINES_DECIDED
BOOKING_SLOT_FREED = EventType.BOOKING_SLOT_FREED
BOOKING_ASSIGNED = EventType.BOOKING_ASSIGNED
BOOKING_OPTED_OUT = EventType.BOOKING_OPTED_OUT
USER_CHANGED = EventType.USER_CHANGED
RESOURCE_CHANGED = EventType.RESOURCE_CHANGED
ACCOUNT_INVITED = EventType.ACCOUNT_INVITED
ACCOUNT_PASSWORD_RESET = EventType.ACCOUNT_PASSWORD_RESET
BOOKING_EVENT_TYPES = tuple(t for t in EventType if t.is_booking)
EVENT_TYPES = tuple(EventType)
STATUSES = tuple(Status)
VISIBILITIES = tuple(Visibility)
KINDS = tuple(Kind)
ROLES = tuple(Role)
LANGUAGES = tuple(Language)
LINE_STATUSES = tuple(LineStatus)
ASSIGNEE_KINDS = tuple(AssigneeKind)


# --- the typed snapshots ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class TeamRef:
    """The team that decides a resource: its members (lower-case emails) and, when it has
    one, the shared mailbox its alerts go to."""

    slug: str
    name: str
    email: str = ""
    members: tuple[str, ...] = ()


def in_language(language: str, sv: str, en: str, fallback: str = "") -> str:
    """A text kept in both languages, in ``language`` ("sv"/"en"): the other language's
    when this one is blank, ``fallback`` (a name from before names were bilingual) when
    both are."""
    first, other = (en, sv) if language == "en" else (sv, en)
    return first or other or fallback


class Bilingual:
    """A resource's name and place, kept in Swedish and English (``name_sv``, ``name_en``,
    ``location_sv``, ``location_en``; blank in events from before: then ``name`` and
    ``location`` say it). ``localized`` gives a copy whose ``name`` and ``location`` are in
    the reader's language, which is what pages, mail, feeds and the API show."""

    __slots__ = ()

    def named(self, language: str) -> str:
        return in_language(language, self.name_sv, self.name_en, self.name)  # type: ignore[attr-defined]

    def located(self, language: str) -> str:
        return in_language(language, self.location_sv, self.location_en, self.location)  # type: ignore[attr-defined]

    def naming(self) -> dict[str, str]:
        """Its name and place as they are kept, in both languages (to copy them)."""
        fields_ = ("name", "location", "name_sv", "name_en", "location_sv", "location_en")
        return {name: getattr(self, name) for name in fields_}

    def localized(self, language: str) -> Any:
        return dataclasses.replace(
            self,  # type: ignore[arg-type]
            name=self.named(language),
            location=self.located(language),
        )


@dataclass(frozen=True, slots=True)
class ResourceRef(Bilingual):
    id: str
    slug: str
    name: str
    kind: Kind
    location: str = ""
    requires_approval: bool = True
    managers: tuple[str, ...] = ()
    team: TeamRef | None = None
    self_approval: bool = False
    name_sv: str = ""
    name_en: str = ""
    location_sv: str = ""
    location_en: str = ""

    @property
    def team_members(self) -> tuple[str, ...]:
        return self.team.members if self.team is not None else ()

    @property
    def team_mailbox(self) -> str:
        """The team's shared mailbox ("" without a team or a mailbox)."""
        return self.team.email.strip().lower() if self.team is not None else ""

    def decided_by(self, email: str) -> bool:
        """Whether this person decides the resource's lines as a manager or team member
        (infra and admin decide every line besides)."""
        email = email.strip().lower()
        return email in self.managers or email in self.team_members


@dataclass(frozen=True, slots=True)
class Label:
    """An entry of a list admins keep (a category, an organising unit): its slug and its
    name in both languages."""

    slug: str
    name_sv: str = ""
    name_en: str = ""

    def name(self, language: str) -> str:
        """The name in ``language`` ("sv"/"en"), the other one when it is blank."""
        first, other = (
            (self.name_en, self.name_sv)
            if language == "en"
            else (
                self.name_sv,
                self.name_en,
            )
        )
        return first or other or self.slug


@dataclass(frozen=True, slots=True)
class Assignee:
    """Who does a line's job: a staff member (``email``, ``name``) or a supplier on an
    agreement (``supplier_id``, ``name``: the supplier's; ``email``: its contact, if any)."""

    kind: AssigneeKind
    email: str = ""
    name: str = ""
    supplier_id: str | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """Whether the event will be photographed or filmed, how people are told (``notice``),
    and the participants who opted out of being recorded (lower-case emails)."""

    photo: bool = False
    film: bool = False
    notice: str = ""
    opt_outs: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return self.photo or self.film


@dataclass(frozen=True, slots=True)
class Line:
    """One resource of a request and its own decision. ``deciders``: the team members and
    managers who may decide it (infra and admin may besides); ``waiting_since``: when it
    last started waiting for a decision."""

    resource_id: str
    status: LineStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    deciders: tuple[str, ...] = ()
    waiting_since: datetime | None = None
    assignee: Assignee | None = None
    # Hours delivered (recorded after the event); None: as booked.
    hours_delivered: float | None = None

    @property
    def pending(self) -> bool:
        return self.status is LineStatus.PENDING


@dataclass(frozen=True, slots=True)
class Occurrence:
    n: int
    start: datetime
    end: datetime
    status: OccurrenceStatus = OccurrenceStatus.ACTIVE

    @property
    def active(self) -> bool:
        return self.status is OccurrenceStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Change:
    """One field's change, as the booking's history keeps it (``from``/``to`` on the wire)."""

    field: str
    old: Any = None
    new: Any = None


@dataclass(frozen=True, slots=True)
class BookingSnapshot:
    """The whole current state of a booking, as every event about it carries it."""

    booking_id: str
    uid: str
    revision: int
    title: str
    start: datetime
    end: datetime
    timezone: str
    status: Status
    visibility: Visibility
    organiser: Person
    created_at: datetime
    updated_at: datetime
    description: str = ""
    rrule: str | None = None
    occurrences: tuple[Occurrence, ...] = ()
    language: Language = Language.SV
    expected_attendees: int | None = None
    resources: tuple[ResourceRef, ...] = ()
    participants: tuple[Person, ...] = ()
    reason: str | None = None
    decided_by: str | None = None
    changes: tuple[Change, ...] = ()
    cancelled_occurrence: int | None = None
    url: str | None = None
    # Every line, declined ones included (``resources`` holds the live ones: pending or
    # approved), the lines this event decided, and (in ``booking.slot_freed``) the
    # resources whose wanted slot was freed.
    lines: tuple[Line, ...] = ()
    decided: tuple[str, ...] = ()
    freed: tuple[str, ...] = ()
    # What the event is (a category) and who organises it (a unit), from the lists admins
    # keep; whether it is recorded, and who opted out.
    category: Label | None = None
    unit: Label | None = None
    recording: Recording | None = None

    @property
    def aggregate_id(self) -> str:
        return self.booking_id

    def line(self, resource_id: str) -> Line | None:
        return next((line for line in self.lines if line.resource_id == resource_id), None)

    def resource(self, resource_id: str) -> ResourceRef | None:
        return next((r for r in self.resources if r.id == resource_id), None)

    def replace(self, **changes: Any) -> BookingSnapshot:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class UserSnapshot:
    """A user as the other services need to know it: to honour role changes, deactivation,
    revoked API tokens and ended sessions without calling booking. ``ended_sessions``: the
    ids of the user's sessions that were ended and are younger than the sessions' maximum
    age (older ones are refused by their age alone)."""

    user_id: str
    email: str
    role: Role
    active: bool
    revision: int
    name: str = ""
    revoked_tokens: tuple[str, ...] = ()
    alerts: AlertMode = AlertMode.EACH
    ended_sessions: tuple[str, ...] = ()
    # the language mail to them is worded in when no booking's language says otherwise
    # (an assignment: the assignee's own)
    language: Language = Language.SV

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, slots=True)
class ResourceSnapshot(Bilingual):
    """A resource as the other services know it from the moment it exists: its feed, its
    name in mail (in both languages), the slugs it was known by before (old feed links
    redirect)."""

    resource_id: str
    slug: str
    name: str
    kind: Kind
    active: bool
    revision: int
    location: str = ""
    former_slugs: tuple[str, ...] = ()
    requires_approval: bool = True
    self_approval: bool = False
    managers: tuple[str, ...] = ()
    team: TeamRef | None = None
    name_sv: str = ""
    name_en: str = ""
    location_sv: str = ""
    location_en: str = ""

    @property
    def aggregate_id(self) -> str:
        return self.resource_id


@dataclass(frozen=True, slots=True)
class AccountMailSnapshot:
    """A mail booking asks notify to send to one account holder (``account.invited``,
    ``account.password_reset``), in their language. ``url``: the signed, single-use link
    to set a password (``""`` when the mail carries none), good until ``expires_at``;
    ``sso``: the person can log in with the university account (the mail says so, and a
    reset for someone without a password here says only that). ``mail_id`` is this mail's
    own id, the same in every copy of the event."""

    user_id: str
    email: str
    name: str
    language: Language
    url: str
    expires_at: datetime | None
    mail_id: str
    revision: int = 1
    sso: bool = False

    @property
    def aggregate_id(self) -> str:
        return self.user_id


Snapshot = BookingSnapshot | UserSnapshot | ResourceSnapshot | AccountMailSnapshot


@dataclass(frozen=True, slots=True)
class Event:
    """A validated envelope as consumers see it: typed ``data``, and ``wire`` (the JSON
    object as it travelled) for storing and replaying it unchanged."""

    id: str
    type: EventType
    version: int
    occurred_at: datetime
    producer: str
    data: Snapshot
    wire: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def aggregate_id(self) -> str:
        """The aggregate the event is about (a booking's id, or a user's id)."""
        return self.data.aggregate_id

    booking_id = aggregate_id

    @property
    def revision(self) -> int:
        return self.data.revision

    @property
    def is_user(self) -> bool:
        return self.type.is_user

    @property
    def is_resource(self) -> bool:
        return self.type.is_resource

    @property
    def is_booking(self) -> bool:
        return self.type.is_booking

    @property
    def is_account(self) -> bool:
        return self.type.is_account

    @property
    def snapshot_json(self) -> dict[str, Any]:
        """The snapshot's JSON form, for a read model's JSON column."""
        return self.wire["data"]


# --- schemas: the only (de)serialisation of the contract -------------------------------


class _Lenient(Schema):
    """Payload parts ignore unknown fields, so a producer may add fields without breaking
    consumers (a breaking change raises the schema version instead)."""

    class Meta:
        unknown = EXCLUDE

    dataclass: type | None = None
    blank_if_none: tuple[str, ...] = ()

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Any:
        for name in self.blank_if_none:
            if data.get(name) is None:
                data[name] = ""
        return self.dataclass(**data) if self.dataclass else data


def _tuple(field_: fields.Field) -> fields.List:
    return _TupleList(field_, load_default=())


class _TupleList(fields.List):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple:
        return tuple(super()._deserialize(value, attr, data, **kwargs))


class PersonSchema(_Lenient):
    dataclass = Person
    email = fields.Email(required=True)
    name = fields.String(load_default="", allow_none=True)
    blank_if_none = ("name",)


class TeamRefSchema(_Lenient):
    dataclass = TeamRef
    blank_if_none = ("email",)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(load_default="", allow_none=True)
    members = _tuple(fields.Email())


class ResourceRefSchema(_Lenient):
    dataclass = ResourceRef
    blank_if_none = ("location",)
    id = fields.String(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(Kind, by_value=True, required=True)
    location = fields.String(load_default="", allow_none=True)
    requires_approval = fields.Boolean(load_default=True)
    managers = _tuple(fields.Email())
    team = fields.Nested(TeamRefSchema, load_default=None, allow_none=True)
    self_approval = fields.Boolean(load_default=False)
    name_sv = fields.String(load_default="")
    name_en = fields.String(load_default="")
    location_sv = fields.String(load_default="")
    location_en = fields.String(load_default="")


class LabelSchema(_Lenient):
    dataclass = Label
    slug = fields.String(required=True)
    name_sv = fields.String(load_default="")
    name_en = fields.String(load_default="")


class AssigneeSchema(_Lenient):
    dataclass = Assignee
    kind = fields.Enum(AssigneeKind, by_value=True, required=True)
    email = fields.String(load_default="")
    name = fields.String(load_default="")
    supplier_id = fields.String(load_default=None, allow_none=True)


class RecordingSchema(_Lenient):
    dataclass = Recording
    photo = fields.Boolean(load_default=False)
    film = fields.Boolean(load_default=False)
    notice = fields.String(load_default="")
    opt_outs = _tuple(fields.String())


class LineSchema(_Lenient):
    dataclass = Line
    resource_id = fields.String(required=True)
    status = fields.Enum(LineStatus, by_value=True, required=True)
    decided_by = fields.String(load_default=None, allow_none=True)
    decided_at = fields.AwareDateTime(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    deciders = _tuple(fields.Email())
    waiting_since = fields.AwareDateTime(load_default=None, allow_none=True)
    assignee = fields.Nested(AssigneeSchema, load_default=None, allow_none=True)
    hours_delivered = fields.Float(load_default=None, allow_none=True)


class OccurrenceSchema(_Lenient):
    dataclass = Occurrence
    n = fields.Integer(required=True, validate=validate.Range(min=0))
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    status = fields.Enum(OccurrenceStatus, by_value=True, required=True)


class ChangeSchema(_Lenient):
    dataclass = Change
    field = fields.String(required=True)
    old = fields.Raw(load_default=None, allow_none=True, data_key="from")
    new = fields.Raw(load_default=None, allow_none=True, data_key="to")


class BookingSnapshotSchema(_Lenient):
    dataclass = BookingSnapshot
    booking_id = fields.String(required=True)
    uid = fields.String(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    title = fields.String(required=True)
    description = fields.String(load_default="", allow_none=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True)
    rrule = fields.String(load_default=None, allow_none=True)
    occurrences = _tuple(fields.Nested(OccurrenceSchema))
    status = fields.Enum(Status, by_value=True, required=True)
    visibility = fields.Enum(Visibility, by_value=True, required=True)
    language = fields.Enum(Language, by_value=True, load_default=Language.SV)
    expected_attendees = fields.Integer(load_default=None, allow_none=True)
    resources = _tuple(fields.Nested(ResourceRefSchema))
    organiser = fields.Nested(PersonSchema, required=True)
    participants = _tuple(fields.Nested(PersonSchema))
    reason = fields.String(load_default=None, allow_none=True)
    decided_by = fields.String(load_default=None, allow_none=True)
    changes = _tuple(fields.Nested(ChangeSchema))
    cancelled_occurrence = fields.Integer(load_default=None, allow_none=True)
    url = fields.String(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    lines = _tuple(fields.Nested(LineSchema))
    decided = _tuple(fields.String())
    freed = _tuple(fields.String())
    category = fields.Nested(LabelSchema, load_default=None, allow_none=True)
    unit = fields.Nested(LabelSchema, load_default=None, allow_none=True)
    recording = fields.Nested(RecordingSchema, load_default=None, allow_none=True)
    blank_if_none = ("description",)


class UserSnapshotSchema(_Lenient):
    dataclass = UserSnapshot
    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="")
    role = fields.Enum(Role, by_value=True, required=True)
    active = fields.Boolean(required=True)
    revoked_tokens = _tuple(fields.String())
    ended_sessions = _tuple(fields.String())
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    alerts = fields.Enum(AlertMode, by_value=True, load_default=AlertMode.EACH)
    language = fields.Enum(Language, by_value=True, load_default=Language.SV)


class ResourceSnapshotSchema(_Lenient):
    dataclass = ResourceSnapshot
    blank_if_none = ("location",)
    resource_id = fields.String(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(Kind, by_value=True, required=True)
    active = fields.Boolean(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    location = fields.String(load_default="", allow_none=True)
    former_slugs = _tuple(fields.String())
    requires_approval = fields.Boolean(load_default=True)
    self_approval = fields.Boolean(load_default=False)
    managers = _tuple(fields.Email())
    team = fields.Nested(TeamRefSchema, load_default=None, allow_none=True)
    name_sv = fields.String(load_default="")
    name_en = fields.String(load_default="")
    location_sv = fields.String(load_default="")
    location_en = fields.String(load_default="")


class AccountMailSnapshotSchema(_Lenient):
    dataclass = AccountMailSnapshot
    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="", allow_none=True)
    language = fields.Enum(Language, by_value=True, load_default=Language.SV)
    url = fields.String(load_default="", allow_none=True)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    mail_id = fields.String(required=True)
    revision = fields.Integer(load_default=1, validate=validate.Range(min=1))
    sso = fields.Boolean(load_default=False)
    blank_if_none = ("name", "url")


class EnvelopeSchema(Schema):
    """The envelope is strict: an unknown version or a missing field is a poison message."""

    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True)
    type = fields.Enum(EventType, by_value=True, required=True)
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
        schema = schema_for(envelope["type"])
        try:
            envelope["data"] = schema.load(envelope["data"])
        except ValidationError as exc:
            raise ValidationError({"data": exc.messages}) from exc
        return envelope


SNAPSHOT = BookingSnapshotSchema()
USER = UserSnapshotSchema()
RESOURCE = ResourceSnapshotSchema()
ACCOUNT = AccountMailSnapshotSchema()
ENVELOPE = EnvelopeSchema()
_SCHEMAS: dict[str, Schema] = {
    "booking": SNAPSHOT,
    "user": USER,
    "resource": RESOURCE,
    "account": ACCOUNT,
}


def schema_for(event_type: EventType) -> Schema:
    """The payload schema of an event type (by the aggregate it is about)."""
    return _SCHEMAS[event_type.aggregate]


def dump_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON form of a typed snapshot (what goes on the wire)."""
    if isinstance(snapshot, UserSnapshot):
        return USER.dump(snapshot)
    if isinstance(snapshot, ResourceSnapshot):
        return RESOURCE.dump(snapshot)
    if isinstance(snapshot, AccountMailSnapshot):
        return ACCOUNT.dump(snapshot)
    return SNAPSHOT.dump(snapshot)


def load_snapshot(data: Mapping[str, Any]) -> BookingSnapshot:
    """A booking snapshot from its JSON form (a read model's stored copy, or a test's)."""
    return SNAPSHOT.load(data)


def make_envelope(
    event_type: str,
    snapshot: Snapshot | Mapping[str, Any],
    *,
    producer: str = "booking",
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """Build a wire-ready envelope (a JSON-compatible dict) around a typed snapshot (a
    mapping is loaded first, so a producer never emits what a consumer would refuse)."""
    event_type = EventType(event_type)
    if isinstance(snapshot, Mapping):
        snapshot = schema_for(event_type).load(snapshot)
    return {
        "id": str(uuid.uuid4()),
        "type": event_type.value,
        "version": SCHEMA_VERSION,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "producer": producer,
        "data": dump_snapshot(snapshot),
    }


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
    event = load_event(body)  # the fast path; None when the schema must decide
    return event if event is not None else load_with_schema(body)


def load_with_schema(body: dict[str, Any]) -> Event:
    """An :class:`Event` through the marshmallow schemas (what the fast path stands in for;
    raises :class:`marshmallow.ValidationError` with the reasons)."""
    loaded = ENVELOPE.load(body)
    return Event(
        id=str(loaded["id"]),
        type=loaded["type"],
        version=loaded["version"],
        occurred_at=loaded["occurred_at"],
        producer=loaded["producer"],
        data=loaded["data"],
        wire=body,
    )
