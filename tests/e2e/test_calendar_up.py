"""Through ``evenemang up``: approve a booking with the API, and the public feed shows it
within seconds — booking's outbox, the relay, the bus and calendar's consumer all real."""

from __future__ import annotations

import json
import time
import urllib.request

import icalendar
import pytest

from tests.support.processes import run_cli
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow


def cli(config, *args):
    return run_cli(config, *args).strip().splitlines()[-1]


def call(url, method="GET", token=None, body=None):
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def test_an_approved_booking_reaches_the_public_feed_within_5_seconds(config, tmp_path):
    cli(config, "users", "add", "admin@example.org", "--name", "Ada", "--role", "admin")
    cli(config, "users", "add", "org@example.org", "--name", "Olle", "--role", "organiser")
    admin = cli(config, "tokens", "create", "admin@example.org")
    organiser = cli(config, "tokens", "create", "org@example.org")
    with evenemang_up(config, tmp_path) as suite:
        wait_healthy(suite, timeout=30)
        status, body = call(
            f"{suite.url}/api/v1/resources",
            "POST",
            admin,
            {"name": "Aula Magna", "kind": "venue", "capacity": 200},
        )
        assert status == 201
        resource = json.loads(body)["id"]
        status, body = call(
            f"{suite.url}/api/v1/bookings",
            "POST",
            organiser,
            {
                "title": "Public lecture on tides",
                "start": "2027-05-06T14:00",
                "end": "2027-05-06T15:30",
                "resource_ids": [resource],
                "visibility": "public",
            },
        )
        assert status == 201
        booking = json.loads(body)
        status, _ = call(f"{suite.url}/api/v1/bookings/{booking['id']}/approve", "POST", admin)
        assert status == 200
        approved_at = time.monotonic()
        while time.monotonic() - approved_at < 5:
            _, feed = call(f"{suite.url}/calendar/feeds/public.ics")
            events = list(icalendar.Calendar.from_ical(feed).walk("VEVENT"))
            if events:
                break
            time.sleep(0.1)
        took = time.monotonic() - approved_at
        assert events, f"not in the public feed after {took:.1f}s"
        assert str(events[0]["SUMMARY"]) == "Public lecture on tides"
        assert str(events[0]["UID"]) == booking["uid"]
        assert str(events[0]["STATUS"]) == "CONFIRMED"
        assert took < 5
