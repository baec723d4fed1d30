"""Booking's pages for teams, a resource's team and self-approval, closures that face their
bookings, and a person's alert setting, through the Flask test client in both languages:
who may open them, errors beside their fields with the values kept, and nothing written
on a refusal. The clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services.booking.commands import CreateResource, CreateTeam, SubmitBooking
from services.booking.persistence.models import Closure, OutboxMessage, Team, TeamMember
from services.booking.readmodels import BookingView, ResourceView
from services.booking.usecases import bookings, queries, resources, teams, users
from shared.auth import Principal
from shared.events import Kind
from tests.support.accounts import quick_passwords
from tests.support.booking import MONDAY, NOW, at
from tests.support.pages import browser, field_error, post, say, text

PASSWORD = "a long enough password"
LANGUAGES = ("en", "sv")
DAY = MONDAY.isoformat()


class Site:
    """The booking app with a fixed clock, people, a team and resources; a browser's ways."""

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
            CreateTeam(name="Kommunikation", email="komm@example.org", members=(self.vera.email,)),
        )
        self.hall = self.resource(name="Great hall")
        self.camera = self.resource(name="Photographer", kind=Kind.SERVICE, team="kommunikation")

    def person(self, role: str, email: str) -> Principal:
        user = users.add_user(self.db, email, email.split("@")[0].title(), role, PASSWORD)
        return Principal(user.id, user.email, user.name, user.role)

    def resource(self, **cmd: Any) -> ResourceView:
        cmd.setdefault("kind", Kind.VENUE)
        return resources.create_resource(self.ctx, self.admin, CreateResource(**cmd))

    def booking(self, who: Principal, *chosen, hour: int = 10, **extra: Any) -> BookingView:
        cmd = SubmitBooking(
            title=extra.pop("title", "Seminar"),
            start=_moment(at(MONDAY, hour)),
            end=_moment(at(MONDAY, hour + 1)),
            resource_ids=tuple(r.id for r in chosen),
            **extra,
        )
        return bookings.submit_booking(self.ctx, who, cmd)

    def read(self, booking: BookingView) -> BookingView:
        return queries.read_booking(self.ctx, self.infra, booking.id)

    def rows(self) -> dict[str, int]:
        with self.db.transaction(readonly=True) as session:
            return {
                model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Team, TeamMember, Closure, OutboxMessage)
            }

    def client(self, who: Principal | None = None, lang: str = "en") -> FlaskClient:
        return browser(self.app, who.email if who else None, PASSWORD, lang)


def _moment(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)


@pytest.fixture
def site(make_app, monkeypatch) -> Site:
    quick_passwords(monkeypatch)
    return Site(make_app("booking"))


