"""Notify's repositories in memory, for unit tests that drive the real use cases without a
database (cosmicpython's fake unit of work). They keep the rules the database keeps: the
newest revision wins, a delivery is unique by (event, recipient, kind), a claim holds rows
until its lease passes; and leaving without ``commit`` undoes everything."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.notify.commands import ListDeliveries
from services.notify.domain import (
    ASSIGNMENT_KINDS,
    DROPPED_DECIDED,
    DROPPED_MOVED,
    DROPPED_SUPERSEDED,
    INVITATION_KINDS,
    RELEASED,
    DeliveryStatus,
    DigestItem,
    Invited,
    MailKind,
    Outcome,
)
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import Claimed, DeliveryView, NewDelivery
from shared.events import (
    AlertMode,
    BookingSnapshot,
    Event,
    ResourceRef,
    ResourceSnapshot,
    UserSnapshot,
)

QUEUED, SENDING = DeliveryStatus.QUEUED, DeliveryStatus.SENDING


class FakeBookings:
    def __init__(self) -> None:
        self.stored: dict[str, BookingSnapshot] = {}

    def lock(self, booking_ids: Iterable[str]) -> dict[str, BookingSnapshot]:
        return self.snapshots(booking_ids)

    def store_newest(self, events: list[Event]) -> list[Event]:
        newest: dict[str, Event] = {}
        for event in events:
            current = newest.get(event.booking_id)
            if current is None or event.revision > current.revision:
                newest[event.booking_id] = event
        stored = []
        for booking_id, event in sorted(newest.items()):
            before = self.stored.get(booking_id)
            if before is None or before.revision < event.revision:
                self.stored[booking_id] = event.data  # type: ignore[assignment]
                stored.append(event)
        return stored

    def snapshots(self, booking_ids: Iterable[str]) -> dict[str, BookingSnapshot]:
        return {b: self.stored[b] for b in booking_ids if b in self.stored}


class _Replica:
    """The newest revision of each user or resource the events tell of."""

    def __init__(self) -> None:
        self.stored: dict[str, Any] = {}

    def store_newest(self, events: list[Event]) -> None:
        for event in events:
            before = self.stored.get(event.aggregate_id)
            if before is None or before.revision < event.revision:
                self.stored[event.aggregate_id] = event.data


class FakeUsers(_Replica):
    stored: dict[str, UserSnapshot]


class FakeResources(_Replica):
    stored: dict[str, ResourceSnapshot]

    def remember(self, refs: Iterable[ResourceRef]) -> None:
        for ref in refs:
            before = self.stored.get(ref.id)
            if before is None or before.revision == 0:
                self.stored[ref.id] = ResourceSnapshot(
                    ref.id,
                    ref.slug,
                    ref.name,
                    ref.kind,
                    True,
                    0,
                    ref.location,
                    name_sv=ref.named("sv"),
                    name_en=ref.named("en"),
                    location_sv=ref.located("sv"),
                    location_en=ref.located("en"),
                )

    def refs(self, resource_ids: Iterable[str]) -> dict[str, ResourceRef]:
        known = (self.stored[r] for r in set(resource_ids) if r in self.stored)
        return {
            r.resource_id: ResourceRef(
                r.resource_id,
                r.slug,
                r.name,
                r.kind,
                r.location,
                name_sv=r.named("sv"),
                name_en=r.named("en"),
                location_sv=r.located("sv"),
                location_en=r.located("en"),
            )
            for r in known
        }


class FakePreferences(_Replica):
    stored: dict[str, UserSnapshot]

    def daily(self) -> frozenset[str]:
        return frozenset(
            u.email.lower() for u in self.stored.values() if u.alerts is AlertMode.DAILY
        )

    def languages(self, emails: Collection[str]) -> dict[str, str]:
        wanted = {e.lower() for e in emails}
        return {
            u.email.lower(): u.language.value
            for u in self.stored.values()
            if u.email.lower() in wanted
        }


class FakeDigests:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str, str], datetime] = {}  # (to, booking, line): added

    def add(self, items: Iterable[DigestItem], now: datetime) -> None:
        for item in items:
            self.stored.setdefault((item.recipient, item.booking_id, item.resource_id), now)

    def any_due(self, cutoff: datetime) -> bool:
        return any(added <= cutoff for added in self.stored.values())

    def recipients_due(self, cutoff: datetime, limit: int) -> list[str]:
        return sorted({to for (to, _, _), added in self.stored.items() if added <= cutoff})[:limit]

    def lock(self, recipient: str, cutoff: datetime) -> list[tuple[str, str]]:
        return sorted(
            (booking_id, line)
            for (to, booking_id, line), added in self.stored.items()
            if to == recipient and added <= cutoff
        )

    def remove(self, recipient: str, keys: Collection[tuple[str, str]]) -> None:
        for booking_id, line in keys:
            self.stored.pop((recipient, booking_id, line), None)


class FakeWaitingReminders:
    def __init__(self) -> None:
        # (booking, line): [waiting since, remind at, taken under this event id]
        self.stored: dict[tuple[str, str], list[Any]] = {}

    def lock_for_booking(self, booking_id: str) -> dict[str, datetime]:
        return {r: row[0] for (b, r), row in self.stored.items() if b == booking_id}

    def reschedule(
        self, booking_id: str, drop: Collection[str], add: Mapping[str, tuple[datetime, datetime]]
    ) -> list[str]:
        taken = []
        for resource_id in drop:
            row = self.stored.pop((booking_id, resource_id), None)
            if row is not None and row[2]:
                taken.append(row[2])
        for resource_id, (since, remind_at) in add.items():
            self.stored[(booking_id, resource_id)] = [since, remind_at, None]
        return taken

    @staticmethod
    def _due(row: list[Any], now: datetime) -> bool:
        return row[1] <= now and row[2] is None

    def any_due(self, now: datetime) -> bool:
        return any(self._due(row, now) for row in self.stored.values())

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        due = sorted((row[1], b, r) for (b, r), row in self.stored.items() if self._due(row, now))
        due = due[:limit]
        return [(b, r, self.stored[(b, r)][0]) for _, b, r in due]

    def mark_taken(self, booking_id: str, resource_ids: Collection[str], event_id: str) -> None:
        for resource_id in resource_ids:
            self.stored[(booking_id, resource_id)][2] = event_id


class FakeInvitations:
    def __init__(self) -> None:
        self.stored: dict[str, dict[str, tuple[Invited, int]]] = {}

    def lock_for_bookings(self, booking_ids: Iterable[str]) -> dict[str, dict[str, Invited]]:
        return {
            booking_id: {k: state for k, (state, _) in self.stored[booking_id].items()}
            for booking_id in booking_ids
            if self.stored.get(booking_id)
        }

    def save(self, saves: Sequence[tuple[str, Mapping[str, Invited], int]]) -> None:
        for booking_id, invited, sequence in saves:
            rows = self.stored.setdefault(booking_id, {})
            for recipient, state in invited.items():
                rows[recipient] = (state, sequence)


class FakeReminders:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, int], tuple[datetime, datetime]] = {}  # start, remind_at

    def lock_for_booking(self, booking_id: str) -> dict[int, datetime]:
        return {n: start for (b, n), (start, _) in self.stored.items() if b == booking_id}

    def lock_for_bookings(self, booking_ids: Iterable[str]) -> dict[str, dict[int, datetime]]:
        found = {booking_id: self.lock_for_booking(booking_id) for booking_id in booking_ids}
        return {booking_id: held for booking_id, held in found.items() if held}

    def reschedule(
        self, changes: Sequence[tuple[str, Iterable[int], Mapping[int, datetime]]], lead: timedelta
    ) -> None:
        for booking_id, drop, add in changes:
            for n in drop:
                self.stored.pop((booking_id, n), None)
            for n, start in add.items():
                self.stored[(booking_id, n)] = (start, start - lead)

    def any_due(self, now: datetime) -> bool:
        return any(remind_at <= now for _, remind_at in self.stored.values())

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, int, datetime]]:
        due = sorted(
            (remind_at, key) for key, (_, remind_at) in self.stored.items() if remind_at <= now
        )[:limit]
        taken = [(b, n, self.stored.pop((b, n))[0]) for _, (b, n) in due]
        return taken


@dataclass
class Row:
    """A delivery log row: the planned mail and its state, under the table's names."""

    id: int
    new: NewDelivery
    created_at: datetime
    next_attempt_at: datetime
    status: DeliveryStatus = QUEUED
    attempts: int = 0
    claimed_at: datetime | None = None
    claim: str | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    def __getattr__(self, name: str) -> Any:  # booking_id, recipient, kind, message...
        if name.startswith("__") or name == "new":  # copying: not the planned mail's
            raise AttributeError(name)
        return getattr(self.new, name)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.new.event_id, self.new.recipient, self.new.kind)


