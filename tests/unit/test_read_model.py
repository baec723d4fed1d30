"""The revision rule and the inbox, on a real (in-memory-file) SQLite database."""

import pytest

from services.calendar.consumer import make_handler
from services.calendar.models import Base, Booking, ProcessedEvent
from shared.db import Database
from shared.events import BOOKING_APPROVED, BOOKING_CHANGED, BOOKING_SUBMITTED, parse_event
from tests.factories import envelope


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'calendar.db'}")
    database.create_all(Base)
    yield database
    database.dispose()


def _state(db, booking_id):
    with db.transaction(readonly=True) as s:
        row = s.get(Booking, booking_id)
        return (row.revision, row.status, row.snapshot["title"]) if row else None


def _processed(db):
    with db.transaction(readonly=True) as s:
        return s.query(ProcessedEvent).count()


def test_newer_revision_wins(db):
    handle = make_handler(db)
    first = envelope(BOOKING_SUBMITTED, revision=1)
    bid = first["data"]["booking_id"]
    handle(parse_event(first))
    handle(parse_event(envelope(BOOKING_APPROVED, booking_id=bid, revision=2, status="approved")))
    assert _state(db, bid) == (2, "approved", "Thesis defence")


def test_duplicates_are_applied_once(db):
    handle = make_handler(db)
    env = envelope()
    handle(parse_event(env))
    handle(parse_event(env))
    assert _processed(db) == 1


def test_reordered_events_end_in_the_newest_state(db):
    handle = make_handler(db)
    bid = "b-reorder"
    newer = envelope(BOOKING_CHANGED, booking_id=bid, revision=3, title="Moved", status="approved")
    older = envelope(BOOKING_APPROVED, booking_id=bid, revision=2, status="approved")
    oldest = envelope(BOOKING_SUBMITTED, booking_id=bid, revision=1)
    for env in (newer, oldest, older):
        handle(parse_event(env))
    assert _state(db, bid) == (3, "approved", "Moved")
    assert _processed(db) == 3  # stale events are recorded as seen, and change nothing
