"""Resources named in Swedish and English: the API takes and gives both, and ``name`` and
``location`` speak the reader's language (``?lang=``, Accept-Language, the user's own);
``resource.changed`` and the bookings' events carry both."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from services.booking.persistence.models import OutboxMessage, User
from services.booking.usecases import resources
from shared.events import RESOURCE_CHANGED, parse_event
from tests.support.booking import BookingApi
from tests.support.pages import post, text

HALL = {
    "name_sv": "Aulan",
    "name_en": "The Great Hall",
    "location_sv": "Hus A, plan 2",
    "location_en": "Building A, floor 2",
    "features_sv": ["projektor", "hörslinga"],
    "features_en": ["projector", "hearing loop"],
    "kind": "venue",
    "capacity": 300,
}


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def test_a_resource_keeps_both_languages_and_answers_in_the_readers(api):
    made = api.make_resource(**HALL)
    assert (made["name_sv"], made["name_en"]) == ("Aulan", "The Great Hall")
    assert (made["location_sv"], made["location_en"]) == ("Hus A, plan 2", "Building A, floor 2")
    assert made["features_sv"] == ["projektor", "hörslinga"]
    path = f"/api/v1/resources/{made['slug']}"
    english = api.get(path + "?lang=en", api.organiser).get_json()
    assert (english["name"], english["location"]) == ("The Great Hall", "Building A, floor 2")
    assert english["features"] == ["projector", "hearing loop"]
    swedish = api.get(path, api.organiser, headers={"Accept-Language": "sv"}).get_json()
    assert (swedish["name"], swedish["location"]) == ("Aulan", "Hus A, plan 2")
    assert swedish["features"] == ["projektor", "hörslinga"]
    by_header = api.get(path, api.organiser, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert by_header.get_json()["name"] == "The Great Hall"
    listed = api.get("/api/v1/resources?lang=en", api.organiser).get_json()["resources"]
    assert [r["name"] for r in listed] == ["The Great Hall"]


def test_without_a_header_the_users_own_language_names_it(api):
    made = api.make_resource(**HALL)
    path = f"/api/v1/resources/{made['id']}"
    assert api.get(path, api.organiser).get_json()["name"] == "Aulan"  # Swedish by default
    with api.db.transaction() as session:
        session.execute(update(User).where(User.email == api.organiser.email).values(language="en"))
    assert api.get(path, api.organiser).get_json()["name"] == "The Great Hall"


def test_a_create_with_only_name_fills_both_and_a_patch_sets_one(api):
    made = api.make_resource(name="Studio 3", location="Hus B")
    assert (made["name_sv"], made["name_en"], made["name"]) == ("Studio 3",) * 3
    assert (made["location_sv"], made["location_en"]) == ("Hus B", "Hus B")
    path = f"/api/v1/resources/{made['id']}"
    changed = api.patch(path + "?lang=en", api.admin, {"name_en": "Studio Three"}).get_json()
    assert (changed["name"], changed["name_sv"], changed["name_en"]) == (
        "Studio Three",
        "Studio 3",
        "Studio Three",
    )
    assert api.patch(path, api.admin, {"name": "Studio 4"}).get_json()["name_en"] == "Studio 4"


def test_a_booking_names_its_resources_in_the_readers_language(api):
    hall = api.make_resource(**HALL)
    booking = api.booking(api.organiser, hall)
    english = api.get(f"/api/v1/bookings/{booking['id']}?lang=en", api.organiser).get_json()
    assert english["resources"][0]["name"] == "The Great Hall"
    assert english["lines"][0]["resource"]["location"] == "Building A, floor 2"
    swedish = api.get(f"/api/v1/bookings/{booking['id']}?lang=sv", api.organiser).get_json()
    assert swedish["resources"][0]["name"] == "Aulan"
    ref = api.events(booking["id"])[0]["data"]["resources"][0]
    assert (ref["name_sv"], ref["name_en"], ref["location_en"]) == (
        "Aulan",
        "The Great Hall",
        "Building A, floor 2",
    )


def test_resource_changed_carries_both_languages(api):
    api.make_resource(**HALL)
    with api.db.transaction(readonly=True) as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == RESOURCE_CHANGED)
        ).one()
    snapshot = parse_event(row.payload).data
    assert (snapshot.named("sv"), snapshot.named("en")) == ("Aulan", "The Great Hall")
    assert snapshot.located("en") == "Building A, floor 2"
    assert json.loads(row.payload)["data"]["name"] == "Aulan"  # the plain name: Swedish


# --- pages -------------------------------------------------------------------------------------


@pytest.fixture
def site(make_app, monkeypatch):
    from argon2 import PasswordHasher

    from tests.integration.test_web_pages import Site

    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    return Site(make_app("booking"))


def _bilingual_hall(site):
    return site.resource(
        name="Aulan",
        name_en="The Great Hall",
        location="Hus A",
        location_en="Building A",
        features=("projektor",),
        features_en=("projector",),
    )


@pytest.mark.parametrize(
    "lang, name, location, feature",
    [("sv", "Aulan", "Hus A", "projektor"), ("en", "The Great Hall", "Building A", "projector")],
)
def test_pages_name_resources_in_the_readers_language(site, lang, name, location, feature):
    hall = _bilingual_hall(site)
    booking = site.booking(site.organiser, hall, title="Disputation")
    client = site.client(site.organiser, lang)
    listing = text(client.get("/resources"))
    assert name in listing and location in listing
    other = "The Great Hall" if lang == "sv" else "Aulan"
    assert other not in listing
    page = text(client.get(f"/bookings/{booking.id}"))
    assert name in page and location in page and other not in page
    week = text(client.get(f"/resources/{hall.slug}/week"))
    assert f"<h1>{name}</h1>" in week


def test_the_resource_form_takes_both_languages(site):
    admin = site.client(site.admin, "en")
    response = post(
        admin,
        "/resources/new",
        {
            "name": "Lilla salen",
            "name_en": "Small hall",
            "kind": "venue",
            "location": "Hus D",
            "location_en": "Building D",
            "features": "scen, hörslinga",
            "features_en": "stage, hearing loop",
            "always_open": "on",
            "max_advance_days": "365",
            "active": "on",
        },
    )
    assert response.status_code == 302, text(response)
    made = resources.read_resource(site.ctx, "lilla-salen")
    assert (made.name_sv, made.name_en) == ("Lilla salen", "Small hall")
    assert (made.location_sv, made.location_en) == ("Hus D", "Building D")
    assert made.features_sv == ("scen", "hörslinga")
    assert made.features_en == ("stage", "hearing loop")
    form = text(admin.get("/resources/lilla-salen/edit"))
    assert 'value="Small hall"' in form and 'value="Lilla salen"' in form
    assert 'value="stage, hearing loop"' in form


@pytest.mark.parametrize("wanted", ["projector", "projektor", "Hearing loop"])
def test_a_feature_is_found_by_its_name_in_either_language(api, wanted):
    from tests.support.booking import MONDAY, at

    hall = api.make_resource(**HALL)
    api.make_resource(name="Bare room")
    query = {"start": at(MONDAY, 10), "end": at(MONDAY, 12), "features": wanted, "lang": "en"}
    response = api.get("/api/v1/availability", api.organiser, query_string=query)
    found = response.get_json()["resources"]
    assert [(r["id"], r["name"]) for r in found] == [(hall["id"], "The Great Hall")]
