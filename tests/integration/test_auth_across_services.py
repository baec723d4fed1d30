"""Calendar and notify accept booking's session cookie and API tokens without calling
booking, and learn of revocation and deactivation from ``user.changed`` events (sessions
that end: tests/integration/test_sessions.py)."""

from __future__ import annotations

import pytest

from services.booking.usecases.users import add_user, create_token, revoke_token, update_user
from tests.support.identity import deliver_user_events

SERVICES = ("booking", "calendar", "notify")


@pytest.fixture
def suite(make_app, config):
    apps = {s: make_app(s) for s in SERVICES}
    db = apps["booking"].extensions["evenemang"]["db"]
    add_user(db, "ines@example.org", "Ines Infra", "infra", "correct horse battery")
    token = create_token(db, config.secret_key, "ines@example.org")
    return apps, db, token


def _me(app, **kwargs):
    return app.test_client().get("/api/v1/me", **kwargs)


def test_a_token_works_on_every_service(suite):
    apps, _, token = suite
    for service in SERVICES:
        response = _me(apps[service], headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, service
        assert response.get_json()["email"] == "ines@example.org"
        assert response.get_json()["role"] == "infra"


@pytest.mark.parametrize(
    "header", ["", "Bearer ", "Bearer evt_forged.token.sig", "Basic aW5lczpwdw=="]
)
def test_missing_or_forged_credentials_get_401(suite, header):
    apps, _, token = suite
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    headers = {"Authorization": header.replace("evt_forged.token.sig", forged)} if header else {}
    for service in SERVICES:
        response = _me(apps[service], headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"


def test_the_session_cookie_from_booking_logs_in_everywhere(suite):
    apps, db, _ = suite
    deliver_user_events(apps, db)  # the cookie names the user; the others know them by now
    booking = apps["booking"].test_client()
    wrong = booking.post("/api/v1/session", json={"email": "ines@example.org", "password": "nope"})
    assert wrong.status_code == 401
    ok = booking.post(
        "/api/v1/session", json={"email": "Ines@Example.org", "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    cookie = booking.get_cookie("evenemang_session")
    assert cookie is not None and cookie.http_only
    for service in ("calendar", "notify"):
        client = apps[service].test_client()
        client.set_cookie("evenemang_session", cookie.value)
        response = client.get("/api/v1/me")
        assert response.status_code == 200, service
        assert response.get_json()["email"] == "ines@example.org"
    assert booking.delete("/api/v1/session").status_code == 204
    assert booking.get("/api/v1/me").status_code == 401


def test_a_revoked_token_is_refused_by_booking_at_once_and_by_the_others_after_the_event(suite):
    apps, db, token = suite
    headers = {"Authorization": f"Bearer {token}"}
    from shared.auth import read_token

    revoke_token(db, read_token(apps["booking"].config["SECRET_KEY"], token).token_id)
    assert _me(apps["booking"], headers=headers).status_code == 401
    deliver_user_events(apps, db)
    for service in ("calendar", "notify"):
        assert _me(apps[service], headers=headers).status_code == 401, service


def test_deactivation_and_role_changes_reach_the_other_services(suite, config):
    apps, db, token = suite
    update_user(db, "ines@example.org", role="organiser")
    deliver_user_events(apps, db)
    for service in SERVICES:
        me = _me(apps[service], headers={"Authorization": f"Bearer {token}"})
        assert me.get_json()["role"] == "organiser", service
    update_user(db, "ines@example.org", active=False)
    deliver_user_events(apps, db)
    for service in SERVICES:
        assert (
            _me(apps[service], headers={"Authorization": f"Bearer {token}"}).status_code == 401
        ), service


def _log_in_everywhere(apps) -> dict:
    """A browser logged in on booking, carrying its cookie to calendar and notify."""
    booking = apps["booking"].test_client()
    answer = booking.post(
        "/api/v1/session", json={"email": "ines@example.org", "password": "correct horse battery"}
    )
    assert answer.status_code == 200
    cookie = booking.get_cookie("evenemang_session").value
    clients = {"booking": booking}
    for service in ("calendar", "notify"):
        clients[service] = apps[service].test_client()
        clients[service].set_cookie("evenemang_session", cookie)
    for service, client in clients.items():
        assert client.get("/api/v1/me").status_code == 200, service
    return clients


def test_an_admin_s_deactivation_stops_sessions_and_tokens_everywhere(suite, config):
    apps, db, token = suite
    add_user(db, "ada@example.org", "Ada Admin", "admin")
    admin = {"Authorization": f"Bearer {create_token(db, config.secret_key, 'ada@example.org')}"}
    bearer = {"Authorization": f"Bearer {token}"}
    deliver_user_events(apps, db)
    browsers = _log_in_everywhere(apps)
    booking = apps["booking"].test_client()
    (ines,) = booking.get("/api/v1/users?q=ines", headers=admin).get_json()["users"]
    off = booking.patch(f"/api/v1/users/{ines['id']}", json={"active": False}, headers=admin)
    assert off.status_code == 200
    assert _me(apps["booking"], headers=bearer).status_code == 401
    assert browsers["booking"].get("/api/v1/me").status_code == 401
    deliver_user_events(apps, db)
    for service in ("calendar", "notify"):
        assert _me(apps[service], headers=bearer).status_code == 401, service
        assert browsers[service].get("/api/v1/me").status_code == 401, service
    on = booking.patch(f"/api/v1/users/{ines['id']}", json={"active": True}, headers=admin)
    assert on.status_code == 200
    deliver_user_events(apps, db)
    for service in SERVICES:
        assert _me(apps[service], headers=bearer).status_code == 200, service
