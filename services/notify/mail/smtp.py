"""Sending claimed mail (SMTP, or the sink without a server) and saying what became of
each: sent, refused for good (5xx) or to be tried again (4xx, or a connection that failed
or broke).

A :class:`Mailer` keeps one connection for batch after batch (a connection, its greeting
and its login cost more than a mail): a connection that sat idle between batches is asked
``NOOP`` first and opened again if the server has let it go, and it is closed once the
sender has nothing to do for :data:`IDLE_SECONDS`. A refused recipient or message leaves
the connection usable (``smtplib`` sends ``RSET``). A connection that breaks under a mail
leaves that mail to be tried again (the server may have taken it; SMTP cannot say), and the
rest of the batch goes on over a new connection, once a batch; should that break too, the
rest waits for its retry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from services.notify.domain import DeliveryStatus, Outcome
from services.notify.readmodels import Claimed
from shared.logs import log_context
from shared.mail import ConnectionTrouble, MessageRefused, SinkConnection, SmtpConnection

log = logging.getLogger(__name__)

Connect = Callable[[], SmtpConnection | SinkConnection]
OnOutcome = Callable[[Claimed, Outcome], None]
MAX_ERROR = 1000
IDLE_SECONDS = 10.0  # a connection unused this long is closed


class Mailer:
    """One connection reused across batches (see the module's docstring)."""

    def __init__(self, connect: Connect, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.connect = connect
        self.monotonic = monotonic
        self.connections = 0  # how many were opened
        self._opened: AbstractContextManager[Any] | None = None
        self._connection: Any = None
        self._used = 0.0
        self._check = False  # ask NOOP before the next mail

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ready(self) -> Any:
        if self._check and self._connection is not None and not _alive(self._connection):
            self.close()
        self._check = False
        if self._connection is None:
            opened = self.connect()
            self._connection = opened.__enter__()  # raises ConnectionTrouble
            self._opened = opened
            self.connections += 1
        return self._connection

    def close(self) -> None:
        """Close the connection (``QUIT``), if one is open."""
        opened, self._opened, self._connection = self._opened, None, None
        if opened is not None:
            try:
                opened.__exit__(None, None, None)
            except Exception:  # a connection already gone
                log.debug("notify sender: closing the connection failed", exc_info=True)

    def close_if_idle(self) -> None:
        if self._connection is not None and self.monotonic() - self._used >= IDLE_SECONDS:
            self.close()

    def send_batch(
        self, sender: str, claimed: Sequence[Claimed], on_outcome: OnOutcome | None = None
    ) -> dict[int, Outcome]:
        """Send each claimed message; the outcome of each (by delivery id), each also handed
        to ``on_outcome`` as soon as it is known (before the next message is sent: should
        that fail, nothing more is sent)."""
        outcomes: dict[int, Outcome] = {}

        def settle(item: Claimed, outcome: Outcome) -> None:
            outcomes[item.id] = outcome
            if on_outcome is not None:
                on_outcome(item, outcome)

        self._check = True  # a connection kept from an earlier batch is checked first
        reconnected = False
        for item in claimed:
            with log_context(
                booking_id=item.booking_id, event_id=item.event_id, delivery_id=item.id
            ):
                try:
                    connection = self._ready()
                except ConnectionTrouble as exc:
                    self._give_up(claimed, outcomes, settle, exc)
                    break
                try:
                    outcome = _send_one(connection, sender, item)
                except ConnectionTrouble as exc:
                    self.close()
                    if reconnected:
                        self._give_up(claimed, outcomes, settle, exc)
                        break
                    reconnected = True
                    log.warning("notify sender: %s; delivery %d waits for a retry", exc, item.id)
                    outcome = Outcome(DeliveryStatus.QUEUED, str(exc)[:MAX_ERROR])
                self._used = self.monotonic()
                settle(item, outcome)
        return outcomes

    @staticmethod
    def _give_up(
        claimed: Sequence[Claimed],
        outcomes: dict[int, Outcome],
        settle: OnOutcome,
        exc: ConnectionTrouble,
    ) -> None:
        waiting = [item for item in claimed if item.id not in outcomes]
        log.warning("notify sender: %s; %d mails wait for a retry", exc, len(waiting))
        for item in waiting:
            settle(item, Outcome(DeliveryStatus.QUEUED, str(exc)[:MAX_ERROR]))


def _alive(connection: Any) -> bool:
    """Whether a connection kept from an earlier batch still answers (``NOOP``)."""
    check = getattr(connection, "alive", None)
    return check() if check is not None else True


def send_claimed(
    connect: Connect,
    sender: str,
    claimed: Sequence[Claimed],
    on_outcome: OnOutcome | None = None,
) -> dict[int, Outcome]:
    """Send each claimed message on a connection of its own (closed at the end); see
    :meth:`Mailer.send_batch`."""
    with Mailer(connect) as mailer:
        return mailer.send_batch(sender, claimed, on_outcome)


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
