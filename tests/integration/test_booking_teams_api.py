"""Teams, a resource's team and self-approval, resource.changed events, closures that face
their bookings, and a decider's alert setting, through booking's JSON API (Flask test
client) on the run's database. Every refusal is checked to write nothing: the rows of every
table touched, before and after. The clock is fixed at Friday 1 March 2030, 12:00."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import (
    BookingLine,
    Closure,
    OutboxMessage,
    Resource,
    Team,
    TeamMember,
    User,
)
from shared.events import parse_event
from tests.support.booking import MONDAY, BookingApi, at, problem

TABLES = (Team, TeamMember, Resource, Closure, OutboxMessage, User)


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def rows(api: BookingApi) -> dict[str, Any]:
    """How many rows each table touched here holds, every line's state, every resource's
    revision and every user's alert mode: what a refused request must leave as it was."""
    with api.db.transaction(readonly=True) as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }
        lines = sorted(session.execute(select(BookingLine.booking_id, BookingLine.status)).all())
        revisions = sorted(session.execute(select(Resource.slug, Resource.revision)).all())
        alerts = sorted(session.execute(select(User.email, User.alerts)).all())
    return {**counts, "lines": lines, "revisions": revisions, "alerts": alerts}


def outbox(api: BookingApi, event_type: str, aggregate_id: str | None = None) -> list[dict]:
    """Events of one type in the outbox, oldest first, each validated as consumers will."""
    with api.db.transaction(readonly=True) as session:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.event_type == event_type)
            .order_by(OutboxMessage.id)
        )
        if aggregate_id is not None:
            stmt = stmt.where(OutboxMessage.aggregate_id == aggregate_id)
        found = list(session.scalars(stmt))
    for row in found:
        parse_event(row.payload)
    return [json.loads(row.payload)["data"] for row in found]


def make_team(api: BookingApi, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/teams", api.admin, {"name": "Infrastructure", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- teams -----------------------------------------------------------------------------------


def test_an_admin_creates_lists_reads_and_changes_teams(api):
    body = {
        "name": "Kommunikation",
        "slug": "kommunikation",
        "email": "Komm@Example.org",
        "members": ["Sam.Studio@example.org", "kim@example.org", "sam.studio@example.org"],
    }
    created = api.post("/api/v1/teams", api.admin, body)
    assert created.status_code == 201
    team = created.get_json()
    assert team == {
        "slug": "kommunikation",
        "name": "Kommunikation",
        "email": "komm@example.org",
        "members": ["kim@example.org", "sam.studio@example.org"],
        "resources": [],
    }
    studio = api.make_resource(name="Studio", kind="studio", team="kommunikation")
    for who in (api.organiser, api.infra, api.admin):  # any signed-in user reads teams
        listed = api.get("/api/v1/teams", who)
        assert listed.status_code == 200
        assert listed.get_json()["teams"] == [{**team, "resources": [studio["slug"]]}]
        one = api.get("/api/v1/teams/kommunikation", who)
        assert one.get_json() == {**team, "resources": [studio["slug"]]}
    changed = api.patch(
        "/api/v1/teams/kommunikation",
        api.admin,
        {"name": "Kommunikationsavdelningen", "email": "", "members": ["kim@example.org"]},
    )
    assert changed.status_code == 200
    assert changed.get_json() == {
        "slug": "kommunikation",
        "name": "Kommunikationsavdelningen",
        "email": "",
        "members": ["kim@example.org"],
        "resources": [studio["slug"]],
    }
    renamed = api.patch("/api/v1/teams/kommunikation", api.admin, {"slug": "komm"})
    assert renamed.get_json()["slug"] == "komm"
    problem(api.get("/api/v1/teams/kommunikation", api.organiser), 404)
    assert api.get(f"/api/v1/resources/{studio['id']}", api.organiser).get_json()["team"] == "komm"


def test_a_team_slug_is_made_from_the_name_when_not_given(api):
    response = api.post("/api/v1/teams", api.admin, {"name": "Infrastruktur & Lokaler"})
    team = response.get_json()
    assert team["slug"] == "infrastruktur-lokaler"
    assert (team["email"], team["members"]) == ("", [])


INVALID_TEAMS = [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": None}, "name"),
    ({"name": 7}, "name"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "-edge-"}, "slug"),
    ({"slug": "a" * 81}, "slug"),
    ({"slug": ""}, "slug"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "x" * 250 + "@example.org"}, "email"),
    ({"members": "kim@example.org"}, "members"),
    ({"members": ["kim@example.org", "nope"]}, "members"),
    ({"members": [None]}, "members"),
    ({"members": [f"m{n}@example.org" for n in range(101)]}, "members"),
    ({"colour": "blue"}, "colour"),
]


