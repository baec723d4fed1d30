"""Booking's read models: what the use cases answer with, built inside their transaction
from what the database holds. Plain frozen values: no database object leaves a use case,
and the schemas dump these as the API's answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.booking.domain import Actor, Conflict, may_decide_line
from shared import events

# Opening hours as kept and shown: per weekday, ("HH:MM", "HH:MM") windows.
HoursText = Mapping[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class ResourceView:
    id: str
    slug: str
    name: str
    kind: events.Kind
    description: str
    capacity: int | None
    location: str
    features: tuple[str, ...]
    opening_hours: HoursText | None
    requires_approval: bool
    buffer_minutes: int
    min_notice_hours: int
    max_advance_days: int
    max_duration_minutes: int | None
    managers: tuple[str, ...]
    active: bool
    team: events.TeamRef | None = None
    self_approval: bool = False
    revision: int = 1

    @property
    def manager_emails(self) -> tuple[str, ...]:
        return self.managers

    @property
    def team_members(self) -> tuple[str, ...]:
        return self.team.members if self.team else ()

    @property
    def team_mailbox(self) -> str:
        return self.team.email if self.team else ""


@dataclass(frozen=True)
class TeamView:
    """A team: who decides its resources' lines, and where its alerts go (``email``, its
    shared mailbox; ``""``: to each member)."""

    slug: str
    name: str
    email: str
    members: tuple[str, ...]
    resources: tuple[events.ResourceRef, ...] = ()


@dataclass(frozen=True)
class BookingView:
    id: str
    uid: str
    title: str
    description: str
    start: datetime
    end: datetime
    timezone: str
    status: events.Status
    revision: int
    resources: tuple[events.ResourceRef, ...]
    organiser: events.Person
    organiser_id: str
    participants: tuple[events.Person, ...]
    visibility: events.Visibility
    language: events.Language
    expected_attendees: int | None
    notes: str
    rrule: str | None
    occurrences: tuple[events.Occurrence, ...]
    decided_by: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime
    lines: tuple[LineView, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    category: events.Label | None = None
    unit: events.Label | None = None

    @property
    def active_occurrences(self) -> tuple[events.Occurrence, ...]:
        return tuple(o for o in self.occurrences if o.status is events.OccurrenceStatus.ACTIVE)

    @property
    def last_end(self) -> datetime:
        return max((o.end for o in self.occurrences), default=self.end)

    def lines_for(self, actor: Actor) -> tuple[LineView, ...]:
        """The lines ``actor`` may decide."""
        return tuple(line for line in self.lines if line.decidable_by(actor, self.organiser_id))


@dataclass(frozen=True)
class LineView:
    """One line of a booking as its readers see it: the resource (declined ones too), its
    state, and who may decide it besides infra and admin."""

    resource: events.ResourceRef
    status: events.LineStatus
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    deciders: tuple[str, ...]
    waiting_since: datetime | None
    assignee: events.Assignee | None = None
    hours_delivered: float | None = None  # None: as booked

    @property
    def resource_id(self) -> str:
        return self.resource.id

    def decidable_by(self, actor: Actor, organiser_id: str) -> bool:
        """Whether ``actor`` may decide this line (its team, its managers, infra, admin;
        not the organiser unless the resource allows self-approval)."""
        return may_decide_line(actor, self.resource, organiser_id)


@dataclass(frozen=True)
class ListEntryView:
    """A category or unit: its slug, its names, its place in the list, and whether it may
    still be chosen (a retired one stays on the bookings that have it)."""

    slug: str
    name_sv: str
    name_en: str
    position: int
    active: bool

    @property
    def label(self) -> events.Label:
        return events.Label(self.slug, self.name_sv, self.name_en)


@dataclass(frozen=True)
class SupplierView:
    """A supplier on a procured agreement: its reference, hourly rate and the dates it
    holds (``valid_to`` inclusive; ``None``: until further notice)."""

    id: str
    name: str
    agreement_ref: str
    hourly_rate: Decimal
    currency: str
    valid_from: date
    valid_to: date | None
    email: str
    active: bool


@dataclass(frozen=True)
class Approval:
    """An approved booking, and the competing requests it beat (still pending)."""

    booking: BookingView
    competing: tuple[Conflict, ...]


class LinkState(StrEnum):
    """Whether a decision link can still be used: ``ready``, ``used`` (it works once), or
    ``changed`` (the request changed since the mail was written)."""

    READY = "ready"
    USED = "used"
    CHANGED = "changed"


@dataclass(frozen=True)
class LinkView:
    """A decision link as its confirmation page shows it: the request, what the link does
    (``action``: approve or reject) to which lines, for whom (``decider``: the address it
    was sent to; ``team``: the team names when that is a team's shared mailbox; ``infra``:
    it is the infrastructure team's address), and whether it can still be used."""

    booking: BookingView
    action: str
    decider: str
    team: str
    lines: tuple[LineView, ...]
    state: LinkState
    infra: bool = False


@dataclass(frozen=True)
class HistoryView:
    at: datetime
    actor: str
    action: str
    revision: int
    changes: tuple[events.Change, ...]
    reason: str | None


@dataclass(frozen=True)
class ClosureView:
    id: str
    resource_id: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class BusyBlock:
    """A time a resource is not free: an approved booking (its title only where the reader
    may see it) or a closure (its reason as the title)."""

    kind: str  # booking | closure
    start: datetime
    end: datetime
    booking_id: str | None
    title: str | None


@dataclass(frozen=True)
class QueueItem:
    """A request waiting for a decision, with what it collides with."""

    booking: BookingView
    held: tuple[Conflict, ...]  # approved bookings holding the time
    competing: tuple[Conflict, ...]  # other requests wanting it
    decides: bool


@dataclass(frozen=True)
class ResourceCheck:
    """One resource for a requested time: ``free``, ``taken`` (by ``taken``: bookings and
    closures the reader may see) or ``unavailable`` (its rules: hours, notice, ...)."""

    resource: ResourceView
    state: str
    taken: tuple[BusyBlock, ...] = ()


@dataclass(frozen=True)
class RequestCheck:
    """Every active resource checked against every date of a requested time."""

    resources: tuple[ResourceCheck, ...]
    occurrences: int  # dates in the request
    checked: int  # dates checked (the first ones of a long series)

    def free(self) -> tuple[ResourceView, ...]:
        return tuple(c.resource for c in self.resources if c.state == "free")

    def alternatives(
        self, kinds: frozenset[str] | set[str], exclude: frozenset[str] | set[str] = frozenset()
    ) -> tuple[ResourceView, ...]:
        """Free resources of these kinds, besides ``exclude`` (ids)."""
        return tuple(r for r in self.free() if r.kind in kinds and r.id not in exclude)


@dataclass(frozen=True)
class UserView:
    id: str
    email: str
    name: str
    role: events.Role
    active: bool
    alerts: events.AlertMode = events.AlertMode.EACH


@dataclass(frozen=True)
class PersonView:
    """A user as admins keep them: role, whether they may log in, the teams they are in
    (by slug and name), when they last logged in, whether they are linked to the
    university account (``sso``) and whether they have a password here."""

    id: str
    email: str
    name: str
    role: events.Role
    active: bool
    teams: tuple[tuple[str, str], ...]
    last_login_at: datetime | None
    sso: bool
    has_password: bool
    language: events.Language = events.Language.SV

    @property
    def team_slugs(self) -> tuple[str, ...]:
        return tuple(slug for slug, _ in self.teams)

    @property
    def invited(self) -> bool:
        """Made by an invitation and never logged in yet (no password, no university
        account linked)."""
        return not self.has_password and not self.sso and self.last_login_at is None


@dataclass(frozen=True)
class PasswordLinkView:
    """What a set-password page shows before the password is typed: for whom, and why."""

    email: str
    name: str
    invited: bool
    expires_at: datetime


@dataclass(frozen=True)
class TokenView:
    """An API token as its owner may list it (never the token itself)."""

    id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class PendingLogin:
    """What a login sent to the university's provider must find on its return."""

    nonce: str
    code_verifier: str
    next_path: str | None
