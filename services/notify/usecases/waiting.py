"""Lines kept waiting, from the scheduler: the 48-hour reminders that are due become queued
mail (each line reminded once, also with several workers), and at 07:00 each digest
recipient's waiting lines become one digest mail (one a day)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from services.notify.domain import Mail, digest_cutoff, digest_mail, waiting_reminder_mails
from services.notify.domain.mail import MailKind
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.settings import MailSettings
from services.notify.usecases.queueing import queue_named
from shared.db import utcnow

BATCH = 100


def queue_due_waiting_reminders(
    uow: UnitOfWork, settings: MailSettings, now: datetime | None = None, limit: int = BATCH
) -> int:
    """Queue the reminders of up to ``limit`` lines that have waited 48 hours: to the
    line's deciders (digest items for those who chose the digest), unless it was decided,
    started waiting anew or its booking started since. Returns how many mails were queued."""
    now = now or utcnow()
    with uow.reading() as reader:  # cheap when nothing is due
        if not reader.waiting.any_due(now):
            return 0
    with uow:
        due: dict[str, dict[str, datetime]] = defaultdict(dict)
        for booking_id, resource_id, since in uow.waiting.take_due(now, limit):
            due[booking_id][resource_id] = since
        snapshots = uow.bookings.snapshots(due)
        daily = uow.preferences.daily()
        mails: list[Mail] = []
        for booking_id, lines in sorted(due.items()):
            snapshot = snapshots.get(booking_id)
            event_id, to_send, items = (
                waiting_reminder_mails(snapshot, lines, now, settings.infra_team, daily)
                if snapshot is not None
                else (None, [], [])
            )
            uow.waiting.mark_taken(booking_id, lines, event_id or "")
            mails += to_send
            uow.digests.add(items, now)
        queued = queue_named(uow, mails, settings, now)
        uow.commit()
    return queued


def queue_due_digests(
    uow: UnitOfWork, settings: MailSettings, now: datetime | None = None, limit: int = BATCH
) -> int:
    """Each digest recipient's lines that started waiting before the last 07:00 (in the
    suite's time zone) and still wait for them, as one mail a day. Returns how many digests
    were queued."""
    now = now or utcnow()
    day, cutoff = digest_cutoff(now, settings.zone)
    with uow.reading() as reader:  # cheap when nothing is due
        if not reader.digests.any_due(cutoff):
            return 0
        recipients = reader.digests.recipients_due(cutoff, limit)
    queued = 0
    for recipient in recipients:  # one transaction each: a digest and its items together
        queued += _queue_digest(uow, settings, recipient, day, cutoff, now)
    return queued


def _queue_digest(
    uow: UnitOfWork,
    settings: MailSettings,
    recipient: str,
    day: date,
    cutoff: datetime,
    now: datetime,
) -> int:
    with uow:
        items = uow.digests.lock(recipient, cutoff)
        mail = digest_mail(
            recipient,
            day,
            items,
            uow.bookings.snapshots({booking_id for booking_id, _ in items}),
            settings.infra_team,
        )
        if mail is not None and uow.deliveries.exists(mail.event_id, recipient, MailKind.DIGEST):
            return 0  # today's went out already: these wait for tomorrow's
        queued = queue_named(uow, [mail] if mail else [], settings, now)
        uow.digests.remove(recipient, items)
        uow.commit()
    return queued
