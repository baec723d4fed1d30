"""Calendar's rules, pure (no Flask, no SQLAlchemy, no I/O): which booking goes into which
feed and how (in full, or only as busy, or as called off), how long a cancelled booking
stays, which resources have feeds, what a feed is called, and whose a private feed token
(or an assignments feed token) is."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from shared.booking_ical import assigned_people
from shared.events import BookingSnapshot, Kind, LineStatus, Role, Status, Visibility
from shared.ical import Person
from shared.messages import Msg, Named

# The organiser a busy-only block shows (RFC 5546 wants one on every published event; the
# real organiser of a non-public booking is not for a resource feed to tell).
BUSY_ORGANIZER = Person("noreply@evenemang.invalid", "Evenemang")
ENDED = frozenset({Status.CANCELLED, Status.REJECTED})
LIVE = frozenset({Status.PENDING, Status.APPROVED})
MAX_TOKEN_LENGTH = 100  # longer is no token of ours: refused without a lookup
NEVER = datetime(2000, 1, 1, tzinfo=UTC)  # when the feeds changed, before any change


class FeedKind(StrEnum):
    PUBLIC = "public"
    RESOURCE = "resource"
    PRIVATE = "private"
    ASSIGNMENTS = "assignments"  # a staff member's jobs (the lines assigned to them)


@dataclass(frozen=True, slots=True)
class FeedOwner:
    """Whose a private feed is: the token's user with their current role."""

    user_id: str
    email: str
    role: Role


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which bookings a feed shows. ``label`` names it (a resource's name, an owner's
    address) and takes no part in which bookings it holds."""

    kind: FeedKind
    resource_id: str | None = None
    owner_email: str | None = None
    sees_queue: bool = False
    owner_key: str = ""
    label: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """One key per distinct content, for caching the rendered feed (a resource's by its
        id: its slug and name may change, its bookings stay)."""
        if self.kind is FeedKind.RESOURCE:
            return f"resource:{self.resource_id}"
        if self.kind in (FeedKind.PRIVATE, FeedKind.ASSIGNMENTS):
            return f"{self.kind.value}:{self.owner_key}"
        return "public"


PUBLIC_FEED = FeedScope(FeedKind.PUBLIC)


def resource_feed(resource_id: str, name: str) -> FeedScope:
    """One resource's feed: the bookings holding it, the non-public ones only as busy."""
    return FeedScope(FeedKind.RESOURCE, resource_id=resource_id, label=name)


def private_feed(owner: FeedOwner) -> FeedScope:
    """A person's own bookings in every state, and the pending requests they decide on:
    those of the resources they manage, and for infra and admin every pending request."""
    return FeedScope(
        FeedKind.PRIVATE,
        owner_email=owner.email.lower(),
        sees_queue=owner.role in (Role.INFRA, Role.ADMIN),
        owner_key=f"{owner.user_id}:{owner.role.value}",
        label=owner.email,
    )


def assignments_feed(owner: FeedOwner) -> FeedScope:
    """A staff member's jobs: every booking with a line assigned to them (whatever their
    role), and as CANCELLED for a while those they were taken off or that were called off."""
    return FeedScope(
        FeedKind.ASSIGNMENTS,
        owner_email=owner.email.lower(),
        owner_key=owner.user_id,
        label=owner.email,
    )


def token_feed(kind: FeedKind, owner: FeedOwner) -> FeedScope:
    """The feed a token of ``kind`` opens for its owner."""
    return assignments_feed(owner) if kind is FeedKind.ASSIGNMENTS else private_feed(owner)


def feed_wording(scope: FeedScope) -> tuple[Msg, Msg]:
    """The calendar's name and description (X-WR-CALNAME, X-WR-CALDESC) as messages."""
    if scope.kind is FeedKind.RESOURCE:
        return (
            Msg("feed_name", feed=scope.label),
            Msg("feed_resource_description", name=scope.label),
        )
    if scope.kind is FeedKind.PRIVATE:
        return (
            Msg("feed_name", feed=Msg("feed_private_name", email=scope.label)),
            Msg("feed_private_description"),
        )
    if scope.kind is FeedKind.ASSIGNMENTS:
        return (
            Msg("feed_name", feed=Msg("feed_assignments_name", email=scope.label)),
            Msg("feed_assignments_description"),
        )
    return Msg("feed_name", feed=Msg("feed_public_name")), Msg("feed_public_description")


