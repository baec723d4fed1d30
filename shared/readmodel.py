"""Read models of bookings kept by consumers: the newest revision wins, so duplicated and
reordered events are harmless and a read model can be rebuilt by replaying."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Table
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UTCDateTime, utcnow
from shared.events import Event
from shared.inbox import insert_for


class BookingSnapshotMixin:
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    last_event_type: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def store_if_newer(session: Session, model: type[BookingSnapshotMixin], event: Event):
    """Keep the event's snapshot when its revision is newer than the stored one.

    Returns ``(row, previous_snapshot)`` when applied, ``(None, None)`` when stale. The row is
    locked (``FOR UPDATE``) so two workers cannot both apply different revisions."""
    row = session.get(model, event.booking_id, with_for_update=True)
    snapshot = event.snapshot_json
    if row is None:
        row = model(
            booking_id=event.booking_id,
            revision=event.revision,
            status=event.data.status.value,
            last_event_type=event.type.value,
            snapshot=snapshot,
        )
        session.add(row)
        session.flush()
        return row, None
    if event.revision <= row.revision:
        return None, None
    previous = row.snapshot
    row.revision = event.revision
    row.status = event.data.status.value
    row.last_event_type = event.type.value
    row.snapshot = snapshot
    return row, previous


def store_newest(
    session: Session, model: type[BookingSnapshotMixin], events: list[Event]
) -> list[Event]:
    """Batch form of :func:`store_if_newer`: per booking, keep the newest event's snapshot
    when its revision is newer than the stored one. Returns the events that were stored.

    One ``INSERT … ON CONFLICT DO UPDATE … WHERE stored.revision < new.revision``: it
    locks each existing row, and takes the rows in booking-id order, so two workers
    writing overlapping bookings wait on each other instead of deadlocking, and a row a
    racing worker inserts first is compared rather than failing with a duplicate key."""
    newest = newest_per_key(events, key=lambda event: event.booking_id)
    if not newest:
        return []
    now = utcnow()
    rows = [
        {
            "booking_id": booking_id,
            "revision": event.revision,
            "status": event.data.status.value,
            "last_event_type": event.type.value,
            "snapshot": event.snapshot_json,
            "updated_at": now,
        }
        for booking_id, event in sorted(newest.items())
    ]
    stored = upsert_if_newer(session, model.__table__, rows, key="booking_id")
    return [newest[booking_id] for booking_id in sorted(stored)]


def newest_per_key(events: list[Event], key: Callable[[Event], str]) -> dict[str, Event]:
    """The event with the highest revision for each key; on a tie the first one, as
    applying them in order would keep (a repeated revision is stale)."""
    newest: dict[str, Event] = {}
    for event in events:
        current = newest.get(key(event))
        if current is None or event.revision > current.revision:
            newest[key(event)] = event
    return newest


def upsert_if_newer(session: Session, table: Table, rows: list[dict], *, key: str) -> set[str]:
    """Insert the rows, or overwrite a stored row whose revision is older; the keys written.

    ``rows`` must hold one row per key, each with a ``revision`` (ON CONFLICT DO UPDATE
    may touch a row only once per statement)."""
    insert = insert_for(session)(table)
    excluded = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={name: excluded[name] for name in rows[0] if name != key},
        where=table.c.revision < excluded.revision,
    ).returning(table.c[key])
    return set(session.scalars(statement, rows))
