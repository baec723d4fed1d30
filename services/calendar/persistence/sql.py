"""Calendar's repositories over SQLAlchemy: the queries, and the rows turned into domain
values (nothing mapped leaves this module)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from services.calendar import domain
from services.calendar.persistence import models, repositories
from shared.events import Event, Kind, ResourceRef, ResourceSnapshot, Role, Status, Visibility
from shared.inbox import insert_for
from shared.principals import store_users
from shared.readmodel import newest_per_key, store_if_newer, store_newest, upsert_if_newer


def bind_repositories(uow: Any, session: Session) -> None:
    """Give a unit of work the repositories of ``session``."""
    uow.bookings = SqlBookings(session)
    uow.users = SqlUsers(session)
    uow.entries = SqlEntries(session)
    uow.feed_state = SqlFeedState(session)
    uow.resources = SqlResources(session)
    uow.tokens = SqlTokens(session)


class SqlBookings(repositories.BookingRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_newest(self, events: Sequence[Event]) -> list[Event]:
        if len(events) == 1:  # one event (the consumer's usual case): no upsert to build
            row, _ = store_if_newer(self.session, models.Booking, events[0])
            return [events[0]] if row is not None else []
        return store_newest(self.session, models.Booking, list(events))


class SqlUsers(repositories.UserRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_newest(self, events: Sequence[Event]) -> None:
        store_users(self.session, models.KnownUser, list(events))

    def standing(self, user_id: str) -> domain.UserStanding | None:
        row = self.session.get(models.KnownUser, user_id)
        return domain.UserStanding(row.user_id, Role(row.role), row.active) if row else None


# what an entry's facts are read from
FACT_COLUMNS = (
    models.FeedEntry.booking_id,
    models.FeedEntry.status,
    models.FeedEntry.visibility,
    models.FeedEntry.organiser_email,
    models.FeedEntry.listed_resources,
    models.FeedEntry.withdrawn_resources,
    models.FeedEntry.deciders,
    models.FeedEntry.last_end,
    models.FeedEntry.cancelled_at,
    models.FeedEntry.published,
    models.FeedEntry.assigned,
    models.FeedEntry.unassigned,
)
ENTRY_COLUMNS = (
    *FACT_COLUMNS,
    models.FeedEntry.revision,
    models.FeedEntry.vevent_full,
    models.FeedEntry.vevent_busy,
    models.FeedEntry.vevent_withdrawn_full,
    models.FeedEntry.vevent_withdrawn_busy,
    models.FeedEntry.vevents_en,
    models.FeedEntry.vevent_assignment,
    models.FeedEntry.vevent_assignment_withdrawn,
    models.FeedEntry.generation,
)
ENGLISH = ("full", "busy", "withdrawn_full", "withdrawn_busy")


class SqlEntries(repositories.EntryRepository):
    """Set-based: the facts of a batch's bookings in one SELECT (only the columns the facts
    need, no VEVENT texts), its entries written with one upsert."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def facts(self, booking_ids: Iterable[str]) -> dict[str, domain.EntryFacts]:
        ids = sorted(set(booking_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(*FACT_COLUMNS).where(models.FeedEntry.booking_id.in_(ids))
        )
        return {row.booking_id: domain.EntryFacts(**_fact_fields(row)) for row in rows}

    def save_all(
        self, entries: Sequence[domain.RenderedEntry], generation: int, changed_at: datetime
    ) -> None:
        rows = {e.booking_id: _entry_row(e, generation, changed_at) for e in entries}
        if not rows:
            return
        table = models.FeedEntry.__table__
        insert = insert_for(self.session)(table)
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.booking_id],
                set_={
                    name: insert.excluded[name]
                    for name in next(iter(rows.values()))
                    if name != "booking_id"
                },
            ),
            # in key order, so two writers of overlapping bookings wait on each other
            # instead of deadlocking (PostgreSQL)
            [row for _, row in sorted(rows.items())],
        )
        self._assign(entries)

    def _assign(self, entries: Sequence[domain.RenderedEntry]) -> None:
        """Who is assigned each entry's jobs now: the entries' rows replaced, in two
        statements (only where an entry has or had assignees)."""
        touched = sorted({e.booking_id for e in entries if e.assigned or e.unassigned})
        if not touched:
            return
        table = models.FeedAssignee.__table__
        self.session.execute(delete(table).where(table.c.booking_id.in_(touched)))
        rows = sorted((email, e.booking_id) for e in entries for email in e.assigned)
        if rows:
            self.session.execute(
                table.insert(), [{"email": email, "booking_id": b} for email, b in rows]
            )

    def has_assignments(self, email: str) -> bool:
        table = models.FeedAssignee
        return bool(self.session.scalar(select(exists().where(table.email == email.lower()))))

    def since(self, generation: int) -> list[tuple[int, domain.RenderedEntry]]:
        rows = self.session.execute(
            select(*ENTRY_COLUMNS).where(models.FeedEntry.generation > generation)
        )
        return [(row.generation, _entry(row)) for row in rows]

    def ending_from(self, since: datetime) -> list[domain.RenderedEntry]:
        rows = self.session.execute(
            select(*ENTRY_COLUMNS).where(models.FeedEntry.last_end >= since)
        )  # through the last_end index; ordered here (by booking_id, the index would scan all)
        return sorted((_entry(row) for row in rows), key=lambda entry: entry.booking_id)