def fields_of(response) -> set[str]:
    """The fields a 422 names (``members.1``: the second member)."""
    return {name.split(".")[0] for name in problem(response, 422)["errors"]}


def test_invalid_teams_are_refused_field_by_field_and_write_nothing(api):
    make_team(api, slug="infrastructure", members=["vera@example.org"])
    api.make_resource(name="Hall", team="infrastructure")
    before = rows(api)
    for body, key in INVALID_TEAMS:
        created = api.post("/api/v1/teams", api.admin, {"name": "New team", **body})
        assert fields_of(created) == {key}, ("POST", body)
        changed = api.patch("/api/v1/teams/infrastructure", api.admin, body)
        assert fields_of(changed) == {key}, ("PATCH", body)
    assert rows(api) == before


def test_a_taken_team_slug_is_a_409_naming_the_field(api):
    make_team(api, slug="infrastructure")
    make_team(api, name="Kommunikation", slug="kommunikation")
    before = rows(api)
    taken = problem(api.post("/api/v1/teams", api.admin, {"name": "Infrastructure"}), 409)
    assert list(taken["errors"]) == ["name"] and "infrastructure" in taken["errors"]["name"][0]
    again = api.post("/api/v1/teams", api.admin, {"name": "X", "slug": "kommunikation"})
    assert list(problem(again, 409)["errors"]) == ["slug"]
    moved = api.patch("/api/v1/teams/infrastructure", api.admin, {"slug": "kommunikation"})
    assert problem(moved, 409)["code"] == "team_slug_taken"
    assert rows(api) == before


def test_only_admins_write_teams_and_unknown_teams_are_404(api):
    make_team(api, slug="infrastructure")
    before = rows(api)
    for who in (api.organiser, api.infra):
        problem(api.post("/api/v1/teams", who, {"name": "Mine"}), 403)
        problem(api.patch("/api/v1/teams/infrastructure", who, {"name": "Mine"}), 403)
    for method, path in (("GET", "/api/v1/teams"), ("POST", "/api/v1/teams")):
        problem(api.call(method, path, json_body={}), 401)
    problem(api.get("/api/v1/teams/nobody", api.organiser), 404)
    problem(api.patch("/api/v1/teams/nobody", api.admin, {"name": "X"}), 404)
    assert rows(api) == before


MALFORMED = [(b"{not json", 400), (b"[]", 422), (b"42", 422), (b"x" * (2 * 1024 * 1024), 413)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/teams"),
        ("PATCH", "/api/v1/teams/infrastructure"),
        ("POST", "/api/v1/resources/{room}/closures"),
        ("PATCH", "/api/v1/me/settings"),
    ],
)
def test_malformed_bodies_on_the_new_endpoints_are_refused_without_a_500(api, method, path):
    make_team(api, slug="infrastructure")
    room = api.make_resource()
    before = rows(api)
    for data, status in MALFORMED:
        url = path.format(room=room["id"])
        response = api.call(method, url, api.admin, data=data, content_type="application/json")
        problem(response, status)
    assert rows(api) == before


# --- a resource's team and self-approval ------------------------------------------------------


def test_a_resource_has_a_team_and_self_approval(api):
    make_team(api, slug="infrastructure", members=["vera@example.org"])
    plain = api.make_resource(name="Plain")
    assert (plain["team"], plain["self_approval"], plain["revision"]) == (None, False, 1)
    hall = api.make_resource(name="Hall", team="infrastructure", self_approval=True)
    assert (hall["team"], hall["self_approval"]) == ("infrastructure", True)
    changed = api.patch(
        f"/api/v1/resources/{plain['id']}", api.admin, {"team": "infrastructure"}
    ).get_json()
    assert (changed["team"], changed["revision"]) == ("infrastructure", 2)
    cleared = api.patch(
        f"/api/v1/resources/{hall['id']}", api.admin, {"team": None, "self_approval": False}
    ).get_json()
    assert (cleared["team"], cleared["self_approval"]) == (None, False)
    listed = {
        r["slug"]: r["team"]
        for r in api.get("/api/v1/resources", api.organiser).get_json()["resources"]
    }
    assert listed == {"hall": None, "plain": "infrastructure"}


