"""Helpers for booking's API tests: users with bearer tokens, a fixed clock, factories for
resources and booking requests with overrides, and reads of what the database holds."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services.booking.persistence.models import Booking, OutboxMessage
from services.booking.usecases import users
from shared.auth import read_token
from shared.config import Config
from shared.db import Database
from shared.events import BOOKING_EVENT_TYPES, parse_event

ZONE = ZoneInfo("Europe/Stockholm")
# Friday 1 March 2030, 12:00 in Stockholm: far enough ahead that the tests never age.
NOW = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)
MONDAY = date(2030, 3, 4)


def at(day: date | str, hour: int, minute: int = 0) -> str:
    """Wall-clock time in Stockholm as ISO 8601 with its offset."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time(hour, minute), ZONE).isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def problem(response, status: int) -> dict[str, Any]:
    """The problem details of a refusal with this status (asserting their shape)."""
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    return body


@dataclass(frozen=True)
class ApiUser:
    email: str
    name: str
    role: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class BookingApi:
    """The booking app under test with a fixed clock, its client and its database."""

    _seq = itertools.count(1)

    def __init__(self, app: Flask, now: datetime = NOW) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.config: Config = app.extensions["evenemang"]["config"]
        self.db: Database = app.extensions["evenemang"]["db"]
        self.set_now(now)
        self.admin = self.user("admin", "admin@example.org", "Ada Admin")
        self.infra = self.user("infra", "infra@example.org", "Ingrid Infra")
        self.organiser = self.user("organiser", "olle@example.org", "Olle Organiser")
        self.other = self.user("organiser", "otto@example.org", "Otto Other")

    # --- time and users ---------------------------------------------------------------

    def set_now(self, now: datetime) -> None:
        self.app.extensions["booking_context"].clock = lambda: now

    def user(self, role: str, email: str | None = None, name: str | None = None) -> ApiUser:
        email = email or f"user{next(self._seq)}@example.org"
        created = users.add_user(self.db, email, name or email.split("@")[0].title(), role)
        token = users.create_token(self.db, self.config.secret_key, email)
        return ApiUser(created.email, created.name, role, created.id, token)

    def token_id(self, user: ApiUser) -> str:
        principal = read_token(self.config.secret_key, user.token)
        assert principal is not None and principal.token_id
        return principal.token_id

    # --- requests ------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        user: ApiUser | None = None,
        json_body: Any = None,
        **kwargs: Any,
    ):
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers.update(user.headers)
        if json_body is not None:
            kwargs["json"] = json_body
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, user: ApiUser | None = None, **kwargs: Any):
        return self.call("GET", path, user, **kwargs)

    def post(self, path: str, user: ApiUser | None = None, json_body: Any = None, **kw: Any):
        return self.call("POST", path, user, json_body, **kw)

    def patch(self, path: str, user: ApiUser | None = None, json_body: Any = None, **kw: Any):
        return self.call("PATCH", path, user, json_body, **kw)

    def put(self, path: str, user: ApiUser | None = None, json_body: Any = None, **kw: Any):
        return self.call("PUT", path, user, json_body, **kw)

    # --- factories --------------------------------------------------------------------------

    def make_resource(self, **overrides: Any) -> dict[str, Any]:
        """A resource created through the API as admin; defaults: a venue for 50 people that
        needs approval, open at every hour."""
        n = next(self._seq)
        body = {"name": f"Room {n}", "kind": "venue", "capacity": 50, **overrides}
        response = self.post("/api/v1/resources", self.admin, body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def booking_body(self, *resources: dict[str, Any] | str, **overrides: Any) -> dict[str, Any]:
        """A valid request: Monday 4 March 2030, 10:00–12:00 in Stockholm."""
        body: dict[str, Any] = {
            "title": "Thesis defence",
            "start": at(MONDAY, 10),
            "end": at(MONDAY, 12),
            "resource_ids": [r if isinstance(r, str) else r["id"] for r in resources],
        }
        body.update(overrides)
        return body

    def submit(self, user: ApiUser, *resources: dict[str, Any] | str, **overrides: Any):
        return self.post("/api/v1/bookings", user, self.booking_body(*resources, **overrides))

    def booking(self, user: ApiUser, *resources: dict[str, Any] | str, **overrides: Any):
        """Submit and return the created booking (asserting 201)."""
        response = self.submit(user, *resources, **overrides)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def act(self, booking: dict[str, Any] | str, action: str, user: ApiUser, body: Any = None):
        booking_id = booking if isinstance(booking, str) else booking["id"]
        return self.post(f"/api/v1/bookings/{booking_id}/{action}", user, body or {})

    def approved(self, booking: dict[str, Any], user: ApiUser | None = None) -> dict[str, Any]:
        response = self.act(booking, "approve", user or self.infra)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    # --- what the database holds ------------------------------------------------------------

    def events(self, booking_id: str | None = None) -> list[dict[str, Any]]:
        """Booking events in the outbox, oldest first, each as its validated envelope (the
        event type, and its snapshot as ``data``)."""
        with self.db.transaction(readonly=True) as session:
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.event_type.in_(BOOKING_EVENT_TYPES))
                .order_by(OutboxMessage.id)
            )
            if booking_id is not None:
                stmt = stmt.where(OutboxMessage.aggregate_id == booking_id)
            rows = list(session.scalars(stmt))
        found = []
        for row in rows:
            event = parse_event(row.payload)  # the whole snapshot validates
            assert event.type == row.event_type
            found.append({"type": event.type, "data": json.loads(row.payload)["data"]})
        return found

    def counts(self) -> tuple[int, int]:
        """(booking rows, booking events in the outbox)."""
        with self.db.transaction(readonly=True) as session:
            bookings = session.scalar(select(func.count()).select_from(Booking))
            events = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event_type.in_(BOOKING_EVENT_TYPES))
            )
        return bookings, events
