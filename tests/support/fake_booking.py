"""Booking's real use cases over the fake unit of work (persistence/fake.py), for unit tests
with no database: a store, its context with the clock fixed at Friday 1 March 2030, 12:00
in Stockholm, people, and factories for resources and requests with overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.booking.commands import CreateResource, SubmitBooking
from services.booking.persistence.fake import FakeUnits, MemoryStore
from services.booking.persistence.models import User
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import BookingView, ResourceView
from services.booking.usecases import bookings, resources
from shared.auth import Principal
from shared.config import Config
from shared.events import EventType, Kind, Snapshot

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    """March 2030 in Stockholm."""
    return datetime(2030, 3, day, hour, tzinfo=ZONE).astimezone(UTC)


class FakeBooking:
    """A fake store, its context, and people: an admin, infra, and two organisers."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.ctx = Context(db=None, config=Config(), clock=lambda: NOW, units=FakeUnits(self.store))
        self.admin = self.person("admin@example.org", "admin")
        self.infra = self.person("infra@example.org", "infra")
        self.olle = self.person("olle@example.org", "organiser")
        self.otto = self.person("otto@example.org", "organiser")

    def person(self, email: str, role: str) -> Principal:
        user = User(id=email.split("@")[0], email=email, name=email.title(), role=role)
        self.store.users[user.id] = user
        return Principal(user.id, user.email, user.name, user.role)

    def resource(self, name: str, **rules: Any) -> ResourceView:
        """A resource as the admin creates it (a venue unless ``kind`` says otherwise)."""
        cmd = CreateResource(name=name, kind=rules.pop("kind", Kind.VENUE), **rules)
        return resources.create_resource(self.ctx, self.admin, cmd)

    def submit(
        self, who: Principal, *chosen: ResourceView, day: int = 4, **extra: Any
    ) -> BookingView:
        """A request for these resources on a day of March 2030, 10:00–12:00 unless ``hour``
        and ``until`` say otherwise."""
        cmd = SubmitBooking(
            title=extra.pop("title", "Seminar"),
            start=at(day, extra.pop("hour", 10)),
            end=at(day, extra.pop("until", 12)),
            resource_ids=tuple(r.id for r in chosen),
            **extra,
        )
        return bookings.submit_booking(self.ctx, who, cmd)

    def events(self, aggregate_id: str) -> list[tuple[EventType, Snapshot]]:
        """The events written about one booking, resource or user, oldest first."""
        return [(t, s) for t, s in self.store.events if s.aggregate_id == aggregate_id]
