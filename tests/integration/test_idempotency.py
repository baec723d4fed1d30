"""Creates a client may retry: with the same Idempotency-Key a retry by the same person gets
the first answer (status, body) and no second record, also when the retries arrive at once;
the same key with another body is a 422; another person's key is theirs; keys last a day."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import Closure, IdempotencyKey, Resource, Team
from tests.support.booking import NOW, BookingApi, at, problem

PARALLEL = 8


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"), NOW)


def _count(api: BookingApi, model) -> int:
    with api.db.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


def _post(api: BookingApi, path: str, body: dict, key: str, user=None):
    headers = {**(user or api.admin).headers, "Idempotency-Key": key}
    return api.client.post(path, json=body, headers=headers)


def test_a_retried_booking_answers_the_first_result_and_creates_nothing(api):
    room = api.make_resource()
    body = api.booking_body(room)
    first = _post(api, "/api/v1/bookings", body, "b-1", api.organiser)
    again = _post(api, "/api/v1/bookings", body, "b-1", api.organiser)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Location") == first.headers.get("Location")
    assert api.counts() == (1, 1)  # one booking, one event
    other = _post(api, "/api/v1/bookings", body, "b-2", api.organiser)
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("/api/v1/resources", {"name": "Aula", "kind": "venue", "capacity": 300}, Resource),
        ("/api/v1/teams", {"name": "Kommunikation"}, Team),
        (
            "/api/v1/resources/{room}/closures",
            {"start": at("2030-04-01", 8), "end": at("2030-04-02", 8), "reason": "Floors"},
            Closure,
        ),
    ],
    ids=["resource", "team", "closure"],
)
def test_resources_teams_and_closures_are_retryable_too(api, path, body, model):
    path = path.format(room=api.make_resource()["id"])
    before = _count(api, model)
    first = _post(api, path, body, "k")
    again = _post(api, path, body, "k")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert _count(api, model) == before + 1


def test_the_same_key_with_another_request_is_a_422_saying_so(api):
    room = api.make_resource()
    assert (
        _post(api, "/api/v1/bookings", api.booking_body(room), "k", api.organiser).status_code
        == 201
    )
    changed = api.booking_body(room, title="Another event")
    said = problem(_post(api, "/api/v1/bookings", changed, "k", api.organiser), 422)
    assert said["codes"] == {"Idempotency-Key": ["idempotency_key_reused"]}
    assert "another request" in said["detail"]
    assert api.counts()[0] == 1


def test_a_key_is_each_persons_own_and_lasts_a_day(api):
    room = api.make_resource()
    body = api.booking_body(room)
    mine = _post(api, "/api/v1/bookings", body, "k", api.organiser).get_json()
    theirs = _post(api, "/api/v1/bookings", body, "k", api.other).get_json()
    assert mine["id"] != theirs["id"]
    api.set_now(NOW + timedelta(hours=23))
    assert _post(api, "/api/v1/bookings", body, "k", api.organiser).get_json() == mine
    api.set_now(NOW + timedelta(hours=25))
    later = _post(api, "/api/v1/bookings", body, "k", api.organiser)
    assert later.status_code == 201 and later.get_json()["id"] != mine["id"]
    assert api.counts()[0] == 3
    with api.db.transaction(readonly=True) as session:  # the day-old keys are gone
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_concurrent_retries_with_one_key_create_one_record(api):
    room = api.make_resource(requires_approval=False)
    body = api.booking_body(room)
    barrier = threading.Barrier(PARALLEL)

    def send(_):
        client = api.app.test_client()
        barrier.wait()
        headers = {**api.organiser.headers, "Idempotency-Key": "once"}
        response = client.post("/api/v1/bookings", json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(send, range(PARALLEL)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({answer["id"] for _, answer in answers}) == 1
    assert api.counts() == (1, 1)


@pytest.mark.parametrize("key", ["", "x" * 201, "nyckel-å", "two words"])
def test_a_key_that_is_not_one_is_a_400_naming_the_header(api, key):
    room = api.make_resource()
    said = problem(_post(api, "/api/v1/bookings", api.booking_body(room), key, api.organiser), 400)
    assert said["codes"] == {"Idempotency-Key": ["idempotency_key_invalid"]}
    assert api.counts() == (0, 0)


def test_without_a_key_nothing_changes(api):
    room = api.make_resource()
    for _ in range(2):
        assert api.submit(api.organiser, room).status_code == 201
    assert api.counts()[0] == 2


def test_the_openapi_document_names_the_header_on_each_create(api):
    document = api.get("/api/v1/openapi.json").get_json()
    creates = [(path, ops["post"]) for path, ops in document["paths"].items() if "post" in ops]
    named = {
        path
        for path, op in creates
        if "Idempotency-Key" in [p.get("name") for p in op.get("parameters", [])]
    }
    assert named == {
        "/api/v1/bookings",
        "/api/v1/resources",
        "/api/v1/teams",
        "/api/v1/resources/{resource_id}/closures",
        "/api/v1/categories",
        "/api/v1/units",
        "/api/v1/suppliers",
    }


def test_a_supplier_or_unit_retried_with_its_key_is_made_once(api):
    supplier = {
        "name": "Bild AB",
        "agreement_ref": "UH-1",
        "hourly_rate": 900,
        "valid_from": "2030-01-01",
    }
    for path, body in (
        ("/api/v1/suppliers", supplier),
        ("/api/v1/units", {"slug": "math", "name_sv": "Matematik", "name_en": "Mathematics"}),
    ):
        headers = {"Idempotency-Key": f"key-{path}"}
        first = api.post(path, api.admin, body, headers=headers)
        again = api.post(path, api.admin, body, headers=headers)
        assert first.status_code == again.status_code == 201, again.get_json()
        assert first.get_json() == again.get_json()
        assert first.headers["Location"] == again.headers["Location"]
        listed = api.get(path, api.admin).get_json()[path.rsplit("/", 1)[-1]]
        assert len(listed) == 1
