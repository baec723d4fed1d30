"""Booking's rules: times, opening hours, recurrence, conflicts, the state machine and who
may do what. Pure Python: no Flask, no SQLAlchemy; callers pass values already validated."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from shared.events import KINDS, LANGUAGES, ROLES, VISIBILITIES, Status  # noqa: F401 - the pages' choices
from shared.messages import N_, Msg

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MAX_OCCURRENCES = 500
MAX_OCCURRENCE_LENGTH = timedelta(days=14)  # bounds the conflict index scan
MAX_BUFFER_MINUTES = 24 * 60
DEFAULT_MAX_ADVANCE_DAYS = 365


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
    """Another booking's time on a resource that a request collides with."""

    booking_id: str
    resource_id: str
    start: datetime
    end: datetime
    title: str = ""
    status: Status = Status.APPROVED


class SlotTaken(DomainError):
    """The slot is held by an approved booking: 409 listing what it collides with."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        super().__init__(Msg("slot_taken_detail"))
        self.conflicts = list(conflicts)


class Forbidden(DomainError):
    """The actor may not do this: 403 with why."""


class NotFound(DomainError):
    """No such thing (or not visible to the actor): 404."""


class InvalidTransition(DomainError):
    """The booking's state does not allow this action: 409."""


# --- values -----------------------------------------------------------------------------


class Managed(Protocol):
    """A resource as the access rules see it: the emails (lower-case) of its managers."""

    @property
    def managers(self) -> Collection[str]: ...


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

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


# --- recurrence ---------------------------------------------------------------------


def expand_occurrences(
    start: datetime, end: datetime, rrule: str | None, zone: ZoneInfo
) -> list[Interval]:
    """Every occurrence of a booking, in UTC. A series keeps its wall-clock time in ``zone``
    across daylight-saving changes (09:00 stays 09:00 in summer)."""
    if not rrule:
        return [Interval(start, end)]
    length = end - start
    local_start = start.astimezone(zone).replace(tzinfo=None)
    upper = rrule.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise RuleViolation({"rrule": [Msg("rrule_needs_end")]})
    if "COUNT=" in upper and "UNTIL=" in upper:
        raise RuleViolation({"rrule": [Msg("rrule_count_or_until")]})
    try:
        rule = rrulestr(_local_until(upper, zone), dtstart=local_start)
    except (ValueError, TypeError) as exc:
        raise RuleViolation({"rrule": [Msg("rrule_invalid")]}) from exc
    occurrences = []
    for n, local in enumerate(rule):
        if n >= MAX_OCCURRENCES:
            raise RuleViolation({"rrule": [Msg("rrule_too_many", max=MAX_OCCURRENCES)]})
        occ_start = local.replace(tzinfo=zone).astimezone(UTC)
        occurrences.append(Interval(occ_start, occ_start + length))
    if not occurrences:
        raise RuleViolation({"rrule": [Msg("rrule_no_dates")]})
    return occurrences


_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z")


def _local_until(rrule: str, zone: ZoneInfo) -> str:
    """RFC 5545 writes UNTIL in UTC when DTSTART has a zone; we expand in wall-clock time, so
    the bound is turned into the same instant's local time."""

    def local(match: re.Match[str]) -> str:
        instant = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + instant.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    return _UNTIL_UTC.sub(local, rrule)


def check_series(occurrences: Sequence[Interval], buffer_minutes: int) -> Errors:
    """Occurrences of one series may not overlap each other (buffer included)."""
    pad = timedelta(minutes=buffer_minutes)
    for first, second in zip(occurrences, occurrences[1:], strict=False):
        if first.end + pad > second.start:
            return {"rrule": [Msg("occurrences_overlap")]}
    return {}


def normalise_rrule(rrule: str | None) -> str | None:
    """Strip an optional ``RRULE:`` prefix and whitespace; refuse a DTSTART inside it."""
    if rrule is None:
        return None
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        return None
    if "DTSTART" in text.upper() or "\n" in text:
        raise RuleViolation({"rrule": [Msg("rrule_without_dtstart")]})
    return text.upper()


# --- request rules ---------------------------------------------------------------------


def check_times(start: datetime, end: datetime, now: datetime) -> Errors:
    """A request starts in the future and ends after it starts, within 14 days."""
    errors: Errors = {}
    if end <= start:
        errors.setdefault("end", []).append(Msg("end_before_start"))
    elif end - start > MAX_OCCURRENCE_LENGTH:
        errors.setdefault("end", []).append(
            Msg("occurrence_too_long", days=MAX_OCCURRENCE_LENGTH.days)
        )
    if start <= now:
        errors.setdefault("start", []).append(Msg("start_in_past"))
    return errors


