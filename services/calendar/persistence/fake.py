"""In-memory repositories and a fake unit of work, so unit tests drive calendar's real use
cases without a database (cosmicpython's pattern)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.calendar import domain
from services.calendar.persistence import repositories
from services.calendar.persistence.unit_of_work import HeldUnitOfWork
from shared.events import BookingSnapshot, Event, ResourceRef, UserSnapshot
from shared.readmodel import newest_per_key


class FakeBookings(repositories.BookingRepository):
    def __init__(self) -> None:
        self.snapshots: dict[str, BookingSnapshot] = {}

    def store_newest(self, events: Sequence[Event]) -> list[Event]:
        stored = []
        newest = newest_per_key(list(events), key=lambda event: event.booking_id)
        for booking_id, event in sorted(newest.items()):
            held = self.snapshots.get(booking_id)
            if held is None or event.revision > held.revision:
                self.snapshots[booking_id] = event.data
                stored.append(event)
        return stored


class FakeUsers(repositories.UserRepository):
    def __init__(self) -> None:
        self.users: dict[str, UserSnapshot] = {}

    def store_newest(self, events: Sequence[Event]) -> None:
        for user_id, event in newest_per_key(list(events), lambda e: e.aggregate_id).items():
            held = self.users.get(user_id)
            if held is None or event.revision > held.revision:
                self.users[user_id] = event.data

    def standing(self, user_id: str) -> domain.UserStanding | None:
        user = self.users.get(user_id)
        return domain.UserStanding(user.user_id, user.role, user.active) if user else None


class FakeEntries(repositories.EntryRepository):
    def __init__(self) -> None:
        self.entries: dict[str, tuple[int, domain.RenderedEntry]] = {}

    def facts(self, booking_ids: Iterable[str]) -> dict[str, domain.EntryFacts]:
        return {i: self.entries[i][1] for i in booking_ids if i in self.entries}

    def save_all(
        self, entries: Sequence[domain.RenderedEntry], generation: int, changed_at: datetime
    ) -> None:
        for entry in entries:
            self.entries[entry.booking_id] = (generation, entry)

    def since(self, generation: int) -> list[tuple[int, domain.RenderedEntry]]:
        return [held for held in self.entries.values() if held[0] > generation]

    def ending_from(self, since: datetime) -> list[domain.RenderedEntry]:
        held = [e for _, e in self.entries.values() if e.last_end >= since]
        return sorted(held, key=lambda e: e.booking_id)

    def has_assignments(self, email: str) -> bool:
        return any(email.lower() in e.assigned for _, e in self.entries.values())


class FakeFeedState(repositories.FeedStateRepository):
    def __init__(self) -> None:
        self.version = domain.FeedVersion(0, domain.NEVER)

    def current(self) -> domain.FeedVersion:
        return self.version

    def advance(self, now: datetime) -> domain.FeedVersion:
        held = self.version
        self.version = domain.FeedVersion(held.generation + 1, max(now, held.changed_at))
        return self.version


class FakeResources(repositories.ResourceRepository):
    def __init__(self) -> None:
        # id -> (the resource, its revision: 0 when known only from bookings, changed at)
        self.resources: dict[str, tuple[domain.ResourceFeed, int, datetime]] = {}
        self.former_slugs: dict[str, str] = {}

    def store_newest(self, events: Sequence[Event]) -> list[str]:
        stored = []
        newest = newest_per_key(list(events), lambda e: e.aggregate_id)
        for resource_id, event in sorted(newest.items()):
            held = self.resources.get(resource_id)
            data = event.data
            if held is None or data.revision > held[1]:
                resource = domain.ResourceFeed(
                    resource_id,
                    data.slug,
                    data.named("sv"),
                    data.kind,
                    data.located("sv"),
                    data.active,
                    data.name_en,
                    data.location_en,
                )
                self.resources[resource_id] = (resource, data.revision, event.occurred_at)
                for slug in data.former_slugs:
                    if slug != data.slug:
                        self.former_slugs[slug] = resource_id
                stored.append(resource_id)
        return stored

    def remember(self, resources: Iterable[ResourceRef]) -> None:
        for ref in resources:
            held = self.resources.get(ref.id)
            if held is None or held[1] == 0:
                resource = domain.ResourceFeed(
                    ref.id,
                    ref.slug,
                    ref.named("sv"),
                    ref.kind,
                    ref.located("sv"),
                    True,
                    ref.name_en,
                    ref.location_en,
                )
                self.resources[ref.id] = (resource, 0, domain.NEVER)

    def get(self, slug: str) -> domain.ResourceFeed | None:
        holders = [held for held in self.resources.values() if held[0].slug == slug]
        if holders:
            return max(holders, key=lambda held: (held[2], held[1]))[0]
        held = self.resources.get(self.former_slugs.get(slug, ""))
        return held[0] if held else None

    def listed(self) -> list[domain.ResourceFeed]:
        resources = [held[0] for held in self.resources.values()]
        return sorted(resources, key=lambda r: (r.kind.value, r.name))


class FakeTokens(repositories.TokenRepository):
    def __init__(self) -> None:
        self.tokens: dict[str, domain.FeedToken] = {}

    def add(self, token: domain.FeedToken) -> None:
        self.tokens[token.token_hash] = token

    def get(self, token_hash: str) -> domain.FeedToken | None:
        return self.tokens.get(token_hash)

    def revoke(self, token_hash: str, when: datetime) -> None:
        token = self.tokens.get(token_hash)
        if token is not None:
            self.tokens[token_hash] = dataclasses.replace(token, revoked_at=when)

    def live_of(self, user_id: str) -> list[domain.FeedToken]:
        mine = [t for t in self.tokens.values() if t.user_id == user_id and not t.revoked_at]
        return sorted(mine, key=lambda t: t.created_at)

    def live(self) -> list[domain.FeedToken]:
        return [t for t in self.tokens.values() if not t.revoked_at]


class FakeUnitOfWork(HeldUnitOfWork):
    """Holds its repositories for the whole test; counts the commits."""

    def __init__(self) -> None:
        self.bookings = FakeBookings()
        self.users = FakeUsers()
        self.entries = FakeEntries()
        self.feed_state = FakeFeedState()
        self.resources = FakeResources()
        self.tokens = FakeTokens()
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1
