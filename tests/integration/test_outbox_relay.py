"""The outbox relay claims a batch, publishes it with no transaction open, then marks it
sent: a slow broker never holds up booking's writes, several relays share the outbox
without publishing an event twice, and a relay that dies mid-batch loses nothing. On the
run's backend (SQLite + embedded bus, or PostgreSQL + RabbitMQ), with the real publisher."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from services.booking.persistence.models import OutboxMessage
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import build_topology
from shared.db import Database
from shared.events import BOOKING_SUBMITTED
from shared.outbox import OutboxRelay
from tests.factories import envelope
from tests.support.booking import BookingApi
from tests.support.bus import queue_size, read_model, unpublished, write_to_outbox
from tests.support.processes import (
    ROOT,
    process_env,
    run_until_killed,
    running,
    start_worker,
    wait_for,
)


class SlowPublisher(Publisher):
    """The real publisher behind a congested link: each batch waits ``delay`` seconds first,
    and the batches it took are recorded as event ids."""

    def __init__(self, *args, delay: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.delay = delay
        self.publishing = threading.Event()
        self.sent: list[str] = []

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.publishing.set()
        time.sleep(self.delay)
        super().publish(messages)
        self.sent.extend(m.message_id for m in messages)


def _publisher(config, delay: float) -> SlowPublisher:
    return SlowPublisher(config.broker_url, build_topology(config.queue_type), delay=delay)


def test_a_slow_publish_does_not_hold_up_a_booking_write(make_app, config):
    api = BookingApi(make_app("booking"))  # its users' events wait in the outbox
    resource = api.make_resource()
    db = Database(config.booking_database_url)
    relay = OutboxRelay(db, OutboxMessage, _publisher(config, delay=2.0))
    waiting = relay.pending()
    try:
        with relay.publisher, ThreadPoolExecutor(1) as pool:
            sending = pool.submit(relay.run_once)
            assert relay.publisher.publishing.wait(10), "the relay never started publishing"
            started = time.monotonic()
            api.booking(api.organiser, resource)
            took = time.monotonic() - started
            overlapped = not sending.done()
            sent = sending.result(timeout=30)
    finally:
        db.dispose()
    assert took < 0.5, f"a booking write waited {took:.2f}s behind the relay's publish"
    assert overlapped, "the publish ended before the write was measured"
    assert sent == waiting >= 4
    assert unpublished(config) == 1  # the new booking's event, for the next batch


def test_two_relays_share_the_outbox_and_never_publish_an_event_twice(config):
    events = [envelope(BOOKING_SUBMITTED) for _ in range(300)]
    write_to_outbox(config, *events)
    order = {env["id"]: n for n, env in enumerate(events)}
    relays = [
        OutboxRelay(
            Database(config.booking_database_url),
            OutboxMessage,
            _publisher(config, delay=0.02),
            batch_size=20,
        )
        for _ in range(2)
    ]
    barrier = threading.Barrier(len(relays))

    def drain(relay: OutboxRelay) -> None:
        barrier.wait()
        while relay.run_once():
            pass

    try:
        with ThreadPoolExecutor(len(relays)) as pool:
            list(pool.map(drain, relays))
    finally:
        for relay in relays:
            relay.publisher.close()
            relay.db.dispose()
    first, second = (relay.publisher.sent for relay in relays)
    assert first and second, "both relays should have taken batches"
    assert not set(first) & set(second)
    assert sorted(first + second, key=order.__getitem__) == [env["id"] for env in events]
    for sent in (first, second):
        assert sent == sorted(sent, key=order.__getitem__)  # id order within each relay
    assert unpublished(config) == 0
    assert queue_size(config, "calendar.events") == len(events)


CRASHING_RELAY = """
import os, signal
from services.booking.persistence.models import OutboxMessage
from shared.bus.publisher import Publisher
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database
from shared.outbox import OutboxRelay

class PublishThenDie(Publisher):
    def publish(self, messages):
        super().publish(messages)  # the broker holds the batch ...
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the relay dies before marking it sent

config = Config.from_env()
publisher = PublishThenDie(config.broker_url, build_topology(config.queue_type))
db = Database(config.booking_database_url)
OutboxRelay(db, OutboxMessage, publisher, lease_seconds=config.relay_lease_seconds).run_once()
"""


def _attempts(config) -> list[int]:
    db = Database(config.booking_database_url)
    try:
        with db.transaction(readonly=True) as session:
            return list(session.scalars(select(OutboxMessage.attempts)))
    finally:
        db.dispose()


@pytest.mark.slow
def test_a_relay_killed_between_publish_and_mark_is_republished_at_once(config, tmp_path):
    config = config.replace(relay_lease_seconds=60.0)  # what comes back, comes back at once
    env = envelope(BOOKING_SUBMITTED)
    write_to_outbox(config, env)
    run_until_killed(CRASHING_RELAY, config)
    assert queue_size(config, "calendar.events") == 1  # published ...
    assert unpublished(config) == 1  # ... but never marked sent

    db = Database(config.booking_database_url)
    try:
        with Publisher(config.broker_url, build_topology(config.queue_type)) as publisher:
            relay = OutboxRelay(db, OutboxMessage, publisher)
            # the lease has 60 s to run, but its holder is gone: the row is free now
            assert relay.run_once() == 1
    finally:
        db.dispose()
    assert unpublished(config) == 0
    assert _attempts(config) == [2]
    assert queue_size(config, "calendar.events") == 2  # the event went out twice

    with running(start_worker("calendar", config, tmp_path)):
        wait_for(
            lambda: queue_size(config, "calendar.events") == 0,
            timeout=30,
            message="calendar to take both deliveries",
        )
    assert queue_size(config, "calendar.events") == 0  # both acked, none left in flight
    rows, processed = read_model(config, "calendar")
    assert rows == {env["data"]["booking_id"]: (1, "pending")}
    assert processed == 1  # applied once: the second delivery was a known event id


CLAIMING_RELAY = """
import sys, time
from services.booking.persistence.models import OutboxMessage
from shared.bus.publisher import Publisher
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database
from shared.outbox import OutboxRelay

config = Config.from_env()
db = Database(config.booking_database_url)
publisher = Publisher(config.broker_url, build_topology(config.queue_type))
claim = OutboxRelay(db, OutboxMessage, publisher, lease_seconds=60).claim()
print(len(claim.ids), flush=True)
time.sleep(120)  # alive, publishing slowly: its claim must hold
"""


@pytest.mark.slow
def test_a_live_relays_claim_is_never_taken_and_a_dead_ones_is_at_once(config):
    write_to_outbox(config, envelope(BOOKING_SUBMITTED))
    holder = subprocess.Popen(
        [sys.executable, "-c", CLAIMING_RELAY],
        cwd=ROOT,
        env=process_env(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = Database(config.booking_database_url)
    try:
        assert holder.stdout.readline().strip() == "1", holder.stderr.read()
        with Publisher(config.broker_url, build_topology(config.queue_type)) as publisher:
            relay = OutboxRelay(db, OutboxMessage, publisher, lease_seconds=60)
            for _ in range(5):  # the holder lives: its claim stays its own
                assert relay.run_once() == 0
                time.sleep(0.2)
            holder.kill()
            holder.wait(10)
            assert relay.run_once() == 1  # its holder gone, the row goes out at once
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=10)
        db.dispose()
    assert unpublished(config) == 0
    assert queue_size(config, "calendar.events") == 1
