"""Calendar's bus consumer: booking events into its own database, once each, newest wins."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.calendar.entries import bump_state, refresh_entry
from services.calendar.persistence.models import Booking, KnownUser, ProcessedEvent
from shared.bus.consumer import BatchHandler
from shared.db import Database
from shared.events import Event
from shared.inbox import InboxHandler
from shared.principals import store_user, store_users
from shared.readmodel import store_if_newer, store_newest


def apply_event(session: Session, event: Event) -> None:
    """Apply one event to this service's database (stale revisions change nothing)."""
    if event.type.startswith("user."):
        store_user(session, KnownUser, event)
        return
    row, _ = store_if_newer(session, Booking, event)
    if row is not None:
        refresh_entry(session, event.snapshot_json)


def apply_events(session: Session, events: list[Event]) -> None:
    """Apply a batch of events (per booking or user only the newest revision counts)."""
    users: list[Event] = []
    bookings: list[Event] = []
    for event in events:
        (users if event.type.startswith("user.") else bookings).append(event)
    store_users(session, KnownUser, users)
    applied = store_newest(session, Booking, bookings)
    if applied:
        generation = bump_state(session)  # one feed-state bump (and row lock) per batch
        with session.no_autoflush:
            for event in applied:
                refresh_entry(session, event.snapshot_json, generation=generation)


def make_handler(db: Database) -> InboxHandler:
    """Apply each event once: ``handler(event)`` alone, ``handler.batch(events)`` together."""
    return InboxHandler(db, ProcessedEvent, apply_event, apply_events)


def make_batch_handler(db: Database) -> BatchHandler:
    """Apply a batch of events in one transaction, each at most once."""
    return make_handler(db).batch
