"""Booking's repositories in the database (SQLAlchemy 2.x): each question in a fixed number
of statements, whatever the number of bookings, resources or dates it is about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from services.booking.commands import BookingQuery
from services.booking.domain import (
    MAX_BLOCK_LENGTH,
    NEAR_WINDOW,
    Actor,
    Block,
    HeldSlot,
    Interval,
    Spans,
)
from services.booking.persistence.models import (
    Booking,
    BookingLine,
    Category,
    Closure,
    DecisionLinkUse,
    HistoryEntry,
    Occurrence,
    Resource,
    ResourceManager,
    Slot,
    Supplier,
    Team,
    TeamMember,
    Unit,
)
from services.booking.persistence.repositories import (
    BookingRepository,
    CatalogRepository,
    Listed,
    ListRow,
    ResourceRepository,
    SlotRepository,
    TeamRepository,
    chunks,
    pick_resources,
    slot_rows,
)
from shared.events import Label, LineStatus, Status

# A booking with what its read model shows: its lines with their resources, managers and
# teams in one statement, dates in another (the organiser is joined to the booking's own).
WITH_PARTS = (
    selectinload(Booking.lines)
    .joinedload(BookingLine.resource)
    .options(joinedload(Resource.managers), joinedload(Resource.team).joinedload(Team.members)),
    selectinload(Booking.occurrences),
)


# The statements of a submit and an approve, built once with bound parameters: building one
# anew (and its cache key) costs more than SQLAlchemy's cached compile of it. The same SQL.
def _resources():
    return select(Resource).options(
        joinedload(Resource.managers), joinedload(Resource.team).selectinload(Team.members)
    )


NAMED_RESOURCES = _resources().where(
    or_(
        Resource.id.in_(bindparam("ids", expanding=True)),
        Resource.slug.in_(bindparam("slugs", expanding=True)),
    )
)
CLOSURES_DURING = (
    select(Closure)
    .where(
        Closure.resource_id.in_(bindparam("resource_ids", expanding=True)),
        Closure.start < bindparam("end"),
        Closure.end > bindparam("start"),
    )
    .order_by(Closure.start)
)
CREATED_SINCE = (
    select(Booking.created_at)
    .where(
        Booking.organiser_id == bindparam("organiser_id"), Booking.created_at > bindparam("since")
    )
    .order_by(Booking.created_at)
)
PENDING_OF = select(func.count(Booking.id)).where(
    Booking.organiser_id == bindparam("organiser_id"), Booking.status == Status.PENDING
)

LOCKED_BOOKING = (
    select(Booking).options(*WITH_PARTS).where(Booking.id == bindparam("id")).with_for_update()
)


class SqlResources(ResourceRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _select(self):
        return _resources()

    def _find(self, key: str, lock: bool = False) -> Resource | None:
        stmt = self._select().where(or_(Resource.id == key, Resource.slug == key))
        if lock:
            stmt = stmt.with_for_update(of=Resource)
        found = self.session.scalars(stmt).unique()
        return min(found, key=lambda r: r.id != key, default=None)  # an id before a slug

    def get_many(self, keys: Sequence[str]) -> list[Resource]:
        keys = list(keys)
        rows = self.session.scalars(NAMED_RESOURCES, {"ids": keys, "slugs": keys}).unique()
        return pick_resources(list(rows), keys)

    def list(self, kind: str | None = None, *, active: bool | None = None) -> list[Resource]:
        stmt = self._select().order_by(Resource.kind, Resource.name)
        if kind is not None:
            stmt = stmt.where(Resource.kind == kind)
        if active is not None:
            stmt = stmt.where(Resource.active.is_(active))
        return list(self.session.scalars(stmt).unique())

    def slug_taken(self, slug: str, resource_id: str | None = None) -> bool:
        known = self.session.execute(
            select(Resource.id, Resource.slug, Resource.former_slugs).where(
                Resource.id != (resource_id or "")
            )
        )
        return any(slug == current or slug in (former or ()) for _, current, former in known)

    def add(self, resource: Resource) -> None:
        self.session.add(resource)

    def of_team(self, team_id: str, *, lock: bool = False) -> list[Resource]:
        stmt = self._select().where(Resource.team_id == team_id).order_by(Resource.name)
        if lock:
            stmt = stmt.with_for_update(of=Resource)
        return list(self.session.scalars(stmt).unique())

    def closures(self, resource_ids: Iterable[str], span: Interval) -> list[Closure]:
        params = {"resource_ids": list(resource_ids), "start": span.start, "end": span.end}
        return list(self.session.scalars(CLOSURES_DURING, params))

    def add_closure(self, closure: Closure) -> None:
        self.session.add(closure)

    def _closure(self, resource_id: str, closure_id: str) -> Closure | None:
        return self.session.scalar(
            select(Closure).where(Closure.id == closure_id, Closure.resource_id == resource_id)
        )

    def remove_closure(self, closure: Closure) -> None:
        self.session.delete(closure)


class SqlCatalog(CatalogRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _entry(self, model: type[ListRow], slug: str, lock: bool) -> ListRow | None:
        stmt = select(model).where(model.slug == slug)
        if lock:
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def entries(self, model: type[ListRow]) -> list[ListRow]:
        stmt = select(model).order_by(model.position, model.name_sv, model.slug)
        return list(self.session.scalars(stmt))

    def labels(self, category: str | None, unit: str | None) -> dict[str, Listed]:
        def named(model: type[Category] | type[Unit], kind: str, slug: str):
            return select(
                literal(kind), model.slug, model.name_sv, model.name_en, model.active
            ).where(model.slug == slug)

        asked = [
            named(model, kind, slug)
            for model, kind, slug in ((Category, "category", category), (Unit, "unit", unit))
            if slug is not None
        ]
        if not asked:
            return {}
        rows = self.session.execute(union_all(*asked) if len(asked) > 1 else asked[0])
        return {
            kind: Listed(Label(slug, name_sv, name_en), bool(active))
            for kind, slug, name_sv, name_en, active in rows
        }

    def add(self, row: Category | Unit | Supplier) -> None:
        self.session.add(row)

    def _supplier(self, supplier_id: str, lock: bool) -> Supplier | None:
        return self.session.get(Supplier, supplier_id, with_for_update=lock or None)

    def suppliers(self) -> list[Supplier]:
        return list(self.session.scalars(select(Supplier).order_by(Supplier.name, Supplier.id)))


class SqlTeams(TeamRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _find(self, slug: str, lock: bool) -> Team | None:
        stmt = select(Team).where(Team.slug == slug)
        if lock:
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def list(self) -> list[Team]:
        return list(self.session.scalars(select(Team).order_by(Team.name, Team.slug)))

    def with_mailbox(self, email: str) -> list[Team]:
        stmt = select(Team).where(Team.email == email).order_by(Team.name, Team.slug)
        return list(self.session.scalars(stmt))

    def add(self, team: Team) -> None:
        self.session.add(team)


def _decided_by(actor: Actor):
    """The resources the actor decides as a manager, a member of their team, or the team's
    shared mailbox."""
    email = actor.email.lower()
    return union(
        select(ResourceManager.resource_id).where(ResourceManager.email == email),
        select(Resource.id)
        .join(TeamMember, TeamMember.team_id == Resource.team_id)
        .where(TeamMember.email == email),
        select(Resource.id).join(Team, Team.id == Resource.team_id).where(Team.email == email),
    )


def _waits_for(actor: Actor):
    """Pending requests with a line waiting for the actor's decision (infra: any line), not
    the actor's own unless the resource allows self-approval."""
    line = (
        select(BookingLine.booking_id)
        .join(Resource, Resource.id == BookingLine.resource_id)
        .where(
            BookingLine.booking_id == Booking.id,
            BookingLine.status == LineStatus.PENDING,
            or_(Booking.organiser_id != actor.user_id, Resource.self_approval.is_(True)),
        )
    )
    if not actor.is_infra:
        line = line.where(BookingLine.resource_id.in_(_decided_by(actor)))
    return and_(Booking.status == Status.PENDING, exists(line))