def check_resource_rules(
    rules: ResourceRules,
    occurrences: Sequence[Interval],
    now: datetime,
    zone: ZoneInfo,
    attendees: int | None,
    closures: Iterable[tuple[Interval, str]] = (),
) -> Errors:
    """Every rule of one resource against every occurrence; messages name the resource."""
    errors: Errors = {}

    name = rules.name

    def add(key: str, message: Msg) -> None:
        if message not in errors.get(key, []):
            errors.setdefault(key, []).append(message)

    if not rules.active:
        add("resource_ids", Msg("resource_inactive", name=name))
    if attendees is not None and rules.capacity is not None and attendees > rules.capacity:
        add("expected_attendees", Msg("resource_holds_at_most", name=name, capacity=rules.capacity))
    first = occurrences[0]
    if first.start < now + timedelta(hours=rules.min_notice_hours):
        add("start", Msg("resource_needs_notice", name=name, hours=rules.min_notice_hours))
    if occurrences[-1].start > now + timedelta(days=rules.max_advance_days):
        add("start", Msg("resource_max_advance", name=name, days=rules.max_advance_days))
    if rules.max_duration_minutes is not None and first.end - first.start > timedelta(
        minutes=rules.max_duration_minutes
    ):
        add("end", Msg("resource_max_duration", name=name, minutes=rules.max_duration_minutes))
    for occ in occurrences:
        if rules.opening_hours is not None and not within_opening_hours(
            rules.opening_hours, occ, zone
        ):
            local = occ.start.astimezone(zone)
            when = Msg(
                "day_and_moment", day=Msg(DAY_WORDS[local.weekday()]), moment=_moment(local, zone)
            )
            add("start", Msg("resource_closed_then", name=name, when=when))
        for closure, reason in closures:
            if closure.overlaps(occ):
                start, end = _moment(closure.start, zone), _moment(closure.end, zone)
                add(
                    "start",
                    Msg("resource_closed_for", name=name, start=start, end=end, reason=reason),
                )
    return errors


DAY_WORDS = (N_("wd_0"), N_("wd_1"), N_("wd_2"), N_("wd_3"), N_("wd_4"), N_("wd_5"), N_("wd_6"))


def _moment(value: datetime, zone: ZoneInfo) -> str:
    """A time in a message: the same in every language (no names of days or months)."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def check_capacity(resources: Iterable[ResourceRules], attendees: int | None) -> None:
    """:class:`RuleViolation` when a venue cannot hold the expected attendees."""
    errors: Errors = {}
    for rules in resources:
        if attendees is not None and rules.capacity is not None and attendees > rules.capacity:
            errors.setdefault("expected_attendees", []).append(
                Msg("resource_holds_at_most", name=rules.name, capacity=rules.capacity)
            )
    if errors:
        raise RuleViolation(errors)


def check_reason(reason: str | None) -> None:
    """A rejection says why (the organiser reads it)."""
    if not (reason or "").strip():
        raise RuleViolation({"reason": [Msg("field_required")]})


def within_opening_hours(
    hours: Mapping[str, Sequence[tuple[time, time]]], occ: Interval, zone: ZoneInfo
) -> bool:
    """True when the occurrence lies inside one opening window of its local day.
    A window ending at 00:00 means midnight at the end of the day."""
    local_start = occ.start.astimezone(zone)
    local_end = occ.end.astimezone(zone)
    day: date = local_start.date()
    for opens, closes in hours.get(WEEKDAYS[day.weekday()], ()):
        window_start = datetime.combine(day, opens, zone)
        close_day = day + timedelta(days=1) if closes == time(0) else day
        window_end = datetime.combine(close_day, closes, zone)
        if window_start <= local_start and local_end <= window_end:
            return True
    return False


MAX_BLOCK_LENGTH = MAX_OCCURRENCE_LENGTH + timedelta(minutes=MAX_BUFFER_MINUTES)


def blocked_interval(occ: Interval, buffer_minutes: int) -> Interval:
    """The time a booking holds a resource: the occurrence plus the resource's buffer after
    it, so two bookings of one resource are always at least the buffer apart."""
    return Interval(occ.start, occ.end + timedelta(minutes=buffer_minutes))


@dataclass(frozen=True)
class Block:
    """The time a request would hold one resource (an occurrence plus its buffer)."""

    resource_id: str
    interval: Interval


def blocks_of(resources: Iterable[ResourceRules], occurrences: Iterable[Interval]) -> list[Block]:
    """What holding these resources at these times blocks, each resource's buffer included."""
    occurrences = list(occurrences)
    return [
        Block(r.resource_id, blocked_interval(occ, r.buffer_minutes))
        for r in resources
        for occ in occurrences
    ]


