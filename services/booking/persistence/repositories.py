"""What booking's use cases ask of storage, and the unit of work that holds it together: one
transaction, its repositories and ``commit``. :mod:`.sql` keeps it in the database,
:mod:`.fake` in memory for unit tests. The use cases see only these interfaces."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from services.booking.commands import BookingQuery
from services.booking.domain import (
    Actor,
    Block,
    HeldSlot,
    Interval,
    NotFound,
    RuleViolation,
    blocked_interval,
)
from services.booking.persistence import models
from shared import unit_of_work as shared_uow
from shared.events import EventType, Label, LineStatus, OccurrenceStatus, Snapshot, Status
from shared.messages import Msg

ListRow = TypeVar("ListRow", models.Category, models.Unit)

# Requests of many dates split their conditions into statements of this many, below
# SQLite's expression depth limit (1000) and bound-parameter limits.
CHUNK = 500


class ResourceRepository(ABC):
    def get(self, key: str, *, lock: bool = False) -> models.Resource:
        """A resource by id or slug (``NotFound`` if none); ``lock`` holds it until the
        commit (its revision rises with each change, one change at a time)."""
        found = self._find(key, lock)
        if found is None:
            raise NotFound(Msg("no_such_resource", key=key))
        return found

    @abstractmethod
    def _find(self, key: str, lock: bool = False) -> models.Resource | None:
        """The resource with this id, else the one with this slug."""

    @abstractmethod
    def get_many(self, keys: Sequence[str]) -> list[models.Resource]:
        """The named resources (ids or slugs) in order (``RuleViolation`` naming unknown
        ones and ones named twice)."""

    @abstractmethod
    def list(self, kind: str | None = None, *, active: bool | None = None) -> list[models.Resource]:
        """Resources by kind and name."""

    @abstractmethod
    def slug_taken(self, slug: str, resource_id: str | None = None) -> bool:
        """Whether another resource than ``resource_id`` is, or was, known by this slug (an
        old slug stays its resource's: old feed links redirect to it)."""

    @abstractmethod
    def add(self, resource: models.Resource) -> None: ...

    @abstractmethod
    def of_team(self, team_id: str, *, lock: bool = False) -> list[models.Resource]:
        """The resources a team decides, by name; ``lock`` holds them until the commit."""

    @abstractmethod
    def closures(self, resource_ids: Iterable[str], span: Interval) -> list[models.Closure]:
        """Closures of these resources overlapping ``span``, soonest first."""

    @abstractmethod
    def add_closure(self, closure: models.Closure) -> None: ...

    def closure(self, resource_id: str, closure_id: str) -> models.Closure:
        """One closure of a resource (``NotFound`` if it has none by that id)."""
        found = self._closure(resource_id, closure_id)
        if found is None:
            raise NotFound(Msg("no_such_closure", id=closure_id))
        return found

    @abstractmethod
    def _closure(self, resource_id: str, closure_id: str) -> models.Closure | None: ...

    @abstractmethod
    def remove_closure(self, closure: models.Closure) -> None: ...


class TeamRepository(ABC):
    def get(self, slug: str, *, lock: bool = False) -> models.Team:
        """A team by slug (``NotFound`` if none); ``lock`` holds it until the commit."""
        found = self._find(slug, lock)
        if found is None:
            raise NotFound(Msg("no_such_team", slug=slug))
        return found

    def exists(self, slug: str) -> bool:
        return self._find(slug, False) is not None

    @abstractmethod
    def _find(self, slug: str, lock: bool) -> models.Team | None: ...

    @abstractmethod
    def list(self) -> list[models.Team]:
        """Every team, by name."""

    @abstractmethod
    def with_mailbox(self, email: str) -> list[models.Team]:
        """The teams whose shared mailbox is this address (lower-case), by name."""

    @abstractmethod
    def add(self, team: models.Team) -> None: ...


@dataclass(frozen=True)
class Listed:
    """A category or unit as a booking names it: its slug and names, and whether it may
    still be chosen."""

    label: Label
    active: bool


class CatalogRepository(ABC):
    """The lists admins keep (categories and units: ``models.Category``, ``models.Unit``)
    and the suppliers on agreements."""

    def entry(self, model: type[ListRow], slug: str, *, lock: bool = False) -> ListRow:
        """A category or unit by slug (``NotFound`` if none)."""
        found = self._entry(model, slug, lock)
        if found is None:
            raise NotFound(Msg("no_such_list_entry", slug=slug))
        return found

    def has(self, model: type[ListRow], slug: str) -> bool:
        return self._entry(model, slug, False) is not None

    @abstractmethod
    def _entry(self, model: type[ListRow], slug: str, lock: bool) -> ListRow | None: ...

    @abstractmethod
    def entries(self, model: type[ListRow]) -> list[ListRow]:
        """Every category (or unit), retired ones too, by position and name."""

    @abstractmethod
    def labels(self, category: str | None, unit: str | None) -> dict[str, Listed]:
        """The category and the unit with these slugs (``"category"``, ``"unit"``; an
        unknown one left out), in one question."""

    @abstractmethod
    def add(self, row: models.Category | models.Unit | models.Supplier) -> None: ...

    def supplier(self, supplier_id: str, *, lock: bool = False) -> models.Supplier:
        """A supplier by id (``NotFound`` if none)."""
        found = self._supplier(supplier_id, lock)
        if found is None:
            raise NotFound(Msg("no_such_supplier"))
        return found

    @abstractmethod
    def _supplier(self, supplier_id: str, lock: bool) -> models.Supplier | None: ...

    @abstractmethod
    def suppliers(self) -> list[models.Supplier]:
        """Every supplier, retired ones too, by name."""


class BookingRepository(ABC):
    def get(self, booking_id: str, *, lock: bool = False) -> models.Booking:
        """A booking (``NotFound`` if none); ``lock`` holds it until the commit."""
        found = self._find(booking_id, lock)
        if found is None:
            raise NotFound(Msg("no_such_booking", id=booking_id))
        return found

    @abstractmethod
    def _find(self, booking_id: str, lock: bool) -> models.Booking | None: ...

    @abstractmethod
    def add(self, booking: models.Booking) -> None: ...

    @abstractmethod
    def replace_occurrences(
        self, booking: models.Booking, occurrences: list[models.Occurrence]
    ) -> None:
        """A booking's new dates in place of its old ones (the same numbers come again)."""

    @abstractmethod
    def list(self, actor: Actor, query: BookingQuery) -> list[models.Booking]:
        """Bookings the actor may list (their own; a manager's resources'; infra: all)."""

    @abstractmethod
    def waiting(self, actor: Actor) -> list[models.Booking]:
        """Pending requests for a resource the actor manages (infra: all), soonest first,
        with their resources, managers and dates loaded."""

    @abstractmethod
    def count_waiting(self, actor: Actor) -> int | None:
        """How many pending requests the actor decides on; ``None`` when they decide on
        nothing (neither infra nor a manager)."""

    @abstractmethod
    def history(self, booking_id: str) -> list[models.HistoryEntry]: ...

    @abstractmethod
    def made_by(self, organiser_id: str, since: datetime) -> tuple[list[datetime], int]:
        """When the organiser created bookings since ``since`` (oldest first), and how many
        of theirs wait for a decision now: what their limits count."""

    @abstractmethod
    def link_used(self, link_id: str) -> bool:
        """Whether a decision link has been used (it works once)."""

    @abstractmethod
    def use_link(self, link_id: str, booking_id: str) -> bool:
        """Record a decision link as used; ``False`` when it was used before. Called with
        the booking locked, so two uses of one link cannot both pass."""

    @abstractmethod
    def add_history(self, entry: models.HistoryEntry) -> None: ...


class SlotRepository(ABC):
    @abstractmethod
    def near(
        self, blocks: Sequence[Block], statuses: Iterable[Status], exclude: str | None = None
    ) -> list[HeldSlot]:
        """Slots of bookings in ``statuses`` (not ``exclude``) that overlap ``blocks``."""

    @abstractmethod
    def sync(self, booking: models.Booking) -> None:
        """Rewrite the booking's slots from its status, dates and resources."""

    @abstractmethod
    def busy(self, resource_id: str, span: Interval) -> list[HeldSlot]:
        """Approved slots of one resource overlapping ``span``, soonest first."""


class UnitOfWork(shared_uow.UnitOfWork):
    """Booking's transaction over its teams, resources, bookings and slots, and the lists
    admins keep (categories, units, suppliers)."""

    teams: TeamRepository
    resources: ResourceRepository
    bookings: BookingRepository
    slots: SlotRepository
    catalog: CatalogRepository

    @abstractmethod
    def user(self, user_id: str, *, lock: bool = False) -> models.User | None:
        """The user; ``lock`` holds their row until the commit (one person's requests
        counted against their limits one at a time)."""

    @abstractmethod
    def user_by_email(self, email: str) -> models.User | None:
        """The user with this address (lower-case), active or not."""

    @abstractmethod
    def publish(self, event_type: EventType, snapshot: Snapshot) -> None:
        """Write an event to the outbox, in this transaction."""

    @abstractmethod
    def flush(self) -> None:
        """Send pending changes (ids and constraints are checked now, not at the commit)."""


def pick_resources(found: list[models.Resource], keys: Sequence[str]) -> list[models.Resource]:
    """``keys`` (ids or slugs) resolved among ``found``, or a rule violation naming the
    unknown ones and any named twice."""
    by_key = {r.slug: r for r in found} | {r.id: r for r in found}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise RuleViolation({"resource_ids": [Msg("unknown_resource", key=k) for k in missing]})
    resources = [by_key[k] for k in keys]
    if len({r.id for r in resources}) != len(resources):
        raise RuleViolation({"resource_ids": [Msg("name_each_resource_once")]})
    return resources


def slot_rows(booking: models.Booking) -> list[dict[str, Any]]:
    """The slots a live booking's lines hold (approved) or want (pending): one per line and
    active date, blocking the resource's buffer after it too. A declined line, and every
    line of a rejected or cancelled booking, has none."""
    if booking.status not in (Status.PENDING, Status.APPROVED):
        return []
    return [
        {
            "booking_id": booking.id,
            "occurrence_n": occ.n,
            "resource_id": line.resource_id,
            "start": occ.start,
            "end": occ.end,
            "block_start": occ.start,
            "block_end": blocked_interval(
                Interval(occ.start, occ.end), line.resource.buffer_minutes
            ).end,
            "holds": line.status == LineStatus.APPROVED,
            "pending": line.status == LineStatus.PENDING,
        }
        for line in booking.lines
        if line.status != LineStatus.DECLINED
        for occ in booking.occurrences
        if occ.status == OccurrenceStatus.ACTIVE
    ]


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]
