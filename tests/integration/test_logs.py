"""Structured logs: with EVENEMANG_LOG_FORMAT=json every line is one JSON object, and the
bus's and the mail sender's lines carry the event id and the booking id they are about."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from services.notify.mail.smtp import send_claimed
from services.notify.readmodels import Claimed
from shared.bus.consumer import EventConsumer
from shared.bus.topology import build_topology
from shared.events import Event
from shared.logs import JsonFormatter, TextFormatter, log_context
from shared.mail import connection_for
from tests.factories import envelope
from tests.support.bus import publish_events
from tests.support.processes import ROOT, process_env


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the process logs from here on, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_failing_event_is_logged_with_its_event_and_booking_ids(config, json_lines):
    poison = envelope()
    booking_id = poison["data"]["booking_id"]
    publish_events(config, poison)

    def refuse(event: Event) -> None:
        raise ValueError(f"cannot apply {event.type}")

    stop = threading.Event()
    consumer = EventConsumer(
        config.broker_url,
        build_topology(config.queue_type),
        "calendar",
        refuse,
        max_retries=2,
        backoff=0.01,
        stop=stop,
    )
    worker = threading.Thread(target=consumer.run)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while consumer.dead_lettered < 1:
            assert time.monotonic() < deadline, json_lines.getvalue()[-2000:]
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(15)
    about = [line for line in parsed(json_lines) if line["logger"] == "shared.bus.consumer"]
    retries = [line for line in about if "failed (attempt" in line["message"]]
    dead = [line for line in about if "dead-lettered" in line["message"]]
    assert len(retries) == 2 and len(dead) == 1
    for line in retries + dead:
        assert line["event_id"] == poison["id"]
        assert line["booking_id"] == booking_id
        assert line["event_type"] == "booking.submitted"
    assert dead[0]["level"] == "ERROR" and dead[0]["message_id"]


def test_each_mail_sent_is_logged_with_its_booking_and_event(smtp, tmp_path, json_lines):
    message = b"From: a@example.org\r\nTo: ola@example.org\r\nSubject: Hej\r\n\r\nHej\r\n"
    claimed = [Claimed(7, "ola@example.org", message, 0, booking_id="b-42", event_id="e-42")]
    outcomes = send_claimed(lambda: connection_for(smtp.url, tmp_path), "a@example.org", claimed)
    assert outcomes[7].status == "sent"
    (line,) = [line for line in parsed(json_lines) if "delivery 7" in line["message"]]
    assert (line["booking_id"], line["event_id"], line["delivery_id"]) == ("b-42", "e-42", 7)


def test_text_lines_carry_the_same_fields_after_the_message():
    record = logging.LogRecord("shared.bus", logging.WARNING, __file__, 1, "late", (), None)
    with log_context(event_id="e-1", booking_id="b-1"):
        text = TextFormatter().format(record)
    assert text.endswith("WARNING late [event_id=e-1 booking_id=b-1]")


def test_a_worker_logs_json_lines_when_told(config, tmp_path):
    """EVENEMANG_LOG_FORMAT=json in a real worker process: every line it writes parses."""
    env = process_env(config.replace(log_format="json"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evenemang", "worker", "calendar"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        first = proc.stdout.readline()
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)
    lines = [first, *rest.splitlines()]
    records = [json.loads(line) for line in lines if line.strip()]
    assert any("consumer listening" in r["message"] for r in records)
    assert all({"time", "level", "logger", "pid", "message"} <= set(r) for r in records)