# --- resources: the resource feeds there are -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceFeed:
    """A resource as calendar knows it: from its ``resource.changed`` events (which have the
    last word), or, before its first one, from the bookings that name it."""

    resource_id: str
    slug: str
    name: str  # and ``location``: the Swedish; ``name_en``, ``location_en``: the English
    kind: Kind
    location: str = ""
    active: bool = True
    name_en: str = ""
    location_en: str = ""

    @property
    def label(self) -> Named:
        """Its name in both languages, as its feed's name says it in the feed's."""
        return Named(self.name, self.name_en)

    def localized(self, language: str) -> ResourceFeed:
        """As a reader of ``language`` sees it (the subscribe page)."""
        if language != "en":
            return self
        return replace(
            self, name=self.name_en or self.name, location=self.location_en or self.location
        )


def offered(resources: Iterable[ResourceFeed]) -> list[ResourceFeed]:
    """The resource feeds the subscribe page offers: those of active resources. A deactivated
    resource's feed is still served at its address, so no subscription breaks and the
    cancellations of its bookings still reach subscribers; it is only not offered anew."""
    return [resource for resource in resources if resource.active]


# --- entries: one booking as the feeds see it --------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """What decides which feeds show a booking. ``published``: the public feed lists it:
    approved, or ended (cancelled, rejected) after its approval, so subscribers see it go; a
    request withdrawn before approval never appears there. ``listed``: the resources (ids)
    whose feeds list it: those whose line is approved while the booking goes ahead.
    ``withdrawn``: the resources whose feeds listed it until it was called off there (the
    booking ended, the line declined, the resource taken out), each with when: those feeds
    show it as cancelled, as long as a cancelled booking stays. ``assigned``: the staff
    (lower-case addresses) whose assignments feeds list it: those assigned a line's job
    while the booking goes ahead; ``unassigned``: those whose feeds listed it until they
    were taken off (or the line declined, or the booking ended), each with when."""

    booking_id: str
    status: Status
    visibility: Visibility
    organiser_email: str
    deciders: frozenset[str]
    last_end: datetime
    cancelled_at: datetime | None
    published: bool
    listed: frozenset[str] = frozenset()
    withdrawn: tuple[tuple[str, datetime], ...] = ()
    assigned: frozenset[str] = frozenset()
    unassigned: tuple[tuple[str, datetime], ...] = ()

    def withdrawn_at(self, resource_id: str) -> datetime | None:
        """When the booking was called off in this resource's feed, if it was."""
        return next((at for rid, at in self.withdrawn if rid == resource_id), None)

    def unassigned_at(self, email: str) -> datetime | None:
        """When this person's jobs of the booking were called off, if they were."""
        return next((at for who, at in self.unassigned if who == email), None)


@dataclass(frozen=True, slots=True)
class RenderedEntry(EntryFacts):
    """An entry with its VEVENTs, rendered once per ``revision`` of the booking: ``full``
    and ``busy`` (time and place only), and, while the booking goes ahead but some resource
    feeds show it called off, ``withdrawn_full`` and ``withdrawn_busy`` (the same, CANCELLED).
    ``assignment``: its jobs as the assignees' feeds show them (while it has or had
    assignees), and ``assignment_withdrawn`` the same as CANCELLED, while it goes ahead but
    someone was taken off."""

    revision: int = 0
    full: str = ""
    busy: str = ""
    withdrawn_full: str = ""
    withdrawn_busy: str = ""
    # The same in English where they differ (resources named in English), else "".
    full_en: str = ""
    busy_en: str = ""
    withdrawn_full_en: str = ""
    withdrawn_busy_en: str = ""
    assignment: str = ""
    assignment_withdrawn: str = ""

    @classmethod
    def of(cls, facts: EntryFacts, *, revision: int, **vevents: str) -> RenderedEntry:
        values = {f.name: getattr(facts, f.name) for f in fields(EntryFacts)}
        return cls(**values, revision=revision, **vevents)

    def vevent(self, which: str, language: str = "sv") -> str:
        """One of the VEVENTs (``full``, ``busy``, ``withdrawn_full``, ``withdrawn_busy``)
        naming resources in ``language``."""
        if language == "en":
            return getattr(self, f"{which}_en") or getattr(self, which)
        return getattr(self, which)

    def in_resource_feed(self, called_off: bool, language: str = "sv") -> str:
        """The VEVENT a resource feed shows: in full for a public booking, else only busy;
        ``called_off``: as CANCELLED (the booking's own VEVENTs are, once it has ended)."""
        public = self.visibility is Visibility.PUBLIC
        if called_off and self.status not in ENDED:
            return self.vevent("withdrawn_full" if public else "withdrawn_busy", language)
        return self.vevent("full" if public else "busy", language)

    def in_assignments_feed(self, called_off: bool) -> str:
        """The VEVENT of its jobs; ``called_off``: as CANCELLED (the booking's own is, once
        it has ended)."""
        if called_off and self.status not in ENDED:
            return self.assignment_withdrawn
        return self.assignment


@dataclass(frozen=True, slots=True)
class FeedVersion:
    """How far the feeds have moved: ``generation`` rises with every applied change, and
    ``changed_at`` (never backwards) is when it last did."""

    generation: int
    changed_at: datetime


