"""Reminders that are due become queued mail, each once, also with several workers; and one
round of the scheduler (these, the 48-hour reminders of waiting lines, the digests)."""

from __future__ import annotations

from datetime import datetime

from services.notify.domain import Mail, reminder_mails, reminder_times
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.settings import MailSettings
from services.notify.usecases.queueing import queue_named
from services.notify.usecases.waiting import queue_due_digests, queue_due_waiting_reminders
from shared.db import utcnow

BATCH = 100


def queue_due_reminders(
    uow: UnitOfWork, settings: MailSettings, now: datetime | None = None, limit: int = BATCH
) -> int:
    """Queue the mail of up to ``limit`` due reminders, to the organiser and every
    participant, unless the occurrence moved or the booking ended since. Returns how many
    mails were queued."""
    now = now or utcnow()
    with uow.reading() as reader:  # cheap when nothing is due
        if not reader.reminders.any_due(now):
            return 0
    with uow:
        due = uow.reminders.take_due(now, limit)
        snapshots = uow.bookings.snapshots({booking_id for booking_id, _, _ in due})
        mails: list[Mail] = []
        for booking_id, n, start in due:
            snapshot = snapshots.get(booking_id)
            if snapshot is not None and reminder_times(snapshot, now).get(n) == start:
                mails += reminder_mails(snapshot, n, start)
        queued = queue_named(uow, mails, settings, now)
        uow.commit()
    return queued


def queue_scheduled_mail(
    uow: UnitOfWork, settings: MailSettings, now: datetime | None = None
) -> int:
    """One round of the scheduler: the reminders of occurrences and of lines waiting 48
    hours that are due, and the daily digests. Returns how many mails were queued."""
    now = now or utcnow()
    return (
        queue_due_reminders(uow, settings, now)
        + queue_due_waiting_reminders(uow, settings, now)
        + queue_due_digests(uow, settings, now)
    )
