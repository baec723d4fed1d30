"""Demo data: a realistic set of venues, studios, services and users. Loading it twice
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from typing import Any

from services.booking.commands import CreateResource
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases.resources import create_resource, list_resources
from services.booking.usecases.users import ensure_user
from shared.auth import Principal
from shared.config import Config
from shared.db import Database
from shared.events import Kind

WEEKDAYS = {d: [["07:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}

USERS = [
    ("admin@example.org", "Ada Admin", "admin", "demo-admin-pass"),
    ("infra@example.org", "Ingrid Infra", "infra", "demo-infra-pass"),
    ("studio.manager@example.org", "Sam Studio", "organiser", "demo-manager-pass"),
    ("organiser@example.org", "Olle Organiser", "organiser", "demo-organiser-pass"),
]

RESOURCES: list[dict[str, Any]] = [
    {
        "slug": "aula-magna",
        "name": "Aula Magna",
        "kind": "venue",
        "capacity": 300,
        "location": "Building A, entrance level",
        "opening_hours": WEEKDAYS,
        "buffer_minutes": 30,
        "min_notice_hours": 48,
        "features": ["projector", "hearing loop", "step-free access", "streaming", "stage"],
    },
    {
        "slug": "seminar-room-1",
        "name": "Seminar room 1",
        "kind": "venue",
        "capacity": 30,
        "location": "Building B, floor 2",
        "opening_hours": WEEKDAYS,
        "features": ["projector", "whiteboard", "step-free access"],
    },
    {
        "slug": "seminar-room-2",
        "name": "Seminar room 2",
        "kind": "venue",
        "capacity": 20,
        "location": "Building B, floor 2",
        "opening_hours": WEEKDAYS,
        "requires_approval": False,
        "features": ["screen", "whiteboard"],
    },
    {
        "slug": "foyer",
        "name": "Foyer",
        "kind": "venue",
        "capacity": 150,
        "location": "Building A, ground floor",
        "buffer_minutes": 60,
        "features": ["step-free access", "catering"],
    },
    {
        "slug": "film-studio",
        "name": "Film studio",
        "kind": "studio",
        "location": "Building C",
        "opening_hours": OFFICE,
        "buffer_minutes": 30,
        "max_duration_minutes": 480,
        "features": ["green screen", "lighting rig"],
        "managers": ["studio.manager@example.org"],
    },
    {
        "slug": "photo-studio",
        "name": "Photo studio",
        "kind": "studio",
        "location": "Building C",
        "opening_hours": OFFICE,
        "features": ["backdrops", "flash"],
        "managers": ["studio.manager@example.org"],
    },
    {
        "slug": "photographer",
        "name": "Photographer",
        "kind": "service",
        "location": "Communication office",
        "min_notice_hours": 72,
        "max_duration_minutes": 480,
        "managers": ["studio.manager@example.org"],
    },
    {
        "slug": "film-crew",
        "name": "Film crew",
        "kind": "service",
        "location": "Communication office",
        "min_notice_hours": 120,
        "max_duration_minutes": 600,
        "managers": ["studio.manager@example.org"],
    },
    {
        "slug": "streaming",
        "name": "Streaming",
        "kind": "service",
        "location": "Communication office",
        "min_notice_hours": 72,
        "features": ["YouTube", "Zoom"],
    },
]


def load_demo(config: Config) -> Iterator[str]:
    """Create what is missing; report each demo login."""
    db = Database(config.booking_database_url)
    try:
        people = {}
        for email, name, role, password in USERS:
            people[role] = ensure_user(db, email, name, role, password)
            yield f"demo user {email} ({role}), password {password}"
        admin = people["admin"]
        actor = Principal(admin.id, admin.email, admin.name, admin.role)
        ctx = Context(db=db, config=config)
        existing = {r.slug for r in list_resources(ctx)}
        for spec in RESOURCES:
            if spec["slug"] not in existing:
                create_resource(ctx, actor, demo_resource(spec))
        yield f"demo resources: {len(RESOURCES)} venues, studios and services"
    finally:
        db.dispose()


def demo_resource(spec: dict[str, Any]) -> CreateResource:
    """A demo resource as the command an administrator's form would give."""
    values = dict(spec)
    hours = values.pop("opening_hours", None)
    if hours is not None:
        values["opening_hours"] = {
            day: tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in windows)
            for day, windows in hours.items()
        }
    values["kind"] = Kind(values["kind"])
    for name in ("features", "managers"):
        values[name] = tuple(values.get(name, ()))
    return CreateResource(**values)
