"""``evenemang up`` with ``EVENEMANG_SMTP_URL`` pointing at a real SMTP server on loopback:
approve a booking with three participants through the HTTP API and each participant gets
exactly one calendar invitation within 10 seconds."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest

from tests.support.libical import restriction_errors
from tests.support.processes import run_cli
from tests.support.smtp import SmtpServer, calendar_of
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow

PARTICIPANTS = [
    {"email": "anna@example.org", "name": "Anna Andersson"},
    {"email": "john@example.org", "name": "Doe, John"},
    {"email": "bob@example.org"},
]


def _cli(config, *args: str) -> str:
    return run_cli(config, *args, "--data-dir", str(config.data_dir))


def _user(config, email: str, name: str, role: str) -> str:
    """A user made with the command line; their new API token."""
    _cli(config, "users", "add", email, "--name", name, "--role", role)
    return _cli(config, "tokens", "create", email).strip().splitlines()[-1]


def _call(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_approving_a_booking_invites_each_participant_once_within_ten_seconds(config, tmp_path):
    admin = _user(config, "ada@example.org", "Ada Admin", "admin")
    infra = _user(config, "ines@example.org", "Ines Infra", "infra")
    organiser = _user(config, "olle@example.org", "Olle Organiser", "organiser")
    zone = ZoneInfo(config.timezone)
    day = (datetime.now(zone) + timedelta(days=30)).date()
    start = datetime.combine(day, clock_time(10, 0), zone)

    with (
        SmtpServer() as smtp,
        evenemang_up(config, tmp_path, env={"EVENEMANG_SMTP_URL": smtp.url}) as suite,
    ):
        wait_healthy(suite, timeout=30)
        resource = _call(f"{suite.url}/api/v1/resources", admin, {"name": "Aula", "kind": "venue"})
        booking = _call(
            f"{suite.url}/api/v1/bookings",
            organiser,
            {
                "title": "Thesis defence",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
                "resource_ids": [resource["id"]],
                "participants": PARTICIPANTS,
                "language": "en",
            },
        )
        assert booking["status"] == "pending"
        # the suite is up once notify's worker mails too: the organiser's receipt
        warmed = time.monotonic() + 30
        while not smtp.messages_to("olle@example.org") and time.monotonic() < warmed:
            time.sleep(0.1)
        assert smtp.messages_to("olle@example.org"), suite.output()[-3000:]
        approved_at = time.monotonic()
        approved = _call(f"{suite.url}/api/v1/bookings/{booking['id']}/approve", infra)
        assert approved["status"] == "approved"

        deadline = approved_at + 10
        invited: dict[str, list] = {}
        while time.monotonic() < deadline:
            invited = {
                p["email"]: [
                    m for m in smtp.messages_to(p["email"]) if calendar_of_or_none(m) is not None
                ]
                for p in PARTICIPANTS
            }
            if all(invited.values()):
                break
            time.sleep(0.1)
        took = time.monotonic() - approved_at
        assert all(invited.values()), (invited, suite.output()[-3000:])
        time.sleep(1.0)  # nothing more follows

        for participant in PARTICIPANTS:
            messages = smtp.messages_to(participant["email"])
            assert len(messages) == 1, participant
            text, calendar, method = calendar_of(messages[0])
            assert method == "REQUEST"
            (event,) = list(calendar.walk("VEVENT"))
            assert str(event["UID"]) == approved["uid"]
            assert int(event["SEQUENCE"]) == approved["revision"]
            assert restriction_errors(text) == []
        print(f"each participant invited once, {took:.2f} s after the approval")
        assert took < 10


def calendar_of_or_none(message):
    try:
        return calendar_of(message)
    except AssertionError:
        return None
