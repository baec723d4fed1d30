"""Booking's HTML pages through the Flask test client: who may open which page, CSRF on every
form, escaping of what users type, login (wrong password, open redirects, cookie flags,
a fresh session), form errors beside their fields with the values kept, and the whole
request → decision workflow as organisers and the infrastructure team click through it.
The clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from services.booking.commands import BookingQuery, CreateResource, SubmitBooking
from services.booking.readmodels import BookingView, ResourceView
from services.booking.usecases import bookings, queries, resources, users
from shared.auth import Principal
from shared.events import Kind
from tests.support.booking import MONDAY, NOW, at
from tests.support.pages import field_error, login, post, say, text, token

PASSWORD = "a long enough password"
LANGUAGES = ("en", "sv")
DAY = MONDAY.isoformat()  # Monday 4 March 2030


@dataclass
class Person:
    email: str
    principal: Principal


class Site:
    """The booking app with a fixed clock, its users and resources, and ways to use it as a
    browser would (log in, read the CSRF token from the page, post forms)."""

    _seq = itertools.count(1)

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ctx = app.extensions["booking_context"]
        self.ctx.clock = lambda: NOW
        self.db = self.ctx.db
        self.admin = self.person("admin")
        self.infra = self.person("infra")
        self.organiser = self.person("organiser", "olle@example.org")
        self.other = self.person("organiser", "otto@example.org")
        self.manager = self.person("organiser", "maja.manager@example.org")
        self.hall = self.resource(name="Great hall", capacity=100, features=["stage"])
        self.room = self.resource(name="Small room", capacity=20)
        self.studio = self.resource(
            name="Photo studio", kind="studio", managers=[self.manager.email]
        )
        self.photographer = self.resource(
            name="Photographer", kind="service", managers=[self.manager.email]
        )

    def person(self, role: str, email: str | None = None) -> Person:
        email = email or f"{role}{next(self._seq)}@example.org"
        user = users.add_user(self.db, email, email.split("@")[0].title(), role, PASSWORD)
        return Person(email, Principal(user.id, user.email, user.name, user.role))

    def resource(self, **cmd: Any) -> ResourceView:
        cmd.setdefault("kind", Kind.VENUE)
        for name in ("features", "managers"):
            if name in cmd:
                cmd[name] = tuple(cmd[name])
        return resources.create_resource(self.ctx, self.admin.principal, CreateResource(**cmd))

    def booking(self, who: Person, *chosen, title: str = "Seminar", **extra: Any) -> BookingView:
        cmd = SubmitBooking(
            title=title,
            start=_utc(at(MONDAY, 10)),
            end=_utc(at(MONDAY, 12)),
            resource_ids=tuple(r.id for r in chosen or [self.hall]),
            **extra,
        )
        return bookings.submit_booking(self.ctx, who.principal, cmd)

    def approve(self, booking: BookingView) -> None:
        bookings.approve_booking(self.ctx, self.infra.principal, booking.id)

    def status(self, booking: BookingView) -> str:
        return queries.read_booking(self.ctx, self.infra.principal, booking.id).status

    def count(self) -> int:
        return len(queries.list_bookings(self.ctx, self.infra.principal))

    def client(self, who: Person | None = None, lang: str = "en") -> FlaskClient:
        client = self.app.test_client()
        client.set_cookie("evenemang_lang", lang)
        if who is not None:
            response = login(client, who.email, PASSWORD)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client


def _utc(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)


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
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def site(make_app, monkeypatch) -> Site:
    # Real argon2, with cheap parameters: the tests log in dozens of times.
    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    return Site(make_app("booking"))


# --- who may open what --------------------------------------------------------------------------

PAGES = [
    "/",
    "/bookings",
    "/bookings/new",
    "/queue",
    "/resources",
    "/resources/new",
    "/resources/great-hall/week",
    "/resources/great-hall/edit",
    "/logout",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_login_and_back(site, path):
    response = site.client().get(path)
    assert response.status_code == 302
    if path == "/logout":
        assert response.location == "/login"
    else:
        target = urlsplit(response.location)
        assert target.path == "/login" and parse_qs(target.query) == {"next": [path]}


def test_anonymous_request_page_goes_to_login_too(site):
    booking = site.booking(site.organiser)
    response = site.client().get(f"/bookings/{booking.id}")
    assert response.status_code == 302 and response.location.startswith("/login?next=")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", ["/queue", "/resources/new", "/resources/great-hall/edit"])
def test_an_organiser_gets_a_403_page_for_queue_and_admin_pages(site, path, lang):
    response = site.client(site.organiser, lang).get(path)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert say(lang, "You do not have access", "Du har inte behörighet") in text(response)
    assert 'href="/bookings"' in text(response)  # in the layout, with the navigation


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        (
            "infra",
            ["/queue", "/resources", "/resources/great-hall/week"],
            ["/resources/new", "/resources/great-hall/edit"],
        ),
        ("admin", ["/queue", "/resources/new", "/resources/great-hall/edit"], []),
        ("manager", ["/queue", "/resources/photo-studio/week"], ["/resources/new"]),
        ("organiser", ["/", "/bookings", "/bookings/new", "/resources"], ["/queue"]),
    ],
)
def test_each_role_opens_its_pages(site, who, allowed, refused):
    client = site.client(getattr(site, who))
    for path in allowed:
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, (who, path)
    for path in refused:
        assert client.get(path).status_code == 403, (who, path)


def test_a_manager_sees_only_their_resources_requests(site):
    theirs = site.booking(site.organiser, site.studio, title="Portraits")
    other = site.booking(site.organiser, site.hall, title="Concert")
    client = site.client(site.manager)
    queue = text(client.get("/queue"))
    assert "Portraits" in queue and "Concert" not in queue
    assert client.get(f"/bookings/{theirs.id}").status_code == 200
    assert client.get(f"/bookings/{other.id}").status_code == 403
    infra_queue = text(site.client(site.infra).get("/queue"))
    assert "Portraits" in infra_queue and "Concert" in infra_queue


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_queue_count_is_in_the_navigation(site, lang):
    site.booking(site.organiser, site.hall, title="One")
    site.booking(site.other, site.room, title="Two")
    page = text(site.client(site.infra, lang).get("/bookings"))
    waiting = say(lang, "2 waiting for a decision", "2 väntar på beslut")
    assert re.search(rf'aria-label="{waiting}">2</span>', page)
    queue = say(lang, "Queue", "Att besluta")
    assert queue in page and queue not in text(site.client(site.organiser, lang).get("/bookings"))


def test_organisers_cannot_open_each_others_requests(site):
    booking = site.booking(site.organiser)
    client = site.client(site.other)
    assert client.get(f"/bookings/{booking.id}").status_code == 403
    assert client.get(f"/bookings/{booking.id}/edit").status_code == 403
    response = post(client, f"/bookings/{booking.id}/cancel", {}, page="/bookings")
    assert response.status_code == 403
    assert site.status(booking) == "pending"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_request_is_a_404_page_in_the_layout(site, lang):
    response = site.client(site.organiser, lang).get("/bookings/no-such-id")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert say(lang, "Page not found", "Sidan finns inte") in text(response)


def test_the_api_keeps_answering_json(site):
    response = site.client(site.organiser).get("/api/v1/bookings/no-such-id")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "", "forged-token"])
def test_a_form_without_the_right_csrf_token_is_refused_and_writes_nothing(site, sent):
    client = site.client(site.organiser)
    token(client, "/bookings/new")  # the session has a token; the post does not carry it
    data = request_form(site)
    if sent is not None:
        data["csrf_token"] = sent
    response = client.post("/bookings/new", data=data)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The form could not be accepted" in text(response)
    assert site.count() == 0


def test_decisions_need_the_csrf_token_too(site):
    booking = site.booking(site.organiser)
    client = site.client(site.infra)
    token(client, "/queue")
    for action, data in (("approve", {}), ("reject", {"reason": "No"}), ("cancel", {})):
        response = client.post(f"/bookings/{booking.id}/{action}", data=data)
        assert response.status_code == 400, action
    assert site.status(booking) == "pending"


def test_a_post_that_is_not_a_form_needs_the_token_too(site):
    booking = site.booking(site.organiser)
    client = site.client(site.infra)
    token(client, "/queue")
    for body in ({"data": "reason=x", "content_type": "text/plain"}, {}):
        assert client.post(f"/bookings/{booking.id}/approve", **body).status_code == 400
    assert site.status(booking) == "pending"


def test_login_needs_the_csrf_token(site):
    client = site.client()
    response = client.post("/login", data={"email": site.organiser.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/bookings").status_code == 302  # not logged in


# --- escaping ---------------------------------------------------------------------------------


def test_what_users_type_is_shown_as_text_not_markup(site):
    evil = "<script>alert(1)</script>"
    client = site.client(site.organiser)
    response = post(
        client,
        "/bookings/new",
        request_form(
            site,
            title=evil,
            description='<img src=x onerror="alert(2)">',
            participants='"<b>Bold</b>" <bold@example.org>',
            visibility="public",
        ),
        page="/bookings/new",
    )
    assert response.status_code == 302, field_errors_of(response)
    for page in (response.location, "/bookings"):
        shown = text(client.get(page))
        assert evil not in shown and "<img src=x" not in shown and "<b>Bold" not in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    queue = text(site.client(site.infra).get("/queue"))
    assert evil not in queue and "&lt;script&gt;alert(1)&lt;/script&gt;" in queue
    week = text(site.client(site.other).get(f"/resources/great-hall/week?week={DAY}"))
    assert evil not in week


def field_errors_of(response) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', text(response)))


def test_pages_carry_no_inline_script_or_style_and_a_strict_csp(site):
    client = site.client(site.admin)
    for path in (
        "/bookings/new",
        "/queue",
        "/resources",
        "/resources/new",
        "/resources/great-hall/week",
    ):
        response = client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        page = text(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert " style=" not in page and "<style" not in page, path
        for tag in re.findall(r"<[a-zA-Z][^>]*>", page):
            bare = re.sub(r'"[^"]*"', '""', tag)
            assert not re.search(r"\son[a-z]+\s*=", bare), (path, tag)


# --- logging in -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("email", ["olle@example.org", "nobody@example.org"])
def test_a_wrong_password_or_unknown_user_is_refused_with_the_email_kept(site, email, lang):
    client = site.client(lang=lang)
    response = login(client, email, "not the password")
    assert response.status_code == 401
    assert field_error(response, "password") == say(
        lang, "Wrong email address or password.", "Fel e-postadress eller lösenord."
    )
    assert f'value="{email}"' in text(response)
    assert client.get("/bookings").status_code == 302


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_invalid_email_is_shown_beside_the_field(site, lang):
    response = login(site.client(lang=lang), "not an address", PASSWORD)
    assert response.status_code == 422
    assert field_error(response, "email") == say(
        lang, "Not a valid email address.", "Inte en giltig e-postadress."
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_login_never_redirects_off_the_site(site, target):
    client = site.client()
    response = login(client, site.organiser.email, PASSWORD, next_=target)
    assert response.status_code == 302
    assert response.location == "/"  # the home page, never the target


def test_login_returns_to_the_page_asked_for(site):
    client = site.client()
    page = client.get("/bookings/new?date=2030-03-04")
    assert page.status_code == 302
    next_path = "/bookings/new?date=2030-03-04"
    assert client.get(page.location).status_code == 200
    response = login(client, site.organiser.email, PASSWORD, next_=next_path)
    assert response.location == next_path
    assert (
        login(site.client(), site.organiser.email, PASSWORD, next_="/calendar/").location
        == "/calendar/"
    )


def test_the_session_cookie_is_httponly_samesite_and_fresh_at_login(site):
    client = site.client()
    planted = token(client)  # a session (and CSRF token) from before logging in
    before = client.get_cookie("evenemang_session").value
    response = login(client, site.organiser.email, PASSWORD)
    header = response.headers["Set-Cookie"]
    assert "evenemang_session=" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # served over http in the test
    assert client.get_cookie("evenemang_session").value != before
    assert token(client, "/bookings") != planted  # login started a new session
    stale = site.client()
    stale.set_cookie("evenemang_session", before)
    assert stale.get("/bookings").status_code == 302  # the old session stays logged out


def test_the_session_cookie_is_secure_behind_https(make_app, config):
    app = make_app("booking", config.replace(base_url="https://events.example.org"))
    users.add_user(
        app.extensions["evenemang"]["db"], "sec@example.org", "Sec", "organiser", PASSWORD
    )
    response = login(app.test_client(), "sec@example.org", PASSWORD)
    header = response.headers["Set-Cookie"]
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


def test_logout_is_a_post_and_ends_the_session(site):
    client = site.client(site.organiser)
    assert client.get("/logout").status_code == 200  # a page with the button, not a logout
    assert client.get("/bookings").status_code == 200
    response = post(client, "/logout", {}, page="/bookings")
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/bookings").status_code == 302


# --- the request form -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_form_shows_what_is_free_for_the_time(site, lang):
    site.approve(site.booking(site.other, site.room, title="Board meeting", visibility="public"))
    client = site.client(site.organiser, lang)
    response = post(
        client,
        "/bookings/new",
        {"date": DAY, "start_time": "11:00", "end_time": "13:00", "step": "check"},
    )
    page = text(response)
    assert response.status_code == 200
    assert re.search(rf'id="r-{site.hall.id}" name="resource_ids"', page)
    assert f'id="r-{site.room.id}"' not in page  # taken: no box to tick
    assert "Board meeting" in page and say(lang, "Taken", "Upptagen") in page
    assert say(lang, "100 seats", "100 platser") in page and "stage" in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_errors_are_shown_beside_the_fields_with_the_values_kept(site, lang):
    client = site.client(site.organiser, lang)
    form = request_form(
        site,
        title="Open day",
        expected_attendees="250",
        participants="ann@example.org\nBo <bo@example.org>",
        notes="Needs a lectern",
        resource_ids=[site.hall.id, site.photographer.id],
    )
    response = post(client, "/bookings/new", form)
    assert response.status_code == 422
    assert field_error(response, "expected_attendees") == say(
        lang, "Great hall: holds at most 100 people.", "Great hall: rymmer högst 100 personer."
    )
    page = text(response)
    assert say(lang, "Please fix the following", "Rätta det här först") in page
    assert 'value="Open day"' in page and 'value="250"' in page
    assert "ann@example.org\nBo &lt;bo@example.org&gt;</textarea>" in page
    assert "Needs a lectern</textarea>" in page
    for chosen in (site.hall, site.photographer):
        assert re.search(
            rf'id="r-{chosen.id}" name="resource_ids" value="{chosen.id}" checked', page
        )
    assert 'class="error-summary"' in page and 'href="#expected_attendees"' in page
    assert site.count() == 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_missing_and_malformed_fields_are_each_named(site, lang):
    client = site.client(site.organiser, lang)
    response = post(
        client,
        "/bookings/new",
        request_form(
            site,
            title="",
            start_time="25:00",
            participants="ann@example.org, not-an-address",
            expected_attendees="many",
        ),
    )
    assert response.status_code == 422
    assert field_error(response, "title") == say(
        lang, "Fill in this field.", "Fyll i det här fältet."
    )
    assert field_error(response, "start_time") == say(
        lang, "Give a time as HH:MM.", "Ange en tid som TT:MM."
    )
    assert field_error(response, "participants") == say(
        lang,
        "“not-an-address”: Not a valid email address.",
        "”not-an-address”: Inte en giltig e-postadress.",
    )
    assert field_error(response, "expected_attendees") == say(
        lang, "Give a whole number.", "Ange ett heltal."
    )
    summary = re.findall(r'<li><a href="#(\w+)">', text(response))  # from the top of the form
    assert summary == ["start_time", "title", "expected_attendees", "participants"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_resource_and_an_end_before_the_start_are_named(site, lang):
    response = post(
        site.client(site.organiser, lang),
        "/bookings/new",
        request_form(site, resource_ids=None, start_time="13:00"),
    )
    assert response.status_code == 422
    assert field_error(response, "resource_ids") == say(
        lang,
        "Choose at least one venue, studio or service.",
        "Välj minst en lokal, studio eller tjänst.",
    )
    assert field_error(response, "end_time") == say(
        lang, "Must be after the start.", "Måste vara efter starten."
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Choose at most 10 venues, studios and services."),
        ("sv", "Välj högst 10 lokaler, studior och tjänster."),
    ],
)
def test_choosing_eleven_resources_says_at_most_ten(site, lang, expected):
    chosen = [site.resource(name=f"Room {n}") for n in range(11)]
    client = site.client(site.organiser, lang=lang)
    response = post(
        client, "/bookings/new", request_form(site, resource_ids=[r.id for r in chosen])
    )
    assert response.status_code == 422
    assert field_error(response, "resource_ids") == expected
    assert site.count() == 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_request_in_the_past_is_refused_beside_the_time(site, lang):
    response = post(
        site.client(site.organiser, lang), "/bookings/new", request_form(site, date="2030-02-01")
    )
    assert field_error(response, "start_time") == say(
        lang, "Must be in the future.", "Måste ligga i framtiden."
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_taken_slot_says_what_it_collides_with_and_offers_alternatives(site, lang):
    site.approve(site.booking(site.other, site.hall, title="Graduation", visibility="public"))
    client = site.client(site.organiser, lang)
    response = post(client, "/bookings/new", request_form(site, title="Party"))
    assert response.status_code == 409
    page = text(response)
    callout = page[page.index('id="taken"') : page.index("</section>", page.index('id="taken"'))]
    assert "Great hall" in callout and "Graduation" in callout
    assert say(lang, "Mon 4 Mar 2030, 10:00–12:00", "mån 4 mars 2030, 10:00–12:00") in callout
    assert "Small room" in callout  # free at the same time
    assert 'value="Party"' in page
    assert site.count() == 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_taken_slot_hides_the_title_of_a_booking_the_organiser_may_not_see(site, lang):
    site.approve(site.booking(site.other, site.hall, title="Secret merger", visibility="private"))
    response = post(site.client(site.organiser, lang), "/bookings/new", request_form(site))
    assert response.status_code == 409
    assert "Secret merger" not in text(response)
    assert say(lang, "is booked", "är bokad") in text(response)
    assert field_error(response, "resource_ids") == say(
        lang,
        "The time is already booked for something you chose.",
        "Tiden är redan bokad för något du valt.",
    )


def test_a_weekly_series_until_a_date_or_a_count(site):
    client = site.client(site.organiser)
    response = post(
        client,
        "/bookings/new",
        request_form(
            site,
            repeat="weekly",
            weekdays=["mon", "wed"],
            repeat_end="until",
            repeat_until="2030-03-13",
        ),
    )
    assert response.status_code == 302, field_errors_of(response)
    booking = queries.list_bookings(site.ctx, site.organiser.principal, BookingQuery(mine=True))[0]
    assert len(booking.occurrences) == 4 and "UNTIL=" in booking.rrule
    response = post(
        client,
        "/bookings/new",
        request_form(
            site,
            resource_ids=[site.room.id],
            repeat="weekly",
            weekdays=["mon"],
            repeat_end="count",
            repeat_count="3",
        ),
    )
    assert response.status_code == 302
    series = [
        b
        for b in queries.list_bookings(site.ctx, site.organiser.principal)
        if b.rrule and "COUNT=3" in b.rrule
    ]
    assert len(series[0].occurrences) == 3


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_weekly_series_needs_its_first_weekday_and_an_end(site, lang):
    response = post(
        site.client(site.organiser, lang),
        "/bookings/new",
        request_form(site, repeat="weekly", weekdays=["tue"], repeat_end="count"),
    )
    assert response.status_code == 422
    assert say(
        lang,
        "The first date must fall on one of the chosen weekdays",
        "Första datumet måste vara en av de valda veckodagarna",
    ) in field_error(response, "weekdays")
    assert field_error(response, "repeat_count") == say(
        lang, "Give how many times.", "Ange hur många gånger."
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_series_until_a_date_before_its_first_or_too_long_is_named(site, lang):
    client = site.client(site.organiser, lang)
    weekly = {"repeat": "weekly", "weekdays": ["mon"]}
    response = post(
        client,
        "/bookings/new",
        request_form(site, **weekly, repeat_end="until", repeat_until="2030-03-01"),
    )
    assert field_error(response, "repeat_until") == say(
        lang, "The last date is before the first.", "Sista datum ligger före första."
    )
    response = post(
        client,
        "/bookings/new",
        request_form(site, **weekly, repeat_end="count", repeat_count="501"),
    )
    assert field_error(response, "repeat_count") == say(
        lang, "A series can have 1 to 500 dates.", "En serie kan ha 1 till 500 tillfällen."
    )


# --- the workflow -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_request_approve_and_see_it_approved(site, lang):
    organiser = site.client(site.organiser, lang)
    response = post(
        organiser,
        "/bookings/new",
        request_form(
            site,
            resource_ids=[site.hall.id, site.photographer.id],
            visibility="public",
            participants="ann@example.org",
        ),
    )
    assert response.status_code == 302
    page = text(organiser.get(response.location))
    sent = say(
        lang, "Your request “Thesis defence” was sent.", "Förfrågan ”Thesis defence” är skickad."
    )
    assert sent in page and say(lang, "Pending", "Väntar") in page
    booking_id = response.location.rsplit("/", 1)[1]
    infra = site.client(site.infra, lang)
    queue = text(infra.get("/queue"))
    assert "Thesis defence" in queue
    approved = post(infra, f"/bookings/{booking_id}/approve", {"next": "/queue"}, page="/queue")
    assert approved.status_code == 302 and approved.location == "/queue"
    approved = say(lang, "“Thesis defence” is approved.", "”Thesis defence” är godkänd.")
    assert approved in text(infra.get("/queue"))
    mine = text(organiser.get("/bookings"))
    assert "Thesis defence" in mine and "status-approved" in mine
    history = text(organiser.get(f"/bookings/{booking_id}"))
    assert say(lang, "Approved", "Godkänd") in history and site.infra.email in history


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reject_needs_a_reason_and_the_organiser_sees_it(site, lang):
    booking = site.booking(site.organiser)
    infra = site.client(site.infra, lang)
    page = f"/bookings/{booking.id}"
    response = post(infra, f"{page}/reject", {"reason": "  "}, page=page)
    assert response.status_code == 422
    assert field_error(response, "reason") == say(
        lang, "Fill in this field, at most 2000 characters.", "Fyll i fältet, högst 2000 tecken."
    )
    response = post(infra, f"{page}/reject", {"reason": "The hall is being painted"}, page=page)
    assert response.status_code == 302
    mine = text(site.client(site.organiser, lang).get("/bookings?status=rejected"))
    assert say(lang, "Rejected", "Avslagen") in mine and "The hall is being painted" in mine


@pytest.mark.parametrize("lang", LANGUAGES)
def test_approving_a_taken_slot_says_what_holds_it(site, lang):
    first = site.booking(site.organiser, title="First")
    second = site.booking(site.other, title="Second")
    site.approve(first)
    infra = site.client(site.infra, lang)
    page = f"/bookings/{second.id}"
    shown = text(infra.get(page))
    held = say(lang, "Already approved at the same time", "Redan godkänt vid samma tid")
    assert held in shown and "First" in shown
    response = post(infra, f"{page}/approve", {}, page=page)
    assert response.status_code == 409
    assert say(
        lang,
        "Cannot be approved: the time is already booked.",
        "Kan inte godkännas: tiden är redan bokad.",
    ) in text(response)
    callout = text(response).split('id="action-error"')[1].split("</section>")[0]
    assert "Great hall" in callout and "First" in callout
    assert site.status(second) == "pending"


def history_of(page: str) -> list[str]:
    """The changes a request's history lists, as text."""
    part = page.split('id="history-h"')[1].split("</section>")[0]
    changes = "".join(re.findall(r'<ul class="changes">(.*?)</ul>', part, re.S))
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split())
        for item in re.findall(r"<li>(.*?)</li>", changes, re.S)
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_change_withdraw_and_cancel_one_date(site, lang):
    booking = site.booking(site.organiser, site.room, rrule="FREQ=WEEKLY;COUNT=3")
    client = site.client(site.organiser, lang)
    page = f"/bookings/{booking.id}"
    form = text(client.get(f"{page}/edit"))
    assert (
        'value="Seminar"' in form
        and 'id="repeat-weekly" name="repeat" value="weekly" checked' in form
    )
    response = post(
        client,
        f"{page}/edit",
        request_form(
            site,
            title="Seminar series",
            resource_ids=[site.room.id],
            repeat="keep",
            rrule_kept="FREQ=WEEKLY;COUNT=3",
            notes=None,
        ),
    )
    assert response.status_code == 302, field_errors_of(response)
    shown = text(client.get(page))
    assert "Seminar series" in shown and say(lang, "Changed", "Ändrad") in shown
    title = say(lang, "Title: Seminar → Seminar series", "Titel: Seminar → Seminar series")
    assert title in history_of(shown)
    response = post(client, f"{page}/occurrences/1/cancel", {}, page=page)
    assert response.status_code == 302
    shown = text(client.get(page))
    assert (
        say(
            lang,
            "The date Mon 11 Mar 2030, 10:00 is cancelled.",
            "Datumet mån 11 mars 2030, 10:00 är inställt.",
        )
        in shown
    )
    cancelled = say(
        lang,
        "The date Mon 11 Mar 2030: active → Cancelled",
        "Datumet mån 11 mars 2030: aktiv → Inställd",
    )  # which date: the second of the series
    assert cancelled in history_of(shown)
    after = queries.read_booking(site.ctx, site.organiser.principal, booking.id)
    assert [o.status for o in after.occurrences] == ["active", "cancelled", "active"]
    assert post(client, f"{page}/cancel", {"reason": "Speaker ill"}, page=page).status_code == 302
    mine = text(client.get("/bookings?status=cancelled"))
    assert "Seminar series" in mine and "Speaker ill" in mine
    refused = client.get(f"{page}/edit")
    assert refused.status_code == 409
    assert say(
        lang, "A cancelled booking cannot be changed.", "En inställd bokning kan inte ändras."
    ) in text(refused)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_history_words_a_moved_time_and_a_new_status(site, lang):
    booking = site.booking(site.organiser, site.room)
    site.approve(booking)
    client = site.client(site.organiser, lang)
    page = f"/bookings/{booking.id}"
    form = request_form(site, title="Seminar", resource_ids=[site.room.id], start_time="09:00")
    response = post(client, f"{page}/edit", form)
    assert response.status_code == 302, field_errors_of(response)
    lines = history_of(text(client.get(page)))
    assert (
        say(
            lang,
            "Start: Mon 4 Mar 2030, 10:00 → Mon 4 Mar 2030, 09:00",
            "Början: mån 4 mars 2030, 10:00 → mån 4 mars 2030, 09:00",
        )
        in lines
    )
    assert say(lang, "Status: Approved → Pending", "Läge: Godkänd → Väntar") in lines


