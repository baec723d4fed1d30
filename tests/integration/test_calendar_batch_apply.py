"""Calendar's consumer applies a batch in one transaction with set-based writes, and keeps
what one event at a time kept: the newest revision wins whatever the order, a redelivered
event changes nothing, and one event that cannot be applied spoils none of the others."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.calendar.entrypoints.consumer import make_handler
from services.calendar.persistence.models import FeedEntry, FeedState
from services.calendar.usecases import events as calendar_events
from shared.db import Database
from shared.events import BOOKING_APPROVED, BOOKING_CHANGED, BOOKING_SUBMITTED, parse_event
from tests.factories import envelope
from tests.support.bus import calendar_consumer, consuming, publish_raw, queue_size, read_model
from tests.support.processes import wait_for


def _revisions(booking_id: str) -> list:
    first = envelope(BOOKING_SUBMITTED, booking_id=booking_id, revision=1, title="First")
    return [
        parse_event(first),
        parse_event(
            envelope(BOOKING_APPROVED, booking_id=booking_id, revision=2, status="approved")
        ),
        parse_event(
            envelope(
                BOOKING_CHANGED, booking_id=booking_id, revision=3, status="approved", title="Last"
            )
        ),
    ]


def _entries(db: Database) -> tuple[dict[str, tuple[int, str]], int]:
    with db.transaction(readonly=True) as session:
        entries = {
            row.booking_id: (row.revision, row.vevent_full)
            for row in session.execute(
                select(FeedEntry.booking_id, FeedEntry.revision, FeedEntry.vevent_full)
            )
        }
        generation = session.scalar(select(FeedState.generation)) or 0
    return entries, generation


def test_a_batch_keeps_the_newest_revision_whatever_the_order(config):
    db = Database(config.calendar_database_url)
    try:
        handler = make_handler(db)
        a, b = _revisions("b-a"), _revisions("b-b")
        handler.batch([a[2], b[0], a[0], b[1], a[1]])  # a: newest first; b: in order
        entries, generation = _entries(db)
        assert {k: v[0] for k, v in entries.items()} == {"b-a": 3, "b-b": 2}
        assert "SUMMARY:Last" in entries["b-a"][1]
        assert generation == 1  # one bump for the whole batch

        handler.batch([b[0], a[1]])  # older than what is held: nothing changes
        assert _entries(db) == (entries, generation)
        handler.batch([b[2]])
        entries, generation = _entries(db)
        assert entries["b-b"][0] == 3 and "SUMMARY:Last" in entries["b-b"][1]
        assert generation == 2
    finally:
        db.dispose()
    rows, processed = read_model(config, "calendar")
    assert rows == {"b-a": (3, "approved"), "b-b": (3, "approved")}
    assert processed == 6


def test_a_redelivered_batch_changes_nothing(config):
    db = Database(config.calendar_database_url)
    try:
        handler = make_handler(db)
        batch = _revisions("b-c") + _revisions("b-d")[:1]
        handler.batch(batch)
        before = _entries(db)
        handler.batch(batch)  # the same events again (a redelivery)
        handler.batch(batch[::-1])
        for event in batch:
            handler(event)
        assert _entries(db) == before
    finally:
        db.dispose()
    assert read_model(config, "calendar")[1] == 4


def test_an_event_that_cannot_be_applied_spoils_none_of_its_batch(config, monkeypatch):
    render = calendar_events.render_entry

    def render_or_fail(snapshot, previous):
        if snapshot.title == "poison":
            raise ValueError("cannot render this one")
        return render(snapshot, previous)

    monkeypatch.setattr(calendar_events, "render_entry", render_or_fail)
    bodies = [envelope(title=f"good {i}") for i in range(6)]
    bodies.insert(3, envelope(title="poison"))
    publish_raw(config, *(json.dumps(body) for body in bodies))
    db = Database(config.calendar_database_url)
    handler = make_handler(db)
    consumer = calendar_consumer(config, handler, prefetch=20, max_retries=1)
    with consuming(consumer):
        wait_for(
            lambda: consumer.processed + consumer.dead_lettered == len(bodies),
            30,
            message="every event settled",
        )
    try:
        entries, _ = _entries(db)
    finally:
        db.dispose()
    assert consumer.dead_lettered == 1 and consumer.processed == 6
    good = {body["data"]["booking_id"] for body in bodies if body["data"]["title"] != "poison"}
    assert set(entries) == good
    assert read_model(config, "calendar")[1] == 6
    assert queue_size(config, "calendar.events") == 0
    assert queue_size(config, "calendar.events.dlq") == 1
