"""The revision rule and the inbox, on a real (in-memory-file) SQLite database."""

import pytest
from sqlalchemy import select

from services.calendar.entrypoints.consumer import apply_events, make_handler
from services.calendar.persistence.models import Base, Booking, KnownUser, ProcessedEvent
from shared.db import Database
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CHANGED,
    BOOKING_SUBMITTED,
    USER_CHANGED,
    load_snapshot,
    make_envelope,
    parse_event,
)
from shared.inbox import apply_batch
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
        return (row.revision, row.status, load_snapshot(row.snapshot).title) if row else None


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


# -- a batch per transaction (shared.inbox.apply_batch) --------------------------------


def _user_event(user_id="u-1", revision=1, **overrides):
    data = {
        "user_id": user_id,
        "email": "olga@example.org",
        "name": "Olga",
        "role": "organiser",
        "active": True,
        "revoked_tokens": [],
        "revision": revision,
        **overrides,
    }
    return parse_event(make_envelope(USER_CHANGED, data))


def _user(db, user_id):
    with db.transaction(readonly=True) as s:
        row = s.get(KnownUser, user_id)
        return (row.revision, row.role, row.active, row.revoked_tokens) if row else None


def _batch(db, *events):
    return apply_batch(db, ProcessedEvent, list(events), apply_events)


def test_a_batch_applies_each_event_once_even_when_repeated_within_it(db):
    first, second = parse_event(envelope()), parse_event(envelope())
    assert _batch(db, first, second, first, second, first) == 2
    assert _processed(db) == 2
    assert _state(db, first.booking_id) == (1, "pending", "Thesis defence")
    assert _state(db, second.booking_id) == (1, "pending", "Thesis defence")


def test_a_batch_skips_events_applied_before_and_applies_the_rest(db):
    bid = "b-seen"
    seen = parse_event(envelope(BOOKING_APPROVED, booking_id=bid, revision=2, status="approved"))
    make_handler(db)(seen)
    replayed_older = parse_event(envelope(BOOKING_SUBMITTED, booking_id=bid, revision=1))
    other = parse_event(envelope())
    assert _batch(db, seen, replayed_older, other) == 2  # ``seen`` is a no-op
    assert _processed(db) == 3
    assert _state(db, bid) == (2, "approved", "Thesis defence")
    assert _state(db, other.booking_id) == (1, "pending", "Thesis defence")


def test_in_a_batch_the_newest_revision_wins_whatever_the_order(db):
    bid = "b-batch"
    newer = envelope(BOOKING_CHANGED, booking_id=bid, revision=3, title="Moved", status="approved")
    older = envelope(BOOKING_APPROVED, booking_id=bid, revision=2, status="approved")
    oldest = envelope(BOOKING_SUBMITTED, booking_id=bid, revision=1)
    assert _batch(db, *(parse_event(env) for env in (older, newer, oldest))) == 3
    assert _state(db, bid) == (3, "approved", "Moved")
    assert _processed(db) == 3  # stale events are recorded as seen, and change nothing


def test_a_batch_of_stale_revisions_changes_nothing_stored(db):
    bid = "b-stale"
    make_handler(db)(
        parse_event(envelope(BOOKING_CHANGED, booking_id=bid, revision=5, title="Kept"))
    )
    stale = [
        parse_event(envelope(BOOKING_CHANGED, booking_id=bid, revision=r, title="Stale"))
        for r in (5, 4, 1)
    ]
    assert _batch(db, *stale) == 3
    assert _state(db, bid) == (5, "pending", "Kept")
    assert _processed(db) == 4


def test_a_batch_mixes_booking_and_user_events(db):
    booking = parse_event(envelope())
    make_handler(db)(_user_event("u-1", revision=2, role="infra"))
    events = [
        booking,
        _user_event("u-1", revision=1, role="admin"),  # stale
        _user_event("u-2", revision=1),
        _user_event("u-2", revision=3, active=False, revoked_tokens=["t-1"]),
        _user_event("u-2", revision=2),
    ]
    assert _batch(db, *events) == 5
    assert _state(db, booking.booking_id) == (1, "pending", "Thesis defence")
    assert _user(db, "u-1") == (2, "infra", True, [])
    assert _user(db, "u-2") == (3, "organiser", False, ["t-1"])
    assert _processed(db) == 6


def test_batch_and_single_handling_store_the_same_row(db, tmp_path):
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    other.create_all(Base)
    events = [
        parse_event(envelope(BOOKING_CHANGED, booking_id="b-same", revision=r, title=f"r{r}"))
        for r in (2, 1, 3)
    ] + [_user_event("u-same", revision=r, name=f"r{r}") for r in (1, 2)]
    make_handler(db).batch(events)
    for event in events:
        make_handler(other)(event)
    assert _rows(db) == _rows(other)
    other.dispose()


def _rows(db):
    with db.transaction(readonly=True) as s:
        bookings = [
            (b.booking_id, b.revision, b.status, b.last_event_type, b.snapshot)
            for b in s.scalars(select(Booking).order_by(Booking.booking_id))
        ]
        users = [
            (u.user_id, u.email, u.name, u.role, u.active, u.revoked_tokens, u.revision)
            for u in s.scalars(select(KnownUser).order_by(KnownUser.user_id))
        ]
        return bookings, users
