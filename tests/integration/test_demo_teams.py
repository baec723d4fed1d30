"""The demo's teams: ``evenemang demo`` creates Infrastructure (the venues) and Kommunikation
(studios and services) with members, gives every demo resource its team, and changes
nothing the second time; ``evenemang up --demo`` gives the infrastructure team's fallback
address a demo value when none is configured."""

from __future__ import annotations

from sqlalchemy import func, select

from evenemang.cli import suite_env
from services.booking.commands import ChangeResource
from services.booking.demo import INFRA_TEAM_EMAIL, load_demo
from services.booking.persistence.models import OutboxMessage
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases import catalog, resources, teams
from shared.auth import Principal
from shared.db import Database


def _load(config) -> list[str]:
    return list(load_demo(config))


def _outbox(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_the_demo_has_two_teams_and_every_resource_has_one(config):
    said = _load(config)
    assert "demo teams: Infrastructure, Kommunikation" in said
    db = Database(config.booking_database_url)
    try:
        ctx = Context(db=db, config=config)
        found = {t.slug: t for t in teams.list_teams(ctx)}
        assert set(found) == {"infrastructure", "kommunikation"}
        assert found["infrastructure"].members == ("infra@example.org", "vera.venues@example.org")
        assert found["kommunikation"].email == "kommunikation@example.org"
        assert "studio.manager@example.org" in found["kommunikation"].members
        by_slug = {r.slug: r for r in resources.list_resources(ctx)}
        assert all(r.team is not None for r in by_slug.values())
        venues = {s for s, r in by_slug.items() if r.kind == "venue"}
        assert {r.slug for r in found["infrastructure"].resources} == venues
        assert {"photographer", "film-crew", "film-studio", "photo-studio", "streaming"} <= {
            r.slug for r in found["kommunikation"].resources
        }
        events = _outbox(db)
        _load(config)  # twice: nothing changes, no event
        assert _outbox(db) == events
        assert [t.slug for t in teams.list_teams(ctx)] == ["infrastructure", "kommunikation"]
    finally:
        db.dispose()


def test_demo_resources_loaded_before_teams_get_their_team(config):
    _load(config)
    db = Database(config.booking_database_url)
    try:
        ctx = Context(db=db, config=config)
        admin = Principal("x", "admin@example.org", "Ada", "admin")
        resources.update_resource(ctx, admin, "aula-magna", ChangeResource.of(team=None))
        _load(config)
        assert resources.read_resource(ctx, "aula-magna").team.slug == "infrastructure"
    finally:
        db.dispose()


def test_up_with_the_demo_sets_a_demo_infra_team_address_when_none_is_set(config, monkeypatch):
    monkeypatch.delenv("EVENEMANG_INFRA_TEAM_EMAIL", raising=False)
    monkeypatch.delenv("EVENEMANG_BASE_URL", raising=False)
    assert suite_env(config, "0.0.0.0", 8123, demo=True)["EVENEMANG_INFRA_TEAM_EMAIL"] == (
        INFRA_TEAM_EMAIL
    )
    plain = suite_env(config, "127.0.0.1", 8123)
    assert "EVENEMANG_INFRA_TEAM_EMAIL" not in plain
    assert plain["EVENEMANG_BASE_URL"] == "http://127.0.0.1:8123"
    configured = config.replace(infra_team_email="desk@example.org")
    monkeypatch.setenv("EVENEMANG_INFRA_TEAM_EMAIL", "desk@example.org")
    env = suite_env(configured, "127.0.0.1", 8123, demo=True)
    assert env["EVENEMANG_INFRA_TEAM_EMAIL"] == "desk@example.org"


def test_the_demo_has_units_in_both_languages_and_a_supplier_once(config):
    said = _load(config)
    assert any(line.startswith("demo units: School office") for line in said)
    _load(config)  # twice: none of them twice
    db = Database(config.booking_database_url)
    try:
        ctx = Context(db=db, config=config)
        units = catalog.list_entries(ctx, "units")
        assert units[0].slug == "school-office"
        assert (units[0].name_sv, units[0].name_en) == ("Skolkansliet", "School office")
        assert len(units) == len({u.slug for u in units}) >= 4
        admin = Principal("x", "admin@example.org", "Ada", "admin")
        [supplier] = catalog.list_suppliers(ctx, admin)
        assert supplier.active and supplier.hourly_rate > 0
    finally:
        db.dispose()
