"""The processed-events record (inbox) that makes every consumer idempotent: an event's
id is stored in the same transaction as its effect, so a redelivery is a no-op."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import Database, UTCDateTime, utcnow
from shared.events import Event

ApplyOne = Callable[[Session, Event], None]
ApplyMany = Callable[[Session, list[Event]], None]


class ProcessedEventMixin:
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[str] = mapped_column(String(64), index=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def apply_once(
    db: Database,
    model: type[ProcessedEventMixin],
    event: Event,
    apply: ApplyOne,
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


def apply_batch(
    db: Database,
    model: type[ProcessedEventMixin],
    events: list[Event],
    apply_many: ApplyMany,
) -> int:
    """Apply the events not applied before and record them all, in one transaction.

    Returns how many were fresh. Ids already recorded, repeated within the batch or being
    recorded by a racing worker are skipped by the insert itself (``ON CONFLICT DO
    NOTHING``), so only the events whose record this transaction created are applied.
    Should an IntegrityError still occur, each event is applied on its own instead."""
    unique = list({event.id: event for event in events}.values())
    if not unique:
        return 0
    try:
        with db.transaction() as session:
            fresh_ids = _record_new(session, model, unique)
            fresh = [event for event in unique if event.id in fresh_ids]
            if fresh:
                apply_many(session, fresh)
    except IntegrityError:
        return sum(
            apply_once(db, model, event, lambda session, one: apply_many(session, [one]))
            for event in unique
        )
    return len(fresh)


def _record_new(
    session: Session, model: type[ProcessedEventMixin], events: list[Event]
) -> set[str]:
    """Insert the events' records, skipping ids already present; the ids inserted."""
    now = utcnow()
    rows = [
        {
            "event_id": event.id,
            "event_type": event.type,
            "booking_id": event.booking_id,
            "processed_at": now,
        }
        # sorted, so two workers inserting overlapping ids wait on each other in the same
        # order on PostgreSQL instead of deadlocking
        for event in sorted(events, key=lambda e: e.id)
    ]
    table = model.__table__
    statement = (
        insert_for(session)(table)
        .on_conflict_do_nothing(index_elements=[table.c.event_id])
        .returning(table.c.event_id)
    )
    return set(session.scalars(statement, rows))


def insert_for(session: Session):
    """The dialect's ``insert`` construct, which knows ``ON CONFLICT`` (SQLite, PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"batched inbox writes need ON CONFLICT; {dialect} lacks it")


@dataclass(frozen=True)
class InboxHandler:
    """A consumer's handler: applies each event once, alone (``handler(event)``) or a
    batch per transaction (``handler.batch(events)``)."""

    db: Database
    model: type[ProcessedEventMixin]
    apply: ApplyOne
    apply_many: ApplyMany

    def __call__(self, event: Event) -> None:
        """Apply one event in its own transaction (a no-op if it was applied before)."""
        apply_once(self.db, self.model, event, self.apply)

    def batch(self, events: list[Event]) -> None:
        """Apply a batch in one transaction (those applied before change nothing)."""
        apply_batch(self.db, self.model, events, self.apply_many)
