"""Booking's storage in memory, for unit tests of the real use cases without a database (as
in cosmicpython): the same repository interfaces over dicts and lists. New rows and events
wait in the unit of work until ``commit``; a unit left without it keeps none of them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.booking.commands import BookingQuery
from services.booking.domain import (
    Actor,
    Block,
    HeldSlot,
    Interval,
    Spans,
    decides,
    may_decide_line,
)
from services.booking.persistence.mapping import rules_of
from services.booking.persistence.models import (
    Booking,
    Category,
    Closure,
    HistoryEntry,
    Occurrence,
    Resource,
    Supplier,
    Team,
    Unit,
    User,
)
from services.booking.persistence.repositories import (
    BookingRepository,
    CatalogRepository,
    Listed,
    ListRow,
    ResourceRepository,
    SlotRepository,
    TeamRepository,
    UnitOfWork,
    pick_resources,
    slot_rows,
)
from shared.events import EventType, Label, LineStatus, Snapshot, Status


@dataclass
class MemoryStore:
    """What a test's database would hold."""

    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    closures: list[Closure] = field(default_factory=list)
    bookings: dict[str, Booking] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    slots: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[tuple[EventType, Snapshot]] = field(default_factory=list)
    used_links: set[str] = field(default_factory=set)
    categories: dict[str, Category] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    commits: int = 0
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class FakeCatalog(CatalogRepository):
    def __init__(self, store: MemoryStore, staged: list[Any]) -> None:
        self.store, self.staged = store, staged

    def _kept(self, model: type) -> dict[str, Any]:
        return self.store.categories if model is Category else self.store.units

    def _entry(self, model: type[ListRow], slug: str, lock: bool) -> ListRow | None:
        return self._kept(model).get(slug)

    def entries(self, model: type[ListRow]) -> list[ListRow]:
        return sorted(self._kept(model).values(), key=lambda e: (e.position, e.name_sv, e.slug))

    def labels(self, category: str | None, unit: str | None) -> dict[str, Listed]:
        found = {}
        for model, kind, slug in ((Category, "category", category), (Unit, "unit", unit)):
            row = self._kept(model).get(slug) if slug is not None else None
            if row is not None:
                found[kind] = Listed(Label(row.slug, row.name_sv, row.name_en), row.active)
        return found

    def add(self, row: Category | Unit | Supplier) -> None:
        self.staged.append(row)

    def _supplier(self, supplier_id: str, lock: bool) -> Supplier | None:
        return self.store.suppliers.get(supplier_id)

    def suppliers(self) -> list[Supplier]:
        return sorted(self.store.suppliers.values(), key=lambda x: (x.name, x.id))


class FakeTeams(TeamRepository):
    def __init__(self, store: MemoryStore, staged: list[Any]) -> None:
        self.store, self.staged = store, staged

    def _find(self, slug: str, lock: bool) -> Team | None:
        return next((t for t in self.store.teams.values() if t.slug == slug), None)

    def list(self) -> list[Team]:
        return sorted(self.store.teams.values(), key=lambda t: (t.name, t.slug))

    def with_mailbox(self, email: str) -> list[Team]:
        return [t for t in self.list() if t.email == email]

    def add(self, team: Team) -> None:
        self.staged.append(team)


