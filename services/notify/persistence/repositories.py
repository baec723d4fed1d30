"""Notify's repositories on its database: the bookings read model, the users replica, what
participants' calendars were sent, and the reminders ahead (the delivery log is in
``delivery_log``). Each takes the unit of work's session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, exists, select, tuple_
from sqlalchemy.orm import Session

from services.notify.domain import Invited
from services.notify.persistence.models import Booking, Invitation, KnownUser, Reminder
from shared.events import BookingSnapshot, Event, load_snapshot
from shared.inbox import insert_for
from shared.principals import store_users
from shared.readmodel import store_newest

NAME_LENGTH = 200


def upsert(
    session: Session, table: Table, rows: list[dict], key: Sequence[str], where: Any = None
) -> None:
    """Insert the rows, or update the other columns of a row already there (on ``key``;
    only where ``where`` holds, when given)."""
    insert = insert_for(session)(table)
    columns = [name for name in rows[0] if name not in key]
    statement = insert.on_conflict_do_update(
        index_elements=list(key),
        set_={name: insert.excluded[name] for name in columns},
        where=where,
    )
    session.execute(statement, rows)


class SqlBookings:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, booking_ids: Iterable[str]) -> dict[str, BookingSnapshot]:
        """Locked in id order, as the upsert takes them, so two workers never deadlock."""
        rows = self.session.execute(
            select(Booking.booking_id, Booking.snapshot)
            .where(Booking.booking_id.in_(sorted(set(booking_ids))))
            .order_by(Booking.booking_id)
            .with_for_update()
        )
        return {booking_id: load_snapshot(snapshot) for booking_id, snapshot in rows}

    def store_newest(self, events: list[Event]) -> list[Event]:
        return store_newest(self.session, Booking, events)

    def snapshots(self, booking_ids: Iterable[str]) -> dict[str, BookingSnapshot]:
        rows = self.session.execute(
            select(Booking.booking_id, Booking.snapshot).where(
                Booking.booking_id.in_(sorted(set(booking_ids)))
            )
        )
        return {booking_id: load_snapshot(snapshot) for booking_id, snapshot in rows}


class SqlUsers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_newest(self, events: list[Event]) -> None:
        store_users(self.session, KnownUser, events)


class SqlInvitations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_for_booking(self, booking_id: str) -> dict[str, Invited]:
        rows = self.session.scalars(
            select(Invitation).where(Invitation.booking_id == booking_id).with_for_update()
        )
        return {r.recipient: Invited(r.name, r.fingerprint, r.active) for r in rows}

    def save(self, booking_id: str, invited: Mapping[str, Invited], sequence: int) -> None:
        """One upsert for every calendar's state (the booking's row is locked already)."""
        if not invited:
            return
        rows = [
            {
                "booking_id": booking_id,
                "recipient": recipient,
                "name": state.name[:NAME_LENGTH],
                "fingerprint": state.fingerprint,
                "active": state.active,
                "sequence": sequence,
            }
            for recipient, state in sorted(invited.items())
        ]
        upsert(self.session, Invitation.__table__, rows, ("booking_id", "recipient"))


class SqlReminders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_for_booking(self, booking_id: str) -> dict[int, datetime]:
        rows = self.session.execute(
            select(Reminder.n, Reminder.start)
            .where(Reminder.booking_id == booking_id)
            .with_for_update()
        )
        return {n: start for n, start in rows}

    def reschedule(
        self, booking_id: str, drop: Iterable[int], add: Mapping[int, datetime], lead: timedelta
    ) -> None:
        gone = sorted(set(drop) - set(add))
        if gone:
            self.session.execute(
                delete(Reminder).where(Reminder.booking_id == booking_id, Reminder.n.in_(gone))
            )
        if not add:
            return
        rows = [
            {"booking_id": booking_id, "n": n, "start": start, "remind_at": start - lead}
            for n, start in sorted(add.items())
        ]
        upsert(self.session, Reminder.__table__, rows, ("booking_id", "n"))

    def any_due(self, now: datetime) -> bool:
        return bool(self.session.scalar(select(exists().where(Reminder.remind_at <= now))))

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, int, datetime]]:
        due = self.session.execute(
            select(Reminder.booking_id, Reminder.n, Reminder.start)
            .where(Reminder.remind_at <= now)
            .order_by(Reminder.remind_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if due:
            taken = [(booking_id, n) for booking_id, n, _ in due]
            self.session.execute(
                delete(Reminder).where(tuple_(Reminder.booking_id, Reminder.n).in_(taken))
            )
        return [(booking_id, n, start) for booking_id, n, start in due]
