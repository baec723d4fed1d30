"""Read models of bookings kept by consumers: the newest revision wins, so duplicated and
reordered events are harmless and a read model can be rebuilt by replaying."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UTCDateTime, utcnow
from shared.events import Event


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
    snapshot = event.raw["data"]
    if row is None:
        row = model(
            booking_id=event.booking_id,
            revision=event.revision,
            status=snapshot["status"],
            last_event_type=event.type,
            snapshot=snapshot,
        )
        session.add(row)
        session.flush()
        return row, None
    if event.revision <= row.revision:
        return None, None
    previous = row.snapshot
    row.revision = event.revision
    row.status = snapshot["status"]
    row.last_event_type = event.type
    row.snapshot = snapshot
    return row, previous
