"""Booking's pages for issue 15: the lists admins keep (categories and units) and the
suppliers, a request's category and unit on the form and its page, and the form a line's
deciders say who does its job with; through the Flask test client in both languages. The
clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.booking.commands import (
    ApproveBooking,
    CreateListEntry,
    CreateResource,
    CreateSupplier,
    CreateTeam,
    SubmitBooking,
)
from services.booking.readmodels import BookingView, ResourceView
from services.booking.usecases import bookings, catalog, queries, resources, teams, users
from shared.auth import Principal
from shared.events import Kind
from tests.support.accounts import quick_passwords
from tests.support.booking import MONDAY, NOW, at
from tests.support.pages import browser, field_error, post, say, text

PASSWORD = "a long enough password"
LANGUAGES = ("en", "sv")
DAY = MONDAY.isoformat()


class Site:
    """The booking app with a fixed clock, people, a team, resources, a unit, a supplier."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ctx = app.extensions["booking_context"]
        self.ctx.clock = lambda: NOW
        self.db = self.ctx.db
        self.admin = self.person("admin", "admin@example.org")
        self.infra = self.person("infra", "infra@example.org")
        self.organiser = self.person("organiser", "olle@example.org")
        self.vera = self.person("organiser", "vera@example.org")
        teams.create_team(
            self.ctx,
            self.admin,
            CreateTeam(name="Kommunikation", members=(self.vera.email,)),
        )
        self.hall = self.resource(name="Great hall")
        self.camera = self.resource(name="Photographer", kind=Kind.SERVICE, team="kommunikation")
        unit = CreateListEntry("math", "Matematiska institutionen", "Department of Mathematics")
        catalog.create_entry(self.ctx, self.admin, "units", unit)
        self.supplier = catalog.create_supplier(
            self.ctx,
            self.admin,
            CreateSupplier("Bildbyrån AB", "UH-17", Decimal("950"), date(2030, 1, 1)),
        )

    def person(self, role: str, email: str) -> Principal:
        user = users.add_user(self.db, email, email.split("@")[0].title(), role, PASSWORD)
        return Principal(user.id, user.email, user.name, user.role)

    def resource(self, **cmd: Any) -> ResourceView:
        cmd.setdefault("kind", Kind.VENUE)
        return resources.create_resource(self.ctx, self.admin, CreateResource(**cmd))

    def booking(self, *chosen: ResourceView, **extra: Any) -> BookingView:
        cmd = SubmitBooking(
            title="Seminar",
            start=datetime.fromisoformat(at(MONDAY, 10)),
            end=datetime.fromisoformat(at(MONDAY, 12)),
            resource_ids=tuple(r.id for r in chosen),
            **extra,
        )
        booking = bookings.submit_booking(self.ctx, self.organiser, cmd)
        return bookings.approve_booking(self.ctx, self.infra, booking.id, ApproveBooking()).booking

    def read(self, booking: BookingView) -> BookingView:
        return queries.read_booking(self.ctx, self.infra, booking.id)

    def client(self, who: Principal | None = None, lang: str = "en") -> FlaskClient:
        return browser(self.app, who.email if who else None, PASSWORD, lang)


@pytest.fixture
def site(make_app, monkeypatch) -> Site:
    quick_passwords(monkeypatch)
    return Site(make_app("booking"))


# --- the lists and the suppliers ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_keeps_the_lists_from_the_navigation(site, lang):
    client = site.client(site.admin, lang)
    nav = text(client.get("/resources"))
    assert 'href="/lists"' in nav and 'href="/suppliers"' in nav
    listing = text(client.get("/lists"))
    assert "Seminarium" in listing and "Department of Mathematics" in listing
    created = post(
        client,
        "/lists/units/new",
        {"slug": "office", "name_sv": "Skolkansliet", "name_en": "School office"},
    )
    assert created.status_code == 302, text(created)
    assert catalog.read_entry(site.ctx, "units", "office").name_en == "School office"
    retired = post(
        client,
        "/lists/units/office/edit",
        {"name_sv": "Kansliet", "name_en": "School office", "position": "2"},
    )  # the box "can be chosen" left unticked
    assert retired.status_code == 302
    entry = catalog.read_entry(site.ctx, "units", "office")
    assert (entry.name_sv, entry.position, entry.active) == ("Kansliet", 2, False)
    assert say(lang, "Retired", "Avvecklad") in text(client.get("/lists"))

    bad = post(client, "/lists/categories/new", {"slug": "Bad Slug", "name_sv": ""})
    assert bad.status_code == 422
    assert field_error(bad, "slug") and field_error(bad, "name_en")
    assert field_error(bad, "name_sv") == say(lang, "Fill in this field.", "Fyll i det här fältet.")
    taken = post(
        client, "/lists/categories/new", {"slug": "seminar", "name_sv": "S", "name_en": "S"}
    )
    assert taken.status_code == 409 and "seminar" in field_error(taken, "slug")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_keeps_the_suppliers(site, lang):
    client = site.client(site.admin, lang)
    assert "Bildbyrån AB" in text(client.get("/suppliers"))
    form = {
        "name": "Filmteamet HB",
        "agreement_ref": "UH-18",
        "hourly_rate": "1 200,50".replace(" ", ""),
        "currency": "sek",
        "valid_from": "2030-01-01",
        "valid_to": "2030-06-30",
        "email": "",
    }
    created = post(client, "/suppliers/new", form)
    assert created.status_code == 302, text(created)
    [made] = [s for s in catalog.list_suppliers(site.ctx, site.admin) if s.name == "Filmteamet HB"]
    assert (made.hourly_rate, made.currency, made.valid_to) == (
        Decimal("1200.50"),
        "SEK",
        date(2030, 6, 30),
    )
    bad = post(client, "/suppliers/new", {**form, "hourly_rate": "0", "valid_to": "2029-01-01"})
    assert bad.status_code == 422
    assert field_error(bad, "hourly_rate")
    edit = f"/suppliers/{made.id}/edit"
    assert "UH-18" in text(client.get(edit))
    backwards = post(client, edit, {**form, "valid_to": "2029-12-31"})
    assert backwards.status_code == 422 and field_error(backwards, "valid_to")
    changed = post(client, edit, {**form, "valid_to": "", "active": "on"})
    assert changed.status_code == 302
    assert catalog.read_supplier(site.ctx, site.admin, made.id).valid_to is None


