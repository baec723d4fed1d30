"""People administered with the whole suite's workers running as processes (booking's
relay, calendar's and notify's consumers, notify's sender) on the run's backend: a
deactivation stops the person's session and token on calendar and notify within two
seconds, and an invitation reaches a real SMTP server with a link that sets a password,
once."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from services.booking.usecases import users
from shared.db import Database
from tests.support.processes import running, start_worker, wait_for

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
LINK = re.compile(r"/password/reset/([\w.\-]+)")


def _known(config, service: str, email: str) -> bool:
    from importlib import import_module

    model = import_module(f"services.{service}.persistence.models").KnownUser
    db = Database(config.database_url(service))
    try:
        with db.transaction(readonly=True) as session:
            return session.scalar(select(model.user_id).where(model.email == email)) is not None
    finally:
        db.dispose()


def test_deactivation_reaches_calendar_and_notify_within_two_seconds(
    make_app, config, smtp, tmp_path
):
    config = config.replace(smtp_url=smtp.url)
    apps = {s: make_app(s, config) for s in ("booking", "calendar", "notify")}
    db = apps["booking"].extensions["evenemang"]["db"]
    users.add_user(db, "ada@example.org", "Ada Admin", "admin")
    users.add_user(db, "ines@example.org", "Ines Infra", "infra", PASSWORD)
    admin = {
        "Authorization": f"Bearer {users.create_token(db, config.secret_key, 'ada@example.org')}"
    }
    ines = {
        "Authorization": f"Bearer {users.create_token(db, config.secret_key, 'ines@example.org')}"
    }
    booking = apps["booking"].test_client()
    assert (
        booking.post(
            "/api/v1/session", json={"email": "ines@example.org", "password": PASSWORD}
        ).status_code
        == 200
    )
    cookie = booking.get_cookie("evenemang_session").value
    browsers = {}
    for service in ("calendar", "notify"):
        browsers[service] = apps[service].test_client()
        browsers[service].set_cookie("evenemang_session", cookie)
    workers = [start_worker(s, config, tmp_path) for s in ("booking", "calendar", "notify")]
    with running(*workers):
        for service in ("calendar", "notify"):
            wait_for(lambda s=service: _known(config, s, "ines@example.org"), message=service)
            assert browsers[service].get("/api/v1/me").status_code == 200
        (person,) = booking.get("/api/v1/users?q=ines", headers=admin).get_json()["users"]
        started = time.monotonic()
        off = booking.patch(f"/api/v1/users/{person['id']}", json={"active": False}, headers=admin)
        assert off.status_code == 200
        assert booking.get("/api/v1/me", headers=ines).status_code == 401

        def refused_everywhere() -> bool:
            return all(
                apps[s].test_client().get("/api/v1/me", headers=ines).status_code == 401
                and browsers[s].get("/api/v1/me").status_code == 401
                for s in ("calendar", "notify")
            )

        wait_for(refused_everywhere, timeout=10, interval=0.02, message="the deactivation")
        elapsed = time.monotonic() - started
        print(f"deactivation reached calendar and notify in {elapsed:.2f}s")
        assert elapsed < 2.0

        invited = booking.post(
            "/api/v1/users", json={"email": "nina@example.org", "name": "Nina"}, headers=admin
        )
        assert invited.status_code == 201
        (mail,) = smtp.wait_for(1, timeout=20)
    assert mail.rcpt_tos == ("nina@example.org",)
    (token,) = set(LINK.findall(mail.message.get_body(("plain",)).get_content()))
    chosen = booking.post(f"/api/v1/password-reset/{token}", json={"password": "ninas password"})
    assert chosen.status_code == 200
    assert (
        booking.post(
            "/api/v1/session", json={"email": "nina@example.org", "password": "ninas password"}
        ).status_code
        == 200
    )
    again = booking.post(f"/api/v1/password-reset/{token}", json={"password": "another one!"})
    assert again.status_code == 409
