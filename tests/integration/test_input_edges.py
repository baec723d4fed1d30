"""Input edges answered, never 500: text that is not text (invalid UTF-8, a lone surrogate,
a NUL) in a query string, a form or a JSON body is a 400 naming the field, on every route of
the three services' URL maps (anonymous, before any session, token or CSRF check)."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

import pytest

from tests.support.booking import NOW, BookingApi, problem
from tests.support.pages import browser, post, text, token

SERVICES = ("booking", "calendar", "notify")
# What is sent, how, and the field the answer must name.
NOT_TEXT = {
    "query-invalid-utf8": ({"query": "start=%FF%FE"}, "start"),
    "query-encoded-surrogate": ({"query": "q=%ED%A0%80"}, "q"),
    "query-nul": ({"query": "lang=en&day=%00"}, "day"),
    "form-invalid-utf8": ({"form": b"email=%C3%28&password=x"}, "email"),
    "form-nul": ({"form": b"title=Board%00meeting"}, "title"),
    "json-lone-surrogate": ({"json": b'{"title": "Board \\ud800 meeting"}'}, "title"),
    "json-deep-surrogate": (
        {"json": b'{"participants": [{"email": "a@example.org"}, {"email": "\\udfff"}]}'},
        "participants.1.email",
    ),
    "json-nul-in-a-key": ({"json": b'{"ti\\u0000tle": "x"}'}, "ti\u0000tle"),
}


def _routes(app):
    """Every (method, path) of the app's URL map, each variable part filled with ``x``."""
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def _send(client, method: str, path: str, how: dict):
    if "query" in how:
        return client.open(f"{path}?{how['query']}", method=method)
    if "form" in how:
        kind = "application/x-www-form-urlencoded"
        return client.open(path, method=method, data=how["form"], content_type=kind)
    return client.open(path, method=method, data=how["json"], content_type="application/json")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("case", NOT_TEXT, ids=list(NOT_TEXT))
def test_text_that_is_not_text_is_a_400_naming_the_field_on_every_route(make_app, service, case):
    how, field = NOT_TEXT[case]
    app = make_app(service)
    client = app.test_client()
    wrong = {}
    routes = list(_routes(app))
    assert len(routes) >= 8
    shown = field.replace("\u0000", "\ufffd")
    for method, path in routes:
        response = _send(client, method, path, how)
        if response.status_code != 400:
            wrong[f"{method} {path}"] = response.status_code
        elif response.mimetype == "text/html":  # a page, in the visitor's language
            page = html.unescape(text(response))
            if not re.search(rf"(The field|Fältet) {re.escape(shown)} (is|är) (not|inte)", page):
                wrong[f"{method} {path}"] = page[:300]
        else:
            body = problem(response, 400)
            if body.get("codes", {}).get(shown) != ["not_text"] or shown not in body["detail"]:
                wrong[f"{method} {path}"] = body
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=True)


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"), NOW)


def test_a_request_whose_participant_is_not_text_writes_nothing(api):
    room = api.make_resource()
    body = api.booking_body(room, participants=[{"email": "a@example.org", "name": "\ud800"}])
    raw = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as \ud800
    response = api.client.post(
        "/api/v1/bookings", data=raw, content_type="application/json", headers=api.organiser.headers
    )
    said = problem(response, 400)
    assert said["errors"] == {
        "participants.0.name": [
            "Not valid text: it holds invalid UTF-8, a lone surrogate or a NUL character."
        ]
    }
    assert "participants.0.name" in said["detail"]
    assert api.counts() == (0, 0)
    sv = api.client.post(
        "/api/v1/bookings?lang=sv",
        data=raw,
        content_type="application/json",
        headers=api.organiser.headers,
    )
    assert "ensamt surrogattecken" in problem(sv, 400)["errors"]["participants.0.name"][0]


def test_text_from_beyond_the_basic_plane_is_text(api):
    """An emoji is one code point; JSON may write it as an escaped surrogate pair."""
    room = api.make_resource()
    body = api.booking_body(room, title="Årsmöte 🎉 ∑ 漢字")
    for raw in (json.dumps(body).encode(), json.dumps(body, ensure_ascii=False).encode()):
        response = api.client.post(
            "/api/v1/bookings",
            data=raw,
            content_type="application/json",
            headers=api.organiser.headers,
        )
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["title"] == "Årsmöte 🎉 ∑ 漢字"


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_a_page_says_which_field_was_not_text(make_app, lang):
    app = make_app("booking")
    client = browser(app, lang=lang)
    response = post(client, "/login", {"email": "olle\x00@example.org", "password": "x"})
    assert response.status_code == 400
    page = text(response)
    assert "email" in page
    assert {"en": "not valid text", "sv": "inte giltig text"}[lang] in page


# --- the first and last days of the calendar ------------------------------------------------

