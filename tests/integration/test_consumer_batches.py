"""Batched consuming on the run's backend (SQLite + embedded bus, or PostgreSQL + RabbitMQ):
one transaction and one ack per batch, with every delivery guarantee kept, also with two
workers of one service at once."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from base64 import b64decode

import pytest
from kombu import Connection, Exchange, Producer, Queue

from services.calendar.entrypoints.consumer import make_handler
from shared.bus.consumer import EventConsumer
from shared.bus.sqlite_transport import broker_url_for, register
from shared.bus.topology import build_topology
from shared.db import Database
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CHANGED,
    BOOKING_LINES_DECIDED,
    BOOKING_SLOT_FREED,
    BOOKING_SUBMITTED,
    make_envelope,
    parse_event,
)
from tests.factories import envelope, line, resource_envelope, resource_ref
from tests.support.bus import publish_events, publish_raw, queue_size, read_model

EXCHANGE = Exchange("evenemang.events", type="topic", durable=True)
CALENDAR = Queue("calendar.events", exchange=EXCHANGE, routing_key="booking.#", durable=True)


def _history(bookings: int) -> list[dict]:
    """Three revisions of each booking, newest last per booking."""
    events = []
    for i in range(bookings):
        first = envelope(BOOKING_SUBMITTED, revision=1, title=f"b{i}")
        bid = first["data"]["booking_id"]
        events += [
            first,
            envelope(BOOKING_APPROVED, booking_id=bid, revision=2, status="approved"),
            envelope(BOOKING_CHANGED, booking_id=bid, revision=3, status="approved", title="New"),
        ]
    return events


def test_sqlitebus_multiple_ack_settles_every_earlier_delivery_at_once(tmp_path):
    register()
    url = broker_url_for(tmp_path / "bus.db")
    with Connection(url) as conn:
        channel = conn.channel()
        CALENDAR(channel).declare()
        producer = Producer(channel, exchange=EXCHANGE)
        for n in range(5):
            producer.publish({"n": n}, routing_key="booking.submitted")
        messages = [channel.basic_get("calendar.events") for _ in range(5)]
        messages[1].requeue()  # settled before: the multiple ack must not touch it
        messages[3].ack(multiple=True)
        qos = channel.qos  # what its prefetch limit counts as unacked: only message 4
        assert [tag for tag in qos._delivered if tag not in qos._dirty] == [
            messages[4].delivery_tag
        ]
        assert list(channel._leases) == [messages[4].delivery_tag]
        with sqlite3.connect(tmp_path / "bus.db") as db:
            left = sorted(
                (json.loads(b64decode(json.loads(payload)["body"]))["n"], lease is None)
                for payload, lease in db.execute("SELECT payload, lease FROM messages")
            )
        assert left == [(1, True), (4, False)]  # 1 back on the queue, 4 still leased


def _consume_with_workers(config, workers: int, until, prefetch: int) -> list[EventConsumer]:
    topology = build_topology(config.queue_type)
    databases = [Database(config.calendar_database_url) for _ in range(workers)]
    consumers = []
    for db in databases:
        handler = make_handler(db)
        consumers.append(
            EventConsumer(
                config.broker_url,
                topology,
                "calendar",
                handler,
                batch_handler=handler.batch,
                prefetch=prefetch,
                backoff=0.01,
            )
        )
    threads = [threading.Thread(target=c.run, daemon=True) for c in consumers]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while not until() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for consumer in consumers:
            consumer.stop.set()
        for thread in threads:
            thread.join(15)
        for db in databases:
            db.dispose()
    assert until(), "the workers did not get there in time"
    return consumers


@pytest.mark.slow
def test_two_batching_workers_apply_each_event_once_and_the_newest_revision_wins(config, caplog):
    events = _history(40)
    duplicates = random.Random(7).sample(events, 30)
    delivered = events + duplicates
    random.Random(8).shuffle(delivered)
    publish_events(config, *delivered)
    caplog.set_level(logging.WARNING, logger="shared.bus.consumer")

    def done() -> bool:
        return (
            read_model(config, "calendar")[1] == len(events)
            and queue_size(config, "calendar.events") == 0
        )

    consumers = _consume_with_workers(config, 2, done, prefetch=25)
    rows, processed = read_model(config, "calendar")
    assert processed == len(events)
    assert set(rows.values()) == {(3, "approved")} and len(rows) == 40
    assert sum(c.processed for c in consumers) == len(delivered)
    assert sum(c.dead_lettered for c in consumers) == 0
    assert queue_size(config, "calendar.events.dlq") == 0
    assert not [r for r in caplog.records if "failed" in r.getMessage()]  # no fallbacks


def test_concurrent_overlapping_batches_neither_deadlock_nor_apply_twice(config):
    events = [parse_event(env) for env in _history(30)]
    databases = [Database(config.calendar_database_url) for _ in range(3)]
    handlers = [make_handler(db) for db in databases]
    barrier = threading.Barrier(len(handlers))
    errors = []

    def worker(handler, seed: int) -> None:
        batch = random.Random(seed).sample(events, len(events) * 2 // 3)
        barrier.wait()
        try:
            for start in range(0, len(batch), 20):
                handler.batch(batch[start : start + 20])
        except Exception as exc:  # a deadlock or duplicate key would land here
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(handler, seed))
        for seed, handler in enumerate(handlers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    handlers[0].batch(events)  # whatever no worker took
    for db in databases:
        db.dispose()
    assert errors == []
    rows, processed = read_model(config, "calendar")
    assert processed == len(events)
    assert set(rows.values()) == {(3, "approved")} and len(rows) == 30


def test_calendar_takes_resource_events_decided_lines_and_notices_without_dead_letters(config):
    """Each under its own routing key, as booking's relay publishes them: all acked, none
    dead-lettered; the notice (the booking's own revision again) leaves the read model."""
    photo = resource_ref("r-photo", "photographer", "Photographer", kind="service")
    held = envelope(
        BOOKING_LINES_DECIDED,
        revision=2,
        resources=[resource_ref(), photo],
        lines=[line("r1", "approved"), line("r-photo", "pending")],
    )
    notice = make_envelope(BOOKING_SLOT_FREED, {**held["data"], "freed": ["r-photo"]})
    sent = [resource_envelope(), held, notice]
    for event in sent:
        publish_raw(config, json.dumps(event), routing_key=event["type"])

    def done() -> bool:
        return (
            read_model(config, "calendar")[1] == len(sent)
            and queue_size(config, "calendar.events") == 0
        )

    consumers = _consume_with_workers(config, 1, done, prefetch=10)
    assert sum(c.dead_lettered for c in consumers) == 0
    assert queue_size(config, "calendar.events.dlq") == 0
    rows, _ = read_model(config, "calendar")
    assert rows == {held["data"]["booking_id"]: (2, "pending")}
