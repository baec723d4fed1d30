"""Turning planned mail into delivery log rows: composed once per event and kind (each
decider's own), an older calendar message to the same calendar superseded."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, MutableMapping
from datetime import datetime
from typing import Any

from services.notify.domain import IMIP_METHOD, AccountMail, Mail, MailKind, with_names
from services.notify.mail.account import compose_account
from services.notify.mail.message import Composed, compose
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import NewDelivery
from services.notify.settings import MailSettings

log = logging.getLogger(__name__)


def compose_deliveries(
    mails: Iterable[Mail],
    settings: MailSettings,
    now: datetime,
    cache: MutableMapping[tuple, Any],
) -> list[NewDelivery]:
    """Each mail composed as a row to queue."""
    return _queued(mails, lambda mail: compose(mail, settings, now, cache))


def account_deliveries(
    mails: Iterable[AccountMail], settings: MailSettings, now: datetime
) -> list[NewDelivery]:
    """Each account mail composed as a row to queue (about no booking)."""
    return _queued(mails, lambda mail: compose_account(mail, settings, now))


def _queued(mails: Iterable[Any], compose_one: Callable[[Any], Composed]) -> list[NewDelivery]:
    """Rows to queue, one a mail; a mail to an address no header can carry is left out
    (and logged)."""
    rows = []
    for mail in mails:
        try:
            composed = compose_one(mail)
        except ValueError as exc:
            log.warning(
                "notify: not mailing %r (%s): %s",
                mail.to.email,
                mail.kind,
                exc,
                extra={"booking_id": getattr(mail, "booking_id", "")},
            )
            continue
        rows.append(
            NewDelivery(
                booking_id=mail.booking_id,
                event_id=mail.event_id,
                recipient=mail.recipient,
                kind=mail.kind.value,
                message_id=composed.message_id,
                subject=composed.subject,
                message=composed.data,
            )
        )
    return rows


def queue_named(uow: UnitOfWork, mails: list[Mail], settings: MailSettings, now: datetime) -> int:
    """Compose and queue mail about stored snapshots (reminders, digests), naming resources
    as the resource replica knows them now; how many were queued."""
    if not mails:
        return 0
    snapshots = [m.snapshot for m in mails] + [w.snapshot for m in mails for w in m.items]
    known = uow.resources.refs({r.id for s in snapshots for r in s.resources})
    rows = compose_deliveries(with_names(mails, known), settings, now, {})
    return uow.deliveries.add(rows, now)


def supersede_calendar_mail(uow: UnitOfWork, booking_id: str, rows: list[NewDelivery]) -> None:
    """A calendar message still queued for a calendar that gets a newer one is dropped: the
    newer one carries the whole state with a higher SEQUENCE, so a retried old REQUEST can
    never arrive after a CANCEL. A participant's invitations and an assignee's job are two
    events in their calendar (two UIDs): neither supersedes the other."""
    for assignments in (False, True):
        calendars = {
            r.recipient
            for r in rows
            if MailKind(r.kind) in IMIP_METHOD and MailKind(r.kind).to_assignee is assignments
        }
        if calendars:
            uow.deliveries.drop_queued_calendar_mail(booking_id, calendars, assignments)
