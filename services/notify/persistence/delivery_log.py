"""The delivery log on notify's database: rows planned in the transaction that applied
their event (``queued``, unique by event id, recipient and kind), claimed by senders and
marked with each attempt's outcome.

Claims: PostgreSQL takes the rows ``FOR UPDATE SKIP LOCKED``, SQLite under its write lock
(``BEGIN IMMEDIATE``); either way they are marked ``sending`` with a claim token and the
time, so any number of senders share the work and none sends a row another holds. An
outcome is recorded only while the claim is still the sender's own."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from services.notify.commands import ListDeliveries
from services.notify.domain import (
    ASSIGNMENT_KINDS,
    DROPPED_DECIDED,
    DROPPED_MOVED,
    DROPPED_SUPERSEDED,
    INVITATION_KINDS,
    RELEASED,
    DeliveryStatus,
    MailKind,
    Outcome,
)
from services.notify.persistence.models import Delivery
from services.notify.readmodels import Claimed, DeliveryView, NewDelivery
from shared.inbox import insert_for

QUEUED, SENDING = DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value
SUBJECT_LENGTH = 400

# The statements run once a mail (the sender noting it) or once a booking (planning dropping
# what a newer plan replaces), built once: Core, without the ORM's bookkeeping per call.
_table = Delivery.__table__
_SENT = (
    update(_table)
    .where(_table.c.id == bindparam("delivery"), _table.c.claim == bindparam("sender_claim"))
    .values(
        status=DeliveryStatus.SENT.value,
        sent_at=bindparam("at"),
        attempts=_table.c.attempts + 1,
        claim=None,
        claimed_at=None,
    )
)


def _dropping(reason: str, *where: Any) -> Any:
    """A booking's queued mail of some kind dropped (found by booking and status)."""
    return (
        update(_table)
        .where(_table.c.booking_id == bindparam("booking"), _table.c.status == QUEUED, *where)
        .values(status=DeliveryStatus.DROPPED.value, last_error=reason)
    )


_VALUES = bindparam("values", expanding=True)
_DROP_CALENDAR = {
    family: _dropping(
        DROPPED_SUPERSEDED,
        _table.c.kind.in_(sorted(kind.value for kind in kinds)),
        _table.c.recipient.in_(_VALUES),
    )
    for family, kinds in ((False, INVITATION_KINDS), (True, ASSIGNMENT_KINDS))
}
_DROP_REMINDERS = _dropping(
    DROPPED_MOVED, _table.c.kind == MailKind.REMINDER.value, _table.c.event_id.not_in(_VALUES)
)
_DROP_WAITING = _dropping(
    DROPPED_DECIDED,
    _table.c.kind == MailKind.WAITING_REMINDER.value,
    _table.c.event_id.in_(_VALUES),
)
_RENEW = (
    update(_table)
    .where(_table.c.claim == bindparam("sender_claim"), _table.c.status == SENDING)
    .values(claimed_at=bindparam("at"))
)


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

    def drop_queued_calendar_mail(
        self, booking_id: str, recipients: Collection[str], assignments: bool = False
    ) -> None:
        self._drop(_DROP_CALENDAR[assignments], booking_id, sorted(recipients))

    def drop_queued_reminders(self, booking_id: str, keep: Collection[str]) -> None:
        self._drop(_DROP_REMINDERS, booking_id, sorted(keep))

    def drop_queued_waiting(self, booking_id: str, event_ids: Collection[str]) -> None:
        if event_ids:
            self._drop(_DROP_WAITING, booking_id, sorted(event_ids))

    def exists(self, event_id: str, recipient: str, kind: str) -> bool:
        found = exists().where(
            Delivery.event_id == event_id, Delivery.recipient == recipient, Delivery.kind == kind
        )
        return bool(self.session.scalar(select(found)))

    def _drop(self, statement: Any, booking_id: str, values: list[str]) -> None:
        self.session.connection().execute(statement, {"booking": booking_id, "values": values})

    @staticmethod
    def _due(now: datetime, stale_before: datetime):
        return or_(
            and_(Delivery.status == QUEUED, Delivery.next_attempt_at <= now),
            and_(Delivery.status == SENDING, Delivery.claimed_at < stale_before),
        )

    def any_due(self, now: datetime, stale_before: datetime) -> bool:
        return bool(self.session.scalar(select(exists().where(self._due(now, stale_before)))))

    def held_claims(self, prefix: str) -> list[str]:
        held = Delivery.status == SENDING, Delivery.claim.like(prefix + "%")
        return list(self.session.scalars(select(Delivery.claim).where(*held).distinct()))

    def release(self, claims: Collection[str]) -> None:
        self.session.execute(
            update(Delivery)
            .where(Delivery.status == SENDING, Delivery.claim.in_(sorted(claims)))
            .values(claimed_at=RELEASED)
        )

    def claim(self, now: datetime, stale_before: datetime, limit: int, token: str) -> list[Claimed]:
        rows = self.session.execute(
            select(
                Delivery.id,
                Delivery.recipient,
                Delivery.message,
                Delivery.attempts,
                Delivery.booking_id,
                Delivery.event_id,
            )
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
        return [
            Claimed(r.id, r.recipient, r.message, r.attempts, r.booking_id, r.event_id)
            for r in rows
        ]

    def record_sent(self, token: str, ids: list[int], now: datetime) -> None:
        connection = self.session.connection()
        for id_ in ids:
            connection.execute(_SENT, {"delivery": id_, "sender_claim": token, "at": now})

    def renew(self, token: str, now: datetime) -> None:
        self.session.connection().execute(_RENEW, {"sender_claim": token, "at": now})

    def record(self, token: str, item: Claimed, outcome: Outcome) -> None:
        values: dict[str, Any] = {
            "status": outcome.status.value,
            "attempts": item.attempts + 1,
            "last_error": outcome.error,
            "claim": None,
            "claimed_at": None,
        }
        if outcome.retry_at is not None:
            values["next_attempt_at"] = outcome.retry_at
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
        return [DeliveryView.of(row) for row in self.session.scalars(statement)]