class FakeResources(ResourceRepository):
    def __init__(self, store: MemoryStore, staged: list[Any]) -> None:
        self.store, self.staged = store, staged

    def _find(self, key: str, lock: bool = False) -> Resource | None:
        return self.store.resources.get(key) or next(
            (r for r in self.store.resources.values() if r.slug == key), None
        )

    def get_many(self, keys: Sequence[str]) -> list[Resource]:
        return pick_resources(list(self.store.resources.values()), keys)

    def list(self, kind: str | None = None, *, active: bool | None = None) -> list[Resource]:
        return sorted(
            (
                r
                for r in self.store.resources.values()
                if (kind is None or r.kind == kind) and (active is None or r.active == active)
            ),
            key=lambda r: (r.kind, r.name),
        )

    def slug_taken(self, slug: str, resource_id: str | None = None) -> bool:
        return any(
            slug == r.slug or slug in (r.former_slugs or ())
            for r in self.store.resources.values()
            if r.id != resource_id
        )

    def add(self, resource: Resource) -> None:
        self.staged.append(resource)

    def of_team(self, team_id: str, *, lock: bool = False) -> list[Resource]:
        return sorted(
            (r for r in self.store.resources.values() if r.team_id == team_id),
            key=lambda r: r.name,
        )

    def _all_closures(self) -> list[Closure]:
        """Committed closures, and this unit's own (a database sees its transaction's)."""
        staged = [c for c in self.staged if isinstance(c, Closure)]
        removed = {id(r.row) for r in self.staged if isinstance(r, _Removed)}
        return [c for c in self.store.closures + staged if id(c) not in removed]

    def closures(self, resource_ids: Iterable[str], span: Interval) -> list[Closure]:
        ids = set(resource_ids)
        return sorted(
            (
                c
                for c in self._all_closures()
                if c.resource_id in ids and Interval(c.start, c.end).overlaps(span)
            ),
            key=lambda c: c.start,
        )

    def add_closure(self, closure: Closure) -> None:
        self.staged.append(closure)

    def _closure(self, resource_id: str, closure_id: str) -> Closure | None:
        return next(
            (
                c
                for c in self._all_closures()
                if c.id == closure_id and c.resource_id == resource_id
            ),
            None,
        )

    def remove_closure(self, closure: Closure) -> None:
        self.staged.append(_Removed(closure))


@dataclass(frozen=True, eq=False)
class _Removed:
    """A row this unit of work deletes at its commit."""

    row: Any


class FakeBookings(BookingRepository):
    def __init__(self, store: MemoryStore, staged: list[Any]) -> None:
        self.store, self.staged = store, staged

    def _find(self, booking_id: str, lock: bool) -> Booking | None:
        return self.store.bookings.get(booking_id) or next(
            (b for b in self.staged if isinstance(b, Booking) and b.id == booking_id), None
        )

    def add(self, booking: Booking) -> None:
        self.staged.append(booking)

    def replace_occurrences(self, booking: Booking, occurrences: list[Occurrence]) -> None:
        booking.occurrences = occurrences

    def _visible(self, actor: Actor, booking: Booking, mine: bool) -> bool:
        own = booking.organiser_id == actor.user_id
        if mine:
            return own
        return (
            actor.is_infra
            or own
            or any(decides(actor, rules_of(x.resource)) for x in booking.lines)
        )

    def list(self, actor: Actor, query: BookingQuery) -> list[Booking]:
        found = [
            b
            for b in self.store.bookings.values()
            if self._visible(actor, b, query.mine)
            and (query.status is None or b.status == query.status)
            and (query.resource_id is None or b.line(query.resource_id) is not None)
            and (query.from_ is None or max(o.end for o in b.occurrences) > query.from_)
            and (query.to is None or b.start < query.to)
        ]
        return sorted(found, key=lambda b: (b.start, b.id))[: query.limit]

    def waiting(self, actor: Actor) -> list[Booking]:
        return sorted(
            (
                b
                for b in self.store.bookings.values()
                if b.status == Status.PENDING
                and any(
                    x.status == LineStatus.PENDING
                    and may_decide_line(actor, rules_of(x.resource), b.organiser_id)
                    for x in b.lines
                )
            ),
            key=lambda b: (b.start, b.id),
        )

    def count_waiting(self, actor: Actor) -> int | None:
        decider = any(decides(actor, rules_of(r)) for r in self.store.resources.values())
        return len(self.waiting(actor)) if actor.is_infra or decider else None

    def link_used(self, link_id: str) -> bool:
        return link_id in self.store.used_links

    def use_link(self, link_id: str, booking_id: str) -> bool:
        if self.link_used(link_id) or link_id in self.staged:
            return False
        self.staged.append(link_id)
        return True

    def made_by(self, organiser_id: str, since: datetime) -> tuple[list[datetime], int]:
        mine = [b for b in self.store.bookings.values() if b.organiser_id == organiser_id]
        created = sorted(b.created_at for b in mine if b.created_at > since)
        return created, sum(1 for b in mine if b.status == Status.PENDING)

    def history(self, booking_id: str) -> list[HistoryEntry]:
        return [h for h in self.store.history if h.booking_id == booking_id]

    def add_history(self, entry: HistoryEntry) -> None:
        self.staged.append(entry)