def test_the_lists_and_suppliers_pages_are_for_admins(site):
    for who in (site.organiser, site.infra):
        client = site.client(who)
        for path in ("/lists", "/lists/units/new", "/lists/units/math/edit", "/suppliers"):
            assert client.get(path).status_code == 403, path
        assert client.get(f"/suppliers/{site.supplier.id}/edit").status_code == 403
        assert 'href="/lists"' not in text(client.get("/resources"))
    assert site.client(site.admin).get("/lists/colours/new").status_code == 404


# --- a request's category and unit ----------------------------------------------------------


def request_form(site: Site, **overrides: Any) -> dict[str, Any]:
    form = {
        "date": DAY,
        "start_time": "10:00",
        "end_time": "12:00",
        "title": "Thesis defence",
        "resource_ids": [site.hall.id],
        "visibility": "internal",
        "language": "en",
        "step": "send",
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_request_form_offers_the_lists_in_the_readers_language(site, lang):
    client = site.client(site.organiser, lang)
    form = text(client.get("/bookings/new"))
    assert '<select id="category" name="category"' in form
    assert say(lang, "Public lecture", "Öppen föreläsning") in form
    assert say(lang, "Department of Mathematics", "Matematiska institutionen") in form
    sent = post(
        client,
        "/bookings/new",
        request_form(site, category="seminar", unit="math"),
        "/bookings/new",
    )
    assert sent.status_code == 302, text(sent)
    booking_id = sent.location.rsplit("/", 1)[-1]
    page = text(client.get(f"/bookings/{booking_id}"))
    assert say(lang, "Seminar", "Seminarium") in page
    assert say(lang, "Department of Mathematics", "Matematiska institutionen") in page
    edit = text(client.get(f"/bookings/{booking_id}/edit"))
    assert re.search(r'<option value="seminar" selected>', edit)
    bad = post(client, "/bookings/new", request_form(site, category="gala"), "/bookings/new")
    assert bad.status_code == 422 and "gala" in field_error(bad, "category")


# --- who does a line's job -----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_team_member_assigns_the_photographer_on_the_booking_page(site, lang):
    booking = site.booking(site.hall, site.camera)
    page = f"/bookings/{booking.id}"
    client = site.client(site.vera, lang)
    shown = text(client.get(page))
    action = f"{page}/lines/{site.camera.id}/assignment"
    assert f'action="{action}"' in shown
    assert f"/lines/{site.hall.id}/assignment" not in shown  # a venue has no one to do it
    assert 'value="staff:vera@example.org"' in shown
    assert f'value="supplier:{site.supplier.id}"' in shown
    assert post(client, action, {"assignee": "staff:vera@example.org"}, page).status_code == 302
    line = next(x for x in site.read(booking).lines if x.resource_id == site.camera.id)
    assert line.assignee is not None and line.assignee.email == "vera@example.org"
    hours = post(
        client, action, {"assignee": "staff:vera@example.org", "hours_delivered": "2,5"}, page
    )
    assert hours.status_code == 302
    after = text(client.get(page))
    assert say(lang, "Done by Vera", "Utförs av Vera") in after
    assert say(lang, "2.5 hours delivered", "2,5 timmar levererade") in after
    assert say(lang, "Who does Photographer", "Vem som utför Photographer") in after
    bad = post(
        client, action, {"assignee": "staff:vera@example.org", "hours_delivered": "-1"}, page
    )
    assert bad.status_code == 422 and field_error(bad, f"assign-{site.camera.id}")
    stranger = post(client, action, {"assignee": "staff:otto@example.org"}, page)
    assert stranger.status_code == 422


def test_the_organiser_sees_who_does_it_but_may_not_assign(site):
    booking = site.booking(site.hall, site.camera)
    page = f"/bookings/{booking.id}"
    action = f"{page}/lines/{site.camera.id}/assignment"
    post(site.client(site.infra), action, {"assignee": f"supplier:{site.supplier.id}"}, page)
    client = site.client(site.organiser)
    shown = text(client.get(page))
    assert "Done by Bildbyrån AB" in shown
    assert f'action="{action}"' not in shown
    assert post(client, action, {"assignee": ""}, page).status_code == 403
    line = next(x for x in site.read(booking).lines if x.resource_id == site.camera.id)
    assert line.assignee is not None and line.assignee.supplier_id == site.supplier.id
