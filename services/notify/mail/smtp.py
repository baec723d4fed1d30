"""Sending claimed mail over one connection (SMTP, or the sink without a server) and saying
what became of each: sent, refused for good (5xx) or to be tried again (4xx, or a connection
that failed or broke)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from services.notify.domain import DeliveryStatus, Outcome
from services.notify.readmodels import Claimed
from shared.logs import log_context
from shared.mail import ConnectionTrouble, MessageRefused, SinkConnection, SmtpConnection

log = logging.getLogger(__name__)

Connect = Callable[[], SmtpConnection | SinkConnection]
OnOutcome = Callable[[Claimed, Outcome], None]
MAX_ERROR = 1000


def send_claimed(
    connect: Connect,
    sender: str,
    claimed: Sequence[Claimed],
    on_outcome: OnOutcome | None = None,
) -> dict[int, Outcome]:
    """Send each claimed message on one connection; the outcome of each (by delivery id),
    each also handed to ``on_outcome`` as soon as it is known (before the next message is
    sent: should that fail, nothing more is sent). Trouble with the connection leaves every
    message not yet sent to be tried again."""
    outcomes: dict[int, Outcome] = {}

    def settle(item: Claimed, outcome: Outcome) -> None:
        outcomes[item.id] = outcome
        if on_outcome is not None:
            on_outcome(item, outcome)

    try:
        with connect() as connection:
            for item in claimed:
                with log_context(
                    booking_id=item.booking_id, event_id=item.event_id, delivery_id=item.id
                ):
                    settle(item, _send_one(connection, sender, item))
    except ConnectionTrouble as exc:
        waiting = [item for item in claimed if item.id not in outcomes]
        log.warning("notify sender: %s; %d mails wait for a retry", exc, len(waiting))
        for item in waiting:
            settle(item, Outcome(DeliveryStatus.QUEUED, str(exc)[:MAX_ERROR]))
    return outcomes


def _send_one(connection: SmtpConnection | SinkConnection, sender: str, item: Claimed) -> Outcome:
    try:
        refused = connection.send(sender, [item.recipient], item.data)
    except MessageRefused as exc:
        log.warning("notify sender: delivery %d refused: %s", item.id, exc.refusal)
        return _refused(str(exc.refusal), exc.refusal.permanent)
    except ConnectionTrouble:
        raise
    except Exception as exc:  # e.g. an address smtplib cannot encode
        log.exception("notify sender: delivery %d failed", item.id)
        return Outcome(DeliveryStatus.QUEUED, f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    refusal = next(iter(refused.values()), None)
    if refusal is None:
        log.info("notify sender: delivery %d accepted by the server", item.id)
        return Outcome(DeliveryStatus.SENT)
    log.warning("notify sender: delivery %d refused: %s", item.id, refusal)
    return _refused(str(refusal), refusal.permanent)


def _refused(error: str, permanent: bool) -> Outcome:
    status = DeliveryStatus.FAILED if permanent else DeliveryStatus.QUEUED
    return Outcome(status, error[:MAX_ERROR])