class SqlBookings(BookingRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _find(self, booking_id: str, lock: bool) -> Booking | None:
        if lock:  # a locked get always asks (no identity map look-up): the same, prebuilt
            found = self.session.scalars(LOCKED_BOOKING, {"id": booking_id}).unique()
            return found.one_or_none()
        return self.session.get(Booking, booking_id, options=WITH_PARTS)

    def add(self, booking: Booking) -> None:
        self.session.add(booking)

    def replace_occurrences(self, booking: Booking, occurrences: list[Occurrence]) -> None:
        booking.occurrences.clear()
        self.session.flush()  # the old dates go before new ones with the same numbers come
        booking.occurrences = occurrences
        self.session.flush()

    def list(self, actor: Actor, query: BookingQuery) -> list[Booking]:
        stmt = select(Booking).options(*WITH_PARTS).order_by(Booking.start, Booking.id)
        if query.mine or not actor.is_infra:
            managed = select(BookingLine.booking_id).where(
                BookingLine.resource_id.in_(_decided_by(actor))
            )
            mine = Booking.organiser_id == actor.user_id
            stmt = stmt.where(mine if query.mine else or_(mine, Booking.id.in_(managed)))
        if query.status is not None:
            stmt = stmt.where(Booking.status == query.status)
        if query.resource_id is not None:
            stmt = stmt.where(
                Booking.id.in_(
                    select(BookingLine.booking_id).where(
                        BookingLine.resource_id == query.resource_id
                    )
                )
            )
        if query.from_ is not None:
            stmt = stmt.where(
                Booking.id.in_(select(Slot.booking_id).where(Slot.end > query.from_))
                | (Booking.end > query.from_)
            )
        if query.to is not None:
            stmt = stmt.where(Booking.start < query.to)
        return list(self.session.scalars(stmt.limit(query.limit)))

    def waiting(self, actor: Actor) -> list[Booking]:
        stmt = (
            select(Booking)
            .options(*WITH_PARTS)
            .where(_waits_for(actor))
            .order_by(Booking.start, Booking.id)
        )
        return list(self.session.scalars(stmt))

    def count_waiting(self, actor: Actor) -> int | None:
        pending = select(func.count(Booking.id)).where(_waits_for(actor))
        if actor.is_infra:
            return self.session.scalar(pending)
        decides, count = self.session.execute(
            select(exists(_decided_by(actor)), pending.scalar_subquery())
        ).one()
        return count if decides else None

    def made_by(self, organiser_id: str, since: datetime) -> tuple[list[datetime], int]:
        created = self.session.scalars(
            CREATED_SINCE, {"organiser_id": organiser_id, "since": since}
        )
        pending = self.session.scalar(PENDING_OF, {"organiser_id": organiser_id})
        return list(created), pending or 0

    def history(self, booking_id: str) -> list[HistoryEntry]:
        return list(
            self.session.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.booking_id == booking_id)
                .order_by(HistoryEntry.id)
            )
        )

    def add_history(self, entry: HistoryEntry) -> None:
        """Written at once with Core (after what is pending, so its booking is there): an
        ORM flush of its own costs more than the INSERT, and nothing reads the entry back in
        the transaction."""
        self.session.flush()
        columns = HistoryEntry.__table__.columns
        row = {c.key: entry.__dict__[c.key] for c in columns if c.key in entry.__dict__}
        self.session.execute(insert(HistoryEntry.__table__), row)

    def link_used(self, link_id: str) -> bool:
        return self.session.get(DecisionLinkUse, link_id) is not None

    def use_link(self, link_id: str, booking_id: str) -> bool:
        if self.link_used(link_id):
            return False
        self.session.add(DecisionLinkUse(link_id=link_id, booking_id=booking_id))
        return True