def test_a_team_member_decides_and_self_approval_is_the_resources_choice(api):
    make_team(api, slug="kommunikation", members=["vera@example.org"])
    vera = api.user("organiser", "vera@example.org", "Vera")
    camera = api.make_resource(name="Photographer", kind="service", team="kommunikation")
    own = api.booking(vera, camera)
    problem(api.act(own, "approve", vera), 403)  # no self-approval by default
    api.patch(f"/api/v1/resources/{camera['id']}", api.admin, {"self_approval": True})
    assert api.act(own, "approve", vera).get_json()["status"] == "approved"
    theirs = api.booking(api.organiser, camera, start=at(MONDAY, 14), end=at(MONDAY, 15))
    [line] = theirs["lines"]
    assert line["deciders"] == ["vera@example.org"]
    assert api.act(theirs, "approve", vera).get_json()["status"] == "approved"


INVALID_RESOURCE_TEAMS = [
    ({"team": "nobody"}, "team"),
    ({"team": "Not A Slug"}, "team"),
    ({"team": 12}, "team"),
    ({"team": ""}, "team"),
    ({"self_approval": "sometimes"}, "self_approval"),
    ({"self_approval": None}, "self_approval"),
]


def test_a_bad_team_or_self_approval_is_a_422_on_the_field_and_writes_nothing(api):
    make_team(api, slug="infrastructure")
    room = api.make_resource(name="Room")
    before = rows(api)
    for body, key in INVALID_RESOURCE_TEAMS:
        created = api.post("/api/v1/resources", api.admin, {"name": "New", "kind": "venue", **body})
        assert list(problem(created, 422)["errors"]) == [key], ("POST", body)
        changed = api.patch(
            f"/api/v1/resources/{room['id']}", api.admin, {"name": "Renamed", **body}
        )
        assert list(problem(changed, 422)["errors"]) == [key], ("PATCH", body)
    assert rows(api) == before


# --- resource.changed --------------------------------------------------------------------------


def test_resource_changed_after_create_rename_and_team_change(api):
    make_team(api, slug="infrastructure", members=["vera@example.org"])
    hall = api.make_resource(
        name="Hall", slug="hall", team="infrastructure", managers=["mia@example.org"]
    )
    [created] = outbox(api, "resource.changed", hall["id"])
    assert created == {
        "resource_id": hall["id"],
        "slug": "hall",
        "name": "Hall",
        "kind": "venue",
        "active": True,
        "revision": 1,
        "location": "",
        "former_slugs": [],
        "requires_approval": True,
        "self_approval": False,
        "managers": ["mia@example.org"],
        "team": {
            "slug": "infrastructure",
            "name": "Infrastructure",
            "email": "",
            "members": ["vera@example.org"],
        },
        "name_sv": "Hall",  # a create with only a name names it alike in both languages
        "name_en": "Hall",
        "location_sv": "",
        "location_en": "",
    }
    renamed = api.patch(
        f"/api/v1/resources/{hall['id']}", api.admin, {"name": "Great hall", "slug": "great-hall"}
    )
    assert renamed.get_json()["revision"] == 2
    latest = outbox(api, "resource.changed", hall["id"])[-1]
    assert (latest["slug"], latest["name"], latest["former_slugs"], latest["revision"]) == (
        "great-hall",
        "Great hall",
        ["hall"],
        2,
    )
    for n, change in enumerate(
        (
            {"name": "Infrastruktur"},
            {"email": "infra-team@example.org"},
            {"members": ["vera@example.org", "ivan@example.org"]},
        ),
        start=3,
    ):
        assert api.patch("/api/v1/teams/infrastructure", api.admin, change).status_code == 200
        latest = outbox(api, "resource.changed", hall["id"])[-1]
        assert latest["revision"] == n, change
    assert latest["team"] == {
        "slug": "infrastructure",
        "name": "Infrastruktur",
        "email": "infra-team@example.org",
        "members": ["ivan@example.org", "vera@example.org"],
    }
    assert api.get(f"/api/v1/resources/{hall['id']}", api.organiser).get_json()["revision"] == 5
    # a change that changes nothing writes nothing
    before = rows(api)
    api.patch("/api/v1/teams/infrastructure", api.admin, {"name": "Infrastruktur"})
    api.patch(f"/api/v1/resources/{hall['id']}", api.admin, {"name": "Great hall"})
    assert rows(api) == before


