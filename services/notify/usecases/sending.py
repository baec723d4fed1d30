"""Sending due mail: claim a batch under a lease (one transaction), send it with no
transaction open, and record each mail's outcome as soon as the server answered (a short
transaction per mail, which also renews the lease of the rest of the batch when a tenth of
the lease has passed since it was last renewed: renewing rewrites every row of the batch,
so not after every mail). A sender that dies mid-batch leaves only the mail in flight
unrecorded; its other rows stay ``sending`` under a lease that ends at least nine tenths of
``lease_seconds`` after its last sign of life, and another sender takes them then, or at
once a sender on the same host (the claim token names its holder, ``shared.holders``: a
sender that no longer runs holds nothing; a live one's claim is never taken early).
At-least-once toward the relay: the one mail in flight may go twice, with the same
Message-ID, so the duplicate is recognisable.

A connection dropped after the message's data was sent but before the server's answer
leaves it unknown whether the server took the mail; SMTP has no way to ask. It is tried
again (losing it would be worse), with the same Message-ID."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.notify.domain import DeliveryStatus, Outcome
from services.notify.mail.smtp import Connect, Mailer
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import Claimed
from services.notify.settings import SenderSettings
from shared import holders
from shared.db import utcnow

Clock = Callable[[], datetime]


def send_due_mail(
    uow: UnitOfWork,
    connect: Connect,
    settings: SenderSettings,
    clock: Clock = utcnow,
    mailer: Mailer | None = None,
) -> int:
    """Claim one batch of due mail, send it and record the outcomes. Returns how many
    deliveries were claimed. With a ``mailer`` its connection is kept for the next batch
    (and closed after a while with nothing to send), else one is opened for this batch."""
    token = holders.token()
    claimed_at = clock()
    claimed = claim_due_mail(uow, settings, claimed_at, token)
    if not claimed:
        if mailer is not None:
            mailer.close_if_idle()
        return 0
    renewed = [claimed_at]
    every = timedelta(seconds=settings.lease_seconds / 10)

    def record(item: Claimed, outcome: Outcome) -> None:
        now = clock()
        renew = now - renewed[0] >= every
        record_outcome(uow, settings, token, item, outcome, now, renew)
        if renew:
            renewed[0] = now

    with uow.holding():
        if mailer is None:
            with Mailer(connect) as own:
                own.send_batch(settings.envelope_from, claimed, record)
        else:
            mailer.send_batch(settings.envelope_from, claimed, record)
    return len(claimed)


def claim_due_mail(
    uow: UnitOfWork, settings: SenderSettings, now: datetime, token: str
) -> list[Claimed]:
    """Take up to a batch of due deliveries (queued and due, or held by a sender whose
    lease has passed) as ``sending`` under ``token``."""
    stale = now - timedelta(seconds=settings.lease_seconds)
    here = holders.prefix()
    with uow.reading() as reader:  # cheap when there is nothing
        orphans = holders.dead(reader.deliveries.held_claims(here)) if here else []
        if not orphans and not reader.deliveries.any_due(now, stale):
            return []
    with uow:
        uow.deliveries.release(orphans)
        claimed = uow.deliveries.claim(now, stale, settings.batch_size, token)
        uow.commit()
    return claimed


def record_outcome(
    uow: UnitOfWork,
    settings: SenderSettings,
    token: str,
    item: Claimed,
    outcome: Outcome,
    now: datetime,
    renew: bool = True,
) -> None:
    """One mail's outcome, recorded as soon as the server answered: ``sent``; ``failed``
    for a refusal for good; else it waits for its next attempt with backoff, or is ``dead``
    after the last one. With ``renew`` the rest of the sender's claim is held a lease
    longer."""
    with uow:
        if outcome.status is DeliveryStatus.SENT:
            uow.deliveries.record_sent(token, [item.id], now)
        else:
            retry = settings.retry.after(outcome, item.attempts + 1, now)
            uow.deliveries.record(token, item, retry)
        if renew:
            uow.deliveries.renew(token, now)
        uow.commit()