RANGES_PER_STATEMENT = 512  # SQLite parses 1,000 ORs at most (its expression depth)


@lru_cache(maxsize=12)
def _ranges(size: int):
    """``size`` terms "the slot's resource is r<n> and its block overlaps at<n>..hi<n>",
    OR-ed, with bound parameters: built once per size, as a series of hundreds of dates
    would otherwise spend most of its check building the same expression anew."""
    return or_(
        *(
            and_(
                Slot.resource_id == bindparam(f"r{n}"),
                Slot.block_start >= bindparam(f"lo{n}"),
                Slot.block_start < bindparam(f"hi{n}"),
                Slot.block_end > bindparam(f"at{n}"),
            )
            for n in range(size)
        )
    )


def _slots():
    return select(
        Slot.booking_id,
        Slot.resource_id,
        Slot.start,
        Slot.end,
        Slot.block_start,
        Slot.block_end,
        Slot.holds,
        Booking.title,
        Booking.visibility,
        Booking.organiser_id,
    ).join(Booking, Booking.id == Slot.booking_id)


@lru_cache(maxsize=48)
def _near(statuses: frozenset[Status], size: int, exclude: bool):
    """The statement of :meth:`SqlSlots.near` for these statuses and this many ranges."""
    wanted = []
    if Status.APPROVED in statuses:
        wanted.append(Slot.holds.is_(True))
    if Status.PENDING in statuses:
        wanted.append(Slot.pending.is_(True))
    stmt = _slots().where(or_(*wanted), _ranges(size))
    if exclude:
        stmt = stmt.where(Slot.booking_id != bindparam("exclude"))
    return stmt