class FakeSlots(SlotRepository):
    def __init__(self, store: MemoryStore, bookings: FakeBookings) -> None:
        self.store, self.bookings = store, bookings
        self.synced: dict[str, list[dict[str, Any]]] = {}  # until the commit

    def _held(self, statuses: Iterable[Status]) -> list[HeldSlot]:
        wanted = set(statuses)
        held = []
        for booking_id, rows in (self.store.slots | self.synced).items():
            booking = self.bookings.get(booking_id)
            held += [
                HeldSlot(
                    booking_id=booking_id,
                    resource_id=row["resource_id"],
                    start=row["start"],
                    end=row["end"],
                    block=Interval(row["block_start"], row["block_end"]),
                    status=Status.APPROVED if row["holds"] else Status.PENDING,
                    title=booking.title,
                    visibility=booking.visibility,
                    organiser_id=booking.organiser_id,
                )
                for row in rows
                if (Status.APPROVED if row["holds"] else Status.PENDING) in wanted
            ]
        return sorted(held, key=lambda h: (h.start, h.booking_id))

    def near(
        self, blocks: Sequence[Block], statuses: Iterable[Status], exclude: str | None = None
    ) -> list[HeldSlot]:
        spans = Spans(blocks)
        return [
            h
            for h in self._held(statuses)
            if h.booking_id != exclude and spans.overlaps(h.resource_id, h.block)
        ]

    def sync(self, booking: Booking) -> None:
        self.synced[booking.id] = slot_rows(booking)

    def busy(self, resource_id: str, span: Interval) -> list[HeldSlot]:
        return [
            h
            for h in self._held({Status.APPROVED})
            if h.resource_id == resource_id and h.block.overlaps(span)
        ]


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore, *, readonly: bool = False) -> None:
        self.store, self.readonly = store, readonly
        self.staged: list[Any] = []
        self.events: list[tuple[EventType, Snapshot]] = []
        self.teams = FakeTeams(store, self.staged)
        self.resources = FakeResources(store, self.staged)
        self.bookings = FakeBookings(store, self.staged)
        self.slots = FakeSlots(store, self.bookings)
        self.catalog = FakeCatalog(store, self.staged)

    def commit(self) -> None:
        assert not self.readonly, "a reading unit of work commits nothing"
        self.flush()
        for row in self.staged:
            if isinstance(row, Booking):
                self.store.bookings[row.id] = row
            elif isinstance(row, Resource):
                self.store.resources[row.id] = row
            elif isinstance(row, Team):
                self.store.teams[row.id] = row
            elif isinstance(row, Category):
                self.store.categories[row.slug] = row
            elif isinstance(row, Unit):
                self.store.units[row.slug] = row
            elif isinstance(row, Supplier):
                self.store.suppliers[row.id] = row
            elif isinstance(row, _Removed):
                self.store.closures = [c for c in self.store.closures if c is not row.row]
            elif isinstance(row, Closure):
                self.store.closures.append(row)
            elif isinstance(row, HistoryEntry):
                self.store.history.append(row)
            elif isinstance(row, str):
                self.store.used_links.add(row)
        self.store.slots.update(self.slots.synced)
        self.store.events += self.events
        self.store.commits += 1
        self.rollback()

    def rollback(self) -> None:
        self.staged.clear()
        self.slots.synced.clear()
        self.events = []

    def flush(self) -> None:
        for row in self.staged:
            if isinstance(row, HistoryEntry) and row.id is None:
                row.id = next(self.store.ids)

    def user(self, user_id: str, *, lock: bool = False) -> User | None:
        return self.store.users.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.store.users.values() if u.email == email), None)

    def publish(self, event_type: EventType, snapshot: Snapshot) -> None:
        self.events.append((event_type, snapshot))


@dataclass
class FakeUnits:
    """Makes fake units of work over one store (``Context(units=FakeUnits(store))``)."""

    store: MemoryStore = field(default_factory=MemoryStore)

    def __call__(self, *, readonly: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, readonly=readonly)
