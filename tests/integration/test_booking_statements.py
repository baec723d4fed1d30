"""The busiest pages ask the database a fixed, small number of questions: the decision queue
and the check of a long series each take at most 5 SQL statements (SQLite's BEGIN
included), however many requests, resources and dates there are; a submit and an approve
through the API as many for 10 resources as for 1 (issue 13), and reading a booking of 500
dates a handful. Counted with SQLAlchemy's ``before_cursor_execute`` on the app's engine, on
the run's backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from services.booking.commands import CheckRequest
from services.booking.usecases import queries
from shared.auth import Principal
from tests.support.booking import MONDAY, BookingApi, at, parse

MAX_STATEMENTS = 5
WEEKS = 20


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


@contextmanager
def counted(api: BookingApi) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_: Any) -> None:
        statements.append(statement)

    event.listen(api.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(api.db.engine, "before_cursor_execute", count)


def principal(api: BookingApi, user) -> Principal:
    return Principal(user.user_id, user.email, user.name, user.role)


def statements_of(api: BookingApi, call: Callable[[], Any]) -> tuple[Any, list[str]]:
    with counted(api) as statements:
        result = call()
    return result, statements


def test_the_decision_queue_of_20_requests_takes_at_most_5_statements(api):
    rooms = [api.make_resource(name=f"Room {n}") for n in range(3)]
    crew = api.make_resource(name="Crew", kind="service", requires_approval=False)
    requests = []
    for n in range(24):
        day = MONDAY + timedelta(days=n % 6)
        body: dict[str, Any] = {"title": f"Request {n}", "start": at(day, 10), "end": at(day, 12)}
        if n % 4 == 0:
            body["rrule"] = "FREQ=WEEKLY;COUNT=5"
        chosen = (rooms[n % 3], crew) if n % 5 == 0 else (rooms[n % 3],)
        requests.append(api.booking(api.organiser, *chosen, **body))
    for decided in requests[:4]:  # the others on their rooms and days now collide with these
        api.approved(decided)
    waiting = requests[4:]
    expected = {
        b["id"]: api.get(f"/api/v1/bookings/{b['id']}", api.infra).get_json() for b in waiting
    }
    ctx = api.app.extensions["booking_context"]
    infra = principal(api, api.infra)

    items, statements = statements_of(api, lambda: queries.decision_queue(ctx, infra))

    assert len(statements) <= MAX_STATEMENTS, statements
    assert {item.booking.id for item in items} == set(expected)
    for item in items:
        shown = expected[item.booking.id]
        assert [r.id for r in item.booking.resources] == [r["id"] for r in shown["resources"]]
        assert [(o.n, o.start) for o in item.booking.occurrences] == [
            (o["n"], parse(o["start"])) for o in shown["occurrences"]
        ]
        conflicts = {(c["booking_id"], c["status"]) for c in shown["conflicts"]}
        assert {(c.booking_id, "approved") for c in item.held} | {
            (c.booking_id, "pending") for c in item.competing
        } == conflicts
    assert any(item.held for item in items) and any(item.competing for item in items)


def test_checking_a_20_week_series_on_every_resource_takes_at_most_5_statements(api):
    rooms = [api.make_resource(name=f"Room {n}", requires_approval=False) for n in range(4)]
    studio = api.make_resource(
        name="Studio", kind="studio", opening_hours={"tue": [["08:00", "17:00"]]}
    )
    third_monday = MONDAY + timedelta(weeks=2)
    taken = api.booking(
        api.other,
        rooms[1],
        start=at(third_monday, 11),
        end=at(third_monday, 13),
        visibility="public",
        title="Open day",
    )
    body = {"start": at(MONDAY, 8), "end": at(MONDAY, 9), "reason": "Cleaning"}
    closure = api.post(f"/api/v1/resources/{rooms[2]['id']}/closures", api.infra, body)
    assert closure.status_code == 201
    cmd = CheckRequest(
        parse(at(MONDAY, 8)), parse(at(MONDAY, 12)), f"FREQ=WEEKLY;COUNT={WEEKS}", limit=WEEKS
    )
    ctx = api.app.extensions["booking_context"]

    check, statements = statements_of(
        api, lambda: queries.check_request(ctx, principal(api, api.organiser), cmd)
    )

    assert len(statements) <= MAX_STATEMENTS, statements
    assert (check.occurrences, check.checked) == (WEEKS, WEEKS)
    states = {c.resource.name: c.state for c in check.resources}
    assert states == {
        "Room 0": "free",
        "Room 1": "taken",
        "Room 2": "taken",
        "Room 3": "free",
        "Studio": "unavailable",
    }
    [room] = [c for c in check.resources if c.resource.id == rooms[1]["id"]]
    assert [(b.booking_id, b.title) for b in room.taken] == [(taken["id"], "Open day")]
    assert studio["id"] not in {r.id for r in check.free()}


def test_submitting_a_series_checks_it_in_as_many_questions_for_2_weeks_as_for_20(api):
    """The rules, closures and conflicts of every date and resource are asked at once (the
    dates themselves are written one by one on SQLite, which returns no ids in order)."""
    rooms = [api.make_resource(name=f"Room {n}") for n in range(3)]
    sizes = {}
    for weeks, day in ((2, MONDAY), (WEEKS, MONDAY + timedelta(days=1))):
        body = api.booking_body(*rooms, rrule=f"FREQ=WEEKLY;COUNT={weeks}")
        body.update(start=at(day, 10), end=at(day, 12))
        response, statements = statements_of(
            api, lambda body=body: api.post("/api/v1/bookings", api.organiser, body)
        )
        assert response.status_code == 201, response.get_json()
        assert len(response.get_json()["occurrences"]) == weeks
        sizes[weeks] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
    assert sizes[2] == sizes[WEEKS], sizes


SUBMIT_STATEMENTS = 18  # SQLite: BEGIN twice, the token check, the limits, the writes
APPROVE_STATEMENTS = 15
READ_STATEMENTS = 8
SERIES = 500


def _heads(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:4]) for s in statements]


def test_a_submit_and_an_approve_take_as_many_statements_for_10_resources_as_for_1(api):
    """Issue 13: a request's statements do not grow with its resources (each resource's
    line, slots and rules are written and read set-based)."""
    counts = {}
    for n, size in enumerate((1, 3, 10)):
        rooms = [api.make_resource(name=f"Room {size}.{k}") for k in range(size)]
        day = MONDAY + timedelta(days=n)
        body = api.booking_body(*rooms, start=at(day, 10), end=at(day, 12))
        submitted, submit = statements_of(
            api, lambda body=body: api.post("/api/v1/bookings", api.organiser, body)
        )
        assert submitted.status_code == 201, submitted.get_json()
        path = f"/api/v1/bookings/{submitted.get_json()['id']}/approve"
        approved, approve = statements_of(api, lambda path=path: api.post(path, api.infra))
        assert approved.status_code == 200, approved.get_json()
        assert approved.get_json()["status"] == "approved"
        assert len(approved.get_json()["resources"]) == size
        assert len(submit) <= SUBMIT_STATEMENTS, _heads(submit)
        assert len(approve) <= APPROVE_STATEMENTS, _heads(approve)
        counts[size] = (len(submit), len(approve))
    assert counts[1] == counts[3] == counts[10], counts


def test_reading_a_booking_of_500_dates_takes_a_handful_of_statements(api):
    rooms = [api.make_resource(name=f"Room {k}", max_advance_days=3650) for k in range(3)]
    series = api.booking(api.organiser, *rooms, rrule=f"FREQ=DAILY;COUNT={SERIES}")
    path = f"/api/v1/bookings/{series['id']}"

    read, statements = statements_of(api, lambda: api.get(path, api.organiser))

    assert read.status_code == 200, read.get_json()
    assert len(read.get_json()["occurrences"]) == SERIES
    assert len(statements) <= READ_STATEMENTS, _heads(statements)
