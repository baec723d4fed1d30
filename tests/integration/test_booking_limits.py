"""Limits per person through booking's API and pages, with small limits set the way an
operator sets them: requests an hour and waiting at once per organiser (429, Retry-After
when a time is known, a message saying when, nothing written), participants per booking
(422 on the field), changes of a booking an hour (429), and a booking on resources without
approval that invites people outside the internal domains waiting for a decider, nothing
mailed to them (through notify and a real SMTP server) before one approves."""

from __future__ import annotations

import re

import pytest

from tests.support.accounts import payloads, quick_passwords
from tests.support.booking import MONDAY, BookingApi, at, problem
from tests.support.pages import browser, field_error, post, text

LIMITS = {
    "max_bookings_per_hour": 3,
    "max_pending_bookings": 2,
    "max_participants": 3,
    "max_changes_per_hour": 2,
    "internal_domains": "example.org, @school.example",
}


@pytest.fixture
def api(make_app, config) -> BookingApi:
    return BookingApi(make_app("booking", config.replace(**LIMITS)))


def _hour(n: int) -> dict[str, str]:
    return {"start": at(MONDAY, 8 + n), "end": at(MONDAY, 9 + n)}


def test_requests_an_hour_per_organiser_are_limited_with_the_wait_said(api):
    room = api.make_resource(requires_approval=False)
    for n in range(3):
        api.booking(api.organiser, room, **_hour(n))
    before = api.counts()
    sv = {"Accept-Language": "sv"}
    refused = api.post(
        "/api/v1/bookings", api.organiser, api.booking_body(room, **_hour(3)), headers=sv
    )
    body = problem(refused, 429)
    wait = int(refused.headers["Retry-After"])
    assert 3500 < wait <= 3600  # the first of the three was made just now
    minutes = -(-wait // 60)
    assert body["code"] == "too_many_bookings_an_hour"
    assert body["detail"] == (
        "Du har skickat 3 förfrågningar den senaste timmen, så många som går. "
        f"Du kan skicka nästa om {minutes} min."
    )
    assert api.counts() == before
    # another organiser is not held back by this one
    assert api.booking(api.other, room, **_hour(3))["status"] == "approved"


def test_requests_waiting_at_once_are_limited_until_one_is_decided_or_withdrawn(api):
    hall = api.make_resource()
    first = api.booking(api.organiser, hall, **_hour(0))
    api.booking(api.organiser, hall, **_hour(1))
    refused = api.submit(api.organiser, hall, **_hour(2))
    body = problem(refused, 429)
    assert body["code"] == "too_many_pending"
    assert "once one of them is decided or withdrawn" in body["detail"]
    assert "Retry-After" not in refused.headers  # no time is known
    api.approved(first)
    assert api.booking(api.organiser, hall, **_hour(2))["status"] == "pending"


def test_participants_per_booking_are_limited_on_the_field(api):
    room = api.make_resource()
    four = [{"email": f"p{n}@example.org"} for n in range(4)]
    refused = api.submit(api.organiser, room, participants=four)
    assert problem(refused, 422)["errors"] == {"participants": ["At most 3 participants."]}
    booking = api.booking(api.organiser, room, participants=four[:3])
    changed = api.patch(f"/api/v1/bookings/{booking['id']}", api.organiser, {"participants": four})
    assert problem(changed, 422)["errors"] == {"participants": ["At most 3 participants."]}


def test_changes_of_a_booking_an_hour_are_limited(api):
    booking = api.booking(api.organiser, api.make_resource())
    path = f"/api/v1/bookings/{booking['id']}"
    for title in ("One", "Two"):
        assert api.patch(path, api.organiser, {"title": title}).status_code == 200
    refused = api.patch(path, api.organiser, {"title": "Three"})
    assert problem(refused, 429)["code"] == "too_many_changes_an_hour"
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert api.get(path, api.organiser).get_json()["title"] == "Two"


def test_a_limit_on_the_request_form_is_a_page_saying_when(make_app, config, monkeypatch):
    from services.booking.usecases import users

    quick_passwords(monkeypatch)
    app = make_app("booking", config.replace(**LIMITS))
    api = BookingApi(app)
    room = api.make_resource(requires_approval=False, name="Room")
    users.add_user(api.db, "pia@example.org", "Pia", "organiser", "a long enough password")
    pia = browser(app, "pia@example.org", "a long enough password")
    form = {
        "date": MONDAY.isoformat(),
        "end_time": "",
        "resource_ids": [room["id"]],
        "visibility": "internal",
        "language": "en",
        "step": "send",
    }
    for n in range(3):
        hour = f"{8 + n:02d}"
        sent = post(
            pia,
            "/bookings/new",
            form | {"title": f"Talk {n}", "start_time": f"{hour}:00", "end_time": f"{hour}:30"},
        )
        assert sent.status_code == 302, text(sent)
    four = "\n".join(f"p{n}@example.org" for n in range(4))
    crowded = post(
        pia,
        "/bookings/new",
        form | {"title": "Big", "start_time": "07:00", "end_time": "07:30", "participants": four},
    )
    assert crowded.status_code == 422
    assert field_error(crowded, "participants") == "At most 3 participants."
    refused = post(
        pia, "/bookings/new", form | {"title": "Talk", "start_time": "12:00", "end_time": "12:30"}
    )
    assert refused.status_code == 429
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert re.search(r"You can send the next in \d+ min\.", text(refused))


def _envelopes(api: BookingApi) -> list[dict]:
    return [e for e in payloads(api.db) if e["type"].startswith("booking.")]


def test_guests_outside_the_internal_domains_wait_for_a_decider(api, notify, smtp):
    room = api.make_resource(requires_approval=False)
    inside = api.booking(
        api.organiser, room, **_hour(0), participants=[{"email": "colleague@school.example"}]
    )
    assert inside["status"] == "approved"
    guests = [{"email": "colleague@example.org"}, {"email": "guest@elsewhere.example"}]
    outside = api.booking(api.organiser, room, **_hour(1), participants=guests)
    assert outside["status"] == "pending"
    assert [line["status"] for line in outside["lines"]] == ["pending"]
    notify.deliver(*_envelopes(api))
    notify.send_all()
    assert smtp.messages_to("colleague@school.example")  # invited at once
    assert not smtp.messages_to("guest@elsewhere.example")
    assert not smtp.messages_to("colleague@example.org")  # the booking is not approved yet
    approved = api.approved(outside)
    assert approved["status"] == "approved"
    notify.deliver(*_envelopes(api)[-1:])
    notify.send_all()
    assert smtp.messages_to("guest@elsewhere.example")
    # infra, who decide every line, are not held back; a new outside guest of a booking
    # approved without a decider sends it to one
    assert api.booking(api.infra, room, **_hour(2), participants=guests)["status"] == "approved"
    changed = api.patch(
        f"/api/v1/bookings/{inside['id']}",
        api.organiser,
        {"participants": [{"email": "colleague@school.example"}, {"email": "x@elsewhere.example"}]},
    )
    assert changed.status_code == 200 and changed.get_json()["status"] == "pending"