def entry_facts(snapshot: BookingSnapshot, previous: EntryFacts | None) -> EntryFacts:
    """The facts of a booking's newest snapshot; ``previous``: what was stored before it."""
    status = snapshot.status
    was_published = previous is not None and previous.published
    if status in ENDED:
        cancelled_at = (previous and previous.cancelled_at) or snapshot.updated_at
    else:
        cancelled_at = None
    listed = held_resources(snapshot)
    assigned = frozenset(assigned_people(snapshot))
    return EntryFacts(
        booking_id=snapshot.booking_id,
        status=status,
        visibility=snapshot.visibility,
        organiser_email=snapshot.organiser.email.lower(),
        deciders=deciders_of(snapshot),
        last_end=max((o.end for o in snapshot.occurrences), default=snapshot.end),
        cancelled_at=cancelled_at,
        published=status is Status.APPROVED or (status in ENDED and was_published),
        listed=listed,
        withdrawn=withdrawals(snapshot, previous, listed, cancelled_at),
        assigned=assigned,
        unassigned=_called_off(
            previous.assigned if previous else frozenset(),
            assigned,
            previous.unassigned if previous else (),
            cancelled_at or snapshot.updated_at,
        ),
    )


def held_resources(snapshot: BookingSnapshot) -> frozenset[str]:
    """The resources whose feeds list a booking: each one whose line is approved (its slot is
    held) while the booking goes ahead, also while another line still waits. A snapshot
    from before lines: every resource, once the booking is approved."""
    if snapshot.status not in LIVE:
        return frozenset()
    if not snapshot.lines:
        approved = snapshot.status is Status.APPROVED
        return frozenset(r.id for r in snapshot.resources) if approved else frozenset()
    return frozenset(
        line.resource_id for line in snapshot.lines if line.status is LineStatus.APPROVED
    )


def waiting_resources(snapshot: BookingSnapshot) -> frozenset[str]:
    """The resources whose line waits for a decision (before lines: all of a pending one)."""
    if not snapshot.lines:
        pending = snapshot.status is Status.PENDING
        return frozenset(r.id for r in snapshot.resources) if pending else frozenset()
    return frozenset(line.resource_id for line in snapshot.lines if line.pending)


def withdrawals(
    snapshot: BookingSnapshot,
    previous: EntryFacts | None,
    listed: frozenset[str],
    cancelled_at: datetime | None,
) -> tuple[tuple[str, datetime], ...]:
    """Where a booking is called off: each resource feed that listed it and no longer does
    because the booking ended (from ``cancelled_at``), or the resource's line was declined or
    the resource taken out of the booking (from this snapshot's time). A line sent back to
    wait (a moved booking) leaves its feed quietly, as a moved booking leaves the public
    feed; a resource listed again is no longer called off."""
    # a line sent back to wait leaves quietly
    quiet = waiting_resources(snapshot) if cancelled_at is None else frozenset()
    return _called_off(
        previous.listed if previous else frozenset(),
        listed,
        previous.withdrawn if previous else (),
        cancelled_at or snapshot.updated_at,
        quiet,
    )


def _called_off(
    before: frozenset[str],
    now: frozenset[str],
    held: tuple[tuple[str, datetime], ...],
    at: datetime,
    quiet: frozenset[str] = frozenset(),
) -> tuple[tuple[str, datetime], ...]:
    """Where a booking is called off after a change: each feed (by key) that listed it
    ``before`` and does not ``now`` (but for the ``quiet`` ones), from ``at``, and those
    already called off (``held``) unless listed again."""
    called_off = {key: when for key, when in held if key not in now}
    for key in sorted(before - now - quiet):
        called_off.setdefault(key, at)
    return tuple(sorted(called_off.items()))


def deciders_of(snapshot: BookingSnapshot) -> frozenset[str]:
    """Who decides what a request still waits for: the deciders of its pending lines (the
    resources' team members and managers); a snapshot from before lines: its managers."""
    if not snapshot.lines:
        return frozenset(m.lower() for r in snapshot.resources for m in r.managers)
    return frozenset(d.lower() for line in snapshot.lines if line.pending for d in line.deciders)


E = TypeVar("E", bound=EntryFacts)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long feeds keep a booking: until ``past_days`` after it ended; a cancelled or
    rejected one shows as CANCELLED for ``cancelled_days``, then leaves (clients drop it),
    and so does one called off in a resource's feed."""

    past_days: int = 90
    cancelled_days: int = 30

    def in_window(self, entries: Iterable[E], now: datetime) -> list[E]:
        """The entries that ended no longer ago than ``past_days``, in their order."""
        window = now - timedelta(days=self.past_days)
        return [e for e in entries if e.last_end >= window]

    def still_shown(self, called_off_at: datetime | None, now: datetime) -> bool:
        """Whether something called off at ``called_off_at`` (None: it was not) still shows."""
        return called_off_at is None or called_off_at > now - timedelta(days=self.cancelled_days)

    def kept(self, entries: Iterable[E], now: datetime) -> list[E]:
        """The entries a feed still holds at ``now``, in their order."""
        return [e for e in self.in_window(entries, now) if self.still_shown(e.cancelled_at, now)]