def test_an_old_slug_stays_its_resources(api):
    hall = api.make_resource(name="Hall", slug="hall")
    api.patch(f"/api/v1/resources/{hall['id']}", api.admin, {"slug": "great-hall"})
    before = rows(api)
    refused = api.post("/api/v1/resources", api.admin, {"name": "Hall", "kind": "venue"})
    assert "name" in problem(refused, 422)["errors"]
    assert rows(api) == before


# --- closures over bookings -------------------------------------------------------------------


def closure(reason: str = "Water damage", **extra: Any) -> dict[str, Any]:
    return {"start": at(MONDAY, 0), "end": at(MONDAY, 23), "reason": reason, **extra}


def test_a_closure_over_bookings_is_refused_then_applied_with_cancellations(api):
    make_team(api, slug="kommunikation", members=["kim@example.org"])
    hall = api.make_resource(name="Hall")
    camera = api.make_resource(name="Photographer", kind="service", team="kommunikation")
    both = api.booking(api.organiser, hall, camera, title="Defence", visibility="private")
    api.approved(both)
    alone = api.booking(api.other, hall, start=at(MONDAY, 14), end=at(MONDAY, 15))
    api.approved(alone)
    waiting = api.booking(api.other, hall, start=at(MONDAY, 16), end=at(MONDAY, 17))
    before = rows(api)
    refused = problem(
        api.post(f"/api/v1/resources/{hall['id']}/closures", api.infra, closure()), 409
    )
    assert refused["code"] == "closure_over_bookings"
    conflicts = [
        {k: c[k] for k in ("booking_id", "resource_id", "start", "end")}
        for c in refused["conflicts"]
    ]
    assert conflicts == [
        {"booking_id": b["id"], "resource_id": hall["id"], "start": b["start"], "end": b["end"]}
        for b in (both, alone)
    ]
    assert rows(api) == before  # nothing closed, nothing declined, no event

    body = closure(cancel_bookings=True)
    created = api.post(f"/api/v1/resources/{hall['id']}/closures", api.infra, body)
    assert created.status_code == 201, created.get_json()
    after = api.get(f"/api/v1/bookings/{both['id']}", api.organiser).get_json()
    lines = {line["resource_id"]: line for line in after["lines"]}
    assert after["status"] == "approved"  # the photographer goes on
    assert (lines[hall["id"]]["status"], lines[hall["id"]]["reason"]) == (
        "declined",
        "Water damage",
    )
    assert lines[camera["id"]]["status"] == "approved"
    assert [r["id"] for r in after["resources"]] == [camera["id"]]
    gone = api.get(f"/api/v1/bookings/{alone['id']}", api.other).get_json()
    assert (gone["status"], gone["reason"]) == ("cancelled", "Water damage")
    still = api.get(f"/api/v1/bookings/{waiting['id']}", api.other).get_json()
    assert still["status"] == "pending"  # a request holds nothing: it is not in the way

    [decided] = [e for e in api.events(both["id"]) if e["type"] == "booking.lines_decided"]
    assert decided["data"]["decided"] == [hall["id"]]
    assert {line["resource_id"]: line["reason"] for line in decided["data"]["lines"]}[
        hall["id"]
    ] == "Water damage"
    assert api.events(alone["id"])[-1]["type"] == "booking.cancelled"
    assert api.events(alone["id"])[-1]["data"]["reason"] == "Water damage"
    assert [e["type"] for e in api.events(waiting["id"])] == ["booking.submitted"]


def test_a_closure_lists_no_title_and_its_closer_may_see_them(api):
    """Only those who decide on the resource may close it, and they may see every booking
    of it; an organiser gets a 403 before any booking is named."""
    hall = api.make_resource(name="Hall")
    api.approved(api.booking(api.other, hall, title="Secret board meeting", visibility="private"))
    before = rows(api)
    response = api.post(f"/api/v1/resources/{hall['id']}/closures", api.organiser, closure())
    body = problem(response, 403)
    assert "Secret" not in json.dumps(body)
    assert rows(api) == before


