"""``GET /api/v1/suggestions``: the next free times for a taken slot and other free
resources of the same kind, through the Flask test client; a taken submit's 409 carries
the same; bad input is a 422 naming the field; the work is a fixed number of statements.
The clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.booking.commands import SuggestionQuery
from services.booking.usecases import queries
from tests.integration.test_booking_statements import counted
from tests.support.booking import MONDAY, NOW, BookingApi, at, parse, problem

WEEKDAY_HOURS = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def suggested(api: BookingApi, resources, start: str, end: str, user=None):
    query = {"resource_ids": ",".join(r["id"] for r in resources), "start": start, "end": end}
    response = api.get("/api/v1/suggestions", user or api.organiser, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def spans(body) -> list[tuple[str, str]]:
    return [(parse(t["start"]).isoformat(), parse(t["end"]).isoformat()) for t in body["times"]]


def test_a_taken_slot_suggests_the_next_free_times_within_hours_and_buffers(api):
    hall = api.make_resource(
        name="Hall", requires_approval=False, buffer_minutes=30, opening_hours=WEEKDAY_HOURS
    )
    api.booking(
        api.other,
        hall,
        start=at(MONDAY, 10),
        end=at(MONDAY, 12),
        title="Secret",
        visibility="private",
    )
    body = suggested(api, [hall], at(MONDAY, 10), at(MONDAY, 12))
    assert spans(body) == [
        (parse(at(MONDAY, 12, 30)).isoformat(), parse(at(MONDAY, 14, 30)).isoformat()),
        (parse(at(MONDAY, 14, 30)).isoformat(), parse(at(MONDAY, 16, 30)).isoformat()),
        (parse(at("2030-03-05", 8)).isoformat(), parse(at("2030-03-05", 10)).isoformat()),
        (parse(at("2030-03-05", 10)).isoformat(), parse(at("2030-03-05", 12)).isoformat()),
        (parse(at("2030-03-05", 12)).isoformat(), parse(at("2030-03-05", 14)).isoformat()),
    ]
    assert "Secret" not in str(body)  # free and busy only
    assert body["alternatives"] == []


def test_closures_notice_and_other_resources_of_the_kind(api):
    hall = api.make_resource(name="Hall", requires_approval=False, opening_hours=WEEKDAY_HOURS)
    aula = api.make_resource(name="Aula", opening_hours=WEEKDAY_HOURS)
    studio = api.make_resource(name="Studio", kind="studio", capacity=None)
    api.make_resource(name="Retired", active=False)
    api.booking(api.other, hall, start=at(MONDAY, 8), end=at(MONDAY, 17))
    closure = {"start": at("2030-03-05", 0), "end": at("2030-03-06", 0), "reason": "Floor"}
    assert (
        api.post(f"/api/v1/resources/{hall['id']}/closures", api.infra, closure).status_code == 201
    )
    body = suggested(api, [hall], at(MONDAY, 9), at(MONDAY, 11))
    assert spans(body)[0] == (
        parse(at("2030-03-06", 8)).isoformat(),
        parse(at("2030-03-06", 10)).isoformat(),
    )
    assert [a["resource_id"] for a in body["alternatives"]] == [aula["id"]]
    assert body["alternatives"][0]["name"] == "Aula"
    assert studio["id"] not in str(body)


def test_a_time_in_the_past_suggests_times_from_now_on(api):
    hall = api.make_resource(name="Hall", min_notice_hours=24)
    body = suggested(api, [hall], at("2030-02-01", 10), at("2030-02-01", 11))
    assert body["times"] and all(
        parse(t["start"]) >= NOW + timedelta(hours=24) for t in body["times"]
    )


def test_a_taken_submit_answers_409_with_suggestions_and_its_conflicts(api):
    hall = api.make_resource(name="Hall", requires_approval=False)
    api.booking(api.other, hall)
    response = api.submit(api.organiser, hall)
    body = problem(response, 409)
    assert body["conflicts"]
    assert len(body["suggestions"]["times"]) == 5
    assert parse(body["suggestions"]["times"][0]["start"]) == parse(at(MONDAY, 12))


BAD = [
    ({"start": at(MONDAY, 12), "end": at(MONDAY, 10)}, "end"),
    ({"start": "0001-01-01T10:00:00Z", "end": at(MONDAY, 10)}, "start"),
    ({"start": at(MONDAY, 10), "end": "9999-12-31T10:00:00Z"}, "end"),
    ({"start": at(MONDAY, 10), "end": at("2030-04-01", 10)}, "end"),
    ({"start": "soon", "end": at(MONDAY, 10)}, "start"),
    ({"resource_ids": "no-such-room"}, "resource_ids"),
    ({"resource_ids": ""}, "resource_ids"),
    ({"resource_ids": ",".join(f"r{n}" for n in range(40))}, "resource_ids"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD)
def test_bad_input_is_a_422_naming_the_field(api, overrides, field):
    hall = api.make_resource(name="Hall")
    query = {"resource_ids": hall["id"], "start": at(MONDAY, 10), "end": at(MONDAY, 12)}
    response = api.get("/api/v1/suggestions", api.organiser, query_string={**query, **overrides})
    assert field in problem(response, 422)["errors"]


def test_suggestions_take_a_fixed_number_of_statements(api):
    rooms = [api.make_resource(name=f"Room {n}", requires_approval=False) for n in range(6)]
    for day in range(4):
        for hour in (8, 10, 12, 14, 16):
            start = at(f"2030-03-0{4 + day}", hour)
            api.booking(api.other, *rooms[:3], start=start, end=at(f"2030-03-0{4 + day}", hour + 1))
    query = SuggestionQuery(
        parse(at(MONDAY, 8)), parse(at(MONDAY, 9)), tuple(r["id"] for r in rooms[:3])
    )
    with counted(api) as statements:
        found = queries.suggest(api.app.extensions["booking_context"], query)
    assert len(statements) <= 5, statements
    assert found.times and found.alternatives
