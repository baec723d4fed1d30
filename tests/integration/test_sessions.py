"""Sessions that end, on all three services: logging out (the page and the API) ends that
session at once on booking and on calendar and notify as soon as they apply booking's
``user.changed``; "log out everywhere" ends them all (API tokens live on); sessions end
after 8 hours idle and 30 days at most on every service (a clock the test moves); a role
change and a deactivation reach live sessions; the cookie carries no personal data."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from services.booking.persistence.models import UserSession
from services.booking.usecases.users import _by_email, add_user, create_token, update_user
from shared.auth import SESSION_KEY
from tests.support.identity import deliver_user_events
from tests.support.pages import login as page_login
from tests.support.pages import post
from tests.support.smtp import Clock

SERVICES = ("booking", "calendar", "notify")
COOKIE = "evenemang_session"
EMAIL, PASSWORD = "ines@example.org", "correct horse battery"


class Browser:
    """One browser: one cookie jar for the three services behind one host (the cookie's
    path is ``/``), so a cookie a service writes again is what the next request sends."""

    def __init__(self, apps: dict[str, Flask], cookie: str | None = None) -> None:
        self.apps = apps
        self.cookie = cookie
        self.replaying = cookie is not None

    def copy(self) -> Browser:
        """The cookie as it is now, kept elsewhere and sent again whatever the answers say
        (a copy someone else holds)."""
        return Browser(self.apps, self.cookie)

    def call(self, service: str, method: str, path: str, **kwargs):
        client = self.apps[service].test_client()
        if self.cookie is not None:
            client.set_cookie(COOKIE, self.cookie)
        response = client.open(path, method=method, **kwargs)
        if not self.replaying:
            kept = client.get_cookie(COOKIE)
            self.cookie = kept.value if kept is not None else None
        return response

    def me(self, service: str) -> int:
        return self.call(service, "GET", "/api/v1/me").status_code

    def role(self, service: str) -> str | None:
        response = self.call(service, "GET", "/api/v1/me")
        return response.get_json()["role"] if response.status_code == 200 else None

    def log_in(self, email: str = EMAIL, password: str = PASSWORD) -> Browser:
        body = {"email": email, "password": password}
        response = self.call("booking", "POST", "/api/v1/session", json=body)
        assert response.status_code == 200, response.get_json()
        return self


def three_apps(make_app, config=None):
    """The three services on one configuration, one clock the test moves, and Ines, whom
    calendar and notify already know."""
    apps = {s: make_app(s, config) for s in SERVICES}
    clock = Clock()
    apps["booking"].extensions["booking_context"].clock = clock
    for service in ("calendar", "notify"):
        apps[service].extensions["evenemang_auth"].clock = clock
    db = apps["booking"].extensions["evenemang"]["db"]
    add_user(db, EMAIL, "Ines Infra", "infra", PASSWORD)
    deliver_user_events(apps, db)
    return apps, db, clock


@pytest.fixture
def suite(make_app):
    return three_apps(make_app)


def everywhere(browser: Browser) -> dict[str, int]:
    return {service: browser.me(service) for service in SERVICES}


ALL_IN = dict.fromkeys(SERVICES, 200)
ALL_OUT = dict.fromkeys(SERVICES, 401)


def test_logging_out_ends_the_session_on_booking_at_once_and_on_the_others_by_the_event(suite):
    apps, db, _ = suite
    browser = Browser(apps).log_in()
    assert everywhere(browser) == ALL_IN
    copy = browser.copy()
    assert browser.call("booking", "DELETE", "/api/v1/session").status_code == 204
    assert browser.cookie is None  # the browser forgets it; a copy must stop working too
    assert copy.me("booking") == 401
    # until calendar and notify apply the event, only the cookie's own times limit it
    assert everywhere(copy) == {"booking": 401, "calendar": 200, "notify": 200}
    deliver_user_events(apps, db)
    assert everywhere(copy) == ALL_OUT


def test_the_logout_page_ends_the_session_everywhere_and_leaves_other_sessions(suite):
    apps, db, _ = suite
    laptop, phone = Browser(apps).log_in(), Browser(apps).log_in()
    stolen = laptop.copy()
    client = apps["booking"].test_client()
    client.set_cookie(COOKIE, laptop.cookie)
    response = post(client, "/logout", {}, page="/bookings")
    assert response.status_code == 302 and response.location == "/login"
    assert stolen.me("booking") == 401
    assert everywhere(stolen) == {"booking": 401, "calendar": 200, "notify": 200}
    deliver_user_events(apps, db)
    assert everywhere(stolen) == ALL_OUT
    assert everywhere(phone) == ALL_IN


@pytest.mark.parametrize("how", ["page", "api"])
def test_log_out_everywhere_ends_every_session_but_not_the_api_tokens(suite, config, how):
    apps, db, _ = suite
    token = create_token(db, config.secret_key, EMAIL)
    browsers = [Browser(apps).log_in().copy() for _ in range(3)]
    client = apps["booking"].test_client()
    client.set_cookie(COOKIE, browsers[0].cookie)
    account = client.get("/settings?lang=en")
    assert account.status_code == 200
    page = account.get_data(as_text=True)
    assert "Live sessions: 3" in page and "this browser" in page
    assert "API tokens keep working" in page
    if how == "page":
        assert "Log out everywhere" in client.get("/logout?lang=en").get_data(as_text=True)
        response = post(client, "/logout/everywhere", {}, page="/settings")
        assert response.status_code == 302 and response.location == "/login"
        assert "sessions ended: 3" in client.get("/login?lang=en").get_data(as_text=True)
    else:
        response = client.delete("/api/v1/sessions")
        assert response.status_code == 200 and response.get_json() == {"ended": 3}
    assert [b.me("booking") for b in browsers] == [401, 401, 401]
    deliver_user_events(apps, db)
    assert [everywhere(b) for b in browsers] == [ALL_OUT] * 3
    bearer = {"Authorization": f"Bearer {token}"}
    for service in SERVICES:
        assert apps[service].test_client().get("/api/v1/me", headers=bearer).status_code == 200
    assert everywhere(Browser(apps).log_in()) == ALL_IN  # a new login is a new session


def test_log_out_everywhere_with_a_token_ends_the_browser_sessions(suite, config):
    apps, db, _ = suite
    token = create_token(db, config.secret_key, EMAIL)
    browser = Browser(apps).log_in().copy()
    response = (
        apps["booking"]
        .test_client()
        .delete("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
    )
    assert response.get_json() == {"ended": 1}
    deliver_user_events(apps, db)
    assert everywhere(browser) == ALL_OUT
    assert apps["booking"].test_client().delete("/api/v1/sessions").status_code == 401


def test_a_session_ends_after_eight_idle_hours_on_every_service(suite):
    apps, _, clock = suite
    browser = Browser(apps).log_in()
    clock.advance(hours=7, minutes=50)
    assert browser.me("calendar") == 200  # seen by calendar: the cookie says so, re-signed
    clock.advance(hours=7, minutes=50)
    assert browser.me("booking") == 200  # booking reads the cookie's later last seen
    clock.advance(hours=7, minutes=50)
    assert browser.me("notify") == 200
    idle = browser.copy()
    clock.advance(hours=8, minutes=1)
    for service in SERVICES:
        assert idle.me(service) == 401, service


def test_a_session_ends_thirty_days_after_login_however_busy(suite):
    apps, _, clock = suite
    browser = Browser(apps).log_in()
    for _ in range(29 * 3):  # a request every 8 hours minus a little, for 29 days
        clock.advance(hours=7, minutes=59)
        assert browser.me("booking") == 200
    clock.advance(days=1)
    copy = browser.copy()
    for service in ("calendar", "notify", "booking"):
        assert copy.me(service) == 401, service


def test_the_last_seen_time_is_written_every_few_minutes_not_on_every_request(suite):
    apps, db, clock = suite
    browser = Browser(apps).log_in()

    def seen():
        with db.transaction(readonly=True) as session:
            return session.scalar(select(UserSession.last_seen_at))

    first, cookie = seen(), browser.cookie
    for _ in range(3):
        clock.advance(minutes=1)
        assert browser.me("booking") == 200
    assert seen() == first and browser.cookie == cookie  # nothing rewritten
    clock.advance(minutes=3)
    assert browser.me("booking") == 200
    assert seen() > first and browser.cookie != cookie


def test_a_role_change_reaches_live_sessions(suite):
    apps, db, _ = suite
    browser = Browser(apps).log_in()
    assert {s: browser.role(s) for s in SERVICES} == dict.fromkeys(SERVICES, "infra")
    update_user(db, EMAIL, role="organiser")
    assert browser.role("booking") == "organiser"  # at once
    deliver_user_events(apps, db)
    assert {s: browser.role(s) for s in SERVICES} == dict.fromkeys(SERVICES, "organiser")
    assert browser.call("booking", "GET", "/queue").status_code == 403


def test_deactivation_ends_every_session_and_reactivation_does_not_revive_them(suite):
    apps, db, _ = suite
    browser = Browser(apps).log_in().copy()
    update_user(db, EMAIL, active=False)
    assert browser.me("booking") == 401
    deliver_user_events(apps, db)
    assert everywhere(browser) == ALL_OUT
    update_user(db, EMAIL, active=True)
    deliver_user_events(apps, db)
    assert everywhere(browser) == ALL_OUT
    assert everywhere(Browser(apps).log_in()) == ALL_IN


def test_a_new_password_ends_the_sessions(suite):
    apps, db, _ = suite
    browser = Browser(apps).log_in().copy()
    update_user(db, EMAIL, password="a brand new passphrase")
    deliver_user_events(apps, db)
    assert everywhere(browser) == ALL_OUT
    assert Browser(apps).log_in(password="a brand new passphrase").me("notify") == 200


def _cookie_data(value: str) -> dict:
    """What a Flask session cookie says (signed, not encrypted: anyone holding it reads it)."""
    payload = value.split(".")[1] if value.startswith(".") else value.split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if value.startswith(".") else raw)


def test_the_cookie_names_the_session_and_carries_no_personal_data(suite):
    apps, _, _ = suite
    client = apps["booking"].test_client()
    assert page_login(client, EMAIL, PASSWORD).status_code == 302
    data = _cookie_data(client.get_cookie(COOKIE).value)
    assert set(data[SESSION_KEY]) == {"sid", "uid", "started", "seen"}
    text = json.dumps(data)
    for personal in ("ines", "Ines Infra", "infra", "example.org"):
        assert personal not in text, personal
    assert everywhere(Browser(apps, client.get_cookie(COOKIE).value)) == ALL_IN


def test_a_cookie_from_before_sessions_were_kept_is_refused_and_dropped(suite):
    apps, db, _ = suite
    with db.transaction(readonly=True) as session:
        user = _by_email(session, EMAIL)
        old = {"user_id": user.id, "email": EMAIL, "name": user.name, "role": "admin"}
    for service in SERVICES:
        client = apps[service].test_client()
        with client.session_transaction() as data:
            data["user"] = old
            data[SESSION_KEY] = {"sid": "forged", "uid": old["user_id"], "started": 0, "seen": 0}
        assert client.get("/api/v1/me").status_code == 401, service
        with client.session_transaction() as data:
            assert SESSION_KEY not in data and "user" not in data, service


def test_a_session_reaches_calendar_and_notify_once_they_know_its_user(make_app):
    apps = {s: make_app(s) for s in SERVICES}
    db = apps["booking"].extensions["evenemang"]["db"]
    add_user(db, "new@example.org", "New Person", "organiser", PASSWORD)
    browser = Browser(apps).log_in("new@example.org")
    assert everywhere(browser) == {"booking": 200, "calendar": 401, "notify": 401}
    assert browser.cookie is not None  # refused there, but not dropped: booking's holds
    deliver_user_events(apps, db)
    assert everywhere(browser) == ALL_IN


def test_only_booking_or_the_cookie_s_own_times_drop_a_session_from_the_cookie(suite):
    apps, db, clock = suite
    browser = Browser(apps).log_in()
    copy = browser.copy()
    browser.call("booking", "DELETE", "/api/v1/session")
    deliver_user_events(apps, db)
    holder = Browser(apps, copy.cookie)
    holder.replaying = False
    assert holder.me("calendar") == 401 and holder.cookie == copy.cookie
    assert holder.me("booking") == 401 and holder.cookie is None
    idle = Browser(apps).log_in()
    clock.advance(hours=9)
    assert idle.me("notify") == 401 and idle.cookie is None


def test_the_session_lifetime_follows_the_configuration(make_app, config):
    short = config.replace(session_idle_hours=1, session_max_days=1)
    apps, _, clock = three_apps(make_app, short)
    browser = Browser(apps).log_in()
    assert apps["booking"].config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=1)
    clock.advance(minutes=59)
    assert everywhere(browser) == ALL_IN
    clock.advance(minutes=61)
    assert everywhere(browser) == ALL_OUT
