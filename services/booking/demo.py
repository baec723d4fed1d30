"""Demo data: a realistic set of venues, studios, services, the two teams that decide them
(Infrastructure: the venues; Kommunikation: studios and services), users, the units that
organise events and a supplier on an agreement. Loading it twice changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from decimal import Decimal
from typing import Any

from services.booking.commands import (
    ChangeResource,
    CreateListEntry,
    CreateResource,
    CreateSupplier,
    CreateTeam,
)
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases.catalog import (
    create_entry,
    create_supplier,
    list_entries,
    list_suppliers,
)
from services.booking.usecases.resources import create_resource, list_resources, update_resource
from services.booking.usecases.teams import create_team, list_teams
from services.booking.usecases.users import ensure_user
from shared.auth import Principal
from shared.config import Config
from shared.db import service_database
from shared.events import Kind

WEEKDAYS = {d: [["07:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}

# Where ``evenemang up --demo`` sends the alerts no team or manager takes (a resource with
# neither), when EVENEMANG_INFRA_TEAM_EMAIL is unset: the fallback shows in the mail sink.
INFRA_TEAM_EMAIL = "infra-team@evenemang.example"

USERS = [
    ("admin@example.org", "Ada Admin", "admin", "demo-admin-pass"),
    ("infra@example.org", "Ingrid Infra", "infra", "demo-infra-pass"),
    ("studio.manager@example.org", "Sam Studio", "organiser", "demo-manager-pass"),
    ("organiser@example.org", "Olle Organiser", "organiser", "demo-organiser-pass"),
    ("vera.venues@example.org", "Vera Venues", "organiser", "demo-venues-pass"),
    ("kim.kommunikation@example.org", "Kim Kommunikation", "organiser", "demo-komm-pass"),
]

TEAMS = [
    CreateTeam(
        name="Infrastructure",
        slug="infrastructure",
        members=("infra@example.org", "vera.venues@example.org"),
    ),
    CreateTeam(
        name="Kommunikation",
        slug="kommunikation",
        email="kommunikation@example.org",
        members=("kim.kommunikation@example.org", "studio.manager@example.org"),
    ),
]
# The units that organise events (departments and the school office), named in both languages.
UNITS = [
    CreateListEntry("school-office", "Skolkansliet", "School office", 0),
    CreateListEntry("mathematics", "Matematiska institutionen", "Department of Mathematics", 1),
    CreateListEntry("history", "Historiska institutionen", "Department of History", 2),
    CreateListEntry(
        "computer-science", "Institutionen för datavetenskap", "Department of Computer Science", 3
    ),
    CreateListEntry("economics", "Nationalekonomiska institutionen", "Department of Economics", 4),
]
# A supplier on a procured agreement for photography and filming.
SUPPLIERS = [
    CreateSupplier(
        name="Bildbyrån Norr AB",
        agreement_ref="UH-2029-017",
        hourly_rate=Decimal("950.00"),
        valid_from=date(2029, 1, 1),
        valid_to=date(2031, 12, 31),
        email="bokning@bildbyran-norr.example",
    ),
]
# The venues are Infrastructure's; studios and services (photographer, film crew,
# streaming) the communication office's.
TEAM_OF_KIND = {"venue": "infrastructure", "studio": "kommunikation", "service": "kommunikation"}

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
    db = service_database(config, "booking")
    try:
        people = {}
        for email, name, role, password in USERS:
            people[role] = ensure_user(db, email, name, role, password)
            yield f"demo user {email} ({role}), password {password}"
        admin = people["admin"]
        actor = Principal(admin.id, admin.email, admin.name, admin.role)
        ctx = Context(db=db, config=config)
        teams = {t.slug for t in list_teams(ctx)}
        for team in TEAMS:
            if team.slug not in teams:
                create_team(ctx, actor, team)
        yield f"demo teams: {', '.join(t.name for t in TEAMS)}"
        existing = {r.slug: r for r in list_resources(ctx)}
        for spec in RESOURCES:
            found = existing.get(spec["slug"])
            if found is None:
                create_resource(ctx, actor, demo_resource(spec))
            elif found.team is None:  # loaded before demo resources had teams
                team = ChangeResource.of(team=TEAM_OF_KIND[spec["kind"]])
                update_resource(ctx, actor, found.id, team)
        yield f"demo resources: {len(RESOURCES)} venues, studios and services"
        units = {u.slug for u in list_entries(ctx, "units")}
        for unit in UNITS:
            if unit.slug not in units:
                create_entry(ctx, actor, "units", unit)
        yield f"demo units: {', '.join(u.name_en for u in UNITS)}"
        suppliers = {s.name for s in list_suppliers(ctx, actor)}
        for supplier in SUPPLIERS:
            if supplier.name not in suppliers:
                create_supplier(ctx, actor, supplier)
        yield f"demo suppliers: {', '.join(s.name for s in SUPPLIERS)}"
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
    values["team"] = TEAM_OF_KIND[values["kind"]]
    for name in ("features", "managers"):
        values[name] = tuple(values.get(name, ()))
    return CreateResource(**values)
