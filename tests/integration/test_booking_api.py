"""Booking's JSON API through the Flask test client: every endpoint of CONTRACT.md's booking
table, every error of the booking issue, the approval workflow, and the outbox events each
change writes. The clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from openapi_spec_validator import validate

from services.booking.usecases import users
from services.booking.usecases.sessions import start_session
from shared.auth import SESSION_KEY
from shared.sessions import SessionLimits
from tests.support.booking import MONDAY, NOW, BookingApi, at, parse, problem

DROP = object()  # a body override that removes the key
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
THURSDAY = MONDAY + timedelta(days=3)


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def errors_of(response) -> dict[str, list[str]]:
    body = problem(response, 422)
    errors = body["errors"]
    assert errors and all(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
        for messages in errors.values()
    )
    return errors


def ids(bookings: list[dict[str, Any]]) -> list[str]:
    return [b["id"] for b in bookings]


def case_id(body: dict[str, Any]) -> str:
    return json.dumps({k: "DROP" if v is DROP else v for k, v in body.items()})[:48]


def conflict_of(
    booking: dict[str, Any], resource: dict[str, Any], seen: bool = True
) -> dict[str, Any]:
    """A conflict as the reader sees it: another organiser's booking, which the reader does
    not decide on, only as busy (no id)."""
    return {
        "booking_id": booking["id"] if seen else None,
        "resource_id": resource["id"],
        "start": booking["start"],
        "end": booking["end"],
    }


def conflict_keys(conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: c[k] for k in ("booking_id", "resource_id", "start", "end")} for c in conflicts]


# --- authentication -------------------------------------------------------------------------

EVERY_ENDPOINT = [
    ("GET", "/api/v1/resources"),
    ("POST", "/api/v1/resources"),
    ("GET", "/api/v1/resources/r"),
    ("PATCH", "/api/v1/resources/r"),
    ("POST", "/api/v1/resources/r/closures"),
    ("GET", "/api/v1/resources/r/busy"),
    ("GET", "/api/v1/availability"),
    ("GET", "/api/v1/suggestions"),
    ("POST", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings/b"),
    ("PATCH", "/api/v1/bookings/b"),
    ("POST", "/api/v1/bookings/b/approve"),
    ("POST", "/api/v1/bookings/b/reject"),
    ("POST", "/api/v1/bookings/b/cancel"),
    ("POST", "/api/v1/bookings/b/occurrences/0/cancel"),
    ("GET", "/api/v1/bookings/b/history"),
]


BAD_AUTHORIZATIONS = [
    None,
    "Bearer",
    "Bearer not-a-token",
    "Bearer evt_e30.x.y",
    "bearer evt_eyJ0aWQiOiJ4In0.x.y",
    "Basic YWRtaW46YWRtaW4=",
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS)
def test_without_valid_credentials_every_endpoint_answers_401(api, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in EVERY_ENDPOINT:
        response = api.call(method, path, headers=headers, json_body={})
        problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)


def test_a_token_signed_with_another_key_is_refused(api):
    token = api.organiser.token
    body, _, _signature = token.rpartition(".")
    response = api.get("/api/v1/bookings", headers={"Authorization": f"Bearer {body}.AAAA"})
    problem(response, 401)


def test_a_revoked_token_gets_401_and_the_users_other_tokens_still_work(api):
    second = users.create_token(api.db, api.config.secret_key, api.organiser.email)
    assert api.get("/api/v1/bookings", api.organiser).status_code == 200
    users.revoke_token(api.db, api.token_id(api.organiser))
    problem(api.get("/api/v1/bookings", api.organiser), 401)
    headers = {"Authorization": f"Bearer {second}"}
    assert api.get("/api/v1/bookings", headers=headers).status_code == 200


def test_a_deactivated_users_token_gets_401(api):
    users.update_user(api.db, api.organiser.email, active=False)
    problem(api.get("/api/v1/bookings", api.organiser), 401)
    users.update_user(api.db, api.organiser.email, active=True)
    assert api.get("/api/v1/bookings", api.organiser).status_code == 200


def test_the_role_comes_from_the_user_not_from_the_token(api):
    room = api.make_resource()
    booking = api.booking(api.other, room)
    problem(api.act(booking, "approve", api.organiser), 403)
    users.update_user(api.db, api.organiser.email, role="infra")
    assert api.act(booking, "approve", api.organiser).status_code == 200


def test_a_session_cookie_authenticates_and_its_user_is_checked(api):
    user = api.organiser
    claim = start_session(api.db, user.user_id, NOW, SessionLimits())
    with api.client.session_transaction() as session:
        session[SESSION_KEY] = claim.dump()
    assert api.get("/api/v1/bookings").status_code == 200
    # the cookie names a session and its user, no role: the user's role is read each time
    problem(api.post("/api/v1/resources", json_body={"name": "Sneaky", "kind": "venue"}), 403)
    users.update_user(api.db, user.email, active=False)
    problem(api.get("/api/v1/bookings"), 401)


# --- roles: 403 -----------------------------------------------------------------------------


WRONG_ROLE = [
    ("organiser", "POST", "/api/v1/resources", {"name": "Mine", "kind": "venue"}),
    ("infra", "POST", "/api/v1/resources", {"name": "Mine", "kind": "venue"}),
    ("organiser", "PATCH", "/api/v1/resources/{room}", {"capacity": 1000}),
    ("infra", "PATCH", "/api/v1/resources/{room}", {"capacity": 1000}),
    (
        "organiser",
        "POST",
        "/api/v1/resources/{room}/closures",
        {"start": at(MONDAY, 8), "end": at(MONDAY, 18), "reason": "Mine"},
    ),
    ("organiser", "POST", "/api/v1/bookings/{mine}/approve", {}),
    ("organiser", "POST", "/api/v1/bookings/{mine}/reject", {"reason": "No"}),
    ("other", "POST", "/api/v1/bookings/{mine}/approve", {}),
    ("other", "GET", "/api/v1/bookings/{mine}", None),
    ("other", "GET", "/api/v1/bookings/{private}", None),
    ("other", "PATCH", "/api/v1/bookings/{mine}", {"title": "Taken over"}),
    ("other", "POST", "/api/v1/bookings/{mine}/cancel", {}),
    ("other", "POST", "/api/v1/bookings/{series}/occurrences/0/cancel", {}),
    ("other", "GET", "/api/v1/bookings/{mine}/history", None),
]


def test_the_wrong_role_gets_403_and_changes_nothing(api):
    room = api.make_resource()
    mine = api.booking(api.organiser, room)
    private = api.booking(
        api.organiser, room, visibility="private", start=at(TUESDAY, 10), end=at(TUESDAY, 11)
    )
    series = api.booking(
        api.organiser,
        room,
        rrule="FREQ=DAILY;COUNT=2",
        start=at(THURSDAY, 10),
        end=at(THURSDAY, 11),
    )
    ids_ = {
        "room": room["id"],
        "mine": mine["id"],
        "private": private["id"],
        "series": series["id"],
    }

    def state():
        return (
            api.counts(),
            api.get(f"/api/v1/resources/{room['id']}", api.admin).get_json(),
            [api.get(f"/api/v1/bookings/{b['id']}", api.infra).get_json() for b in (mine, series)],
        )

    before = state()
    for who, method, path, body in WRONG_ROLE:
        response = api.call(method, path.format(**ids_), getattr(api, who), json_body=body)
        assert "Forbidden" in problem(response, 403)["title"], (who, method, path)
    assert state() == before


# --- unknown ids: 404 -----------------------------------------------------------------------


UNKNOWN_IDS = [
    ("GET", "/api/v1/resources/no-such-room", None),
    ("PATCH", "/api/v1/resources/no-such-room", {"capacity": 3}),
    (
        "POST",
        "/api/v1/resources/no-such-room/closures",
        {"start": at(MONDAY, 8), "end": at(MONDAY, 9), "reason": "x"},
    ),
    ("GET", f"/api/v1/resources/no-such-room/busy?from={MONDAY}&to={TUESDAY}", None),
    ("GET", "/api/v1/bookings/no-such-booking", None),
    ("PATCH", "/api/v1/bookings/no-such-booking", {"title": "x"}),
    ("POST", "/api/v1/bookings/no-such-booking/approve", {}),
    ("POST", "/api/v1/bookings/no-such-booking/reject", {"reason": "x"}),
    ("POST", "/api/v1/bookings/no-such-booking/cancel", {}),
    ("POST", "/api/v1/bookings/no-such-booking/occurrences/0/cancel", {}),
    ("GET", "/api/v1/bookings/no-such-booking/history", None),
    ("POST", "/api/v1/bookings/{booking}/occurrences/1/cancel", {}),
    ("POST", "/api/v1/bookings/{booking}/occurrences/99999999999999999999/cancel", {}),
    ("GET", "/api/v1/nothing-here", None),
]


@pytest.mark.parametrize("who", ["admin", "organiser"])
def test_unknown_ids_answer_404(api, who):
    booking = api.booking(api.organiser, api.make_resource())
    before = api.counts()
    for method, path, body in UNKNOWN_IDS:
        url = path.format(booking=booking["id"])
        response = api.call(method, url, getattr(api, who), json_body=body)
        if who == "organiser" and method == "PATCH" and "resources" in path:
            problem(response, 403)  # an admin-only route checks the role first
            continue
        problem(response, 404)
    assert api.counts() == before


# --- malformed bodies: 400, 413, 422 and never a 500 ------------------------------------------

BODY_ENDPOINTS = [
    ("POST", "/api/v1/bookings"),
    ("PATCH", "/api/v1/bookings/{booking}"),
    ("POST", "/api/v1/bookings/{booking}/reject"),
    ("POST", "/api/v1/bookings/{booking}/cancel"),
    ("POST", "/api/v1/bookings/{booking}/occurrences/0/cancel"),
    ("POST", "/api/v1/resources"),
    ("PATCH", "/api/v1/resources/{room}"),
    ("POST", "/api/v1/resources/{room}/closures"),
]


MALFORMED_BODIES = [
    (b"{not json", 400),
    (b'{"title": "unterminated', 400),
    (b"\xff\xfe\x00", 400),
    (b"null", 400),
    (b"[]", 422),
    (b'["title"]', 422),
    (b'"a string"', 422),
    (b"42", 422),
    (b"true", 422),
    (b"x" * (2 * 1024 * 1024), 413),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_malformed_bodies_are_refused_without_a_500(api, method, path):
    room = api.make_resource()
    booking = api.booking(api.organiser, room)
    before = api.counts()
    url = path.format(room=room["id"], booking=booking["id"])
    for data, status in MALFORMED_BODIES:
        response = api.call(method, url, api.admin, data=data, content_type="application/json")
        body = problem(response, status)
        if status == 422:
            assert list(body["errors"]) == ["_schema"], data
    assert api.counts() == before


@pytest.mark.parametrize(
    "data", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000]
)
def test_deeply_nested_json_is_a_400(api, data):
    response = api.call(
        "POST", "/api/v1/bookings", api.organiser, data=data, content_type="application/json"
    )
    problem(response, 400)


# --- resources ------------------------------------------------------------------------------


def test_admin_creates_a_resource_with_every_field(api):
    body = {
        "name": "Aula Magna",
        "kind": "venue",
        "slug": "aula-magna",
        "capacity": 300,
        "location": "Building A",
        "features": ["projector", "hearing loop"],
        "requires_approval": True,
        "buffer_minutes": 30,
        "opening_hours": {"mon": [["08:00", "20:00"]], "fri": [["18:00", "00:00"]]},
        "min_notice_hours": 48,
        "max_advance_days": 180,
        "max_duration_minutes": 480,
        "managers": ["Sam.Manager@Example.org", "kim@example.org"],
    }
    response = api.post("/api/v1/resources", api.admin, body)
    assert response.status_code == 201
    created = response.get_json()
    assert created["id"]
    assert {k: created[k] for k in body if k != "managers"} == {
        k: v for k, v in body.items() if k != "managers"
    }
    assert created["managers"] == ["kim@example.org", "sam.manager@example.org"]
    assert created["active"] is True
    assert api.get("/api/v1/resources/aula-magna", api.organiser).get_json() == created
    assert api.get(f"/api/v1/resources/{created['id']}", api.organiser).get_json() == created


def test_resource_defaults_match_the_contract(api):
    created = api.make_resource(name="Foyer")
    assert created["slug"] == "foyer"
    assert created["opening_hours"] is None
    assert created["requires_approval"] is True
    assert created["buffer_minutes"] == 0
    assert created["min_notice_hours"] == 0
    assert created["max_advance_days"] == 365
    assert created["max_duration_minutes"] is None
    assert created["managers"] == []
    # no opening hours: bookable at any hour, Sunday 03:00 included
    api.booking(api.organiser, created, start=at("2030-03-10", 3), end=at("2030-03-10", 4))


def test_list_resources_by_kind(api):
    hall = api.make_resource(name="Hall")
    studio = api.make_resource(name="Film studio", kind="studio")
    crew = api.make_resource(name="Film crew", kind="service")
    listed = api.get("/api/v1/resources", api.organiser).get_json()["resources"]
    assert {r["id"] for r in listed} == {hall["id"], studio["id"], crew["id"]}
    for kind, expected in (("venue", hall), ("studio", studio), ("service", crew)):
        response = api.get(f"/api/v1/resources?kind={kind}", api.organiser)
        assert ids(response.get_json()["resources"]) == [expected["id"]]
    assert "kind" in errors_of(api.get("/api/v1/resources?kind=room", api.organiser))
    assert "colour" in errors_of(api.get("/api/v1/resources?colour=red", api.organiser))


def test_admin_changes_a_resource(api):
    room = api.make_resource(name="Seminar room")
    response = api.patch(
        f"/api/v1/resources/{room['id']}",
        api.admin,
        {"capacity": 12, "managers": ["New@Example.org"], "active": False},
    )
    assert response.status_code == 200
    changed = response.get_json()
    assert (changed["capacity"], changed["managers"], changed["active"]) == (
        12,
        ["new@example.org"],
        False,
    )
    assert changed["name"] == "Seminar room"
    assert api.get(f"/api/v1/resources/{room['id']}", api.organiser).get_json() == changed


INVALID_RESOURCES = [
    ({"kind": "room"}, "kind"),
    ({"kind": DROP}, "kind"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"slug": "Bad Slug"}, "slug"),
    ({"slug": "taken"}, "slug"),
    ({"name": "Taken"}, "name"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": "many"}, "capacity"),
    ({"features": "projector"}, "features"),
    ({"features": ["x" * 61]}, "features.0"),
    ({"opening_hours": {"monday": [["08:00", "17:00"]]}}, "opening_hours"),
    ({"opening_hours": {"mon": [["17:00", "08:00"]]}}, "opening_hours"),
    ({"opening_hours": {"mon": [["8", "17"]]}}, "opening_hours"),
    ({"opening_hours": {"mon": [["08:00", "12:00"], ["11:00", "17:00"]]}}, "opening_hours"),
    ({"opening_hours": ["mon"]}, "opening_hours"),
    ({"buffer_minutes": -1}, "buffer_minutes"),
    ({"min_notice_hours": -1}, "min_notice_hours"),
    ({"max_advance_days": 0}, "max_advance_days"),
    ({"max_duration_minutes": 0}, "max_duration_minutes"),
    ({"managers": ["not-an-email"]}, "managers.0"),
    ({"requires_approval": "perhaps"}, "requires_approval"),
    ({"colour": "red"}, "colour"),
]


def test_invalid_resources_are_refused_field_by_field(api):
    taken = api.make_resource(name="Taken", slug="taken")
    before = api.get("/api/v1/resources", api.admin).get_json()
    for body, key in INVALID_RESOURCES:
        payload = {"name": "New room", "kind": "venue", **body}
        payload = {k: v for k, v in payload.items() if v is not DROP}
        errors = errors_of(api.post("/api/v1/resources", api.admin, payload))
        assert key in errors, (case_id(body), errors)
        if DROP not in body.values() and body not in ({"name": "Taken"}, {"slug": "taken"}):
            response = api.patch(f"/api/v1/resources/{taken['id']}", api.admin, body)
            assert key in errors_of(response), (case_id(body), "PATCH")
    assert api.get("/api/v1/resources", api.admin).get_json() == before


@pytest.mark.parametrize("who", ["infra", "admin"])
def test_infra_and_admin_close_a_resource_and_it_cannot_be_booked_then(api, who):
    room = api.make_resource()
    body = {"start": at(MONDAY, 8), "end": at(MONDAY, 11), "reason": "Floor polishing"}
    response = api.post(f"/api/v1/resources/{room['id']}/closures", getattr(api, who), body)
    assert response.status_code == 201
    closure = response.get_json()
    assert (closure["resource_id"], closure["reason"]) == (room["id"], "Floor polishing")
    assert (parse(closure["start"]), parse(closure["end"])) == (
        parse(body["start"]),
        parse(body["end"]),
    )
    errors = errors_of(api.submit(api.organiser, room))
    assert list(errors) == ["start"]
    assert "Floor polishing" in errors["start"][0]
    api.booking(api.organiser, room, start=at(MONDAY, 11), end=at(MONDAY, 12))


def test_a_request_waiting_in_a_closure_made_after_it_is_not_approved_there(api):
    room = api.make_resource(name="Aula")
    studio = api.make_resource(name="Studio", kind="studio")
    waiting = api.booking(api.organiser, room, studio)  # Monday 10-12, both lines pending
    body = {"start": at(MONDAY, 8), "end": at(MONDAY, 11), "reason": "Floor polishing"}
    assert api.post(f"/api/v1/resources/{room['id']}/closures", api.infra, body).status_code == 201
    events = len(api.events(waiting["id"]))

    refused = problem(api.act(waiting, "approve", api.infra), 409)
    assert "Aula" in refused["detail"] and "Floor polishing" in refused["detail"]
    only_room = api.act(waiting, "approve", api.infra, {"resource_ids": [room["id"]]})
    assert problem(only_room, 409)["detail"] == refused["detail"]
    assert api.get(f"/api/v1/bookings/{waiting['id']}", api.infra).get_json()["status"] == "pending"
    assert len(api.events(waiting["id"])) == events

    # The studio's line is not closed: it is approved on its own, the venue's line waits.
    studio_only = api.act(waiting, "approve", api.infra, {"resource_ids": [studio["id"]]})
    assert studio_only.status_code == 200, studio_only.get_json()


INVALID_CLOSURES = [
    ({"start": at(MONDAY, 11), "end": at(MONDAY, 8), "reason": "x"}, "end"),
    ({"start": at(MONDAY, 8), "end": at(MONDAY, 11)}, "reason"),
    ({"start": at(MONDAY, 8), "end": at(MONDAY, 11), "reason": ""}, "reason"),
    ({"start": "soon", "end": at(MONDAY, 11), "reason": "x"}, "start"),
    ({"start": at(MONDAY, 8), "end": at(MONDAY, 11), "reason": "x" * 501}, "reason"),
]


def test_invalid_closures_are_refused(api):
    room = api.make_resource()
    for body, key in INVALID_CLOSURES:
        response = api.post(f"/api/v1/resources/{room['id']}/closures", api.infra, body)
        assert key in errors_of(response), body
    api.booking(api.organiser, room)  # nothing was closed


# --- submitting -----------------------------------------------------------------------------

BOOKING_KEYS = {
    "id",
    "title",
    "description",
    "start",
    "end",
    "timezone",
    "status",
    "revision",
    "resources",
    "organiser",
    "participants",
    "visibility",
    "language",
    "expected_attendees",
    "rrule",
    "occurrences",
    "conflicts",
    "decided_by",
    "reason",
    "created_at",
    "updated_at",
}


def test_a_request_is_pending_with_every_documented_field(api):
    hall = api.make_resource(name="Hall", location="Building A")
    crew = api.make_resource(name="Photographer", kind="service", requires_approval=False)
    response = api.submit(
        api.organiser,
        hall,
        crew,
        description="Public defence",
        expected_attendees=40,
        visibility="public",
        language="en",
        participants=[{"email": "Opponent@Example.org", "name": "Opponent"}],
        notes="Needs a lectern",
    )
    assert response.status_code == 201
    booking = response.get_json()
    assert set(booking) >= BOOKING_KEYS
    assert booking["status"] == "pending"  # one of the resources needs approval
    assert booking["revision"] == 1
    assert booking["start"] == "2030-03-04T10:00:00+01:00"
    assert booking["end"] == "2030-03-04T12:00:00+01:00"
    assert booking["timezone"] == "Europe/Stockholm"
    assert booking["organiser"] == {"email": api.organiser.email, "name": api.organiser.name}
    assert {r["id"] for r in booking["resources"]} == {hall["id"], crew["id"]}
    assert {"id", "slug", "name", "kind", "location"} <= set(booking["resources"][0])
    assert booking["participants"] == [{"email": "opponent@example.org", "name": "Opponent"}]
    assert (booking["visibility"], booking["language"], booking["expected_attendees"]) == (
        "public",
        "en",
        40,
    )
    assert booking["occurrences"] == [
        {"n": 0, "start": booking["start"], "end": booking["end"], "status": "active"}
    ]
    assert (booking["rrule"], booking["decided_by"], booking["reason"]) == (None, None, None)
    assert booking["conflicts"] == []
    assert api.get(f"/api/v1/bookings/{booking['id']}", api.organiser).get_json() == booking


def test_defaults_of_a_request(api):
    booking = api.booking(api.organiser, api.make_resource())
    assert (booking["visibility"], booking["language"]) == ("internal", "sv")
    assert (booking["description"], booking["participants"], booking["expected_attendees"]) == (
        "",
        [],
        None,
    )


def test_resources_that_need_no_approval_are_approved_at_once(api):
    room = api.make_resource(requires_approval=False)
    crew = api.make_resource(kind="service", requires_approval=False)
    booking = api.booking(api.organiser, room, crew)
    assert booking["status"] == "approved"
    assert booking["decided_by"] == "automatic"


def test_resources_may_be_named_by_slug(api):
    room = api.make_resource(slug="seminar-room-1")
    booking = api.booking(api.organiser, "seminar-room-1")
    assert [r["id"] for r in booking["resources"]] == [room["id"]]


def test_a_time_without_an_offset_is_read_in_stockholm(api):
    booking = api.booking(
        api.organiser, api.make_resource(), start="2030-07-01T09:00", end="2030-07-01T10:30"
    )
    assert booking["start"] == "2030-07-01T09:00:00+02:00"
    assert booking["end"] == "2030-07-01T10:30:00+02:00"
    utc = api.booking(
        api.organiser, api.make_resource(), start="2030-07-01T07:00:00Z", end="2030-07-01T08:00Z"
    )
    assert utc["start"] == "2030-07-01T09:00:00+02:00"


def test_a_series_has_every_occurrence_and_keeps_its_wall_clock_across_dst(api):
    # Europe/Stockholm goes from +01:00 to +02:00 on Sunday 31 March 2030
    booking = api.booking(
        api.organiser,
        api.make_resource(),
        start=at("2030-03-25", 9),
        end=at("2030-03-25", 10),
        rrule="rrule:freq=weekly;byday=mo,we;count=4",
    )
    assert booking["rrule"] == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    assert booking["start"] == "2030-03-25T09:00:00+01:00"
    assert booking["occurrences"] == [
        {
            "n": 0,
            "start": "2030-03-25T09:00:00+01:00",
            "end": "2030-03-25T10:00:00+01:00",
            "status": "active",
        },
        {
            "n": 1,
            "start": "2030-03-27T09:00:00+01:00",
            "end": "2030-03-27T10:00:00+01:00",
            "status": "active",
        },
        {
            "n": 2,
            "start": "2030-04-01T09:00:00+02:00",
            "end": "2030-04-01T10:00:00+02:00",
            "status": "active",
        },
        {
            "n": 3,
            "start": "2030-04-03T09:00:00+02:00",
            "end": "2030-04-03T10:00:00+02:00",
            "status": "active",
        },
    ]


def test_opening_hours_ending_at_midnight_and_a_booking_across_the_dst_change(api):
    late = api.make_resource(
        opening_hours={"fri": [["18:00", "00:00"]], "sun": [["00:00", "00:00"]]}
    )
    api.booking(api.organiser, late, start=at("2030-03-08", 22), end=at("2030-03-09", 0))
    errors = errors_of(
        api.submit(api.organiser, late, start=at("2030-03-08", 23), end=at("2030-03-09", 1))
    )
    assert list(errors) == ["start"]
    # Sunday 31 March 2030 01:00 CET to 05:00 CEST: three real hours, inside the day
    crossing = api.booking(
        api.organiser, late, start="2030-03-31T01:00:00+01:00", end="2030-03-31T05:00:00+02:00"
    )
    assert parse(crossing["end"]) - parse(crossing["start"]) == timedelta(hours=3)


# The 422s: (id, overrides of the resource, or None for no resource; overrides of the body;
# the key in ``errors``).
INVALID_REQUESTS = [
    ("end-before-start", {}, {"end": at(MONDAY, 9)}, "end"),
    ("end-equals-start", {}, {"end": at(MONDAY, 10)}, "end"),
    ("occurrence-over-14-days", {}, {"end": at(MONDAY + timedelta(days=15), 10)}, "end"),
    (
        "start-in-the-past",
        {},
        {"start": at("2030-02-28", 10), "end": at("2030-02-28", 12)},
        "start",
    ),
    ("start-now", {}, {"start": NOW.isoformat()}, "start"),
    ("less-than-min-notice", {"min_notice_hours": 96}, {}, "start"),
    ("beyond-max-days-ahead", {"max_advance_days": 2}, {}, "start"),
    (
        "beyond-default-365-days",
        {},
        {"start": at("2031-03-03", 10), "end": at("2031-03-03", 12)},
        "start",
    ),
    (
        "series-beyond-max-days-ahead",
        {"max_advance_days": 10},
        {"rrule": "FREQ=WEEKLY;COUNT=3"},
        "start",
    ),
    ("longer-than-max-duration", {"max_duration_minutes": 90}, {}, "end"),
    ("outside-opening-hours", {"opening_hours": {"mon": [["11:00", "17:00"]]}}, {}, "start"),
    ("closed-that-weekday", {"opening_hours": {"tue": [["08:00", "17:00"]]}}, {}, "start"),
    (
        "an-occurrence-outside-opening-hours",
        {"opening_hours": {"mon": [["08:00", "17:00"]]}},
        {"rrule": "FREQ=DAILY;COUNT=2"},
        "start",
    ),
    ("attendees-over-capacity", {"capacity": 20}, {"expected_attendees": 21}, "expected_attendees"),
    ("inactive-resource", {"active": False}, {}, "resource_ids"),
    ("unknown-resource", None, {"resource_ids": ["no-such-room"]}, "resource_ids"),
    ("no-resources", None, {"resource_ids": []}, "resource_ids"),
    (
        "resource-named-twice",
        {"slug": "twice"},
        {"resource_ids": ["twice", "twice"]},
        "resource_ids",
    ),
    ("malformed-email", {}, {"participants": [{"email": "not-an-email"}]}, "participants.0.email"),
    (
        "participant-without-email",
        {},
        {"participants": [{"name": "Nobody"}]},
        "participants.0.email",
    ),
    ("invalid-rrule", {}, {"rrule": "FREQ=FORTNIGHTLY;COUNT=3"}, "rrule"),
    ("rrule-unknown-weekday", {}, {"rrule": "FREQ=WEEKLY;BYDAY=XX;COUNT=3"}, "rrule"),
    ("rrule-over-500", {}, {"rrule": "FREQ=DAILY;COUNT=501"}, "rrule"),
    (
        "rrule-until-over-500",
        {},
        {"rrule": "FREQ=DAILY;UNTIL=20320601T000000"},
        "rrule",
    ),
    ("rrule-unbounded", {}, {"rrule": "FREQ=WEEKLY"}, "rrule"),
    (
        "rrule-with-dtstart",
        {},
        {"rrule": "DTSTART:20300304T100000\nRRULE:FREQ=DAILY;COUNT=2"},
        "rrule",
    ),
    ("rrule-no-occurrence", {}, {"rrule": "FREQ=DAILY;UNTIL=20300301T000000"}, "rrule"),
    ("title-too-long", {}, {"title": "x" * 201}, "title"),
    ("title-empty", {}, {"title": "   "}, "title"),
    ("title-missing", {}, {"title": DROP}, "title"),
    ("start-missing", {}, {"start": DROP}, "start"),
    ("description-too-long", {}, {"description": "x" * 5001}, "description"),
    ("notes-too-long", {}, {"notes": "x" * 5001}, "notes"),
    (
        "participant-name-too-long",
        {},
        {"participants": [{"email": "a@example.org", "name": "x" * 201}]},
        "participants.0.name",
    ),
    ("rrule-too-long", {}, {"rrule": "FREQ=DAILY;COUNT=2" + ";BYHOUR=10" * 60}, "rrule"),
    (
        "too-many-participants",
        {},
        {"participants": [{"email": f"p{i}@example.org"} for i in range(501)]},
        "participants",
    ),
    ("unknown-field", {}, {"colour": "red"}, "colour"),
    ("status-is-not-an-input", {}, {"status": "approved"}, "status"),
    (
        "unknown-participant-field",
        {},
        {"participants": [{"email": "a@example.org", "x": 1}]},
        "participants.0.x",
    ),
    ("title-a-number", {}, {"title": 42}, "title"),
    ("title-null", {}, {"title": None}, "title"),
    ("start-not-a-date", {}, {"start": "next monday"}, "start"),
    ("start-a-number", {}, {"start": 1_900_000_000}, "start"),
    ("start-out-of-range", {}, {"start": "0001-01-01T00:00:00+14:00"}, "start"),
    ("resource-ids-a-string", {}, {"resource_ids": "room"}, "resource_ids"),
    ("resource-id-a-number", {}, {"resource_ids": [7]}, "resource_ids.0"),
    ("attendees-a-word", {}, {"expected_attendees": "many"}, "expected_attendees"),
    ("attendees-boolean", {}, {"expected_attendees": True}, "expected_attendees"),
    ("attendees-zero", {}, {"expected_attendees": 0}, "expected_attendees"),
    ("attendees-huge", {}, {"expected_attendees": 10**30}, "expected_attendees"),
    ("visibility-unknown", {}, {"visibility": "secret"}, "visibility"),
    ("language-unknown", {}, {"language": "de"}, "language"),
    ("participants-an-object", {}, {"participants": {"email": "a@example.org"}}, "participants"),
    ("participant-a-string", {}, {"participants": ["a@example.org"]}, "participants.0._schema"),
    ("rrule-a-number", {}, {"rrule": 5}, "rrule"),
]


@pytest.mark.parametrize(
    ("resource", "body", "key"),
    [case[1:] for case in INVALID_REQUESTS],
    ids=[case[0] for case in INVALID_REQUESTS],
)
def test_invalid_requests_are_refused_field_by_field_and_write_nothing(api, resource, body, key):
    rooms = [api.make_resource(**resource)] if resource is not None else []
    payload = api.booking_body(*rooms, **body)
    payload = {k: v for k, v in payload.items() if v is not DROP}
    before = api.counts()
    errors = errors_of(api.post("/api/v1/bookings", api.organiser, payload))
    assert key in errors, errors
    assert api.counts() == before == (0, 0)


def test_every_broken_rule_is_reported_at_once(api):
    room = api.make_resource(
        name="Strict room",
        capacity=10,
        max_duration_minutes=60,
        opening_hours={"tue": [["08:00", "17:00"]]},
    )
    errors = errors_of(api.submit(api.organiser, room, expected_attendees=11))
    assert set(errors) == {"expected_attendees", "end", "start"}
    assert all(m.startswith("Strict room: ") for ms in errors.values() for m in ms)


@pytest.mark.parametrize(
    ("buffer", "body"),
    [
        (0, {"rrule": "FREQ=DAILY;BYHOUR=10,11;COUNT=3"}),
        (60, {"end": at(MONDAY, 11), "rrule": "FREQ=DAILY;BYHOUR=10,11;BYMINUTE=30;COUNT=2"}),
    ],
    ids=["occurrences-overlap", "buffers-overlap"],
)
def test_a_series_whose_occurrences_overlap_each_other_is_refused(api, buffer, body):
    room = api.make_resource(requires_approval=False, buffer_minutes=buffer)
    assert "rrule" in errors_of(api.submit(api.organiser, room, **body))
    assert api.counts() == (0, 0)


def test_an_until_in_utc_is_accepted(api):
    booking = api.booking(
        api.organiser, api.make_resource(), rrule="FREQ=WEEKLY;UNTIL=20300318T090000Z"
    )
    assert len(booking["occurrences"]) == 3


def test_count_and_until_together_are_a_422(api):
    response = api.submit(
        api.organiser, api.make_resource(), rrule="FREQ=DAILY;COUNT=3;UNTIL=20300310T000000"
    )
    assert "rrule" in errors_of(response)


@pytest.mark.parametrize(
    ("resource", "body"),
    [
        ({}, {}),
        ({}, {"rrule": "FREQ=DAILY;COUNT=2"}),
        ({"opening_hours": {"fri": [["08:00", "20:00"]]}}, {}),
    ],
    ids=["single", "series", "opening-hours"],
)
def test_a_start_at_the_end_of_the_calendar_is_a_422(api, resource, body):
    room = api.make_resource(**resource)
    response = api.submit(
        api.organiser, room, start="9999-12-31T23:00:00Z", end="9999-12-31T23:30:00Z", **body
    )
    assert "start" in errors_of(response)
    assert api.counts() == (0, 0)


@pytest.mark.parametrize("field", ["title", "description", "notes"])
def test_a_nul_character_in_text_is_refused(api, field):
    """Before anything reads the body (shared.text_input), as any text that is not text."""
    response = api.submit(api.organiser, api.make_resource(), **{field: "Thesis\x00defence"})
    assert problem(response, 400)["codes"] == {field: ["not_text"]}
    assert api.counts() == (0, 0)


# --- conflicts: 409 ---------------------------------------------------------------------------


def test_a_slot_held_by_an_approved_booking_is_refused_with_the_conflicts(api):
    room = api.make_resource(requires_approval=False)
    crew = api.make_resource(kind="service")
    held = api.booking(api.other, room)
    before = api.counts()
    response = api.submit(api.organiser, crew, room, start=at(MONDAY, 11), end=at(MONDAY, 13))
    body = problem(response, 409)
    assert conflict_keys(body["conflicts"]) == [conflict_of(held, room, seen=False)]
    assert api.counts() == before
    # the slot right after it is free
    api.booking(api.organiser, room, start=at(MONDAY, 12), end=at(MONDAY, 13))


def test_the_buffer_after_an_approved_booking_is_respected(api):
    room = api.make_resource(requires_approval=False, buffer_minutes=30)
    held = api.booking(api.other, room, start=at(MONDAY, 10), end=at(MONDAY, 11))
    for start, end in ((at(MONDAY, 11, 15), at(MONDAY, 12)), (at(MONDAY, 9), at(MONDAY, 9, 45))):
        body = problem(api.submit(api.organiser, room, start=start, end=end), 409)
        assert conflict_keys(body["conflicts"]) == [conflict_of(held, room, seen=False)]
    assert (
        api.booking(api.organiser, room, start=at(MONDAY, 11, 30), end=at(MONDAY, 12))["status"]
        == "approved"
    )
    assert (
        api.booking(api.organiser, room, start=at(MONDAY, 9), end=at(MONDAY, 9, 30))["status"]
        == "approved"
    )


def test_a_series_is_refused_when_one_occurrence_is_taken(api):
    room = api.make_resource(requires_approval=False)
    held = api.booking(api.other, room, start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 11))
    body = problem(api.submit(api.organiser, room, rrule="FREQ=DAILY;COUNT=3"), 409)
    assert conflict_keys(body["conflicts"]) == [conflict_of(held, room, seen=False)]


# --- approving, rejecting, cancelling -----------------------------------------------------------


def test_approve_lists_the_competing_requests_which_stay_pending(api):
    room = api.make_resource()
    first = api.booking(api.organiser, room)
    competitor = api.booking(api.other, room, start=at(MONDAY, 11), end=at(MONDAY, 13))
    adjacent = api.booking(api.other, room, start=at(MONDAY, 12), end=at(MONDAY, 14))
    assert conflict_keys(
        api.get(f"/api/v1/bookings/{first['id']}", api.infra).get_json()["conflicts"]
    ) == [conflict_of(competitor, room)]
    approved = api.approved(first)
    assert approved["status"] == "approved"
    assert approved["decided_by"] == api.infra.email
    assert approved["revision"] == 2
    assert conflict_keys(approved["competing"]) == [conflict_of(competitor, room)]
    assert approved["competing"][0]["status"] == "pending"
    for booking in (competitor, adjacent):
        assert (
            api.get(f"/api/v1/bookings/{booking['id']}", api.infra).get_json()["status"]
            == "pending"
        )
    # the competitor now collides with an approved booking
    seen = api.get(f"/api/v1/bookings/{competitor['id']}", api.other).get_json()
    assert conflict_of(first, room, seen=False) in conflict_keys(seen["conflicts"])
    before = api.events()
    body = problem(api.act(competitor, "approve", api.admin), 409)
    assert conflict_keys(body["conflicts"]) == [conflict_of(first, room)]
    after = api.get(f"/api/v1/bookings/{competitor['id']}", api.infra).get_json()
    assert (after["status"], after["revision"]) == ("pending", 1)
    assert api.events() == before
    # the request that starts when the approved one ends is free
    assert api.approved(adjacent, api.admin)["status"] == "approved"


def test_reject_needs_a_reason_and_keeps_it(api):
    booking = api.booking(api.organiser, api.make_resource())
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"reason": "x" * 2001}):
        assert "reason" in errors_of(api.act(booking, "reject", api.infra, body))
    assert api.counts() == (1, 1)
    response = api.act(booking, "reject", api.infra, {"reason": "The hall is being renovated"})
    assert response.status_code == 200
    rejected = response.get_json()
    assert (
        rejected["status"],
        rejected["reason"],
        rejected["decided_by"],
        rejected["revision"],
    ) == (
        "rejected",
        "The hall is being renovated",
        api.infra.email,
        2,
    )
    assert api.get(f"/api/v1/bookings/{booking['id']}", api.organiser).get_json()["reason"] == (
        "The hall is being renovated"
    )


@pytest.mark.parametrize("who", ["organiser", "infra", "admin"])
@pytest.mark.parametrize("approved", [False, True], ids=["pending", "approved"])
def test_the_organiser_or_a_decider_cancels(api, who, approved):
    room = api.make_resource(requires_approval=not approved)
    booking = api.booking(api.organiser, room)
    assert booking["status"] == ("approved" if approved else "pending")
    response = api.act(booking, "cancel", getattr(api, who), {"reason": "Moved online"})
    assert response.status_code == 200
    cancelled = response.get_json()
    assert (cancelled["status"], cancelled["reason"], cancelled["revision"]) == (
        "cancelled",
        "Moved online",
        2,
    )
    # the slot is free again
    assert api.booking(api.other, room)["status"] == ("approved" if approved else "pending")


def test_cancel_without_a_body_or_reason(api):
    booking = api.booking(api.organiser, api.make_resource())
    response = api.post(f"/api/v1/bookings/{booking['id']}/cancel", api.organiser)
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["reason"]) == ("cancelled", None)


NOT_ALLOWED = {
    "approved": [("approve", {}), ("reject", {"reason": "x"})],
    "rejected": [
        ("approve", {}),
        ("reject", {"reason": "x"}),
        ("cancel", {}),
        ("occurrences/0/cancel", {}),
        ("PATCH", {"title": "New"}),
        ("PATCH", {"start": at(MONDAY, 9)}),
    ],
    "cancelled": [
        ("approve", {}),
        ("reject", {"reason": "x"}),
        ("cancel", {}),
        ("occurrences/0/cancel", {}),
        ("PATCH", {"title": "New"}),
        ("PATCH", {"start": at(MONDAY, 9)}),
    ],
}


@pytest.mark.parametrize("setup", list(NOT_ALLOWED))
def test_an_action_the_state_does_not_allow_is_a_409(api, setup):
    booking = api.booking(api.organiser, api.make_resource())
    if setup == "approved":
        api.approved(booking)
    elif setup == "rejected":
        api.act(booking, "reject", api.infra, {"reason": "No"})
    else:
        api.act(booking, "cancel", api.organiser)
    url = f"/api/v1/bookings/{booking['id']}"
    before = api.get(url, api.infra).get_json(), api.counts()
    for action, body in NOT_ALLOWED[setup]:
        if action == "PATCH":
            response = api.patch(url, api.organiser, body)
        else:
            response = api.act(booking, action, api.admin, body)
        problem(response, 409)
    assert (api.get(url, api.infra).get_json(), api.counts()) == before


def test_cancel_one_occurrence_of_a_series_then_all(api):
    room = api.make_resource(requires_approval=False)
    series = api.booking(api.organiser, room, rrule="FREQ=DAILY;COUNT=3")
    response = api.act(series, "occurrences/1/cancel", api.organiser, {"reason": "Holiday"})
    assert response.status_code == 200
    booking = response.get_json()
    assert booking["status"] == "approved"
    assert [o["status"] for o in booking["occurrences"]] == ["active", "cancelled", "active"]
    assert booking["revision"] == 2
    # that occurrence's slot is free, the others are not
    tuesday = api.booking(api.other, room, start=at(TUESDAY, 10), end=at(TUESDAY, 12))
    assert tuesday["status"] == "approved"
    body = problem(api.submit(api.other, room, start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 11)), 409)
    assert [c["booking_id"] for c in body["conflicts"]] == [None]
    problem(api.act(series, "occurrences/1/cancel", api.organiser), 409)
    problem(api.act(series, "occurrences/3/cancel", api.organiser), 404)
    assert api.act(series, "occurrences/0/cancel", api.infra).get_json()["status"] == "approved"
    last = api.act(series, "occurrences/2/cancel", api.organiser).get_json()
    assert last["status"] == "cancelled"
    assert [o["status"] for o in last["occurrences"]] == ["cancelled"] * 3
    assert last["revision"] == 4
    events = api.events(series["id"])
    assert [e["type"] for e in events] == [
        "booking.approved",
        "booking.occurrence_cancelled",
        "booking.occurrence_cancelled",
        "booking.cancelled",
    ]
    assert [e["data"]["cancelled_occurrence"] for e in events[1:]] == [1, 0, 2]


# --- changing -------------------------------------------------------------------------------


def patch(api: BookingApi, booking: dict[str, Any], body: dict[str, Any], user=None):
    response = api.patch(f"/api/v1/bookings/{booking['id']}", user or api.organiser, body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    ("body", "needs_approval", "status"),
    [
        ({"start": at(MONDAY, 9), "end": at(MONDAY, 11)}, True, "pending"),
        ({"end": at(MONDAY, 13)}, True, "pending"),
        ({"rrule": "FREQ=DAILY;COUNT=2"}, True, "pending"),
        ({"resource_ids": ["other-room"]}, True, "pending"),
        ({"start": at(MONDAY, 9), "end": at(MONDAY, 11)}, False, "approved"),
        ({"resource_ids": ["other-room"]}, False, "approved"),
        ({"title": "Renamed"}, True, "approved"),
        ({"description": "More words"}, True, "approved"),
        ({"participants": [{"email": "guest@example.org", "name": "Guest"}]}, True, "approved"),
        ({"notes": "Coffee at 11"}, True, "approved"),
        ({"expected_attendees": 12}, True, "approved"),
    ],
    ids=[
        "time",
        "end",
        "rrule",
        "resources",
        "time-no-approval-needed",
        "resources-no-approval-needed",
        "title",
        "description",
        "participants",
        "notes",
        "attendees",
    ],
)
def test_changing_an_approved_booking(api, body, needs_approval, status):
    room = api.make_resource(requires_approval=needs_approval)
    api.make_resource(slug="other-room", requires_approval=needs_approval)
    booking = api.booking(api.organiser, room)
    if needs_approval:
        booking = api.approved(booking)
    changed = patch(api, booking, body)
    assert changed["status"] == status
    assert changed["revision"] == booking["revision"] + 1
    assert changed["decided_by"] == (booking["decided_by"] if status == "approved" else None)
    for key, value in body.items():
        if key == "resource_ids":
            assert [r["slug"] for r in changed["resources"]] == value
        elif key in ("start", "end"):
            assert parse(changed[key]) == parse(value)
        else:
            assert changed[key] == value
    history = api.get(f"/api/v1/bookings/{booking['id']}/history", api.organiser).get_json()
    last = history["history"][-1]
    assert (last["action"], last["actor"], last["revision"]) == (
        "changed",
        api.organiser.email,
        changed["revision"],
    )
    fields = {c["field"] for c in last["changes"]}
    assert ("status" in fields) is (status == "pending")


def test_a_change_that_changes_nothing_writes_nothing(api):
    booking = api.booking(api.organiser, api.make_resource())
    same = patch(api, booking, {"title": booking["title"], "start": booking["start"]})
    assert same["revision"] == 1
    assert len(api.events(booking["id"])) == 1


def test_moving_onto_a_held_slot_is_a_409_and_changes_nothing(api):
    room = api.make_resource(requires_approval=False)
    held = api.booking(api.other, room, start=at(MONDAY, 14), end=at(MONDAY, 15))
    booking = api.booking(api.organiser, room)
    before = api.counts()
    response = api.patch(
        f"/api/v1/bookings/{booking['id']}",
        api.organiser,
        {"end": at(MONDAY, 14, 30), "title": "Longer"},
    )
    assert conflict_keys(problem(response, 409)["conflicts"]) == [
        conflict_of(held, room, seen=False)
    ]
    assert api.get(f"/api/v1/bookings/{booking['id']}", api.organiser).get_json() == booking
    assert api.counts() == before


INVALID_CHANGES = [
    ({}, {"end": at(MONDAY, 9)}, "end"),
    ({}, {"start": at(MONDAY, 13)}, "end"),
    ({}, {"start": at("2030-02-28", 10), "end": at("2030-02-28", 11)}, "start"),
    ({"capacity": 20}, {"expected_attendees": 21}, "expected_attendees"),
    ({"max_duration_minutes": 120}, {"end": at(MONDAY, 13)}, "end"),
    ({"opening_hours": {"mon": [["08:00", "12:00"]]}}, {"end": at(MONDAY, 13)}, "start"),
    ({}, {"resource_ids": ["no-such-room"]}, "resource_ids"),
    ({}, {"rrule": "FREQ=DAILY;COUNT=501"}, "rrule"),
    ({}, {"title": ""}, "title"),
    ({}, {"status": "approved"}, "status"),
    ({}, {"decided_by": "me"}, "decided_by"),
    ({}, {"revision": 7}, "revision"),
]


def test_invalid_changes_are_refused_and_change_nothing(api):
    for resource, body, key in INVALID_CHANGES:
        booking = api.booking(api.organiser, api.make_resource(**resource))
        before = api.counts()
        response = api.patch(f"/api/v1/bookings/{booking['id']}", api.organiser, body)
        assert key in errors_of(response), (resource, body)
        assert api.get(f"/api/v1/bookings/{booking['id']}", api.organiser).get_json() == booking
        assert api.counts() == before


def test_infra_may_change_anothers_booking(api):
    booking = api.booking(api.organiser, api.make_resource())
    assert patch(api, booking, {"title": "Fixed typo"}, api.infra)["title"] == "Fixed typo"


def test_history_lists_who_what_from_and_to(api):
    booking = api.booking(api.organiser, api.make_resource(), title="Draft")
    patch(api, booking, {"title": "Defence"})
    api.approved(booking)
    patch(api, booking, {"end": at(MONDAY, 13)})
    api.act(booking, "cancel", api.organiser, {"reason": "Ill"})
    response = api.get(f"/api/v1/bookings/{booking['id']}/history", api.organiser)
    assert response.status_code == 200
    history = response.get_json()["history"]
    summary = [(h["action"], h["actor"], h["revision"], h["reason"]) for h in history]
    assert summary == [
        ("submitted", api.organiser.email, 1, None),
        ("changed", api.organiser.email, 2, None),
        ("approved", api.infra.email, 3, None),
        ("changed", api.organiser.email, 4, None),
        ("cancelled", api.organiser.email, 5, "Ill"),
    ]
    assert history[1]["changes"] == [{"field": "title", "from": "Draft", "to": "Defence"}]
    moved = {c["field"]: c for c in history[3]["changes"]}
    assert set(moved) == {"end", "status"}
    assert parse(moved["end"]["from"]) == parse(at(MONDAY, 12))
    assert parse(moved["end"]["to"]) == parse(at(MONDAY, 13))
    assert (moved["status"]["from"], moved["status"]["to"]) == ("approved", "pending")
    assert all(parse(h["at"]).tzinfo is not None for h in history)
    assert api.get(f"/api/v1/bookings/{booking['id']}/history", api.infra).status_code == 200


# --- managers -------------------------------------------------------------------------------


@pytest.fixture
def managed(api):
    """A studio managed by Sam (named with other capitals), and a hall Sam does not manage."""
    studio = api.make_resource(
        name="Film studio", kind="studio", managers=["Sam.Manager@Example.org"]
    )
    hall = api.make_resource(name="Hall")
    sam = api.user("organiser", "sam.manager@example.org", "Sam Studio")
    return studio, hall, sam


def test_a_manager_decides_on_their_resources_bookings_only(api, managed):
    studio, hall, sam = managed
    in_studio = [
        api.booking(api.organiser, studio, start=at(MONDAY, h), end=at(MONDAY, h + 1))
        for h in (8, 10, 12)
    ]
    in_hall = api.booking(api.organiser, hall)
    assert api.get(f"/api/v1/bookings/{in_studio[0]['id']}", sam).status_code == 200
    assert api.get(f"/api/v1/bookings/{in_studio[0]['id']}/history", sam).status_code == 200
    approved = api.approved(in_studio[0], sam)
    assert approved["decided_by"] == "sam.manager@example.org"
    assert api.act(in_studio[1], "reject", sam, {"reason": "Maintenance"}).status_code == 200
    assert api.act(in_studio[2], "cancel", sam).status_code == 200
    closure = {"start": at(TUESDAY, 8), "end": at(TUESDAY, 9), "reason": "Lamp change"}
    assert api.post(f"/api/v1/resources/{studio['id']}/closures", sam, closure).status_code == 201
    before = api.counts()
    problem(api.get(f"/api/v1/bookings/{in_hall['id']}", sam), 403)
    problem(api.act(in_hall, "approve", sam), 403)
    problem(api.act(in_hall, "reject", sam, {"reason": "No"}), 403)
    problem(api.act(in_hall, "cancel", sam), 403)
    problem(api.post(f"/api/v1/resources/{hall['id']}/closures", sam, closure), 403)
    assert api.counts() == before
    listed = ids(api.get("/api/v1/bookings", sam).get_json()["bookings"])
    assert sorted(listed) == sorted(ids(in_studio))


def test_a_manager_decides_only_the_line_of_their_resource(api, managed):
    studio, hall, sam = managed
    both = api.booking(api.organiser, studio, hall)
    problem(api.act(both, "approve", sam, {"resource_ids": [hall["id"]]}), 403)
    approved = api.act(both, "approve", sam).get_json()
    assert approved["status"] == "pending"
    lines = {line["resource_id"]: line for line in approved["lines"]}
    assert lines[studio["id"]]["status"] == "approved"
    assert lines[studio["id"]]["decided_by"] == "sam.manager@example.org"
    assert lines[hall["id"]]["status"] == "pending"
    assert lines[studio["id"]]["deciders"] == ["sam.manager@example.org"]
    problem(api.act(both, "approve", sam), 409)  # nothing of Sam's is left to decide


def test_the_decision_queue_holds_the_pending_requests_each_may_decide_on(api, managed):
    studio, hall, sam = managed
    later = api.booking(api.organiser, studio, start=at(TUESDAY, 10), end=at(TUESDAY, 11))
    sooner = api.booking(api.other, studio)
    in_hall = api.booking(api.organiser, hall, start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 11))
    decided = api.booking(api.organiser, hall, start=at(THURSDAY, 10), end=at(THURSDAY, 11))
    api.approved(decided)

    def queue(user):
        response = api.get("/api/v1/queue", user)
        assert response.status_code == 200
        return ids(response.get_json()["bookings"])

    assert queue(api.infra) == ids([sooner, later, in_hall])
    assert queue(sam) == ids([sooner, later])
    assert queue(api.organiser) == []


# --- listing ----------------------------------------------------------------------------------


@pytest.fixture
def listing(api):
    """Four bookings: the organiser's on Monday (pending, r1) and Tuesday (approved, r2), the
    other organiser's on Wednesday (pending, r1) and Thursday (rejected, r2)."""
    r1, r2 = api.make_resource(slug="r1"), api.make_resource(slug="r2")
    made = {
        "mon": api.booking(api.organiser, r1),
        "tue": api.booking(api.organiser, r2, start=at(TUESDAY, 10), end=at(TUESDAY, 12)),
        "wed": api.booking(api.other, r1, start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 12)),
        "thu": api.booking(api.other, r2, start=at(THURSDAY, 10), end=at(THURSDAY, 12)),
    }
    api.approved(made["tue"])
    api.act(made["thu"], "reject", api.infra, {"reason": "No"})
    return {"ids": {k: v["id"] for k, v in made.items()}, "r1": r1["id"], "r2": r2["id"]}


