"""The transactional outbox: an event is written in the same transaction as the change
it describes, and a relay publishes it afterwards. A broker that is down delays events,
it never loses them."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Integer,
    String,
    Text,
    Update,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from shared import holders
from shared.bus.connection import MAX_RECONNECT_DELAY
from shared.bus.publisher import OutgoingMessage, Publisher, PublishError
from shared.db import Database, UTCDateTime, utcnow
from shared.metrics import BROKER_RECONNECTS, EVENTS_PUBLISHED
from shared.transient import is_database_outage

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
    # the relay holding the row (a token per claimed batch) and until when
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

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


AGGREGATE_KEYS = ("booking_id", "resource_id", "user_id")


def aggregate_of(data: dict[str, Any]) -> str:
    """The id of what an event's snapshot is about (a booking, a resource, or a user: also
    an account mail's, which is about its user)."""
    return next(data[key] for key in AGGREGATE_KEYS if data.get(key))


def outbox_row(envelope: dict[str, Any]) -> dict[str, Any]:
    """An event's outbox columns (the others take their defaults)."""
    return {
        "event_id": envelope["id"],
        "event_type": envelope["type"],
        "aggregate_id": aggregate_of(envelope["data"]),
        "payload": json.dumps(envelope, separators=(",", ":"), ensure_ascii=False),
    }


def enqueue(session: Session, model: type[OutboxMixin], envelope: dict[str, Any]) -> None:
    """Add an event to the outbox inside the caller's transaction."""
    session.add(model(**outbox_row(envelope)))


def enqueue_now(session: Session, model: type[OutboxMixin], envelope: dict[str, Any]) -> None:
    """The same, written at once with Core after what is pending (no ORM flush of its own):
    for a hot path that never reads the row back in its transaction."""
    session.flush()
    session.execute(insert(model.__table__), outbox_row(envelope))


@dataclass(frozen=True)
class Claim:
    """A batch of outbox rows one relay holds under a lease: their ids (in id order) and the
    messages to publish. Only the holder of ``token`` may mark them sent."""

    token: str
    ids: list[int]
    messages: list[OutgoingMessage]


class OutboxRelay:
    """Moves unpublished outbox rows to the bus in id order, in batches, and marks them sent.

    A batch is claimed in one short transaction (a token and a lease on each row), published
    with no transaction open, and marked sent in a second short one, so a slow broker never
    holds the database's write lock. Several relays may run at once: on PostgreSQL each
    claims with ``FOR UPDATE SKIP LOCKED`` and skips rows under another's lease; on SQLite
    the claims serialise. A relay that dies between publish and mark leaves its rows
    claimed; they are published again at once by a relay on the same host (the claim token
    names its holder: ``shared.holders``, a process that no longer runs holds nothing), or
    by any relay once the lease ends (consumers dedupe by event id). A live relay's claim
    is taken only when its lease ends, so the lease must outlast one batch's publish and
    confirms, or a batch may go out twice."""

    def __init__(
        self,
        db: Database,
        model: type[OutboxMixin],
        publisher: Publisher,
        *,
        batch_size: int = 500,
        lease_seconds: float = 60.0,
        service: str = "booking",
    ) -> None:
        self.db = db
        self.service = service  # whose outbox, as metrics name it
        self.model = model
        self.publisher = publisher
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)

    def run_once(self) -> int:
        """Publish one batch; return how many were sent. Raises PublishError on broker trouble
        (the claim is released and the batch tried again)."""
        claim = self.claim()
        if claim is None:
            return 0
        try:
            self.publisher.publish(claim.messages)
        except PublishError as exc:
            self.release(claim, exc)
            raise
        return self.mark_sent(claim)

    def claim(self) -> Claim | None:
        """Take the oldest unpublished rows that no live lease holds; commit at once."""
        model, now = self.model, utcnow()
        token = holders.token()
        with self.db.transaction() as session:
            free = _claim_free(model, now)
            orphans = self._orphaned(session, now)
            if orphans:
                log.info("taking over %d claims of relays that died", len(orphans))
                free = or_(free, model.claim_token.in_(orphans))
            rows = session.execute(
                select(model.id, model.event_id, model.event_type, model.payload)
                .where(model.published_at.is_(None), free)
                .order_by(model.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return None
            ids = [row.id for row in rows]
            session.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(
                    claim_token=token,
                    claimed_until=now + self.lease,
                    attempts=model.attempts + 1,
                )
            )
        messages = [
            OutgoingMessage(routing_key=row.event_type, body=row.payload, message_id=row.event_id)
            for row in rows
        ]
        return Claim(token, ids, messages)

    def _orphaned(self, session: Session, now: datetime) -> list[str]:
        """Tokens of live leases held by relays of this host that no longer run."""
        model, here = self.model, holders.prefix()
        if here is None:
            return []
        held = session.scalars(
            select(model.claim_token)
            .where(
                model.published_at.is_(None),
                model.claimed_until >= now,
                model.claim_token.like(here + "%"),
            )
            .distinct()
        )
        return holders.dead(held)

    def mark_sent(self, claim: Claim) -> int:
        """Mark the claimed rows sent, those still under our claim; return how many."""
        with self.db.transaction() as session:
            result = session.execute(
                _held(self.model, claim).values(
                    published_at=utcnow(), claimed_until=None, last_error=None
                )
            )
            marked = result.rowcount
        if marked < len(claim.ids):
            log.info(
                "%d of %d published events had been claimed again after our lease ended; "
                "they go out once more",
                len(claim.ids) - marked,
                len(claim.ids),
            )
        return marked

    def release(self, claim: Claim, error: Exception) -> None:
        """Give the rows back after a failed publish (noting why), so any relay retries them
        at once. Should this fail too, the lease still ends."""
        try:
            with self.db.transaction() as session:
                session.execute(
                    _held(self.model, claim).values(
                        claim_token=None, claimed_until=None, last_error=str(error)[:2000]
                    )
                )
        except Exception:
            log.warning("could not release outbox claim; it ends with its lease", exc_info=True)

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
            self.publisher.keep_alive()
            try:
                sent = self.run_once()
            except PublishError as exc:
                BROKER_RECONNECTS.labels(self.service, "relay").inc()
                log.warning(
                    "broker unreachable, %s; events wait in the outbox, retry in %.1fs", exc, delay
                )
                stop.wait(delay)
                delay = min(max(delay, 0.5) * 2, MAX_RECONNECT_DELAY)
                continue
            except Exception as exc:
                if is_database_outage(exc):  # expected while it lasts: a line, no traceback
                    log.warning("outbox relay: the database is away (%r); retrying in 1s", exc)
                else:
                    log.exception("outbox relay failed; retrying")
                stop.wait(1.0)
                continue
            delay = interval
            EVENTS_PUBLISHED.labels(self.service).inc(sent)
            if sent < self.batch_size:
                stop.wait(interval)


def _claim_free(model: type[OutboxMixin], now: datetime) -> ColumnElement[bool]:
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def _held(model: type[OutboxMixin], claim: Claim) -> Update:
    """An UPDATE of the claim's rows that still carry its token and are not yet sent."""
    return update(model).where(
        model.id.in_(claim.ids),
        model.claim_token == claim.token,
        model.published_at.is_(None),
    )
