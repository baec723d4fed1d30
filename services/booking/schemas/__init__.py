"""Booking's marshmallow schemas, at the edge only: each input shape loads straight into its
command (:mod:`services.booking.commands`), each answer dumps a read model
(:mod:`services.booking.readmodels`). Every error is a message id (``shared.schema``).

``inputs`` (bodies and query strings), ``answers`` (what the API returns), ``parts`` (what
both are built of)."""

from services.booking.schemas.answers import (
    ApprovalOut,
    BookingOut,
    BusyBlockOut,
    ChangeOut,
    ClosureOut,
    ConflictOut,
    HistoryOut,
    OccurrenceOut,
    PersonOut,
    ResourceOut,
    ResourceRefOut,
    SettingsOut,
    TeamOut,
)
from services.booking.schemas.inputs import (
    ApproveSchema,
    AvailabilityQuerySchema,
    BookingInSchema,
    BookingQuerySchema,
    ClosureInSchema,
    ClosureQuerySchema,
    ParticipantSchema,
    RangeQuerySchema,
    ReasonSchema,
    RejectSchema,
    ResourceInSchema,
    ResourceQuerySchema,
    SettingsSchema,
    TeamInSchema,
)
from services.booking.schemas.parts import (
    MAX_RESOURCES,
    MAX_TEAM_MEMBERS,
    STATUSES,
    OpeningHoursField,
)

__all__ = [
    "MAX_RESOURCES",
    "MAX_TEAM_MEMBERS",
    "STATUSES",
    "ApprovalOut",
    "ApproveSchema",
    "AvailabilityQuerySchema",
    "BookingInSchema",
    "BookingOut",
    "BookingQuerySchema",
    "BusyBlockOut",
    "ChangeOut",
    "ClosureInSchema",
    "ClosureQuerySchema",
    "ClosureOut",
    "ConflictOut",
    "HistoryOut",
    "OccurrenceOut",
    "OpeningHoursField",
    "ParticipantSchema",
    "PersonOut",
    "RangeQuerySchema",
    "ReasonSchema",
    "RejectSchema",
    "ResourceInSchema",
    "ResourceOut",
    "ResourceQuerySchema",
    "ResourceRefOut",
    "SettingsOut",
    "SettingsSchema",
    "TeamInSchema",
    "TeamOut",
]