LIST_FILTERS = [
    ("organiser", {}, ["mon", "tue"]),
    ("other", {}, ["wed", "thu"]),
    ("infra", {}, ["mon", "tue", "wed", "thu"]),
    ("admin", {}, ["mon", "tue", "wed", "thu"]),
    ("infra", {"mine": "true"}, []),
    ("organiser", {"mine": "true"}, ["mon", "tue"]),
    ("organiser", {"mine": "false"}, ["mon", "tue"]),
    ("infra", {"status": "pending"}, ["mon", "wed"]),
    ("infra", {"status": "approved"}, ["tue"]),
    ("infra", {"status": "rejected"}, ["thu"]),
    ("organiser", {"status": "pending"}, ["mon"]),
    ("infra", {"resource_id": "{r1}"}, ["mon", "wed"]),
    ("organiser", {"resource_id": "{r1}"}, ["mon"]),
    ("infra", {"from": at(TUESDAY, 0)}, ["tue", "wed", "thu"]),
    ("infra", {"to": at(WEDNESDAY, 0)}, ["mon", "tue"]),
    ("infra", {"from": at(TUESDAY, 0), "to": at(WEDNESDAY, 0)}, ["tue"]),
    ("infra", {"from": at(MONDAY, 11), "to": at(MONDAY, 11, 30)}, ["mon"]),
    ("infra", {"status": "pending", "resource_id": "{r2}"}, []),
]