@dataclass(frozen=True)
class HeldSlot:
    """Another booking's time on a resource: approved (it holds it) or pending (it wants it)."""

    booking_id: str
    resource_id: str
    start: datetime
    end: datetime
    block: Interval
    status: Status
    title: str = ""
    visibility: str = "internal"
    organiser_id: str = ""


def collisions(
    blocks: Iterable[Block], held: Iterable[HeldSlot], exclude: str | None = None
) -> list[Conflict]:
    """The slots of other bookings (not ``exclude``) that overlap ``blocks``, each once,
    soonest first."""
    by_resource: dict[str, list[Interval]] = {}
    for block in blocks:
        by_resource.setdefault(block.resource_id, []).append(block.interval)
    found: dict[tuple[str, str, datetime], Conflict] = {}
    for slot in held:
        if slot.booking_id == exclude:
            continue
        if any(slot.block.overlaps(b) for b in by_resource.get(slot.resource_id, ())):
            found.setdefault(
                (slot.booking_id, slot.resource_id, slot.start),
                Conflict(
                    slot.booking_id, slot.resource_id, slot.start, slot.end, slot.title, slot.status
                ),
            )
    return sorted(found.values(), key=lambda c: (c.start, c.booking_id))


# --- the state machine --------------------------------------------------------------------

PENDING, APPROVED, REJECTED, CANCELLED = Status
TRANSITIONS: dict[str, dict[Status, Status]] = {
    "approve": {PENDING: APPROVED},
    "reject": {PENDING: REJECTED},
    "cancel": {PENDING: CANCELLED, APPROVED: CANCELLED},
    "change": {PENDING: PENDING, APPROVED: APPROVED},
}
# How a refusal names the state and the action (N_: the ids are chosen here at run time).
STATE_WORDS = {
    PENDING: N_("state_pending"),
    APPROVED: N_("state_approved"),
    REJECTED: N_("state_rejected"),
    CANCELLED: N_("state_cancelled"),
}
ACTION_WORDS = {
    "approve": N_("cannot_be_approved"),
    "reject": N_("cannot_be_rejected"),
    "cancel": N_("cannot_be_cancelled"),
    "change": N_("cannot_be_changed"),
}


def next_status(status: str, action: str) -> Status:
    """The status after ``action``, or :class:`InvalidTransition` saying why not."""
    try:
        return TRANSITIONS[action][Status(status)]
    except KeyError:
        raise InvalidTransition(
            Msg(
                "cannot_in_state",
                status=Msg(STATE_WORDS[Status(status)]),
                action=Msg(ACTION_WORDS[action]),
            )
        ) from None


def status_after_change(status: str, moved: bool, needs_approval: bool) -> Status:
    """A change of time or resources sends an approved booking back to pending, unless none
    of its resources needs approval; other changes keep the approval."""
    status = next_status(status, "change")
    if status == APPROVED and moved and needs_approval:
        return PENDING
    return status


# --- who may do what ----------------------------------------------------------------------


def may_decide(actor: Actor, resources: Iterable[Managed]) -> bool:
    """Infra and admin decide on everything; a manager only on bookings whose every resource
    they manage (approvers are scoped to their own rooms)."""
    if actor.is_infra:
        return True
    email = actor.email.lower()
    resources = list(resources)
    return bool(resources) and all(email in rules.managers for rules in resources)


def manages_any(actor: Actor, resources: Iterable[Managed]) -> bool:
    """Whether the actor manages any of these resources."""
    email = actor.email.lower()
    return any(email in rules.managers for rules in resources)


def may_see(actor: Actor, organiser_id: str, resources: Iterable[Managed]) -> bool:
    """The organiser, infra and admin, and a manager of any of its resources."""
    resources = list(resources)
    return actor.user_id == organiser_id or actor.is_infra or manages_any(actor, resources)


def require(condition: bool, reason: Msg) -> None:
    """:class:`Forbidden` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Forbidden(reason)