class SqlSlots(SlotRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _select(self):
        return _slots()

    def _held(self, stmt, params: dict[str, object] | None = None) -> list[HeldSlot]:
        return [
            HeldSlot(
                booking_id=booking_id,
                resource_id=resource_id,
                start=start,
                end=end,
                block=Interval(block_start, block_end),
                status=Status.APPROVED if holds else Status.PENDING,
                title=title,
                visibility=visibility,
                organiser_id=organiser_id,
            )
            for (
                booking_id,
                resource_id,
                start,
                end,
                block_start,
                block_end,
                holds,
                title,
                visibility,
                organiser_id,
            ) in self.session.execute(stmt, params or {})
        ]

    def near(
        self, blocks: Sequence[Block], statuses: Iterable[Status], exclude: str | None = None
    ) -> list[HeldSlot]:
        """The slots that overlap ``blocks`` (not ``exclude``'s). A resource's blocks are
        gathered into windows of :data:`NEAR_WINDOW` (``Spans.windows``), each an index range
        scan on (resource, block start) bounded by the longest block there can be; up to
        :data:`RANGES_PER_STATEMENT` windows go in one statement, built once per size (see
        :func:`_ranges`), so the 5,000 blocks of the largest series are 160 ranges in one
        statement and no new expression. Which rows really overlap is then
        ``Spans.overlaps``."""
        statuses = {s for s in statuses if s in (Status.APPROVED, Status.PENDING)}
        if not statuses or not blocks:
            return []
        spans = Spans(blocks)
        ranges = spans.windows(NEAR_WINDOW)
        found: dict[tuple[str, str, object], HeldSlot] = {}
        for part in chunks(ranges, RANGES_PER_STATEMENT):
            size = 1 << (len(part) - 1).bit_length()  # a power of two: few shapes to build
            padded = [*part, *[part[-1]] * (size - len(part))]
            params: dict[str, object] = {}
            for n, (resource_id, start, end) in enumerate(padded):
                params |= {
                    f"r{n}": resource_id,
                    f"lo{n}": start - MAX_BLOCK_LENGTH,
                    f"hi{n}": end,
                    f"at{n}": start,
                }
            if exclude is not None:
                params["exclude"] = exclude
            stmt = _near(frozenset(statuses), size, exclude is not None)
            for held in self._held(stmt, params):
                if spans.overlaps(held.resource_id, held.block):
                    found[(held.booking_id, held.resource_id, held.start)] = held
        return sorted(found.values(), key=lambda h: (h.start, h.booking_id))

    def sync(self, booking: Booking) -> None:
        self.session.execute(delete(Slot).where(Slot.booking_id == booking.id))
        rows = slot_rows(booking)
        if rows:
            self.session.execute(insert(Slot.__table__), rows)  # Core: no ORM bookkeeping

    def busy(self, resource_id: str, span: Interval) -> list[HeldSlot]:
        return self._held(
            self._select()
            .where(
                Slot.resource_id == resource_id,
                Slot.holds.is_(True),
                Slot.block_start >= span.start - MAX_BLOCK_LENGTH,
                Slot.block_start < span.end,
                Slot.block_end > span.start,
            )
            .order_by(Slot.start)
        )
