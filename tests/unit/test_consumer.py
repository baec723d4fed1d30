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
        seen.append(event.data.title)
        if event.data.title == "poison":
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
    reasons = {
        bytes(m.body).decode(): m.headers["x-dead-letter-reason"] for m in _dead_letters(bus_url)
    }
    assert "not JSON" in reasons.pop("{not json")  # each letter says what is wrong with it
    assert "unsupported schema version 7" in reasons.pop(json.dumps(future))
    assert reasons == {} and len(handled) == 1


# -- batches -----------------------------------------------------------------------------


def _queue_is_empty(url):
    with Connection(url) as conn:
        return build_topology().queue("calendar")(conn.channel()).get(no_ack=True) is None


def test_a_batch_goes_to_the_batch_handler_in_one_call_and_refused_messages_to_the_dlq(
    bus_url,
):
    future = envelope()
    future["version"] = 7
    good = [envelope(title="first"), envelope(title="second")]
    batches, single = [], []
    consumer = EventConsumer(
        bus_url,
        build_topology(),
        "calendar",
        single.append,
        batch_handler=lambda events: batches.append([e.data.title for e in events]),
        backoff=0.01,
    )
    _publish(bus_url, json.dumps(good[0]), "{not json", json.dumps(future), json.dumps(good[1]))
    _run(consumer, lambda: consumer.processed == 2 and consumer.dead_lettered == 2)
    assert batches == [["first", "second"]]
    assert single == []
    reasons = sorted(m.headers["x-dead-letter-reason"] for m in _dead_letters(bus_url))
    assert any("not JSON" in r for r in reasons)
    assert any("unsupported schema version 7" in r for r in reasons)
    assert _queue_is_empty(bus_url)  # every message settled: acked or dead-lettered


def test_a_failing_batch_falls_back_to_one_by_one_with_retries_and_dead_letters(bus_url):
    seen = []

    def failing_batch(events):
        raise RuntimeError("batch broke")

    def handler(event):
        seen.append(event.data.title)
        if event.data.title == "poison":
            raise RuntimeError("cannot apply")

    consumer = EventConsumer(
        bus_url,
        build_topology(),
        "calendar",
        handler,
        batch_handler=failing_batch,
        max_retries=2,
        backoff=0.01,
    )
    _publish(bus_url, json.dumps(envelope(title="poison")), json.dumps(envelope(title="fine")))
    _run(consumer, lambda: consumer.processed == 1 and consumer.dead_lettered == 1)
    assert seen == ["poison", "poison", "poison", "fine"]  # as without a batch handler
    [letter] = _dead_letters(bus_url)
    assert letter.headers["x-dead-letter-reason"] == "RuntimeError: cannot apply"
    assert letter.headers["x-attempts"] == 3
    assert _queue_is_empty(bus_url)


def test_batches_are_at_most_the_prefetch_count_and_every_message_is_acked(bus_url):
    sizes = []
    consumer = EventConsumer(
        bus_url,
        build_topology(),
        "calendar",
        lambda event: None,
        batch_handler=lambda events: sizes.append(len(events)),
        prefetch=10,
    )
    _publish(bus_url, *(json.dumps(envelope()) for _ in range(35)))
    _run(consumer, lambda: consumer.processed == 35)
    assert sum(sizes) == 35
    assert max(sizes) == 10
    assert _queue_is_empty(bus_url)


def test_a_message_arriving_alone_is_applied_without_waiting_for_a_full_batch(bus_url):
    applied = threading.Event()
    consumer = EventConsumer(
        bus_url,
        build_topology(),
        "calendar",
        lambda event: None,
        batch_handler=lambda events: applied.set(),
        batch_wait=0.05,
    )
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.2)  # the consumer is idle, waiting
        _publish(bus_url, json.dumps(envelope()))
        assert applied.wait(3)
    finally:
        consumer.stop.set()
        thread.join(5)
    assert consumer.processed == 1
