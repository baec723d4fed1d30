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
    columns = tuple(name for name in rows[0] if name not in key)
    cache_key = (session.get_bind().dialect.name, table.name, tuple(key), columns)
    statement = None if where is not None else _UPSERTS.get(cache_key)
    if statement is None:
        insert = insert_for(session)(table)
        statement = insert.on_conflict_do_update(
            index_elements=list(key),
            set_={name: insert.excluded[name] for name in columns},
            where=where,
        )
        if where is None:
            _UPSERTS[cache_key] = statement
    session.execute(statement, rows)


_UPSERTS: dict[tuple, Any] = {}  # built once per table and columns (many a batch)


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

    def lock_for_bookings(self, booking_ids: Iterable[str]) -> dict[str, dict[str, Invited]]:
        """Each booking's calendars (rows locked in booking order; one statement)."""
        rows = self.session.execute(
            select(
                Invitation.booking_id,
                Invitation.recipient,
                Invitation.name,
                Invitation.fingerprint,
                Invitation.active,
            )
            .where(Invitation.booking_id.in_(sorted(set(booking_ids))))
            .order_by(Invitation.booking_id, Invitation.recipient)
            .with_for_update()
        )
        found: dict[str, dict[str, Invited]] = {}
        for booking_id, recipient, name, fingerprint, active in rows:
            found.setdefault(booking_id, {})[recipient] = Invited(name, fingerprint, active)
        return found

    def save(self, saves: Sequence[tuple[str, Mapping[str, Invited], int]]) -> None:
        """One upsert for every calendar's state of these (booking, calendars, sequence)
        (the bookings' rows are locked already)."""
        rows = [
            {
                "booking_id": booking_id,
                "recipient": recipient,
                "name": state.name[:NAME_LENGTH],
                "fingerprint": state.fingerprint,
                "active": state.active,
                "sequence": sequence,
            }
            for booking_id, invited, sequence in sorted(saves, key=lambda s: s[0])
            for recipient, state in sorted(invited.items())
        ]
        if rows:
            upsert(self.session, Invitation.__table__, rows, ("booking_id", "recipient"))


class SqlReminders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_for_bookings(self, booking_ids: Iterable[str]) -> dict[str, dict[int, datetime]]:
        rows = self.session.execute(
            select(Reminder.booking_id, Reminder.n, Reminder.start)
            .where(Reminder.booking_id.in_(sorted(set(booking_ids))))
            .order_by(Reminder.booking_id, Reminder.n)
            .with_for_update()
        )
        found: dict[str, dict[int, datetime]] = {}
        for booking_id, n, start in rows:
            found.setdefault(booking_id, {})[n] = start
        return found

    def lock_for_booking(self, booking_id: str) -> dict[int, datetime]:
        return self.lock_for_bookings([booking_id]).get(booking_id, {})

    def reschedule(
        self, changes: Sequence[tuple[str, Iterable[int], Mapping[int, datetime]]], lead: timedelta
    ) -> None:
        gone = sorted(
            (booking_id, n) for booking_id, drop, add in changes for n in set(drop) - set(add)
        )
        if gone:
            self.session.execute(
                delete(Reminder).where(tuple_(Reminder.booking_id, Reminder.n).in_(gone))
            )
        rows = [
            {"booking_id": booking_id, "n": n, "start": start, "remind_at": start - lead}
            for booking_id, _, add in sorted(changes, key=lambda c: c[0])
            for n, start in sorted(add.items())
        ]
        if rows:
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
