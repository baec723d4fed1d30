"""Booking's refusals as problem details: each has a machine-readable ``code`` (field errors
their ids under ``codes``) and is worded in the language asked for (``Accept-Language`` or
``?lang=``; English by default), in the same shapes as before (title, status, errors,
conflicts)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.booking import MONDAY, BookingApi, at

LANGUAGES = ("sv", "en")


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def refused(api: BookingApi, method: str, path: str, user, body: Any, status: int, lang: str):
    response = api.call(method, path, user, body, headers={"Accept-Language": lang})
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["code"]
    return problem


def in_both(api: BookingApi, method: str, path: str, user, body: Any, status: int):
    """The same refusal asked for in Swedish and in English."""
    sv, en = (refused(api, method, path, user, body, status, lang) for lang in LANGUAGES)
    assert sv["code"] == en["code"] and sv.get("codes") == en.get("codes")
    return sv, en


def test_too_many_resources_says_so_in_both_languages_not_characters(api):
    rooms = [api.make_resource(name=f"Room {n}")["id"] for n in range(11)]
    body = api.booking_body(*rooms)
    sv, en = in_both(api, "POST", "/api/v1/bookings", api.organiser, body, 422)
    assert en["code"] == "invalid_input"
    assert en["codes"] == {"resource_ids": ["too_many_resources"]}
    assert en["errors"]["resource_ids"] == ["Choose at most 10 venues, studios and services."]
    assert sv["errors"]["resource_ids"] == ["Välj högst 10 lokaler, studior och tjänster."]
    assert (sv["title"], en["title"]) == ("Ogiltiga uppgifter", "Invalid input")


def test_the_rules_of_times_and_resources_are_worded_with_their_values(api):
    room = api.make_resource(name="Aula", capacity=10)
    closure = {"start": at(MONDAY, 8), "end": at(MONDAY, 11), "reason": "Floor polishing"}
    assert api.post(f"/api/v1/resources/{room['id']}/closures", api.infra, closure).status_code
    body = api.booking_body(room, expected_attendees=11)
    sv, en = in_both(api, "POST", "/api/v1/bookings", api.organiser, body, 422)
    assert en["codes"] == {
        "expected_attendees": ["resource_holds_at_most"],
        "start": ["resource_closed_for"],
    }
    assert en["errors"]["expected_attendees"] == ["Aula: holds at most 10 people."]
    assert sv["errors"]["expected_attendees"] == ["Aula: rymmer högst 10 personer."]
    assert en["errors"]["start"] == [
        "Aula: is closed 2030-03-04 08:00–2030-03-04 11:00: Floor polishing"
    ]
    assert sv["errors"]["start"] == [
        "Aula: är stängd 2030-03-04 08:00–2030-03-04 11:00: Floor polishing"
    ]
    past = api.booking_body(room, start=at(MONDAY.replace(day=1), 9), end=at(MONDAY, 9))
    sv, en = in_both(api, "POST", "/api/v1/bookings", api.organiser, past, 422)
    assert en["codes"]["start"] == ["start_in_past"]
    assert (sv["errors"]["start"], en["errors"]["start"]) == (
        ["Måste ligga i framtiden."],
        ["Must be in the future."],
    )


def test_a_taken_slot_is_a_409_with_its_conflicts_and_a_code(api):
    room = api.make_resource(requires_approval=False)
    held = api.booking(api.other, room)
    sv, en = in_both(api, "POST", "/api/v1/bookings", api.organiser, api.booking_body(room), 409)
    assert en["code"] == "slot_taken"
    # another organiser's booking, only busy to this one
    assert [(c["booking_id"], c["start"]) for c in en["conflicts"]] == [(None, held["start"])]
    assert (sv["title"], en["title"]) == ("Tiden är upptagen", "The time is taken")
    assert en["detail"] == "The time is taken for a resource you asked for."
    assert sv["detail"] == "Tiden är redan bokad för en resurs du valt."


def test_a_step_the_state_does_not_allow_names_the_state_and_the_step(api):
    booking = api.booking(api.organiser, api.make_resource())
    api.act(booking, "reject", api.infra, {"reason": "Renovation"})
    path = f"/api/v1/bookings/{booking['id']}/approve"
    sv, en = in_both(api, "POST", path, api.infra, {}, 409)
    assert en["code"] == "cannot_in_state"
    assert en["detail"] == "A rejected booking cannot be approved."
    assert sv["detail"] == "En avslagen bokning kan inte godkännas."
    assert (sv["title"], en["title"]) == (
        "Inte möjligt i det här läget",
        "Not possible in this state",
    )


def test_refusals_of_who_and_what_say_why_with_a_code(api):
    booking = api.booking(api.organiser, api.make_resource())
    approve = f"/api/v1/bookings/{booking['id']}/approve"
    sv, en = in_both(api, "POST", approve, api.other, {}, 403)
    assert en["code"] == "only_deciders"
    assert (sv["title"], en["title"]) == ("Ingen behörighet", "Forbidden")
    assert en["detail"].startswith("Only its deciders")
    assert sv["detail"].startswith("Bara de som beslutar om den")
    sv, en = in_both(api, "GET", "/api/v1/bookings/nothing", api.infra, None, 404)
    assert en["code"] == "no_such_booking"
    assert (sv["detail"], en["detail"]) == ("Bokningen nothing finns inte.", "No booking nothing.")


def test_the_language_can_be_chosen_in_the_query_and_english_is_the_default(api):
    room = api.make_resource()
    body = api.booking_body(room, end=at(MONDAY, 9))
    chosen = api.post("/api/v1/bookings?lang=sv", api.organiser, body).get_json()
    default = api.post("/api/v1/bookings", api.organiser, body).get_json()
    assert chosen["errors"]["end"] == ["Måste vara efter starten."]
    assert default["errors"]["end"] == ["Must be after the start."]
    assert chosen["codes"] == default["codes"] == {"end": ["end_before_start"]}


def test_a_login_refused_is_worded_with_a_code(api):
    sv, en = in_both(
        api, "POST", "/api/v1/session", None, {"email": "x@example.org", "password": "x"}, 401
    )
    assert en["code"] == "wrong_login"
    assert (sv["detail"], en["detail"]) == (
        "Fel e-postadress eller lösenord.",
        "Wrong email address or password.",
    )