def feed_vevents(
    scope: FeedScope,
    entries: Iterable[RenderedEntry],
    now: datetime,
    retention: Retention,
    language: str = "sv",
) -> list[str]:
    """The VEVENTs of a feed, in the order of ``entries``: a non-public booking in a
    resource feed only as busy, everything else in full; resources named in ``language``."""
    if scope.kind is FeedKind.RESOURCE:
        return resource_vevents(scope.resource_id or "", entries, now, retention, language)
    if scope.kind is FeedKind.ASSIGNMENTS:
        return assignment_vevents(scope.owner_email or "", entries, now, retention)
    kept = retention.kept(entries, now)
    if scope.kind is FeedKind.PUBLIC:
        return [
            e.vevent("full", language)
            for e in kept
            if e.published and e.visibility is Visibility.PUBLIC
        ]
    owner = scope.owner_email
    return [
        e.vevent("full", language)
        for e in kept
        if e.organiser_email == owner
        or (e.status is Status.PENDING and (scope.sees_queue or owner in e.deciders))
    ]


def resource_vevents(
    resource_id: str,
    entries: Iterable[RenderedEntry],
    now: datetime,
    retention: Retention,
    language: str = "sv",
) -> list[str]:
    """A resource feed's VEVENTs: the bookings that hold the resource, and as CANCELLED
    those called off there (for as long as a cancelled booking stays)."""
    return _listed_or_called_off(
        entries,
        now,
        retention,
        listed=lambda e: resource_id in e.listed,
        called_off_at=lambda e: e.withdrawn_at(resource_id),
        vevent=lambda e, called_off: e.in_resource_feed(called_off, language),
    )


def assignment_vevents(
    email: str, entries: Iterable[RenderedEntry], now: datetime, retention: Retention
) -> list[str]:
    """An assignments feed's VEVENTs: the bookings with a job assigned to ``email``, and
    as CANCELLED those they were taken off or that ended (as long as a cancelled booking
    stays)."""
    return _listed_or_called_off(
        entries,
        now,
        retention,
        listed=lambda e: email in e.assigned,
        called_off_at=lambda e: e.unassigned_at(email),
        vevent=RenderedEntry.in_assignments_feed,
    )


def _listed_or_called_off(
    entries: Iterable[RenderedEntry],
    now: datetime,
    retention: Retention,
    *,
    listed: Callable[[RenderedEntry], bool],
    called_off_at: Callable[[RenderedEntry], datetime | None],
    vevent: Callable[[RenderedEntry, bool], str],
) -> list[str]:
    """The VEVENTs of the entries a feed lists, and as called off those it listed until
    ``called_off_at`` (while a cancelled booking stays), in the order of ``entries``."""
    vevents = []
    for e in retention.in_window(entries, now):
        if listed(e):
            vevents.append(vevent(e, False))
        elif (at := called_off_at(e)) is not None and retention.still_shown(at, now):
            vevents.append(vevent(e, True))
    return vevents


# --- private feed tokens -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedToken:
    """A private feed's secret as kept: only its hash; revoking marks, deletes nothing.
    ``kind``: the feed it opens, the owner's private feed or their assignments feed (each
    token opens one, so a link shared for one reveals nothing of the other)."""

    token_hash: str
    user_id: str
    email: str
    role: Role
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    kind: FeedKind = FeedKind.PRIVATE


@dataclass(frozen=True, slots=True)
class UserStanding:
    """What the replica of booking's users says about a token's owner now."""

    user_id: str
    role: Role
    active: bool


def token_hash(token: str) -> str:
    """The stored form of a token (the token itself is shown once and never kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


def owner_of(token: FeedToken | None, user: UserStanding | None) -> FeedOwner | None:
    """Whose feed a token opens: none when it is unknown or revoked, or its user was
    deactivated; the user's current role wins over the one the token was made with."""
    if token is None or token.revoked_at is not None:
        return None
    if user is not None and not user.active:
        return None
    return FeedOwner(token.user_id, token.email, user.role if user else token.role)


def may_revoke(token: FeedToken | None, user_id: str, is_admin: bool) -> bool:
    """A live token may be revoked by its owner, or by an admin."""
    if token is None or token.revoked_at is not None:
        return False
    return token.user_id == user_id or is_admin
