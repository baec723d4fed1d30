"""Planning mail in the transaction that applies an event: the delivery log rows (status
``queued``, keyed UNIQUE by event id, recipient and kind), what each participant's calendar
has been sent, and the reminders ahead. Nothing is sent here; the sender loop sends what
this committed, so a redelivered event, a replayed dead letter or a second worker finds the
rows already there and plans nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from services.notify.domain import (
    IMIP_METHOD,
    REMINDER,
    Invited,
    Mail,
    decider_mails,
    organiser_mail,
    participant_mails,
    reminder_id,
    reminder_mails,
    reminder_times,
    reschedule,
)
from services.notify.messages import compose
from services.notify.persistence.models import (
    DROPPED,
    QUEUED,
    Booking,
    Delivery,
    Invitation,
    Reminder,
)
from services.notify.settings import MailSettings
from shared.db import Database, utcnow
from shared.events import Event
from shared.inbox import insert_for

log = logging.getLogger(__name__)


def plan_for_booking(
    session: Session, events: list[Event], settings: MailSettings, now: datetime | None = None
) -> int:
    """Plan the mail of one booking's fresh events (oldest first; the last one's snapshot
    is the one now stored). The organiser hears of each event; deciders, participants and
    reminders follow the newest state. Returns how many mails were queued."""
    now = now or utcnow()
    newest = events[-1]
    mails = [mail for event in events if (mail := organiser_mail(event)) is not None]
    mails += decider_mails(newest, settings.infra_team)
    mails += _participant_mails(session, newest)
    _reschedule_reminders(session, newest.snapshot_json, settings, now)
    return queue_mails(session, mails, settings, now)


def queue_mails(
    session: Session, mails: Iterable[Mail], settings: MailSettings, now: datetime
) -> int:
    """Compose each mail and insert its delivery row, unless that (event, recipient, kind)
    is already in the log. Returns how many rows this inserted."""
    cache: dict[tuple, Any] = {}
    rows = []
    for mail in mails:
        try:
            composed = compose(mail, settings, now, cache)
        except ValueError as exc:  # an address no mail server would take: skip that one
            log.warning("notify: not mailing %r (%s): %s", mail.to.email, mail.kind, exc)
            continue
        rows.append(
            {
                "booking_id": mail.booking_id,
                "event_id": mail.event_id,
                "recipient": mail.to.key,
                "kind": mail.kind,
                "status": QUEUED,
                "attempts": 0,
                "message_id": composed.message_id,
                "subject": composed.subject[:400],
                "message": composed.data,
                "created_at": now,
                "next_attempt_at": now,
            }
        )
    if not rows:
        return 0
    _supersede_invitations(session, [r for r in rows if r["kind"] in IMIP_METHOD])
    table = Delivery.__table__
    statement = (
        insert_for(session)(table)
        .on_conflict_do_nothing(index_elements=["event_id", "recipient", "kind"])
        .returning(table.c.id)
    )
    return len(list(session.scalars(statement, rows)))


def _supersede_invitations(session: Session, rows: list[dict[str, Any]]) -> None:
    """An iMIP mail still queued for the same calendar is replaced by the newer one (which
    carries the whole state with a higher SEQUENCE), so a retried old REQUEST can never
    arrive after a CANCEL."""
    for booking_id in {r["booking_id"] for r in rows}:
        recipients = sorted({r["recipient"] for r in rows if r["booking_id"] == booking_id})
        session.execute(
            update(Delivery)
            .where(
                Delivery.booking_id == booking_id,
                Delivery.recipient.in_(recipients),
                Delivery.kind.in_(list(IMIP_METHOD)),
                Delivery.status == QUEUED,
            )
            .values(status=DROPPED, last_error="superseded by a newer calendar message")
        )


def _participant_mails(session: Session, event: Event) -> list[Mail]:
    booking_id = event.booking_id
    rows = {
        row.recipient: row
        for row in session.scalars(
            select(Invitation).where(Invitation.booking_id == booking_id).with_for_update()
        )
    }
    invited = {key: Invited(r.name, r.fingerprint, r.active) for key, r in rows.items()}
    mails, state = participant_mails(event, invited)
    for key, now_invited in state.items():
        row = rows.get(key)
        if row is None:
            row = Invitation(booking_id=booking_id, recipient=key)
            session.add(row)
        row.name = now_invited.name[:200]
        row.fingerprint = now_invited.fingerprint
        row.active = now_invited.active
        row.sequence = event.revision
    return mails


def _reschedule_reminders(
    session: Session, snapshot: dict[str, Any], settings: MailSettings, now: datetime
) -> None:
    """Reminders follow the booking: moved with an occurrence, dropped when it is cancelled
    (also one already queued for sending)."""
    booking_id = snapshot["booking_id"]
    rows = {
        r.n: r
        for r in session.scalars(
            select(Reminder).where(Reminder.booking_id == booking_id).with_for_update()
        )
    }
    drop, add = reschedule(
        snapshot, {n: r.start for n, r in rows.items()}, settings.reminder_lead, now
    )
    for n in drop:
        if n not in add:
            session.delete(rows[n])
    for n, start in add.items():
        row = rows.get(n) or Reminder(booking_id=booking_id, n=n)
        row.start, row.remind_at = start, start - settings.reminder_lead
        if n not in rows:
            session.add(row)
    wanted = [
        reminder_id(booking_id, n, start) for n, start in reminder_times(snapshot, now).items()
    ]
    session.execute(
        update(Delivery)
        .where(
            Delivery.booking_id == booking_id,
            Delivery.kind == REMINDER,
            Delivery.status == QUEUED,
            Delivery.event_id.not_in(wanted),
        )
        .values(status=DROPPED, last_error="the occurrence moved or was cancelled")
    )


# --- the reminder scheduler -------------------------------------------------------------------


def queue_due_reminders(
    db: Database, settings: MailSettings, now: datetime | None = None, limit: int = 100
) -> int:
    """Turn the reminders that are due into queued mail (each reminder once, also with
    several workers). Returns how many mails were queued."""
    now = now or utcnow()
    with db.transaction(readonly=True) as session:
        if not session.scalar(select(exists().where(Reminder.remind_at <= now))):
            return 0
    with db.transaction() as session:
        due = list(
            session.scalars(
                select(Reminder)
                .where(Reminder.remind_at <= now)
                .order_by(Reminder.remind_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        mails: list[Mail] = []
        for reminder in due:
            booking = session.get(Booking, reminder.booking_id)
            if booking is not None and _still_ahead(booking.snapshot, reminder, now):
                mails += reminder_mails(booking.snapshot, reminder.n, reminder.start)
            session.delete(reminder)
        return queue_mails(session, mails, settings, now)


def _still_ahead(snapshot: dict[str, Any], reminder: Reminder, now: datetime) -> bool:
    return reminder_times(snapshot, now).get(reminder.n) == reminder.start