def test_changing_an_approved_series_without_moving_it_keeps_it_approved(site):
    booking = site.booking(site.organiser, site.room, rrule="FREQ=WEEKLY;COUNT=2")
    site.approve(booking)
    client = site.client(site.organiser)
    page = f"/bookings/{booking.id}"
    values = dict(
        re.findall(r'name="(\w+)" type="[a-z]+" value="([^"]*)"', text(client.get(f"{page}/edit")))
    )
    response = post(
        client,
        f"{page}/edit",
        request_form(
            site,
            title="Renamed",
            date=values["date"],
            start_time=values["start_time"],
            end_time=values["end_time"],
            resource_ids=[site.room.id],
            repeat="weekly",
            weekdays=["mon"],
            repeat_end="count",
            repeat_count="2",
        ),
    )
    assert response.status_code == 302, field_errors_of(response)
    assert site.status(booking) == "approved"


# --- how much a page asks the database --------------------------------------------------------


def statements(site: Site, call) -> int:
    """How many SQL statements ``call`` (a page load) runs."""
    found: list[str] = []

    def count(_conn, _cursor, statement, *_: Any) -> None:
        found.append(statement)

    event.listen(site.db.engine, "before_cursor_execute", count)
    try:
        response = call()
    finally:
        event.remove(site.db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(found)


def test_the_queue_page_asks_the_same_few_questions_however_long_the_queue(site):
    infra = site.client(site.infra)
    for n in range(2):
        site.booking(site.organiser, site.hall, title=f"Early {n}")
    short = statements(site, lambda: infra.get("/queue"))
    for n in range(18):
        site.booking(site.organiser, site.room if n % 2 else site.studio, title=f"Late {n}")
    assert statements(site, lambda: infra.get("/queue")) == short <= 12


def test_checking_a_long_series_asks_the_same_few_questions_as_one_date(site):
    client = site.client(site.organiser)
    sent = {"csrf_token": token(client, "/bookings/new"), "step": "check", "repeat": "weekly"}
    sent.update(weekdays=["mon"], repeat_end="count")

    def check(weeks: int) -> int:
        form = request_form(site, **sent, repeat_count=str(weeks))
        return statements(site, lambda: client.post("/bookings/new", data=form))

    assert check(20) == check(1) <= 10  # 9, and the categories and units in one question


# --- resources and the week view ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_creates_and_changes_a_resource_with_hours_and_managers(site, lang):
    client = site.client(site.admin, lang)
    form = {
        "name": "Lecture hall",
        "kind": "venue",
        "capacity": "80",
        "features": "projector, hearing loop",
        "hours_mon": "08:00-12:00, 13:00-17:00",
        "hours_tue": "8-17",
        "managers": "maja.manager@example.org",
        "requires_approval": "on",
        "active": "on",
        "max_advance_days": "365",
    }
    response = post(client, "/resources/new", form)
    assert response.status_code == 422
    assert field_error(response, "hours_tue") == say(
        lang,
        "Write times as 08:00-17:00, several separated by commas.",
        "Skriv tider som 08:00-17:00, flera med komma.",
    )
    assert 'value="Lecture hall"' in text(response)
    response = post(client, "/resources/new", {**form, "hours_tue": "09:00-12:00, 11:00-17:00"})
    assert field_error(response, "opening_hours") == say(
        lang, "Tuesday: windows overlap.", "tisdag: tiderna överlappar."
    )
    response = post(client, "/resources/new", {**form, "name": "Great hall", "hours_tue": ""})
    assert field_error(response, "name") == say(
        lang,
        "A resource with the short name “great-hall” exists already.",
        "Det finns redan en resurs med kortnamnet ”great-hall”.",
    )
    response = post(client, "/resources/new", {**form, "hours_tue": "09:00-17:00"})
    assert response.status_code == 302 and response.location == "/resources/lecture-hall/edit"
    created = resources.read_resource(site.ctx, "lecture-hall")
    assert created.opening_hours == {
        "mon": (("08:00", "12:00"), ("13:00", "17:00")),
        "tue": (("09:00", "17:00"),),
    }
    assert created.manager_emails == ("maja.manager@example.org",)
    assert created.features == ("projector", "hearing loop")
    edit = text(client.get("/resources/lecture-hall/edit"))
    assert 'value="08:00-12:00, 13:00-17:00"' in edit
    response = post(
        client,
        "/resources/lecture-hall/edit",
        {**form, "hours_tue": "", "capacity": "", "always_open": "on", "slug": "lecture-hall"},
    )
    assert response.status_code == 302
    changed = resources.read_resource(site.ctx, "lecture-hall")
    assert changed.opening_hours is None and changed.capacity is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_infra_closes_a_resource_and_the_week_shows_it(site, lang):
    client = site.client(site.infra, lang)
    page = f"/resources/great-hall/week?week={DAY}"
    response = post(
        client,
        "/resources/great-hall/closures",
        {"start_date": DAY, "end_date": "2030-03-03", "start_time": "10:00"},
        page=page,
    )
    assert response.status_code == 422
    assert field_error(response, "reason") == say(
        lang, "Fill in this field.", "Fyll i det här fältet."
    )
    assert field_error(response, "end_date") == say(
        lang, "Must be after the start.", "Måste vara efter starten."
    )
    response = post(
        client,
        "/resources/great-hall/closures",
        {"start_date": DAY, "end_date": DAY, "reason": "Floor polishing"},
        page=page,
    )
    assert response.status_code == 302
    week = text(client.get(response.location))
    assert say(lang, "Closed: Floor polishing", "Stängt: Floor polishing") in week
    assert (
        say(lang, "Great hall is closed for the period.", "Great hall är stängd under perioden.")
        in week
    )
    refused = post(
        site.client(site.organiser),
        "/resources/great-hall/closures",
        {"start_date": DAY, "end_date": DAY, "reason": "Mine"},
        page="/resources",
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_week_view_shows_titles_only_to_those_who_may_see_them(site, lang):
    site.approve(site.booking(site.other, site.hall, title="Board meeting", visibility="internal"))
    site.approve(site.booking(site.other, site.room, title="Open lecture", visibility="public"))
    organiser = site.client(site.organiser, lang)
    hall = text(organiser.get(f"/resources/great-hall/week?week={DAY}"))
    assert "Board meeting" not in hall and say(lang, "Busy", "Upptagen") in hall and "10:00" in hall
    assert say(lang, "Week of Mon 4 Mar 2030", "Veckan från mån 4 mars 2030") in hall
    assert say(lang, "Tue 5 Mar", "tis 5 mars") in hall
    assert "Open lecture" in text(organiser.get(f"/resources/small-room/week?week={DAY}"))
    assert "Board meeting" in text(
        site.client(site.infra).get(f"/resources/great-hall/week?week={DAY}")
    )


# --- languages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_queue_filters_name_a_wrong_date(site, lang):
    site.booking(site.organiser, site.hall, title="Seminar")
    client = site.client(site.infra, lang)
    response = client.get("/queue?from=2030-13-01&kind=venue")
    assert response.status_code == 200
    assert field_error(response, "from") == say(
        lang, "Give a date as YYYY-MM-DD.", "Ange ett datum som ÅÅÅÅ-MM-DD."
    )
    assert "Seminar" in text(response)  # a wrong filter shows the whole queue
    assert "Seminar" not in text(client.get("/queue?kind=studio"))
    assert "Seminar" not in text(client.get("/queue?from=2030-03-05"))
    assert "Seminar" in text(client.get(f"/queue?resource=great-hall&to={DAY}"))


def test_the_language_switch_is_remembered(site):
    client = site.app.test_client()
    login(client, site.organiser.email, PASSWORD)
    assert "Mina förfrågningar" in text(client.get("/bookings"))  # Swedish by default
    response = client.get("/bookings?lang=en")
    assert "My requests" in text(response)
    assert "evenemang_lang=en" in response.headers["Set-Cookie"]
    page = text(client.get("/bookings/new"))
    assert "New request" in page and 'lang="en"' in page
    assert 'href="?lang=sv"' in page