def _entry(row: Any) -> domain.RenderedEntry:
    return domain.RenderedEntry(
        **_fact_fields(row),
        revision=row.revision,
        full=row.vevent_full,
        busy=row.vevent_busy,
        withdrawn_full=row.vevent_withdrawn_full,
        withdrawn_busy=row.vevent_withdrawn_busy,
        **{f"{which}_en": vevent for which, vevent in (row.vevents_en or {}).items()},
        assignment=row.vevent_assignment,
        assignment_withdrawn=row.vevent_assignment_withdrawn,
    )


def _fact_fields(row: Any) -> dict[str, Any]:
    """An entry's facts from its row (a mapped object or a row of its columns)."""
    return {
        "booking_id": row.booking_id,
        "status": Status(row.status),
        "visibility": Visibility(row.visibility),
        "organiser_email": row.organiser_email,
        "deciders": frozenset(row.deciders),
        "last_end": row.last_end,
        "cancelled_at": row.cancelled_at,
        "published": row.published,
        "listed": frozenset(row.listed_resources),
        "withdrawn": tuple(
            sorted((rid, datetime.fromisoformat(at)) for rid, at in row.withdrawn_resources.items())
        ),
        "assigned": frozenset(row.assigned),
        "unassigned": tuple(
            sorted((who, datetime.fromisoformat(at)) for who, at in row.unassigned.items())
        ),
    }


def _entry_row(entry: domain.RenderedEntry, generation: int, at: datetime) -> dict[str, Any]:
    return {
        "booking_id": entry.booking_id,
        "revision": entry.revision,
        "status": entry.status.value,
        "visibility": entry.visibility.value,
        "organiser_email": entry.organiser_email,
        "deciders": sorted(entry.deciders),
        "last_end": entry.last_end,
        "cancelled_at": entry.cancelled_at,
        "published": entry.published,
        "listed_resources": sorted(entry.listed),
        "withdrawn_resources": {rid: when.isoformat() for rid, when in entry.withdrawn},
        "vevent_full": entry.full,
        "vevent_busy": entry.busy,
        "vevent_withdrawn_full": entry.withdrawn_full,
        "vevent_withdrawn_busy": entry.withdrawn_busy,
        "vevents_en": {w: v for w in ENGLISH if (v := getattr(entry, f"{w}_en"))},
        "assigned": sorted(entry.assigned),
        "unassigned": {who: when.isoformat() for who, when in entry.unassigned},
        "vevent_assignment": entry.assignment,
        "vevent_assignment_withdrawn": entry.assignment_withdrawn,
        "generation": generation,
        "changed_at": at,
    }


class SqlFeedState(repositories.FeedStateRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self) -> domain.FeedVersion:
        row = self.session.get(models.FeedState, 1)
        return (
            domain.FeedVersion(row.generation, row.changed_at)
            if row
            else domain.FeedVersion(0, domain.NEVER)
        )

    def advance(self, now: datetime) -> domain.FeedVersion:
        row = self.session.get(models.FeedState, 1, with_for_update=True)
        if row is None:
            row = models.FeedState(id=1, generation=1, changed_at=now)
            self.session.add(row)
            self.session.flush()
        else:
            row.generation += 1
            row.changed_at = max(now, row.changed_at)
        return domain.FeedVersion(row.generation, row.changed_at)


