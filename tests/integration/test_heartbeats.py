"""A broker connection that goes silent (the peer stops answering, nothing is closed) is
noticed by AMQP heartbeats and reopened within seconds, by the consumer and by the relay;
readiness says so meanwhile. RabbitMQ behind a TCP proxy the test silences (the suite's
RabbitMQ is there on both backends; the embedded bus has no connection to go silent)."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest

from services.booking.persistence.models import OutboxMessage
from shared.bus.consumer import EventConsumer
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import build_topology
from shared.db import Database
from shared.outbox import OutboxRelay
from tests.factories import envelope
from tests.support.backends import purge_rabbitmq
from tests.support.bus import publish_events, queue_size, unpublished, write_to_outbox
from tests.support.tcp_proxy import TcpProxy

HEARTBEAT = 2  # seconds: a silent connection is ended after two intervals without a frame


@pytest.fixture
def rabbitmq(config, _amqp_url):
    """The suite's RabbitMQ (its queues emptied) and a proxy in front of it."""
    topology = build_topology(config.queue_type)
    names = [q.name for q in (*topology.queues.values(), *topology.dead_letter_queues.values())]
    purge_rabbitmq(_amqp_url, names)
    parts = urlsplit(_amqp_url)
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672) as proxy:
        credentials = parts.netloc.rsplit("@", 1)[0]
        proxied = parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}").geturl()
        yield config.replace(broker_url=_amqp_url), config.replace(broker_url=proxied), proxy


def wait_until(condition, within: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"{what}: not within {within}s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_consumer_drops_a_silent_connection_and_consumes_again_within_seconds(rabbitmq, make_app):
    direct, proxied, proxy = rabbitmq
    seen: list[str] = []
    stop = threading.Event()
    consumer = EventConsumer(
        proxied.broker_url,
        build_topology(proxied.queue_type),
        "calendar",
        lambda event: seen.append(event.id),
        prefetch=10,
        heartbeat=HEARTBEAT,
        stop=stop,
    )
    worker = threading.Thread(target=consumer.run)
    worker.start()
    try:
        first, second = envelope(), envelope()
        publish_events(direct, first)
        wait_until(lambda: first["id"] in seen, 10, "the first event")

        proxy.silence()  # the consumer's connection goes quiet and stays so
        client = make_app("calendar", proxied).test_client()
        started = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - started < 1.0
        assert response.status_code == 503 and "broker" in response.get_json()["unreachable"]

        proxy.restore()  # new connections get through; the silent one never will
        publish_events(direct, second)
        took = wait_until(lambda: second["id"] in seen, 4 * HEARTBEAT + 6, "after the silence")
        print(f"consumed again {took:.1f}s after the connection went silent")
        assert seen.count(first["id"]) == 1
    finally:
        stop.set()
        worker.join(15)
    assert not worker.is_alive()


def test_the_relay_drops_a_silent_connection_and_publishes_again_within_seconds(rabbitmq):
    direct, proxied, proxy = rabbitmq
    db = Database(proxied.booking_database_url)
    publisher = Publisher(
        proxied.broker_url, build_topology(proxied.queue_type), heartbeat=HEARTBEAT
    )
    relay = OutboxRelay(db, OutboxMessage, publisher)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,), kwargs={"interval": 0.05})
    worker.start()
    try:
        write_to_outbox(proxied, envelope())
        wait_until(lambda: unpublished(proxied) == 0, 10, "the first event")
        proxy.silence()
        time.sleep(0.5)
        proxy.restore()
        write_to_outbox(proxied, envelope())  # goes out on the silent connection first
        # without heartbeats it would wait for the 30 s confirm timeout
        took = wait_until(lambda: unpublished(proxied) == 0, 4 * HEARTBEAT + 6, "the second")
        print(f"published again {took:.1f}s after the connection went silent")
        assert queue_size(direct, "calendar.events") == 2
    finally:
        stop.set()
        worker.join(15)
        publisher.close()
        db.dispose()


def test_an_idle_relay_keeps_its_connection_alive_with_heartbeats(rabbitmq):
    """With heartbeats asked for, an idle connection must send them, or the broker ends it
    after two intervals and the next batch meets a dead connection."""
    direct, proxied, proxy = rabbitmq
    publisher = Publisher(
        proxied.broker_url, build_topology(proxied.queue_type), heartbeat=HEARTBEAT
    )
    try:
        publisher.publish([OutgoingMessage("booking.submitted", '{"n": 1}', "m-1")])
        idle_until = time.monotonic() + 3 * HEARTBEAT
        while time.monotonic() < idle_until:  # what the relay's loop does between batches
            publisher.keep_alive()
            time.sleep(0.2)
        publisher.publish([OutgoingMessage("booking.submitted", '{"n": 2}', "m-2")])
        assert proxy.accepted == 1  # one connection throughout
        assert queue_size(direct, "calendar.events") == 2
    finally:
        publisher.close()