@dataclass
class FakeDeliveries:
    rows: list[Row] = field(default_factory=list)

    def add(self, rows: list[NewDelivery], now: datetime) -> int:
        keys = {row.key for row in self.rows}
        added = 0
        for new in rows:
            row = Row(len(self.rows) + 1, new, created_at=now, next_attempt_at=now)
            if row.key not in keys:
                keys.add(row.key)
                self.rows.append(row)
                added += 1
        return added

    def drop_queued_calendar_mail(
        self, booking_id: str, recipients: Collection[str], assignments: bool = False
    ) -> None:
        kinds = {kind.value for kind in (ASSIGNMENT_KINDS if assignments else INVITATION_KINDS)}
        self._drop(
            DROPPED_SUPERSEDED,
            lambda r: r.booking_id == booking_id and r.kind in kinds and r.recipient in recipients,
        )

    def drop_queued_reminders(self, booking_id: str, keep: Collection[str]) -> None:
        self._drop(
            DROPPED_MOVED,
            lambda r: (
                r.booking_id == booking_id
                and r.kind == MailKind.REMINDER
                and r.event_id not in keep
            ),
        )

    def drop_queued_waiting(self, booking_id: str, event_ids: Collection[str]) -> None:
        self._drop(
            DROPPED_DECIDED,
            lambda r: (
                r.booking_id == booking_id
                and r.kind == MailKind.WAITING_REMINDER
                and r.event_id in event_ids
            ),
        )

    def exists(self, event_id: str, recipient: str, kind: str) -> bool:
        return any(row.key == (event_id, recipient, kind) for row in self.rows)

    def _drop(self, reason: str, matches: Callable[[Row], bool]) -> None:
        for row in self.rows:
            if row.status is QUEUED and matches(row):
                row.status, row.last_error = DeliveryStatus.DROPPED, reason

    def _due(self, row: Row, now: datetime, stale_before: datetime) -> bool:
        if row.status is QUEUED:
            return row.next_attempt_at <= now
        held = row.status is SENDING and row.claimed_at is not None
        return held and row.claimed_at < stale_before  # type: ignore[operator]

    def any_due(self, now: datetime, stale_before: datetime) -> bool:
        return any(self._due(row, now, stale_before) for row in self.rows)

    def held_claims(self, prefix: str) -> list[str]:
        held = {r.claim for r in self.rows if r.status is SENDING and r.claim}
        return sorted(claim for claim in held if claim.startswith(prefix))

    def release(self, claims: Collection[str]) -> None:
        for row in self.rows:
            if row.status is SENDING and row.claim in claims:
                row.claimed_at = RELEASED

    def claim(self, now: datetime, stale_before: datetime, limit: int, token: str) -> list[Claimed]:
        due = [row for row in self.rows if self._due(row, now, stale_before)]
        due = sorted(due, key=lambda row: (row.next_attempt_at, row.id))[:limit]
        for row in due:
            row.status, row.claimed_at, row.claim = SENDING, now, token
        return [
            Claimed(row.id, row.recipient, row.message, row.attempts, row.booking_id, row.event_id)
            for row in due
        ]

    def record_sent(self, token: str, ids: list[int], now: datetime) -> None:
        for row in self.rows:
            if row.id in ids and row.claim == token:
                row.status, row.sent_at, row.attempts = DeliveryStatus.SENT, now, row.attempts + 1
                row.claim = row.claimed_at = None

    def renew(self, token: str, now: datetime) -> None:
        for row in self.rows:
            if row.claim == token and row.status is SENDING:
                row.claimed_at = now

    def record(self, token: str, item: Claimed, outcome: Outcome) -> None:
        row = self.rows[item.id - 1]
        if row.claim != token:
            return
        row.status, row.attempts, row.last_error = outcome.status, item.attempts + 1, outcome.error
        row.claim = row.claimed_at = None
        if outcome.retry_at is not None:
            row.next_attempt_at = outcome.retry_at

    def list(self, query: ListDeliveries) -> list[DeliveryView]:
        found = [
            DeliveryView.of(row)
            for row in reversed(self.rows)
            if query.booking_id in (None, row.booking_id)
            and query.status in (None, row.status.shown)
        ]
        return found[: query.limit]


class FakeUnitOfWork(UnitOfWork):
    """All of notify's repositories in memory; ``commits`` counts the commits."""

    def __init__(self) -> None:
        self.bookings = FakeBookings()
        self.users = FakeUsers()
        self.invitations = FakeInvitations()
        self.reminders = FakeReminders()
        self.deliveries = FakeDeliveries()
        self.resources = FakeResources()
        self.preferences = FakePreferences()
        self.digests = FakeDigests()
        self.waiting = FakeWaitingReminders()
        self.commits = 0
        self._saved: dict | None = None

    def reading(self) -> FakeUnitOfWork:
        return self

    def _state(self) -> dict:
        names = (
            "bookings",
            "users",
            "invitations",
            "reminders",
            "deliveries",
            "resources",
            "preferences",
            "digests",
            "waiting",
        )
        return {name: getattr(self, name) for name in names}

    def __enter__(self) -> FakeUnitOfWork:
        self._saved = copy.deepcopy(self._state())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._saved is not None:  # left without a commit: as it was
            for name, repository in self._saved.items():
                setattr(self, name, repository)
            self._saved = None

    def commit(self) -> None:
        self._saved = None
        self.commits += 1

    def rollback(self) -> None:
        self.__exit__()