class SqlResources(repositories.ResourceRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_newest(self, events: Sequence[Event]) -> list[str]:
        newest = newest_per_key(list(events), key=lambda event: event.aggregate_id)
        if not newest:
            return []
        rows = [_resource_row(e.data, e.occurred_at) for _, e in sorted(newest.items())]
        table = models.KnownResource.__table__
        stored = sorted(upsert_if_newer(self.session, table, rows, key="resource_id"))
        former = {
            slug: resource_id
            for resource_id in stored
            for slug in newest[resource_id].data.former_slugs
            if slug != newest[resource_id].data.slug
        }
        if former:
            slugs = models.FormerSlug.__table__
            insert = insert_for(self.session)(slugs)
            self.session.execute(
                insert.on_conflict_do_update(
                    index_elements=[slugs.c.slug],
                    set_={"resource_id": insert.excluded.resource_id},
                ),
                [{"slug": slug, "resource_id": rid} for slug, rid in sorted(former.items())],
            )
        return stored

    def remember(self, resources: Iterable[ResourceRef]) -> None:
        refs = {r.id: r for r in resources}
        if not refs:
            return
        table = models.KnownResource.__table__
        insert = insert_for(self.session)(table)
        followed = ("slug", "name", "kind", "location", "name_en", "location_en")
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.resource_id],
                set_={name: insert.excluded[name] for name in followed},
                where=table.c.revision == 0,  # a resource event has the last word
            ),
            [_remembered_row(ref) for _, ref in sorted(refs.items())],
        )

    def get(self, slug: str) -> domain.ResourceFeed | None:
        resource = models.KnownResource
        row = self.session.scalars(
            select(resource)
            .where(resource.slug == slug)
            .order_by(resource.changed_at.desc(), resource.revision.desc())
            .limit(1)
        ).first()
        if row is None and (former := self.session.get(models.FormerSlug, slug)) is not None:
            row = self.session.get(resource, former.resource_id)
        return _resource(row) if row else None

    def listed(self) -> list[domain.ResourceFeed]:
        rows = self.session.scalars(
            select(models.KnownResource).order_by(
                models.KnownResource.kind, models.KnownResource.name
            )
        )
        return [_resource(row) for row in rows]


def _resource_row(resource: ResourceSnapshot, changed_at: datetime) -> dict[str, Any]:
    return {
        "resource_id": resource.resource_id,
        "slug": resource.slug,
        **_names(resource),
        "kind": resource.kind.value,
        "active": resource.active,
        "revision": resource.revision,
        "changed_at": changed_at,
    }


def _remembered_row(ref: ResourceRef) -> dict[str, Any]:
    return {
        "resource_id": ref.id,
        "slug": ref.slug,
        **_names(ref),
        "kind": ref.kind.value,
        "active": True,
        "revision": 0,
        "changed_at": domain.NEVER,
    }


def _names(resource: ResourceRef | ResourceSnapshot) -> dict[str, str]:
    """Name and place in Swedish (``name``, ``location``) and English (``*_en``; blank:
    the Swedish serves both, as in events from before)."""
    return {
        "name": resource.named("sv"),
        "location": resource.located("sv"),
        "name_en": resource.name_en,
        "location_en": resource.location_en,
    }


def _resource(row: models.KnownResource) -> domain.ResourceFeed:
    return domain.ResourceFeed(
        row.resource_id,
        row.slug,
        row.name,
        Kind(row.kind),
        row.location,
        row.active,
        row.name_en or "",
        row.location_en or "",
    )


class SqlTokens(repositories.TokenRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: domain.FeedToken) -> None:
        # the row's columns are the domain value's fields, the role kept as its value
        values = {**asdict(token), "role": token.role.value, "kind": token.kind.value}
        self.session.add(models.FeedToken(**values))

    def get(self, token_hash: str) -> domain.FeedToken | None:
        row = self.session.get(models.FeedToken, token_hash)
        return _token(row) if row else None

    def revoke(self, token_hash: str, when: datetime) -> None:
        row = self.session.get(models.FeedToken, token_hash)
        if row is not None:
            row.revoked_at = when

    def live_of(self, user_id: str) -> list[domain.FeedToken]:
        rows = self.session.scalars(
            select(models.FeedToken)
            .where(models.FeedToken.user_id == user_id, models.FeedToken.revoked_at.is_(None))
            .order_by(models.FeedToken.created_at)
        )
        return [_token(row) for row in rows]

    def live(self) -> list[domain.FeedToken]:
        rows = self.session.scalars(
            select(models.FeedToken).where(models.FeedToken.revoked_at.is_(None))
        )
        return [_token(row) for row in rows]


def _token(row: models.FeedToken) -> domain.FeedToken:
    values = {field.name: getattr(row, field.name) for field in fields(domain.FeedToken)}
    return domain.FeedToken(**{**values, "role": Role(row.role), "kind": domain.FeedKind(row.kind)})
