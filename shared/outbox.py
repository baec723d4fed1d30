"""The transactional outbox: an event is written in the same transaction as the change
it describes, and a relay publishes it afterwards. A broker that is down delays events,
it never loses them."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from shared.bus.publisher import OutgoingMessage, Publisher, PublishError
from shared.db import Database, UTCDateTime, utcnow

log = logging.getLogger(__name__)


class OutboxMixin:
    """Columns of an outbox table; a service maps it with its own declarative base."""

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    aggregate_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 - declared_attr takes the class
        name = cls.__tablename__
        return (
            Index(
                f"ix_{name}_unpublished",
                "id",
                sqlite_where=cls.published_at.is_(None),
                postgresql_where=cls.published_at.is_(None),
            ),
        )


def enqueue(session: Session, model: type[OutboxMixin], envelope: dict[str, Any]) -> None:
    """Add an event to the outbox inside the caller's transaction."""
    session.add(
        model(
            event_id=envelope["id"],
            event_type=envelope["type"],
            aggregate_id=envelope["data"].get("booking_id") or envelope["data"]["user_id"],
            payload=json.dumps(envelope, separators=(",", ":"), ensure_ascii=False),
        )
    )


class OutboxRelay:
    """Moves unpublished outbox rows to the bus in id order, in batches, and marks them sent.

    Several relays may run at once: on PostgreSQL each claims rows with
    ``FOR UPDATE SKIP LOCKED``; on SQLite writers serialise."""

    def __init__(
        self, db: Database, model: type[OutboxMixin], publisher: Publisher, *, batch_size: int = 500
    ) -> None:
        self.db = db
        self.model = model
        self.publisher = publisher
        self.batch_size = batch_size

    def run_once(self) -> int:
        """Publish one batch; return how many were sent. Raises PublishError on broker trouble
        (the batch stays unpublished and is tried again)."""
        model = self.model
        with self.db.transaction() as session:
            rows = session.scalars(
                select(model)
                .where(model.published_at.is_(None))
                .order_by(model.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            self.publisher.publish(
                [
                    OutgoingMessage(
                        routing_key=row.event_type, body=row.payload, message_id=row.event_id
                    )
                    for row in rows
                ]
            )
            session.execute(
                update(model)
                .where(model.id.in_([row.id for row in rows]))
                .values(published_at=utcnow(), attempts=model.attempts + 1)
            )
            return len(rows)

    def pending(self) -> int:
        """How many events wait in the outbox (counted by the database)."""
        with self.db.transaction(readonly=True) as session:
            return session.scalar(
                select(func.count())
                .select_from(self.model)
                .where(self.model.published_at.is_(None))
            )

    def run(self, stop: threading.Event, *, interval: float = 0.2) -> None:
        """Relay until ``stop`` is set; back off while the broker is unreachable."""
        delay = interval
        while not stop.is_set():
            try:
                sent = self.run_once()
            except PublishError as exc:
                log.warning(
                    "broker unreachable, %s; events wait in the outbox, retry in %.1fs", exc, delay
                )
                stop.wait(delay)
                delay = min(max(delay, 0.5) * 2, 10.0)
                continue
            except Exception:
                log.exception("outbox relay failed; retrying")
                stop.wait(1.0)
                continue
            delay = interval
            if sent < self.batch_size:
                stop.wait(interval)
