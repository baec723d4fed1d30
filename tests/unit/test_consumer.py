"""The consumer runner's retry and dead-letter rules, on kombu's in-process memory:// bus."""

import json
import threading
import time
import uuid

import pytest
from kombu import Connection

from shared.bus.consumer import EventConsumer
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import build_topology
from tests.factories import envelope


@pytest.fixture
def bus_url():
    # a fresh memory:// broker per test (state is per virtual host)
    return f"memory://localhost/{uuid.uuid4().hex}"


def _publish(url, *bodies):
    with Publisher(url, build_topology()) as publisher:
        publisher.publish(
            [
                OutgoingMessage(
                    routing_key="booking.submitted", body=body, message_id=str(uuid.uuid4())
                )
                for body in bodies
            ]
        )


def _run(consumer, until, timeout=10):
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    consumer.stop.set()
    thread.join(5)
    assert until(), "consumer did not get there in time"


def _dead_letters(url):
    with Connection(url) as conn:
        queue = build_topology().dead_letter_queue("calendar")(conn.channel())
        found = []
        while (message := queue.get(no_ack=True)) is not None:
            found.append(message)
        return found


def test_a_failing_handler_is_retried_then_dead_lettered_and_the_consumer_goes_on(bus_url):
    seen = []

    def handler(event):
        seen.append(event.data["title"])
        if event.data["title"] == "poison":
            raise RuntimeError("cannot apply")

    consumer = EventConsumer(
        bus_url, build_topology(), "calendar", handler, max_retries=2, backoff=0.01
    )
    _publish(bus_url, json.dumps(envelope(title="poison")), json.dumps(envelope(title="fine")))
    _run(consumer, lambda: consumer.processed == 1 and consumer.dead_lettered == 1)
    assert seen == ["poison", "poison", "poison", "fine"]  # 1 try + 2 retries, then on
    [letter] = _dead_letters(bus_url)
    assert letter.headers["x-dead-letter-reason"] == "RuntimeError: cannot apply"
    assert letter.headers["x-attempts"] == 3
    assert json.loads(letter.body)["data"]["title"] == "poison"


def test_malformed_and_unknown_version_go_to_the_dead_letter_queue(bus_url):
    future = envelope()
    future["version"] = 7
    handled = []
    consumer = EventConsumer(bus_url, build_topology(), "calendar", handled.append, backoff=0.01)
    _publish(bus_url, "{not json", json.dumps(future), json.dumps(envelope()))
    _run(consumer, lambda: consumer.dead_lettered == 2 and consumer.processed == 1)
    reasons = sorted(m.headers["x-dead-letter-reason"] for m in _dead_letters(bus_url))
    assert "not JSON" in reasons[0] or "not JSON" in reasons[1]
    assert any("unsupported schema version 7" in r for r in reasons)
    assert len(handled) == 1
