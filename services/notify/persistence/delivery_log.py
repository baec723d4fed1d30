"""The delivery log on notify's database: rows planned in the transaction that applied
their event (``queued``, unique by event id, recipient and kind), claimed by senders and
marked with each attempt's outcome.

Claims: PostgreSQL takes the rows ``FOR UPDATE SKIP LOCKED``, SQLite under its write lock
(``BEGIN IMMEDIATE``); either way they are marked ``sending`` with a claim token and the
time, so any number of senders share the work and none sends a row another holds. An
outcome is recorded only while the claim is still the sender's own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from services.notify.commands import ListDeliveries
from services.notify.domain import DeliveryStatus
from services.notify.persistence.models import Delivery
from services.notify.readmodels import Claimed, DeliveryView, NewDelivery
from shared.inbox import insert_for

QUEUED, SENDING = DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value
SUBJECT_LENGTH = 400


class SqlDeliveries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rows: list[NewDelivery], now: datetime) -> int:
        if not rows:
            return 0
        table = Delivery.__table__
        statement = (
            insert_for(self.session)(table)
            .on_conflict_do_nothing(index_elements=["event_id", "recipient", "kind"])
            .returning(table.c.id)
        )
        values = [
            {
                "booking_id": row.booking_id,
                "event_id": row.event_id,
                "recipient": row.recipient,
                "kind": row.kind,
                "status": QUEUED,
                "attempts": 0,
                "message_id": row.message_id,
                "subject": row.subject[:SUBJECT_LENGTH],
                "message": row.message,
                "created_at": now,
                "next_attempt_at": now,
            }
            for row in rows
        ]
        return len(list(self.session.scalars(statement, values)))

    def drop_queued(
        self,
        booking_id: str,
        kinds: Iterable[str],
        reason: str,
        *,
        recipients: Iterable[str] | None = None,
        keep_events: Iterable[str] = (),
    ) -> None:
        statement = update(Delivery).where(
            Delivery.booking_id == booking_id,
            Delivery.kind.in_(sorted(kinds)),
            Delivery.status == QUEUED,
        )
        if recipients is not None:
            statement = statement.where(Delivery.recipient.in_(sorted(set(recipients))))
        keep = sorted(set(keep_events))
        if keep:
            statement = statement.where(Delivery.event_id.not_in(keep))
        self.session.execute(
            statement.values(status=DeliveryStatus.DROPPED.value, last_error=reason)
        )

    @staticmethod
    def _due(now: datetime, stale_before: datetime):
        return or_(
            and_(Delivery.status == QUEUED, Delivery.next_attempt_at <= now),
            and_(Delivery.status == SENDING, Delivery.claimed_at < stale_before),
        )

    def any_due(self, now: datetime, stale_before: datetime) -> bool:
        return bool(self.session.scalar(select(exists().where(self._due(now, stale_before)))))

    def claim(self, now: datetime, stale_before: datetime, limit: int, token: str) -> list[Claimed]:
        rows = self.session.execute(
            select(Delivery.id, Delivery.recipient, Delivery.message, Delivery.attempts)
            .where(self._due(now, stale_before))
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_([r.id for r in rows]))
            .values(status=SENDING, claimed_at=now, claim=token)
        )
        return [Claimed(r.id, r.recipient, r.message, r.attempts) for r in rows]

    def record_sent(self, token: str, ids: list[int], now: datetime) -> None:
        if not ids:
            return
        self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.claim == token)
            .values(
                status=DeliveryStatus.SENT.value,
                sent_at=now,
                attempts=Delivery.attempts + 1,
                claim=None,
                claimed_at=None,
            )
        )

    def record(
        self,
        token: str,
        item: Claimed,
        status: DeliveryStatus,
        *,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        values: dict = {
            "status": status.value,
            "attempts": item.attempts + 1,
            "last_error": error,
            "claim": None,
            "claimed_at": None,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        self.session.execute(
            update(Delivery).where(Delivery.id == item.id, Delivery.claim == token).values(values)
        )

    def list(self, query: ListDeliveries) -> list[DeliveryView]:
        statement = select(Delivery).order_by(Delivery.id.desc()).limit(query.limit)
        if query.booking_id is not None:
            statement = statement.where(Delivery.booking_id == query.booking_id)
        if query.status is not None:
            wanted = [query.status]
            if query.status is DeliveryStatus.QUEUED:
                wanted.append(DeliveryStatus.SENDING)
            statement = statement.where(Delivery.status.in_([s.value for s in wanted]))
        return [delivery_view(row) for row in self.session.scalars(statement)]


def delivery_view(row: Delivery) -> DeliveryView:
    status = DeliveryStatus(row.status).shown
    return DeliveryView(
        id=row.id,
        booking_id=row.booking_id,
        event_id=row.event_id,
        recipient=row.recipient,
        kind=row.kind,
        status=status,
        attempts=row.attempts,
        message_id=row.message_id,
        subject=row.subject,
        created_at=row.created_at,
        sent_at=row.sent_at,
        next_attempt_at=row.next_attempt_at if status is DeliveryStatus.QUEUED else None,
        last_error=row.last_error,
    )
