"""Each service's migrations build exactly the tables its models describe, on the run's
database (SQLite, or PostgreSQL in the servers pass)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import import_module

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from services.calendar.domain import ResourceFeed
from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
from shared.config import SERVICES
from shared.db import Database, UTCDateTime
from shared.events import Kind, parse_event
from shared.migrations import alembic_config, upgrade
from tests.factories import snapshot
from tests.support.backends import BACKEND, PostgresDatabases, require_postgres

ENTRY_COLUMNS = (
    "booking_id", "revision", "generation", "status", "visibility", "organiser_email",
    "published", "vevent_full", "vevent_busy",
)  # fmt: skip


def downgrade(service: str, url: str, revision: str) -> None:
    command.downgrade(alembic_config(service, url), revision)


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrations_match_the_models(config, service):
    url = getattr(config, f"{service}_database_url")
    models = import_module(f"services.{service}.persistence.models")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), models.Base.metadata
            )
    finally:
        engine.dispose()
    assert differences == []


def fresh_database(tmp_path, service: str) -> Iterator[str]:
    """An empty database of the service's own on the run's backend."""
    if BACKEND != "servers":
        yield f"sqlite:///{tmp_path / f'{service}.db'}"
        return
    databases = PostgresDatabases(require_postgres())
    try:
        yield databases.create(f"evtest_{service}_migration")
    finally:
        databases.drop_all()


@pytest.fixture
def fresh_calendar_url(tmp_path) -> Iterator[str]:
    yield from fresh_database(tmp_path, "calendar")


def test_calendar_0006_keeps_what_each_feed_showed_and_knows_resources_by_id(
    fresh_calendar_url,
):
    """Resources learnt from bookings get their ids from the stored snapshots; entries are
    listed in the feeds of the resources they named (a cancelled one as called off)."""
    upgrade("calendar", fresh_calendar_url, "calendar_0005")
    ended = datetime(2030, 2, 1, tzinfo=UTC)
    rows = [  # booking, status, published, cancelled at
        ("b-approved", "approved", True, None),
        ("b-cancelled", "cancelled", True, ended),
        ("b-withdrawn", "cancelled", False, ended),
        ("b-pending", "pending", False, None),
    ]
    bookings = sa.table(
        "bookings",
        *(sa.column(name) for name in ("booking_id", "revision", "status", "last_event_type")),
        sa.column("snapshot", sa.JSON),
        sa.column("updated_at", UTCDateTime),
    )
    entries = sa.table(
        "feed_entries",
        *(sa.column(name) for name in ENTRY_COLUMNS),
        sa.column("resource_slugs", sa.JSON),
        sa.column("deciders", sa.JSON),
        *(sa.column(name, UTCDateTime) for name in ("last_end", "cancelled_at", "changed_at")),
    )
    known = sa.table("known_resources", *(sa.column(name) for name in ("slug", "name", "kind")))
    engine = sa.create_engine(fresh_calendar_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for booking_id, status, published, cancelled_at in rows:
                data = snapshot(booking_id=booking_id, status=status)
                connection.execute(
                    bookings.insert().values(
                        booking_id=booking_id, revision=1, status=status,
                        last_event_type="booking.changed", snapshot=data, updated_at=ended,
                    )
                )  # fmt: skip
                connection.execute(
                    entries.insert().values(
                        booking_id=booking_id, revision=1, generation=1, status=status,
                        visibility="public", organiser_email="org@example.org",
                        resource_slugs=["aula"], deciders=[], last_end=ended,
                        cancelled_at=cancelled_at, changed_at=ended, published=published,
                        vevent_full="", vevent_busy="",
                    )
                )  # fmt: skip
            connection.execute(known.insert().values(slug="aula", name="Aula", kind="venue"))
        upgrade("calendar", fresh_calendar_url)
        db = Database(fresh_calendar_url)
        uow = SqlAlchemyUnitOfWork(db)
        with uow.reading():
            resource = uow.resources.get("aula")
            facts = {entry.booking_id: entry for _, entry in uow.entries.since(0)}
        db.dispose()
        assert resource == ResourceFeed("r1", "aula", "Aula", Kind.VENUE, "Building A")
        assert facts["b-approved"].listed == {"r1"} and facts["b-approved"].withdrawn == ()
        assert facts["b-cancelled"].listed == set()
        assert facts["b-cancelled"].withdrawn == (("r1", ended),)
        for quiet in ("b-withdrawn", "b-pending"):
            assert (facts[quiet].listed, facts[quiet].withdrawn) == (set(), ())
        downgrade("calendar", fresh_calendar_url, "calendar_0005")
        with engine.connect() as connection:
            assert connection.execute(sa.select(known)).all() == [("aula", "Aula", "venue")]
            slugs = connection.execute(sa.select(entries.c.resource_slugs)).scalars().all()
            assert slugs == [["aula"]] * len(rows)
    finally:
        engine.dispose()


@pytest.fixture
def fresh_booking_url(tmp_path) -> Iterator[str]:
    yield from fresh_database(tmp_path, "booking")


def test_booking_0005_announces_every_resource_that_exists(fresh_booking_url):
    """Resources made before resource.changed get one event each, so calendar and notify
    know them (a resource's feed exists) before anything else happens to them."""
    upgrade("booking", fresh_booking_url, "booking_0004")
    made = datetime(2030, 1, 1, tzinfo=UTC)
    resources = sa.table(
        "resources",
        *(sa.column(name) for name in ("id", "slug", "name", "kind", "description", "location")),
        *(sa.column(name) for name in ("buffer_minutes", "min_notice_hours", "max_advance_days")),
        *(sa.column(name, sa.Boolean) for name in ("requires_approval", "active")),
        sa.column("features", sa.JSON),
        sa.column("team_id"),
        *(sa.column(name, UTCDateTime) for name in ("created_at", "updated_at")),
    )
    teams = sa.table(
        "teams",
        *(sa.column(n) for n in ("id", "slug", "name", "email")),
        *(sa.column(n, UTCDateTime) for n in ("created_at", "updated_at")),
    )
    members = sa.table("team_members", sa.column("team_id"), sa.column("email"))
    managers = sa.table("resource_managers", sa.column("resource_id"), sa.column("email"))
    engine = sa.create_engine(fresh_booking_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(
                teams.insert().values(id="t1", slug="kommunikation", name="Kommunikation",
                                      email="Komm@example.org", created_at=made, updated_at=made)
            )  # fmt: skip
            connection.execute(members.insert().values(team_id="t1", email="kim@example.org"))
            for rid, slug, team in (("r1", "aula", None), ("r2", "studio", "t1")):
                connection.execute(
                    resources.insert().values(
                        id=rid, slug=slug, name=slug.title(), kind="venue", description="",
                        location="Building A", buffer_minutes=0, min_notice_hours=0,
                        max_advance_days=365, requires_approval=True, active=True, features=[],
                        team_id=team, created_at=made, updated_at=made,
                    )
                )  # fmt: skip
            connection.execute(managers.insert().values(resource_id="r1", email="Sam@example.org"))
        upgrade("booking", fresh_booking_url)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT event_type, aggregate_id, payload FROM outbox ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    events = {aggregate: parse_event(payload) for _, aggregate, payload in rows}
    assert {t for t, _, _ in rows} == {"resource.changed"}
    assert sorted(events) == ["r1", "r2"]
    aula, studio = events["r1"].data, events["r2"].data
    assert (aula.slug, aula.revision, aula.managers, aula.team) == (
        "aula",
        1,
        ("sam@example.org",),
        None,
    )
    assert studio.team is not None
    assert (studio.team.slug, studio.team.email, studio.team.members) == (
        "kommunikation", "komm@example.org", ("kim@example.org",),
    )  # fmt: skip