def test_closures_are_listed_and_removed_by_those_who_may_close(api):
    mia = api.user("organiser", "mia@example.org", "Mia")
    hall = api.make_resource(name="Hall", managers=[mia.email])
    other = api.make_resource(name="Other")
    added = api.post(f"/api/v1/resources/{hall['id']}/closures", mia, closure()).get_json()
    listed = api.get(f"/api/v1/resources/{hall['id']}/closures", api.organiser)
    assert [c["id"] for c in listed.get_json()["closures"]] == [added["id"]]
    span = {"from": at(MONDAY, 23), "to": at(MONDAY, 23)}
    ranged = api.get(f"/api/v1/resources/{hall['id']}/closures", api.organiser, query_string=span)
    assert "to" in problem(ranged, 422)["errors"]
    span = {"from": at(MONDAY, 23), "to": at(MONDAY + timedelta(days=1), 0)}
    later = api.get(f"/api/v1/resources/{hall['id']}/closures", api.organiser, query_string=span)
    assert [c["id"] for c in later.get_json()["closures"]] == []
    before = rows(api)
    path = f"/api/v1/resources/{hall['id']}/closures/{added['id']}"
    problem(api.call("DELETE", path, api.organiser), 403)
    problem(api.call("DELETE", path), 401)
    problem(
        api.call("DELETE", f"/api/v1/resources/{other['id']}/closures/{added['id']}", api.admin),
        404,
    )
    problem(api.call("DELETE", f"/api/v1/resources/{hall['id']}/closures/nothing", api.admin), 404)
    problem(api.call("DELETE", f"/api/v1/resources/nothing/closures/{added['id']}", api.admin), 404)
    assert rows(api) == before
    removed = api.call("DELETE", path, mia)
    assert removed.status_code == 204 and removed.get_data() == b""
    problem(api.call("DELETE", path, mia), 404)
    assert api.get(f"/api/v1/resources/{hall['id']}/closures", mia).get_json()["closures"] == []
    api.booking(api.organiser, hall)  # bookable again


def test_invalid_closure_choices_are_refused(api):
    hall = api.make_resource(name="Hall")
    api.approved(api.booking(api.organiser, hall))
    before = rows(api)
    for value in ("maybe", None, [], 2):
        response = api.post(
            f"/api/v1/resources/{hall['id']}/closures", api.infra, closure(cancel_bookings=value)
        )
        assert list(problem(response, 422)["errors"]) == ["cancel_bookings"], value
    assert rows(api) == before


# --- a decider's alerts ------------------------------------------------------------------------


def test_a_decider_chooses_a_daily_digest(api):
    assert api.get("/api/v1/me/settings", api.infra).get_json() == {"alerts": "each"}
    changed = api.patch("/api/v1/me/settings", api.infra, {"alerts": "daily"})
    assert changed.status_code == 200 and changed.get_json() == {"alerts": "daily"}
    assert api.get("/api/v1/me/settings", api.infra).get_json() == {"alerts": "daily"}
    assert api.get("/api/v1/me/settings", api.organiser).get_json() == {"alerts": "each"}
    latest = outbox(api, "user.changed", api.infra.user_id)[-1]
    assert (latest["email"], latest["alerts"]) == (api.infra.email, "daily")
    before = rows(api)
    assert api.patch("/api/v1/me/settings", api.infra, {"alerts": "daily"}).status_code == 200
    assert rows(api) == before  # the same choice again writes nothing


@pytest.mark.parametrize(
    "body", [{}, {"alerts": "hourly"}, {"alerts": None}, {"alerts": 1}, {"alerts": "each", "x": 1}]
)
def test_bad_settings_are_refused_on_the_field(api, body):
    before = rows(api)
    errors = problem(api.patch("/api/v1/me/settings", api.infra, body), 422)["errors"]
    assert set(errors) <= {"alerts", "x"} and errors
    assert rows(api) == before
    problem(api.patch("/api/v1/me/settings", json_body={"alerts": "daily"}), 401)
    problem(api.get("/api/v1/me/settings"), 401)


def test_the_openapi_document_describes_the_new_operations(api):
    document = api.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/teams"])
    assert {"get", "patch"} <= set(paths["/api/v1/teams/{slug}"])
    assert {"get", "post"} <= set(paths["/api/v1/resources/{resource_id}/closures"])
    assert "delete" in paths["/api/v1/resources/{resource_id}/closures/{closure_id}"]
    assert {"get", "patch"} <= set(paths["/api/v1/me/settings"])
    assert "409" in paths["/api/v1/teams"]["post"]["responses"]
    assert "409" in paths["/api/v1/resources/{resource_id}/closures"]["post"]["responses"]
    schemas = document["components"]["schemas"]
    assert {"team", "self_approval", "revision"} <= set(schemas["ResourceOut"]["properties"])
    assert {"slug", "name", "email", "members"} <= set(schemas["TeamOut"]["properties"])
    assert "cancel_bookings" in schemas["ClosureIn"]["properties"]
