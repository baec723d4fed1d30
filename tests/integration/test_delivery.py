"""Delivery guarantees of the bus, with booking's relay and the two consumers as separate
OS processes, on the run's backend (SQLite + embedded bus, or PostgreSQL + RabbitMQ)."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from evenemang.cli import cli
from services.booking.entrypoints.worker import relay_loop  # noqa: F401 - the relay under test
from services.booking.persistence.models import OutboxMessage
from shared.bus.publisher import Publisher, PublishError
from shared.bus.topology import build_topology
from shared.db import Database
from shared.events import BOOKING_APPROVED, BOOKING_CHANGED, BOOKING_SUBMITTED
from shared.outbox import OutboxRelay
from tests.factories import envelope
from tests.support.bus import (
    publish_events,
    publish_raw,
    queue_size,
    read_model,
    unpublished,
    write_to_outbox,
)
from tests.support.processes import (
    run_until_killed,
    running,
    start_worker,
    wait_for,
)

pytestmark = pytest.mark.slow


def test_an_outbox_event_reaches_calendar_and_notify_exactly_once(config, tmp_path):
    env = envelope(BOOKING_SUBMITTED)
    booking_id = env["data"]["booking_id"]
    write_to_outbox(config, env)
    with running(*(start_worker(s, config, tmp_path) for s in ("booking", "calendar", "notify"))):
        for service in ("calendar", "notify"):
            wait_for(
                lambda s=service: read_model(config, s)[0].get(booking_id),
                message=f"{service} to apply the event",
            )
        wait_for(lambda: unpublished(config) == 0, message="the relay to mark it sent")
    for service in ("calendar", "notify"):
        rows, processed = read_model(config, service)
        assert rows == {booking_id: (1, "pending")}
        assert processed == 1
        assert queue_size(config, f"{service}.events") == 0


def _unreachable_broker(config) -> str:
    if config.broker_url.startswith("amqp"):
        return "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
    return "sqlitebus:////proc/evenemang-no-such-dir/bus.db"  # cannot be created


def test_a_broker_down_at_commit_delays_the_event_and_loses_nothing(config, tmp_path):
    env = envelope(BOOKING_SUBMITTED)
    write_to_outbox(config, env)  # the booking change commits while the broker is down
    db = Database(config.booking_database_url)
    topology = build_topology(config.queue_type)
    with Publisher(_unreachable_broker(config), topology) as down, pytest.raises(PublishError):
        OutboxRelay(db, OutboxMessage, down).run_once()
    assert unpublished(config) == 1
    with Publisher(config.broker_url, topology) as back:
        assert OutboxRelay(db, OutboxMessage, back).run_once() == 1
    db.dispose()
    assert unpublished(config) == 0
    with running(start_worker("calendar", config, tmp_path)):
        wait_for(lambda: read_model(config, "calendar")[0], message="calendar to apply it")
    assert read_model(config, "calendar")[1] == 1


CRASHING_CONSUMER = """
import os, signal, sys
from services.calendar.entrypoints.consumer import make_handler
from shared.bus.consumer import EventConsumer
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database

config = Config.from_env()
handler = make_handler(Database(config.calendar_database_url))

def handle_then_die(event):
    handler(event)  # the effect and its inbox record are committed ...
    os.kill(os.getpid(), signal.SIGKILL)  # ... and we die before the ack

EventConsumer(config.broker_url, build_topology(), "calendar", handle_then_die).run()
"""


def test_a_consumer_killed_between_commit_and_ack_is_redelivered_and_applied_once(config, tmp_path):
    if config.broker_url.startswith("sqlitebus"):
        config = config.replace(broker_url=config.broker_url + "?lease_seconds=1")
    env = envelope(BOOKING_SUBMITTED)
    publish_events(config, env)
    run_until_killed(CRASHING_CONSUMER, config)
    assert read_model(config, "calendar")[1] == 1  # committed before the crash
    # never acked: back on the queue (RabbitMQ at once, the embedded bus when the lease ends)
    wait_for(
        lambda: queue_size(config, "calendar.events") == 1,
        timeout=10,
        message="the unacked message to be back on the queue",
    )
    with running(start_worker("calendar", config, tmp_path)):
        wait_for(
            lambda: queue_size(config, "calendar.events") == 0,
            timeout=30,
            message="the redelivered message to be acked",
        )
    rows, processed = read_model(config, "calendar")
    assert rows == {env["data"]["booking_id"]: (1, "pending")}
    assert processed == 1


def test_duplicates_and_reordering_end_in_the_newest_state(config, tmp_path):
    first = envelope(BOOKING_SUBMITTED, revision=1)
    bid = first["data"]["booking_id"]
    second = envelope(BOOKING_APPROVED, booking_id=bid, revision=2, status="approved")
    third = envelope(BOOKING_CHANGED, booking_id=bid, revision=3, status="approved", title="Moved")
    publish_events(config, third, first, second, third, first)
    with running(
        start_worker("calendar", config, tmp_path), start_worker("notify", config, tmp_path)
    ):
        for service in ("calendar", "notify"):
            wait_for(
                lambda s=service: read_model(config, s)[1] == 3,
                message=f"{service} to see all three events",
            )
            wait_for(
                lambda s=service: queue_size(config, f"{s}.events") == 0,
                message=f"{service} to ack all five deliveries",
            )
    for service in ("calendar", "notify"):
        assert read_model(config, service) == ({bid: (3, "approved")}, 3)


def test_poison_messages_are_dead_lettered_listed_and_replayed(config, tmp_path):
    future = envelope()
    future["version"] = 99
    good = envelope()
    publish_raw(config, "{this is not json", json.dumps(future), json.dumps(good))
    runner = CliRunner()
    data_dir = ["--data-dir", str(config.data_dir)]
    os.environ.update(config.to_env())
    try:
        with running(start_worker("calendar", config, tmp_path)):
            wait_for(lambda: read_model(config, "calendar")[0], message="the good event")
            wait_for(
                lambda: queue_size(config, "calendar.events.dlq") == 2, message="two dead letters"
            )
        listed = runner.invoke(cli, ["dlq", "list", "calendar", "--json", *data_dir])
        assert listed.exit_code == 0, listed.output
        letters = [json.loads(line) for line in listed.stdout.splitlines()]
        reasons = " | ".join(letter["reason"] for letter in letters)
        assert len(letters) == 2
        assert "not JSON" in reasons and "unsupported schema version 99" in reasons
        assert queue_size(config, "calendar.events.dlq") == 2  # listing removes nothing
        log = (tmp_path / "worker-calendar.log").read_text()
        assert "dead-lettered" in log and "unsupported schema version 99" in log

        replayed = runner.invoke(cli, ["dlq", "replay", "calendar", *data_dir])
        assert replayed.exit_code == 0, replayed.output
        assert "replayed 2" in replayed.stdout
        assert queue_size(config, "calendar.events.dlq") == 0
        assert queue_size(config, "calendar.events") == 2
    finally:
        for key in config.to_env():
            os.environ.pop(key, None)