def test_list_bookings_filters(api, listing):
    for who, query, expected in LIST_FILTERS:
        query = {k: v.format(**listing) for k, v in query.items()}
        response = api.get("/api/v1/bookings", getattr(api, who), query_string=query)
        assert response.status_code == 200, (who, query)
        found = ids(response.get_json()["bookings"])
        assert found == [listing["ids"][k] for k in expected], (who, query, expected)


BAD_LIST_FILTERS = [
    ({"status": "maybe"}, "status"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2030-13-01"}, "to"),
    ({"mine": "perhaps"}, "mine"),
    ({"limit": "0"}, "limit"),
    ({"colour": "red"}, "colour"),
]


def test_list_bookings_refuses_bad_filters(api):
    for query, key in BAD_LIST_FILTERS:
        response = api.get("/api/v1/bookings", api.infra, query_string=query)
        assert key in errors_of(response), query


# --- availability and busy blocks ---------------------------------------------------------------


@pytest.fixture
def rooms(api):
    made = {
        "hall": api.make_resource(
            name="Hall", capacity=100, features=["projector", "Hearing loop"]
        ),
        "small": api.make_resource(name="Small room", capacity=20, features=["projector"]),
        "studio": api.make_resource(name="Photo studio", kind="studio", capacity=None),
        "busy": api.make_resource(name="Busy room", requires_approval=False),
        "buffered": api.make_resource(
            name="Buffered room", requires_approval=False, buffer_minutes=60
        ),
        "requested": api.make_resource(name="Requested room"),
        "closed": api.make_resource(name="Closed room"),
        "evenings": api.make_resource(
            name="Evening room", opening_hours={"mon": [["17:00", "00:00"]]}
        ),
        "inactive": api.make_resource(name="Retired room", active=False),
    }
    api.booking(api.organiser, made["busy"], start=at(MONDAY, 11), end=at(MONDAY, 13))
    api.booking(api.organiser, made["buffered"], start=at(MONDAY, 8), end=at(MONDAY, 9, 30))
    api.booking(api.organiser, made["requested"])
    closure = {"start": at(MONDAY, 0), "end": at(MONDAY, 10, 30), "reason": "Cleaning"}
    api.post(f"/api/v1/resources/{made['closed']['id']}/closures", api.infra, closure)
    return {name: r["id"] for name, r in made.items()}


AVAILABILITY = [
    ((10, 12), {}, ["hall", "requested", "small", "studio"]),
    ((10, 12), {"kind": "studio"}, ["studio"]),
    ((10, 12), {"kind": "service"}, []),
    ((10, 12), {"min_capacity": "50"}, ["hall", "requested"]),
    ((10, 12), {"features": "projector"}, ["hall", "small"]),
    ((10, 12), {"features": "PROJECTOR, hearing loop"}, ["hall"]),
    ((10, 12), {"kind": "venue", "min_capacity": "21", "features": "projector"}, ["hall"]),
    ((13, 15), {}, ["buffered", "busy", "closed", "hall", "requested", "small", "studio"]),
    (
        (18, 20),
        {"kind": "venue"},
        ["buffered", "busy", "closed", "evenings", "hall", "requested", "small"],
    ),
]


def test_availability_excludes_busy_closed_and_out_of_hours_resources(api, rooms):
    for window, filters, expected in AVAILABILITY:
        query = {"start": at(MONDAY, window[0]), "end": at(MONDAY, window[1]), **filters}
        response = api.get("/api/v1/availability", api.organiser, query_string=query)
        assert response.status_code == 200, query
        found = sorted(r["id"] for r in response.get_json()["resources"])
        assert found == sorted(rooms[name] for name in expected), (window, filters, expected)


BAD_AVAILABILITY_QUERIES = [
    ({"end": at(MONDAY, 12)}, "start"),
    ({"start": at(MONDAY, 10)}, "end"),
    ({"start": at(MONDAY, 12), "end": at(MONDAY, 10)}, "end"),
    ({"start": at(MONDAY, 10), "end": at(MONDAY, 12), "kind": "room"}, "kind"),
    ({"start": at(MONDAY, 10), "end": at(MONDAY, 12), "min_capacity": "lots"}, "min_capacity"),
]


def test_availability_refuses_bad_queries(api):
    for query, key in BAD_AVAILABILITY_QUERIES:
        response = api.get("/api/v1/availability", api.organiser, query_string=query)
        assert key in errors_of(response), query


def test_a_resource_with_minimum_notice_is_available_when_the_notice_is_met(api):
    aula = api.make_resource(name="Aula", min_notice_hours=48)  # Monday 10:00 is 70 h away
    query = {"start": at(MONDAY, 10), "end": at(MONDAY, 12)}
    found = api.get("/api/v1/availability", api.organiser, query_string=query).get_json()
    assert aula["id"] in [r["id"] for r in found["resources"]]


def test_busy_blocks_of_a_resource(api):
    room = api.make_resource(slug="busy-room", requires_approval=False, buffer_minutes=15)
    mine = api.booking(
        api.organiser, room, start=at(MONDAY, 8), end=at(MONDAY, 9), visibility="internal"
    )
    public = api.booking(
        api.other,
        room,
        start=at(MONDAY, 10),
        end=at(MONDAY, 11),
        visibility="public",
        title="Open day",
    )
    api.booking(
        api.other,
        room,
        start=at(MONDAY, 12),
        end=at(MONDAY, 13),
        visibility="private",
        title="Secret",
    )
    api.booking(api.other, room, start=at(TUESDAY, 12), end=at(TUESDAY, 13))  # outside the range
    cancelled = api.booking(api.other, room, start=at(MONDAY, 15), end=at(MONDAY, 16))
    api.act(cancelled, "cancel", api.other)
    closure = {"start": at(MONDAY, 17), "end": at(MONDAY, 18), "reason": "Cleaning"}
    api.post(f"/api/v1/resources/{room['id']}/closures", api.infra, closure)
    query = {"from": at(MONDAY, 0), "to": at(TUESDAY, 0)}
    response = api.get("/api/v1/resources/busy-room/busy", api.organiser, query_string=query)
    assert response.status_code == 200
    blocks = [
        (b["kind"], b["start"], b["end"], b["booking_id"], b["title"])
        for b in response.get_json()["busy"]
    ]
    assert blocks == [
        ("booking", mine["start"], mine["end"], mine["id"], "Thesis defence"),
        ("booking", public["start"], public["end"], public["id"], "Open day"),
        ("booking", at(MONDAY, 12), at(MONDAY, 13), None, None),  # someone else's, not public
        ("closure", at(MONDAY, 17), at(MONDAY, 18), None, "Cleaning"),
    ]
    as_infra = api.get(f"/api/v1/resources/{room['id']}/busy", api.infra, query_string=query)
    assert [b["title"] for b in as_infra.get_json()["busy"]] == [
        "Thesis defence",
        "Open day",
        "Secret",
        "Cleaning",
    ]
    for bad in ({"from": at(MONDAY, 0)}, {"to": at(MONDAY, 0)}, {"from": "x", "to": at(MONDAY, 0)}):
        errors_of(api.get(f"/api/v1/resources/{room['id']}/busy", api.organiser, query_string=bad))


# --- the OpenAPI document -----------------------------------------------------------------------

CONTRACT_OPERATIONS = {
    "/api/v1/resources": {"get", "post"},
    "/api/v1/resources/{}": {"get", "patch"},
    "/api/v1/resources/{}/closures": {"post"},
    "/api/v1/resources/{}/busy": {"get"},
    "/api/v1/availability": {"get"},
    "/api/v1/bookings": {"get", "post"},
    "/api/v1/bookings/{}": {"get", "patch"},
    "/api/v1/bookings/{}/approve": {"post"},
    "/api/v1/bookings/{}/reject": {"post"},
    "/api/v1/bookings/{}/cancel": {"post"},
    "/api/v1/bookings/{}/occurrences/{}/cancel": {"post"},
    "/api/v1/bookings/{}/history": {"get"},
}


# For anyone: asking for a reset and using its link, logging in and out, this document.
ANONYMOUS = ("/api/v1/password-reset", "/api/v1/session", "/api/v1/openapi.json")


def test_the_openapi_document_describes_every_contract_operation(api):
    response = api.get("/api/v1/openapi.json")  # anyone: no credentials
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    validate(document)  # raises with the first way the document breaks the OpenAPI schema
    assert re.fullmatch(r"3\.\d+\.\d+", document["openapi"])
    assert document["info"]["title"] and document["info"]["version"]
    paths = {re.sub(r"\{[^}]+\}", "{}", path): ops for path, ops in document["paths"].items()}
    for path, methods in CONTRACT_OPERATIONS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer"}
    for path, operations in document["paths"].items():
        declared = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in operations.items():
            assert operation["responses"], (path, method)
            assert all(re.fullmatch(r"[1-5]\d\d", code) for code in operation["responses"])
            parameters = operation.get("parameters", [])
            assert all({"name", "in"} <= set(p) for p in parameters), (path, method)
            assert {p["name"] for p in parameters if p["in"] == "path"} == declared
            if path.startswith(ANONYMOUS) and path != "/api/v1/sessions":
                assert "security" not in operation
            else:
                assert "401" in operation["responses"] and operation["security"]
    booking_out = document["components"]["schemas"]["BookingOut"]["properties"]
    assert set(booking_out) >= BOOKING_KEYS
    submit = document["paths"]["/api/v1/bookings"]["post"]
    assert {"201", "409", "422"} <= set(submit["responses"])
    assert "requestBody" in submit


# --- the outbox: one event with the full snapshot per change, nothing for a refusal -----------


def test_every_change_writes_exactly_one_event_with_the_snapshot_and_revision(api):
    room = api.make_resource(name="Hall")
    steps = [
        ("booking.submitted", lambda b: api.submit(api.organiser, room, title="Draft")),
        (
            "booking.changed",
            lambda b: api.patch(f"/api/v1/bookings/{b['id']}", api.organiser, {"title": "Defence"}),
        ),
        ("booking.approved", lambda b: api.act(b, "approve", api.infra)),
        (
            "booking.changed",
            lambda b: api.patch(
                f"/api/v1/bookings/{b['id']}", api.organiser, {"end": at(MONDAY, 13)}
            ),
        ),
        ("booking.approved", lambda b: api.act(b, "approve", api.admin)),
        ("booking.cancelled", lambda b: api.act(b, "cancel", api.organiser, {"reason": "Ill"})),
    ]
    booking: dict[str, Any] = {}
    for n, (event_type, step) in enumerate(steps, start=1):
        response = step(booking)
        assert response.status_code in (200, 201), response.get_json()
        booking = response.get_json()
        assert booking["revision"] == n
        events = api.events(booking["id"])
        assert len(events) == n
        event = events[-1]
        assert event["type"] == event_type
        data = event["data"]
        assert data["booking_id"] == booking["id"]
        assert data["revision"] == booking["revision"]
        assert data["status"] == booking["status"]
        assert data["title"] == booking["title"]
        assert parse(data["start"]) == parse(booking["start"])
        assert parse(data["end"]) == parse(booking["end"])
        assert [r["id"] for r in data["resources"]] == [room["id"]]
        assert data["organiser"] == booking["organiser"]
        assert len(data["occurrences"]) == len(booking["occurrences"])
        assert data["reason"] == booking["reason"]
        assert data["decided_by"] == booking["decided_by"]
        if event_type == "booking.changed":
            assert data["changes"] and all(c["field"] for c in data["changes"])
    assert api.counts() == (1, len(steps))


@pytest.mark.parametrize(
    ("requires_approval", "event_type", "status"),
    [(False, "booking.approved", "approved"), (True, "booking.submitted", "pending")],
)
def test_a_submission_writes_one_event(api, requires_approval, event_type, status):
    booking = api.booking(api.organiser, api.make_resource(requires_approval=requires_approval))
    events = api.events(booking["id"])
    assert [(e["type"], e["data"]["revision"], e["data"]["status"]) for e in events] == [
        (event_type, 1, status)
    ]


def test_a_rejection_writes_one_event_with_the_reason(api):
    booking = api.booking(api.organiser, api.make_resource())
    api.act(booking, "reject", api.infra, {"reason": "Renovation"})
    event = api.events(booking["id"])[-1]
    assert (event["type"], event["data"]["revision"], event["data"]["reason"]) == (
        "booking.rejected",
        2,
        "Renovation",
    )


def test_a_refused_submission_writes_no_booking_and_no_event(api):
    room = api.make_resource(requires_approval=False)
    api.booking(api.other, room)
    assert api.counts() == (1, 1)
    problem(api.submit(api.organiser, room), 409)
    errors_of(api.submit(api.organiser, room, end=at(MONDAY, 9)))
    problem(api.submit(api.organiser, room, title=["not", "text"]), 422)
    assert api.counts() == (1, 1)


def test_each_create_says_where_the_new_thing_is(api):
    room = api.post("/api/v1/resources", api.admin, {"name": "Aula", "kind": "venue"})
    team = api.post("/api/v1/teams", api.admin, {"name": "Studio team"})
    booking = api.submit(api.organiser, room.get_json())
    person = api.post(
        "/api/v1/users", api.admin, {"email": "new@example.org", "name": "New", "role": "organiser"}
    )
    for made, who in (
        (room, api.admin),
        (team, api.admin),
        (booking, api.organiser),
        (person, api.admin),
    ):
        assert made.status_code == 201, made.get_json()
        location = made.headers["Location"]
        assert location.startswith("http://localhost/api/v1/"), location
        again = api.get(location.removeprefix("http://localhost"), who)
        assert again.status_code == 200 and again.get_json() == made.get_json()
    key = {"Idempotency-Key": "create-once"}
    first = api.post(
        "/api/v1/bookings",
        api.organiser,
        api.booking_body(room.get_json(), start=at(MONDAY, 13), end=at(MONDAY, 14)),
        headers=key,
    )
    replay = api.post(
        "/api/v1/bookings",
        api.organiser,
        api.booking_body(room.get_json(), start=at(MONDAY, 13), end=at(MONDAY, 14)),
        headers=key,
    )
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Location"] == first.headers["Location"]