# --- teams ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_keeps_teams_from_the_navigation(site, lang):
    client = site.client(site.admin, lang)
    nav = text(client.get("/resources"))
    assert 'href="/teams"' in nav and say(lang, "Teams", "Grupper") in nav
    listing = text(client.get("/teams"))
    assert "Kommunikation" in listing and "komm@example.org" in listing
    assert "vera@example.org" in listing and "Photographer" in listing
    created = post(
        client,
        "/teams/new",
        {
            "name": "Infrastructure",
            "slug": "",
            "email": "",
            "members": "Ingrid@Example.org\nivan@example.org, ingrid@example.org",
        },
    )
    assert created.status_code == 302 and created.location == "/teams"
    made = teams.read_team(site.ctx, "infrastructure")
    assert (made.email, made.members) == ("", ("ingrid@example.org", "ivan@example.org"))
    form = text(client.get("/teams/infrastructure/edit"))
    assert "ingrid@example.org\nivan@example.org" in form
    changed = post(
        client,
        "/teams/infrastructure/edit",
        {
            "name": "Infrastruktur",
            "slug": "infra",
            "email": "infra-team@example.org",
            "members": "",
        },
    )
    assert changed.status_code == 302
    after = teams.read_team(site.ctx, "infra")
    assert (after.name, after.email, after.members) == (
        "Infrastruktur",
        "infra-team@example.org",
        (),
    )
    assert say(lang, "was saved", "är sparad") in text(client.get("/teams"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_team_form_errors_are_shown_beside_their_fields_and_write_nothing(site, lang):
    client = site.client(site.admin, lang)
    before = site.rows()
    bad = post(
        client,
        "/teams/new",
        {"name": "", "slug": "Not A Slug", "email": "nope", "members": "kim@example.org\nnope"},
    )
    assert bad.status_code == 422
    assert field_error(bad, "name") == say(lang, "Fill in this field.", "Fyll i det här fältet.")
    for name in ("slug", "email", "members"):
        assert field_error(bad, name)
    assert "kim@example.org\nnope" in text(bad)  # the values are kept
    taken = post(client, "/teams/new", {"name": "Other", "slug": "kommunikation"})
    assert taken.status_code == 409
    assert "kommunikation" in field_error(taken, "slug")
    many = "\n".join(f"m{n}@example.org" for n in range(101))
    assert post(client, "/teams/new", {"name": "Big", "members": many}).status_code == 422
    edit = post(client, "/teams/kommunikation/edit", {"name": "", "members": ""})
    assert edit.status_code == 422 and field_error(edit, "name")
    assert site.rows() == before
    assert teams.read_team(site.ctx, "kommunikation").members == ("vera@example.org",)


def test_teams_pages_are_for_admins(site):
    for who in (site.organiser, site.infra):
        client = site.client(who)
        for path in ("/teams", "/teams/new", "/teams/kommunikation/edit"):
            assert client.get(path).status_code == 403, path
        assert 'href="/teams"' not in text(client.get("/resources"))
    refused = post(site.client(site.infra), "/teams/new", {"name": "Mine"}, page="/resources")
    assert refused.status_code == 403
    assert site.client(site.admin).get("/teams/nobody/edit").status_code == 404
    assert site.client().get("/teams").status_code == 302


# --- a resource's team and self-approval on its form ------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_resource_form_gives_a_team_and_self_approval(site, lang):
    client = site.client(site.admin, lang)
    form = text(client.get("/resources/great-hall/edit"))
    assert '<select id="team" name="team"' in form and "Kommunikation" in form
    assert 'id="self_approval"' in form
    data = {
        "name": "Great hall",
        "kind": "venue",
        "always_open": "on",
        "max_advance_days": "365",
        "requires_approval": "on",
        "active": "on",
        "team": "kommunikation",
        "self_approval": "on",
    }
    saved = post(client, "/resources/great-hall/edit", data)
    assert saved.status_code == 302, field_error(saved, "team")
    hall = resources.read_resource(site.ctx, site.hall.id)
    assert (hall.team.slug, hall.self_approval, hall.revision) == ("kommunikation", True, 2)
    again = text(client.get("/resources/great-hall/edit"))
    assert re.search(r'<option value="kommunikation" selected>', again)
    cleared = post(client, "/resources/great-hall/edit", {**data, "team": "", "self_approval": ""})
    assert cleared.status_code == 302
    hall = resources.read_resource(site.ctx, site.hall.id)
    assert (hall.team, hall.self_approval) == (None, False)
    unknown = post(client, "/resources/great-hall/edit", {**data, "team": "nobody"})
    assert unknown.status_code == 422 and "nobody" in field_error(unknown, "team")
    assert resources.read_resource(site.ctx, site.hall.id).revision == 3


# --- closures that face their bookings ------------------------------------------------------------


def closure_form(**overrides: Any) -> dict[str, str]:
    return {"start_date": DAY, "end_date": DAY, "reason": "Water damage", **overrides}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_closure_over_bookings_asks_then_cancels_their_part(site, lang):
    both = site.booking(site.organiser, site.hall, site.camera, title="Defence")
    bookings.approve_booking(site.ctx, site.infra, both.id)
    client = site.client(site.infra, lang)
    page = "/resources/great-hall/week?week=" + DAY
    before = site.rows()
    asked = post(client, "/resources/great-hall/closures", closure_form(), page=page)
    assert asked.status_code == 409
    shown = text(asked)
    assert (
        say(
            lang, "Approved bookings fall in the closure", "Godkända bokningar ligger i stängningen"
        )
        in shown
    )
    assert f'href="/bookings/{both.id}">Defence</a>' in shown
    assert 'name="cancel_bookings" value="on"' in shown
    assert say(lang, "Do not close", "Stäng inte") in shown
    assert 'value="Water damage"' in shown  # the values are kept for the choice
    assert site.rows() == before and site.read(both).status == "approved"

    chosen = post(
        client, "/resources/great-hall/closures", closure_form(cancel_bookings="on"), page=page
    )
    assert chosen.status_code == 302
    after = site.read(both)
    lines = {line.resource_id: line for line in after.lines}
    assert (lines[site.hall.id].status, lines[site.hall.id].reason) == ("declined", "Water damage")
    assert lines[site.camera.id].status == "approved" and after.status == "approved"
    week = text(client.get(chosen.location))
    assert say(lang, "their organisers are told", "arrangörerna får veta det") in week


def test_a_closure_is_removed_with_its_button(site):
    client = site.client(site.infra)
    post(
        client, "/resources/great-hall/closures", closure_form(), page="/resources/great-hall/week"
    )
    [closure] = resources.list_closures(site.ctx, site.hall.id, NOW, _moment(at(MONDAY, 23)))
    week = text(client.get("/resources/great-hall/week?week=" + DAY))
    action = f"/resources/great-hall/closures/{closure.id}/remove"
    assert f'action="{action}"' in week
    organiser = site.client(site.organiser)
    refused = post(organiser, action, {}, page="/resources")
    assert refused.status_code == 403
    assert (
        post(
            client, "/resources/great-hall/closures/nothing/remove", {}, page="/resources"
        ).status_code
        == 404
    )
    removed = post(client, action, {"next": "/resources/great-hall/edit"}, page="/resources")
    assert removed.status_code == 302 and removed.location == "/resources/great-hall/edit"
    assert resources.list_closures(site.ctx, site.hall.id, NOW, _moment(at(MONDAY, 23))) == []
    outside = post(client, action, {"next": "https://evil.example/"}, page="/resources")
    assert outside.status_code == 404
    admin = site.client(site.admin)
    post(admin, "/resources/great-hall/closures", closure_form(), page="/resources/great-hall/edit")
    [again] = resources.list_closures(site.ctx, site.hall.id, NOW, _moment(at(MONDAY, 23)))
    edit = text(admin.get("/resources/great-hall/edit"))
    assert f"/resources/great-hall/closures/{again.id}/remove" in edit
    gone = post(
        admin,
        f"/resources/great-hall/closures/{again.id}/remove",
        {"next": "https://evil.example/"},
        page="/resources",
    )
    assert gone.location == "/resources/great-hall/week"  # never off the site


# --- settings: alerts ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_decider_chooses_a_daily_digest_on_their_settings(site, lang):
    client = site.client(site.vera, lang)
    nav = text(client.get("/bookings"))
    assert 'class="who" href="/settings"' in nav
    page = text(client.get("/settings"))
    assert re.search(r'id="alerts-each" name="alerts" value="each" checked', page)
    assert say(lang, "A daily digest", "En sammanfattning om dagen") in page
    assert say(lang, "You decide on no resource", "Du beslutar inte") not in page
    saved = post(client, "/settings", {"alerts": "daily"})
    assert saved.status_code == 302
    assert users.read_user(site.db, site.vera.user_id).alerts == "daily"
    assert re.search(r'value="daily" checked', text(client.get("/settings")))
    before = site.rows()
    bad = post(client, "/settings", {"alerts": "hourly"})
    assert bad.status_code == 422 and field_error(bad, "alerts")
    assert site.rows() == before
    assert users.read_user(site.db, site.vera.user_id).alerts == "daily"


def test_settings_say_when_the_choice_does_not_apply_yet(site):
    page = text(site.client(site.organiser).get("/settings"))
    assert "You decide on no resource right now" in page
    assert site.client().get("/settings").status_code == 302
