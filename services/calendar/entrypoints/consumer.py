"""Calendar's bus consumer: each event applied once (the inbox records it in the same
transaction), and per booking or user only the newest revision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from services.calendar.persistence.models import ProcessedEvent
from services.calendar.persistence.unit_of_work import JoinedUnitOfWork
from services.calendar.usecases.events import apply_events as apply_to
from shared.bus.consumer import BatchHandler
from shared.db import Database, utcnow
from shared.events import Event
from shared.inbox import InboxHandler

Clock = Callable[[], datetime]


def apply_events(session: Session, events: list[Event], clock: Clock = utcnow) -> None:
    """Apply events inside the inbox's transaction."""
    apply_to(JoinedUnitOfWork(session), events, clock())


def make_handler(db: Database, clock: Clock = utcnow) -> InboxHandler:
    """Apply each event once: ``handler(event)`` alone, ``handler.batch(events)`` together."""

    def apply_many(session: Session, events: list[Event]) -> None:
        apply_events(session, events, clock)

    return InboxHandler(db, ProcessedEvent, lambda s, event: apply_many(s, [event]), apply_many)


def make_batch_handler(db: Database) -> BatchHandler:
    """Apply a batch of events in one transaction, each at most once."""
    return make_handler(db).batch