EDGE_DAYS = ["0001-01-01", "9999-12-31"]
EDGE_TIMES = ["0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
DATE_NAMES = ("start", "end", "from", "to", "week", "date", "end_date", "repeat_until")
DATE_NAMES += ("start_date", "since", "until")
AUTHORITY = ("logout", "deactivate", "sessions", "password")  # would end the test's session


@pytest.fixture
def everyone(make_app, monkeypatch):
    """The three apps, a booking admin with a browser and a token, a resource and a
    booking, so that routes with ids reach their views."""
    from argon2 import PasswordHasher

    from services.booking.usecases import users

    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    api = BookingApi(make_app("booking"), NOW)
    users.add_user(api.db, "paula@example.org", "Paula", "admin", "a long enough password")
    page = browser(api.app, "paula@example.org", "a long enough password")
    room = api.make_resource(name="Room A")
    ids = {"booking_id": api.booking(api.admin, room)["id"], "resource_id": room["id"]}
    ids["key"] = room["id"]
    apps = {"booking": api.app, "calendar": make_app("calendar"), "notify": make_app("notify")}
    return api, page, ids, apps


def _filled(rule: str, ids: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: ids.get(m.group(1), "x"), rule)


@pytest.mark.parametrize("value", EDGE_DAYS + EDGE_TIMES)
def test_the_first_and_last_days_of_the_calendar_are_answered_on_every_route(everyone, value):
    """Every date input, query and form of the three services, anonymous and signed in:
    a page or a 4xx, never a 500."""
    api, page, ids, apps = everyone
    failed = {}
    for service, app in apps.items():
        anonymous = app.test_client()
        for rule in app.url_map.iter_rules():
            path = _filled(rule.rule, ids)
            if any(word in path for word in AUTHORITY):
                continue
            is_api = path.startswith("/api")
            signed_in = page if service == "booking" and not is_api else anonymous
            headers = api.admin.headers if service == "booking" and is_api else {}
            dates = dict.fromkeys(DATE_NAMES, value)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for client in {anonymous, signed_in}:
                    if method == "GET":
                        response = client.get(f"{path}?{urlencode(dates)}", headers=headers)
                    elif is_api:
                        body = {**dates, "title": "t", "resource_ids": [ids["resource_id"]]}
                        response = client.open(path, method=method, json=body, headers=headers)
                    else:
                        form = {**dates, "start_time": "10:00", "end_time": "11:00"}
                        form.update(title="t", resource_ids=ids["resource_id"], step="send")
                        form["csrf_token"] = token(page, "/settings")
                        response = client.open(path, method=method, data=form)
                    if response.status_code >= 500:
                        failed[f"{service} {method} {path}"] = response.status_code
    assert not failed, failed


@pytest.mark.parametrize("value", EDGE_DAYS)
def test_a_date_beyond_the_years_held_is_named_on_the_api_and_the_form(everyone, value):
    api, page, ids, _ = everyone
    at_edge = f"{value}T10:00:00+01:00"
    said = problem(api.submit(api.organiser, ids["resource_id"], start=at_edge, end=at_edge), 422)
    assert said["codes"]["start"] == ["year_between"]
    query = urlencode({"start": at_edge, "end": at_edge})
    free = api.get(f"/api/v1/availability?{query}", api.organiser)
    assert problem(free, 422)["codes"]["start"] == ["year_between"]
    form = {"date": value, "start_time": "10:00", "end_time": "11:00", "title": "t"}
    response = post(page, "/bookings/new", {**form, "resource_ids": ids["resource_id"]})
    assert response.status_code == 422
    assert "Give a year between 1970 and 2200." in html.unescape(text(response))
    week = page.get(f"/resources/{ids['key']}/week?week={value}")
    assert week.status_code == 200  # this week, as for any date it cannot show


# --- addresses mail can reach ------------------------------------------------------------------

ABROAD = "åsa@exämple.se"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/bookings", {"participants": [{"email": ABROAD}]}, "participants.0.email"),
        ("/api/v1/teams", {"name": "Komm", "email": ABROAD}, "email"),
        ("/api/v1/teams", {"name": "Komm", "members": ["a@example.org", ABROAD]}, "members.1"),
        (
            "/api/v1/resources",
            {"name": "Studio", "kind": "studio", "managers": [ABROAD]},
            "managers.0",
        ),
        ("/api/v1/users", {"email": ABROAD, "name": "Åsa", "role": "organiser"}, "email"),
        ("/api/v1/password-reset", {"email": ABROAD}, "email"),
    ],
    ids=["participant", "team-mailbox", "team-member", "resource-manager", "invited-user", "reset"],
)
def test_an_address_with_other_than_ascii_is_refused_wherever_one_is_given(api, path, body, field):
    """Refused at input rather than accepted and never delivered (the relay is not assumed to
    speak SMTPUTF8); an international domain in its xn-- form is an address like any."""
    if path == "/api/v1/bookings":
        body = api.booking_body(api.make_resource(), **body)
    before = api.counts()
    said = problem(api.post(path, api.admin, body), 422)
    assert said["codes"][field] == ["email_not_ascii"]
    assert "xn--" in said["errors"][field][0]
    assert api.counts() == before
    ascii_form = json.loads(
        json.dumps(body, ensure_ascii=False).replace(ABROAD, "asa@xn--exmple-cua.se")
    )
    assert api.post(path, api.admin, ascii_form).status_code in (200, 201, 202)


def test_the_request_form_refuses_such_a_participant(make_app, monkeypatch):
    from argon2 import PasswordHasher

    from services.booking.usecases import users

    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    api = BookingApi(make_app("booking"), NOW)
    users.add_user(api.db, "paula@example.org", "Paula", "organiser", "a long enough password")
    page = browser(api.app, "paula@example.org", "a long enough password")
    form = {"date": "2030-03-04", "start_time": "10:00", "end_time": "11:00", "title": "Talk"}
    form.update(resource_ids=api.make_resource()["id"], step="send", visibility="internal")
    response = post(page, "/bookings/new", {**form, "participants": f"Åsa <{ABROAD}>"})
    assert response.status_code == 422
    assert "ASCII" in html.unescape(text(response)) and api.counts() == (0, 0)
