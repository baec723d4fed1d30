"""Calendar's bus consumer: each event applied once (the inbox records it in the same
transaction), and per booking or user only the newest revision; after each commit the
feeds are published (``publisher``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PublishingHandler:
    """An inbox handler that calls ``publisher`` once its transaction has committed."""

    inbox: InboxHandler
    publisher: Callable[[], object]

    def __call__(self, event: Event) -> None:
        self.inbox(event)
        self.publisher()

    def batch(self, events: list[Event]) -> None:
        self.inbox.batch(events)
        self.publisher()


def make_handler(
    db: Database, clock: Clock = utcnow, publisher: Callable[[], object] | None = None
) -> InboxHandler | PublishingHandler:
    """Apply each event once: ``handler(event)`` alone, ``handler.batch(events)`` together;
    then ``publisher()`` (the feeds moved on), when given."""

    def apply_many(session: Session, events: list[Event]) -> None:
        apply_events(session, events, clock)

    inbox = InboxHandler(db, ProcessedEvent, lambda s, event: apply_many(s, [event]), apply_many)
    return PublishingHandler(inbox, publisher) if publisher else inbox


def make_batch_handler(db: Database) -> BatchHandler:
    """Apply a batch of events in one transaction, each at most once."""
    return make_handler(db).batch
