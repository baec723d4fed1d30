"""Booking's domain values and refusals: what a request is about (resources' rules,
intervals, conflicts), who acts, and the errors the edge maps to HTTP answers and form
messages (each with a message id, never prose)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol

from shared.events import Status
from shared.messages import N_, Msg

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MAX_OCCURRENCES = 500
MAX_OCCURRENCE_LENGTH = timedelta(days=14)  # bounds the conflict index scan
MAX_BUFFER_MINUTES = 24 * 60
DEFAULT_MAX_ADVANCE_DAYS = 365
MAX_ADVANCE_DAYS = 3650  # the most a resource may allow
# A series' dates lie within this of its first (a resource allows at most MAX_ADVANCE_DAYS
# ahead); a rule is walked no further.
MAX_SERIES_YEARS = 10
MAX_SERIES_SPAN = timedelta(days=366 * MAX_SERIES_YEARS)


# --- errors the edge maps to HTTP answers and form messages ---------------------------


Errors = dict[str, list[Msg]]  # field → message ids


class DomainError(Exception):
    """Base of the rule violations this module raises; ``message`` says why, as an id the
    edge words in the reader's language."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message)
        self.message = message


class RuleViolation(DomainError):
    """Input breaks a business rule: 422 with messages by field."""

    def __init__(self, errors: Mapping[str, Sequence[Msg]]) -> None:
        self.errors: Errors = {k: list(v) for k, v in errors.items()}
        super().__init__(next(iter(next(iter(self.errors.values()), [])), Msg("invalid_fields")))


@dataclass(frozen=True)
class Conflict:
    """Another booking's time on a resource that a request collides with. Whose it is
    (``organiser_id``, ``visibility``) decides who may see more than that it is busy;
    ``busy_only`` is how it is shown to those who may not (no id, no title)."""

    booking_id: str | None
    resource_id: str
    start: datetime
    end: datetime
    title: str = ""
    status: Status = Status.APPROVED
    visibility: str = ""
    organiser_id: str = ""
    busy_only: bool = False

    def as_busy(self) -> Conflict:
        """Only that the resource is busy then (and whether held or wanted)."""
        return Conflict(
            None, self.resource_id, self.start, self.end, "", self.status, busy_only=True
        )


class SlotTaken(DomainError):
    """The slot is held by an approved booking: 409 listing what it collides with."""

    code = "slot_taken"
    title = N_("slot_taken_title")

    def __init__(self, conflicts: Sequence[Conflict], message: Msg | None = None) -> None:
        super().__init__(message or Msg("slot_taken_detail"))
        self.conflicts = list(conflicts)
        self.suggestions: object | None = None  # what is free instead, when the edge asks


class ClosureOverBookings(SlotTaken):
    """A closure would fall on approved bookings: 409 listing them, until the closer
    chooses to cancel those bookings' lines of the resource."""

    code = "closure_over_bookings"
    title = N_("closure_over_bookings_title")

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        super().__init__(conflicts, Msg("closure_over_bookings", n=len(conflicts)))


class AlreadyExists(DomainError):
    """Something by that name exists already (a team's slug): 409 naming the field."""

    def __init__(self, field_name: str, message: Msg) -> None:
        super().__init__(message)
        self.field = field_name


class Forbidden(DomainError):
    """The actor may not do this: 403 with why."""


class NotFound(DomainError):
    """No such thing (or not visible to the actor): 404."""


class InvalidTransition(DomainError):
    """The booking's state does not allow this action: 409."""


# --- values -----------------------------------------------------------------------------


class Managed(Protocol):
    """A resource as the access rules see it: the emails (lower-case) of its managers, of
    its team's members and of its team's shared mailbox ("" without one), and whether its
    deciders may approve their own requests."""

    @property
    def managers(self) -> Collection[str]: ...

    @property
    def team_members(self) -> Collection[str]: ...

    @property
    def team_mailbox(self) -> str: ...

    @property
    def self_approval(self) -> bool: ...


class Actor(Protocol):
    """Who is acting: a logged-in user or a token's owner (``shared.auth.Principal``)."""

    user_id: str
    email: str
    name: str
    role: str

    @property
    def is_infra(self) -> bool: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True)
class TeamMailbox:
    """A team acting through its shared mailbox: a decision link sent there is used by
    whoever reads the mailbox, for the team. A team's mailbox decides the lines of the
    resources whose team has this mailbox; the infrastructure team's address (``infra``,
    where lines no one else decides are alerted) decides any line, as infra does. No user,
    no role."""

    email: str
    name: str = ""
    infra: bool = False
    user_id: str = ""  # never an organiser's
    role: str = ""

    @property
    def is_infra(self) -> bool:
        return self.infra

    @property
    def is_admin(self) -> bool:
        return False


@dataclass(frozen=True)
class ResourceRules:
    """What a resource allows; defaults match CONTRACT.md."""

    resource_id: str
    name: str
    active: bool = True
    capacity: int | None = None
    opening_hours: Mapping[str, Sequence[tuple[time, time]]] | None = None
    buffer_minutes: int = 0
    min_notice_hours: int = 0
    max_advance_days: int = DEFAULT_MAX_ADVANCE_DAYS
    max_duration_minutes: int | None = None
    requires_approval: bool = True
    managers: frozenset[str] = field(default_factory=frozenset)
    team_members: frozenset[str] = field(default_factory=frozenset)
    team_mailbox: str = ""
    self_approval: bool = False

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end
