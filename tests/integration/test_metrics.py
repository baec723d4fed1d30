"""Prometheus metrics on every service: requests per endpoint (the route, not the raw
path), the outbox's backlog, each queue's lag and dead letters, mail by status; and under
``evenemang up`` the workers' counters through the web's ``/metrics``."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.notify.persistence.models import Delivery
from shared.db import Database, utcnow
from tests.factories import envelope
from tests.support.bus import publish_events, write_to_outbox
from tests.support.processes import ROOT, process_env
from tests.support.suite import evenemang_up, wait_healthy

SERVICES = ("booking", "calendar", "notify")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, labels): value}`` of a scrape, parsed by prometheus-client."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client, path: str = "/metrics") -> dict[tuple[str, frozenset], float]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def value(found, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize("service", SERVICES)
def test_requests_are_counted_and_timed_per_endpoint(service, make_app):
    client = make_app(service).test_client()
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page/4711")
    after = scrape(client)
    ok = {"service": service, "method": "GET", "endpoint": "health.healthz", "status": "200"}
    total = "evenemang_http_requests_total"
    assert value(after, total, **ok) - value(before, total, **ok) == 2
    missing = {**ok, "endpoint": "unmatched", "status": "404"}
    assert value(after, total, **missing) - value(before, total, **missing) == 1
    assert not any("4711" in str(labels) for _, labels in after)  # no raw paths
    timed = {"service": service, "method": "GET", "endpoint": "health.healthz"}
    count = "evenemang_http_request_duration_seconds_count"
    assert value(after, count, **timed) - value(before, count, **timed) == 2
    others = {dict(labels).get("service") for _, labels in after} - {None}
    assert others == {service}  # each service shows its own samples only


def test_booking_shows_its_outbox_backlog_and_its_age(config, make_app):
    client = make_app("booking").test_client()
    assert value(scrape(client), "evenemang_outbox_backlog") == 0
    write_to_outbox(config, envelope(), envelope())
    time.sleep(0.2)
    found = scrape(client)
    assert value(found, "evenemang_outbox_backlog") == 2
    assert 0.1 <= value(found, "evenemang_outbox_oldest_age_seconds") < 60


@pytest.mark.parametrize("service", ("calendar", "notify"))
def test_consumers_show_their_queue_lag_and_dead_letters(service, config, make_app):
    client = make_app(service).test_client()
    publish_events(config, envelope(), envelope(), envelope())  # no consumer runs
    found = scrape(client)
    assert value(found, "evenemang_queue_messages", queue=f"{service}.events") == 3
    assert value(found, "evenemang_queue_messages", queue=f"{service}.events.dlq") == 0
    assert value(found, "evenemang_dead_letters") == 0


def test_notify_shows_its_mail_by_status(config, make_app):
    db = Database(config.notify_database_url)
    try:
        with db.transaction() as session:
            for n, status in enumerate(("queued", "queued", "sent", "dead")):
                session.add(
                    Delivery(
                        booking_id="b1",
                        event_id=f"e{n}",
                        recipient="ola@example.org",
                        kind="receipt",
                        status=status,
                        message_id=f"<m{n}@evenemang>",
                        message=b"Subject: x\r\n\r\nx\r\n",
                        next_attempt_at=utcnow() + timedelta(hours=1),
                    )
                )
    finally:
        db.dispose()
    found = scrape(make_app("notify").test_client())
    by_status = {
        s: value(found, "evenemang_mail_deliveries", status=s) for s in ("queued", "sent", "dead")
    }
    assert by_status == {"queued": 2, "sent": 1, "dead": 1}


@pytest.mark.slow
def test_under_up_the_web_shows_what_the_workers_did(config, tmp_path):
    """The relay and the consumers run in processes of their own; their counters reach
    each service's /metrics through the shared metrics directory."""
    with evenemang_up(config, tmp_path) as suite:
        wait_healthy(suite, timeout=30)
        subprocess.run(  # a user.changed event for the relay and both consumers
            [sys.executable, "-m", "evenemang", "users", "add", "ola@example.org"]
            + ["--name", "Ola", "--role", "organiser"],
            env=process_env(config),
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )

        def counted(path: str, name: str, service: str) -> float:
            with urllib.request.urlopen(suite.url + path, timeout=5) as response:
                return value(samples(response.read().decode()), name, service=service)

        deadline = time.monotonic() + 30
        while not (
            counted("/metrics", "evenemang_events_published_total", "booking") >= 1
            and counted("/calendar/metrics", "evenemang_events_consumed_total", "calendar") >= 1
            and counted("/notify/metrics", "evenemang_events_consumed_total", "notify") >= 1
        ):
            assert time.monotonic() < deadline, suite.output()[-3000:]
            time.sleep(0.3)
        assert list((config.data_dir / "metrics").glob("*.db"))
