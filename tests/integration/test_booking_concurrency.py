"""No double booking under concurrency: guaranteed by the database (PostgreSQL's exclusion
constraint; SQLite's serialised writers with the check inside the transaction)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import Booking, OutboxMessage
from services.booking.usecases.users import add_user, create_token

PARALLEL = 20
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
def booking(make_app, config):
    app = make_app("booking")
    app.extensions["booking_context"].clock = lambda: NOW
    db = app.extensions["evenemang"]["db"]
    tokens = {}
    for email, role in (
        ("admin@example.org", "admin"),
        ("infra@example.org", "infra"),
        ("org@example.org", "organiser"),
    ):
        add_user(db, email, email.split("@")[0].title(), role)
        tokens[role] = create_token(db, config.secret_key, email)
    return app, tokens


def _headers(token):
    return {"Authorization": f"Bearer {token}"}


def _resource(app, tokens, **overrides):
    body = {"name": "Hall", "kind": "venue", "capacity": 100, **overrides}
    response = app.test_client().post(
        "/api/v1/resources", json=body, headers=_headers(tokens["admin"])
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _request(resource_id, minute=0):
    return {
        "title": f"Event {minute}",
        "resource_ids": [resource_id],
        "start": f"2030-02-01T10:{minute:02d}:00+01:00",
        "end": "2030-02-01T12:00:00+01:00",
    }


def _all_at_once(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _count(app, *conditions):
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(Booking).where(*conditions))


def test_parallel_requests_for_one_auto_approved_slot_give_exactly_one_booking(booking):
    app, tokens = booking
    resource = _resource(app, tokens, requires_approval=False)

    def submit(minute):
        return lambda: app.test_client().post(
            "/api/v1/bookings",
            json=_request(resource, minute),
            headers=_headers(tokens["organiser"]),
        )

    answers = _all_at_once([submit(i) for i in range(PARALLEL)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * (PARALLEL - 1)
    winner = next(a.get_json() for a in answers if a.status_code == 201)
    assert winner["status"] == "approved"
    for refused in (a.get_json() for a in answers if a.status_code == 409):
        assert refused["conflicts"][0]["booking_id"] == winner["id"]
    assert _count(app) == 1
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event_type.like("booking.%"))
            )
            == 1
        )


def test_parallel_approvals_of_overlapping_requests_give_exactly_one_approval(booking):
    app, tokens = booking
    resource = _resource(app, tokens, requires_approval=True)
    client = app.test_client()
    ids = []
    for minute in range(PARALLEL):
        response = client.post(
            "/api/v1/bookings",
            json=_request(resource, minute),
            headers=_headers(tokens["organiser"]),
        )
        assert response.status_code == 201 and response.get_json()["status"] == "pending"
        ids.append(response.get_json()["id"])

    def approve(booking_id):
        return lambda: app.test_client().post(
            f"/api/v1/bookings/{booking_id}/approve", headers=_headers(tokens["infra"])
        )

    answers = _all_at_once([approve(i) for i in ids])
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * (PARALLEL - 1)
    assert _count(app, Booking.status == "approved") == 1
    assert _count(app, Booking.status == "pending") == PARALLEL - 1


def test_parallel_approvals_of_one_line_each_hold_the_slot_once(booking):
    """Twenty requests for one hall, each with a photographer of its own: approving just the
    hall's line of all of them at once approves exactly one; the photographers' lines wait."""
    app, tokens = booking
    hall = _resource(app, tokens, name="Hall", requires_approval=True)
    client = app.test_client()
    ids = []
    for minute in range(PARALLEL):
        own = _resource(app, tokens, name=f"Photographer {minute}", kind="service")
        body = {**_request(hall, minute), "resource_ids": [hall, own]}
        response = client.post("/api/v1/bookings", json=body, headers=_headers(tokens["organiser"]))
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])

    def approve_hall(booking_id):
        return lambda: app.test_client().post(
            f"/api/v1/bookings/{booking_id}/approve",
            json={"resource_ids": [hall]},
            headers=_headers(tokens["infra"]),
        )

    answers = _all_at_once([approve_hall(i) for i in ids])
    assert sorted(a.status_code for a in answers) == [200] + [409] * (PARALLEL - 1)
    winner = next(a.get_json() for a in answers if a.status_code == 200)
    assert winner["status"] == "pending"  # its photographer still waits
    assert {line["resource_id"]: line["status"] for line in winner["lines"]}[hall] == "approved"
    assert _count(app, Booking.status == "pending") == PARALLEL


def test_two_deciders_approving_two_lines_at_once_both_count(booking):
    """The venue's and the photographer's deciders act at the same moment, twenty times over:
    each booking ends approved with both lines, and one event per decision."""
    app, tokens = booking
    hall = _resource(app, tokens, name="Hall", requires_approval=True)
    photo = _resource(app, tokens, name="Photographer", kind="service")
    client = app.test_client()
    ids = []
    for n in range(PARALLEL // 2):
        body = {
            **_request(hall),
            "start": f"2030-02-{n + 1:02d}T10:00:00+01:00",
            "end": f"2030-02-{n + 1:02d}T12:00:00+01:00",
            "resource_ids": [hall, photo],
        }
        response = client.post("/api/v1/bookings", json=body, headers=_headers(tokens["organiser"]))
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])

    def approve(booking_id, resource_id):
        return lambda: app.test_client().post(
            f"/api/v1/bookings/{booking_id}/approve",
            json={"resource_ids": [resource_id]},
            headers=_headers(tokens["infra"]),
        )

    answers = _all_at_once([approve(i, r) for i in ids for r in (hall, photo)])
    assert [a.status_code for a in answers] == [200] * len(answers)
    assert _count(app, Booking.status == "approved") == len(ids)
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        decided = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type.in_(["booking.lines_decided", "booking.approved"]))
        )
    assert decided == 2 * len(ids)
