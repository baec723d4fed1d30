"""Two admins creating (or renaming to) one short name at the same moment: both pass the
check, the database's unique index lets one commit, and the other is answered as the check
answers (422 for a resource, 409 for a team, naming the field), never with a 500 and never
half-written. The moment is made certain by letting the check see nothing, as it would in
the other transaction before the first commits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import Resource, Team
from services.booking.persistence.sql import SqlResources, SqlTeams
from tests.support.booking import BookingApi, problem


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def count(api: BookingApi, model) -> int:
    with api.db.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def checks_see_nothing(monkeypatch) -> None:
    monkeypatch.setattr(SqlResources, "slug_taken", lambda *_args: False)
    monkeypatch.setattr(SqlTeams, "exists", lambda *_args: False)


def test_a_resource_slug_taken_at_the_same_moment_is_a_422_naming_the_field(
    api, checks_see_nothing
):
    api.make_resource(name="Aula Magna")
    api.make_resource(name="Hall B", slug="hall-b")
    before = count(api, Resource)

    by_name = problem(
        api.post("/api/v1/resources", api.admin, {"name": "Aula Magna", "kind": "venue"}), 422
    )
    assert by_name["codes"] == {"name": ["slug_taken"]}
    body = {"name": "Other", "slug": "hall-b", "kind": "venue"}
    by_slug = problem(api.post("/api/v1/resources", api.admin, body), 422)
    assert by_slug["codes"] == {"slug": ["slug_taken"]}
    renamed = problem(api.patch("/api/v1/resources/aula-magna", api.admin, {"slug": "hall-b"}), 422)
    assert renamed["codes"] == {"slug": ["slug_taken"]}
    assert count(api, Resource) == before
    assert api.get("/api/v1/resources/aula-magna", api.admin).status_code == 200


def test_a_team_slug_taken_at_the_same_moment_is_a_409_naming_the_field(api, checks_see_nothing):
    for name in ("Infrastructure", "Kommunikation"):
        assert api.post("/api/v1/teams", api.admin, {"name": name}).status_code == 201
    before = count(api, Team)

    taken = problem(api.post("/api/v1/teams", api.admin, {"name": "Infrastructure"}), 409)
    assert list(taken["errors"]) == ["name"] and taken["code"] == "team_slug_taken"
    moved = api.patch("/api/v1/teams/infrastructure", api.admin, {"slug": "kommunikation"})
    assert list(problem(moved, 409)["errors"]) == ["slug"]
    assert count(api, Team) == before
