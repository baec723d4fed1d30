"""The processed-events record (inbox) that makes every consumer idempotent: an event's
id is stored in the same transaction as its effect, so a redelivery is a no-op."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import Database, UTCDateTime, utcnow
from shared.events import Event


class ProcessedEventMixin:
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[str] = mapped_column(String(64), index=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def apply_once(
    db: Database,
    model: type[ProcessedEventMixin],
    event: Event,
    apply: Callable[[Session, Event], None],
) -> bool:
    """Run ``apply`` and record the event in one transaction, unless it was applied before.

    Returns False for a duplicate. Two workers racing on one event: the loser's insert
    fails on the primary key, its transaction rolls back, and it reports a duplicate."""
    try:
        with db.transaction() as session:
            if session.get(model, event.id) is not None:
                return False
            session.add(
                model(event_id=event.id, event_type=event.type, booking_id=event.booking_id)
            )
            session.flush()
            apply(session, event)
    except IntegrityError:
        with db.transaction(readonly=True) as session:
            if session.get(model, event.id) is not None:
                return False
        raise
    return True
