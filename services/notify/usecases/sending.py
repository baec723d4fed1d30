"""Sending due mail: claim a batch under a lease (one transaction), send it with no
transaction open, record each outcome (another). A sender that dies mid-batch leaves its
rows ``sending``; once the lease has passed another sender takes them again (at-least-once
toward the relay; the Message-ID stays the same, so the rare duplicate is recognisable)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from services.notify.domain import DeliveryStatus, Outcome
from services.notify.mail.smtp import Connect, send_claimed
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import Claimed
from services.notify.settings import SenderSettings
from shared.db import utcnow

Clock = Callable[[], datetime]


def send_due_mail(
    uow: UnitOfWork, connect: Connect, settings: SenderSettings, clock: Clock = utcnow
) -> int:
    """Claim one batch of due mail, send it and record the outcomes. Returns how many
    deliveries were claimed."""
    token = uuid.uuid4().hex
    claimed = claim_due_mail(uow, settings, clock(), token)
    if claimed:
        outcomes = send_claimed(connect, settings.envelope_from, claimed)
        record_outcomes(uow, settings, token, claimed, outcomes, clock())
    return len(claimed)


def claim_due_mail(
    uow: UnitOfWork, settings: SenderSettings, now: datetime, token: str
) -> list[Claimed]:
    """Take up to a batch of due deliveries (queued and due, or held by a sender whose
    lease has passed) as ``sending`` under ``token``."""
    stale = now - timedelta(seconds=settings.lease_seconds)
    with uow.reading() as reader:  # cheap when there is nothing
        if not reader.deliveries.any_due(now, stale):
            return []
    with uow:
        claimed = uow.deliveries.claim(now, stale, settings.batch_size, token)
        uow.commit()
    return claimed


def record_outcomes(
    uow: UnitOfWork,
    settings: SenderSettings,
    token: str,
    claimed: list[Claimed],
    outcomes: Mapping[int, Outcome],
    now: datetime,
) -> None:
    """Sent rows are ``sent``; a refusal for good ``failed``; anything else waits for its
    next attempt with backoff, or is ``dead`` after the last one."""
    with uow:
        sent = [c.id for c in claimed if outcomes[c.id].status is DeliveryStatus.SENT]
        uow.deliveries.record_sent(token, sent, now)
        for item in claimed:
            outcome = outcomes[item.id]
            if outcome.status is DeliveryStatus.SENT:
                continue
            uow.deliveries.record(
                token, item, settings.retry.after(outcome, item.attempts + 1, now)
            )
        uow.commit()
