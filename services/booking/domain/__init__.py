"""Booking's rules: times, opening hours, recurrence, conflicts, the state machine and who
may do what. Pure Python: no Flask, no SQLAlchemy; callers pass values already validated,
and every refusal is a message id with its parameters.

``model`` (values and refusals), ``recurrence`` (series), ``rules`` (what a request and each
resource allow), ``slots`` (what a booking holds, collisions), ``workflow`` (states, who
may). Everything is importable from here."""

from services.booking.domain.model import (
    DEFAULT_MAX_ADVANCE_DAYS,
    MAX_BUFFER_MINUTES,
    MAX_OCCURRENCE_LENGTH,
    MAX_OCCURRENCES,
    WEEKDAYS,
    Actor,
    Conflict,
    DomainError,
    Errors,
    Forbidden,
    Interval,
    InvalidTransition,
    Managed,
    NotFound,
    ResourceRules,
    RuleViolation,
    SlotTaken,
)
from services.booking.domain.recurrence import check_series, expand_occurrences, normalise_rrule
from services.booking.domain.rules import (
    check_capacity,
    check_reason,
    check_resource_rules,
    check_times,
    within_opening_hours,
)
from services.booking.domain.slots import (
    MAX_BLOCK_LENGTH,
    Block,
    HeldSlot,
    blocked_interval,
    blocks_of,
    collisions,
)
from services.booking.domain.workflow import (
    TRANSITIONS,
    manages_any,
    may_decide,
    may_see,
    next_status,
    require,
    status_after_change,
)
from shared.events import KINDS, LANGUAGES, ROLES, VISIBILITIES

__all__ = [
    "DEFAULT_MAX_ADVANCE_DAYS",
    "KINDS",
    "LANGUAGES",
    "MAX_BLOCK_LENGTH",
    "MAX_BUFFER_MINUTES",
    "MAX_OCCURRENCES",
    "MAX_OCCURRENCE_LENGTH",
    "ROLES",
    "TRANSITIONS",
    "VISIBILITIES",
    "WEEKDAYS",
    "Actor",
    "Block",
    "Conflict",
    "DomainError",
    "Errors",
    "Forbidden",
    "HeldSlot",
    "Interval",
    "InvalidTransition",
    "Managed",
    "NotFound",
    "ResourceRules",
    "RuleViolation",
    "SlotTaken",
    "blocked_interval",
    "blocks_of",
    "check_capacity",
    "check_reason",
    "check_resource_rules",
    "check_series",
    "check_times",
    "collisions",
    "expand_occurrences",
    "manages_any",
    "may_decide",
    "may_see",
    "next_status",
    "normalise_rrule",
    "require",
    "status_after_change",
    "within_opening_hours",
]
