"""Health that tells the truth, fast: ``/healthz`` is whether the service can write to its
own database (not the broker), ``/readyz`` adds the broker and the progress of the
service's work, and every probe answers within a second whatever is stuck. On the run's
backend (SQLite + embedded bus, or PostgreSQL + RabbitMQ)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module

import pytest
from sqlalchemy.engine import make_url

from services.booking.persistence.models import OutboxMessage
from services.notify.persistence.models import Delivery
from shared.bus.publisher import Publisher
from shared.bus.topology import build_topology
from shared.config import Config
from shared.consumer_worker import consumer_loop
from shared.db import Database, utcnow
from shared.outbox import OutboxRelay
from tests.factories import envelope
from tests.support.bus import publish_events, write_to_outbox
from tests.support.tcp_proxy import TcpProxy

SERVICES = ("booking", "calendar", "notify")


def probe(client, path: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = client.get(path)
    return response.status_code, response.get_json(), time.monotonic() - started


def probe_until(client, path: str, status: int, within: float = 5.0) -> dict:
    """Probe until ``status`` comes (answers are kept a second), within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        code, body, took = probe(client, path)
        assert took < 1.0, f"{path} took {took:.2f}s"
        if code == status:
            return body
        assert time.monotonic() < deadline, f"{path} still {code}: {body}"
        time.sleep(0.2)


@pytest.mark.parametrize("service", SERVICES)
def test_health_and_readiness_say_ok_when_all_is_well(service, make_app):
    client = make_app(service).test_client()
    for path in ("/healthz", "/readyz"):
        code, body, _ = probe(client, path)
        assert (code, body) == (200, {"status": "ok"})


@pytest.mark.parametrize("service", SERVICES)
def test_a_broker_away_is_no_illness_but_consumers_are_not_ready(service, config, make_app):
    no_broker = config.replace(broker_url="amqp://guest:guest@127.0.0.1:1//")
    client = make_app(service, no_broker).test_client()
    assert probe(client, "/healthz")[:2] == (200, {"status": "ok"})
    code, body, took = probe(client, "/readyz")
    assert took < 1.0
    if service == "booking":  # the outbox holds its events: booking works on
        assert (code, body) == (200, {"status": "ok"})
    else:
        assert code == 503
        assert {"broker", "consumer"} <= set(body["unreachable"])
        assert "database" not in body["unreachable"]


@contextlib.contextmanager
def database_stuck(config: Config, service: str) -> Iterator[Config]:
    """A config whose ``service`` database takes no write: on SQLite another connection
    holds the write lock; on PostgreSQL the path to the server goes silent."""
    url = config.database_url(service)
    if url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield config
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    parsed = make_url(url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        proxy.silence()
        via = parsed.set(host="127.0.0.1", port=proxy.port)
        yield config.replace(
            **{f"{service}_database_url": via.render_as_string(hide_password=False)}
        )


@pytest.mark.parametrize("service", SERVICES)
def test_a_database_that_takes_no_write_is_named_within_a_second(service, config, make_app):
    with database_stuck(config, service) as stuck:
        client = make_app(service, stuck).test_client()
        for _ in range(3):  # the stuck check is not started again behind itself
            code, body, took = probe(client, "/healthz")
            assert took < 1.0, f"/healthz took {took:.2f}s"
            assert code == 503
            assert set(body["unreachable"]) == {"database"}
            code, body, took = probe(client, "/readyz")
            assert took < 1.0 and code == 503 and "database" in body["unreachable"]
    if stuck is config:  # the lock is gone: health comes back by itself
        probe_until(client, "/healthz", 200)


def test_booking_is_not_ready_while_its_outbox_holds_old_events(config, make_app):
    config = config.replace(ready_max_wait_seconds=0.5)
    client = make_app("booking", config).test_client()
    write_to_outbox(config, envelope())  # no relay runs
    time.sleep(0.6)
    body = probe_until(client, "/readyz", 503)
    assert set(body["unreachable"]) == {"outbox"}
    assert "waiting" in body["unreachable"]["outbox"]
    assert probe(client, "/healthz")[0] == 200
    db = Database(config.booking_database_url)
    try:
        with Publisher(config.broker_url, build_topology(config.queue_type)) as publisher:
            assert OutboxRelay(db, OutboxMessage, publisher).run_once() == 1
    finally:
        db.dispose()
    probe_until(client, "/readyz", 200)


@pytest.mark.parametrize("service", ("calendar", "notify"))
def test_a_consumer_that_makes_no_progress_is_not_ready(service, config, make_app):
    """(Notify's mail then waits for a sender that does not run here: only the consumer's
    progress is asked after.)"""
    config = config.replace(ready_max_wait_seconds=0.5)
    client = make_app(service, config).test_client()
    publish_events(config, envelope())  # no consumer runs
    body = probe_until(client, "/readyz", 503)
    assert "consumer" in body["unreachable"]
    assert "none applied" in body["unreachable"]["consumer"]

    make_handler = import_module(f"services.{service}.entrypoints.consumer").make_handler
    stop = threading.Event()
    worker = threading.Thread(target=consumer_loop(config, service, make_handler), args=(stop,))
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while "consumer" in (client.get("/readyz").get_json().get("unreachable") or {}):
            assert time.monotonic() < deadline, "the consumer's progress is not seen"
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(10)


def test_notify_is_not_ready_while_due_mail_waits_unsent(config, make_app):
    config = config.replace(ready_max_wait_seconds=30)
    client = make_app("notify", config).test_client()
    db = Database(config.notify_database_url)
    try:
        with db.transaction() as session:
            session.add(
                Delivery(
                    booking_id="b1",
                    event_id="e1",
                    recipient="ola@example.org",
                    kind="receipt",
                    message_id="<m1@evenemang>",
                    message=b"Subject: x\r\n\r\nx\r\n",
                    next_attempt_at=utcnow() - timedelta(minutes=5),
                )
            )
    finally:
        db.dispose()
    body = probe_until(client, "/readyz", 503)
    assert set(body["unreachable"]) == {"sender"}
    assert "mail waiting 300s" in body["unreachable"]["sender"]
