"""The consumer's work: a batch of events applied to notify's read model and the mail they
call for planned in the same transaction — delivery log rows (``queued``, unique by event,
recipient and kind), what each participant's calendar has been sent, and the reminders
ahead. Nothing is sent here; the sender sends what this committed, so a redelivered event,
a replayed dead letter or a second worker finds the rows there and plans nothing twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.notify.domain import (
    plan_mail,
    reminder_id,
    reminder_times,
    reschedule,
)
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import NewDelivery
from services.notify.settings import MailSettings
from services.notify.usecases.queueing import compose_deliveries, supersede_calendar_mail
from shared.db import utcnow
from shared.events import BookingSnapshot, Event


def plan_deliveries(
    uow: UnitOfWork, events: Sequence[Event], settings: MailSettings, now: datetime | None = None
) -> int:
    """Apply a batch of events (per booking or user only the newest revision is stored) and
    plan their mail: every event newer than what was stored before counts for the
    organiser, the newest state for everyone else — the same mail as applying them one by
    one, except that deciders are not asked about a request the batch shows decided.
    Returns how many mails were queued."""
    now = now or utcnow()
    users = [e for e in events if e.is_user]
    bookings = [e for e in events if e.is_booking]
    with uow:
        if users:
            uow.users.store_newest(users)
        rows: list[NewDelivery] = []
        if bookings:
            before = uow.bookings.lock_revisions({e.booking_id for e in bookings})
            cache: dict[tuple, Any] = {}
            for newest in uow.bookings.store_newest(bookings):
                floor = before.get(newest.booking_id, 0)
                fresh = _by_revision(
                    e for e in bookings if e.booking_id == newest.booking_id and e.revision > floor
                )
                rows += _plan_booking(uow, fresh, settings, now, cache)
        queued = uow.deliveries.add(rows, now)
        uow.commit()
    return queued


def _by_revision(events: Iterable[Event]) -> list[Event]:
    """Oldest first; a repeated revision counts once (the first one seen)."""
    seen: dict[int, Event] = {}
    for event in events:
        seen.setdefault(event.revision, event)
    return [seen[r] for r in sorted(seen)]


def _plan_booking(
    uow: UnitOfWork,
    events: list[Event],
    settings: MailSettings,
    now: datetime,
    cache: dict[tuple, Any],
) -> list[NewDelivery]:
    newest = events[-1]
    booking_id = newest.booking_id
    plan = plan_mail(events, uow.invitations.lock_for_booking(booking_id), settings.infra_team)
    uow.invitations.save(booking_id, plan.invited, newest.revision)
    _reschedule_reminders(uow, newest.data, settings.reminder_lead, now)  # type: ignore[arg-type]
    rows = compose_deliveries(plan.mails, settings, now, cache)
    supersede_calendar_mail(uow, booking_id, rows)
    return rows


def _reschedule_reminders(
    uow: UnitOfWork, snapshot: BookingSnapshot, lead: timedelta, now: datetime
) -> None:
    """Reminders follow the booking: moved with an occurrence, dropped when it is cancelled
    (also one already queued for sending)."""
    booking_id = snapshot.booking_id
    drop, add = reschedule(snapshot, uow.reminders.lock_for_booking(booking_id), lead, now)
    uow.reminders.reschedule(booking_id, drop, add, lead)
    wanted = [
        reminder_id(booking_id, n, start) for n, start in reminder_times(snapshot, now).items()
    ]
    uow.deliveries.drop_queued_reminders(booking_id, wanted)
