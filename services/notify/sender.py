"""The sender loop: claims due deliveries, sends them (SMTP, or the sink without one) and
records each outcome in the delivery log.

Claims: PostgreSQL takes the rows ``FOR UPDATE SKIP LOCKED``, SQLite under its write lock
(``BEGIN IMMEDIATE``); either way they are marked ``sending`` with a claim token and the
time, so any number of senders share the work and none sends a row another holds. A sender
that dies mid-batch leaves its rows ``sending``; once the lease has passed another sender
takes them again (at-least-once toward the relay; the Message-ID stays the same, so the rare
duplicate is recognisable). A refused recipient (5xx) is ``failed`` with the server's
answer; a 4xx or a connection that fails is retried with exponential backoff until the last
attempt, then ``dead``, keeping the last error."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from services.notify.persistence.models import DEAD, FAILED, QUEUED, SENDING, SENT, Delivery
from services.notify.settings import SenderSettings
from shared.db import Database, utcnow
from shared.mail import (
    ConnectionTrouble,
    MessageRefused,
    SinkConnection,
    SmtpConnection,
    connection_for,
)

log = logging.getLogger(__name__)

Connect = Callable[[], SmtpConnection | SinkConnection]


@dataclass(frozen=True)
class Claimed:
    id: int
    recipient: str
    data: bytes
    attempts: int


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT, FAILED (permanent) or QUEUED (try again)
    error: str | None = None


class DeliverySender:
    """Sends the delivery log's due rows; ``run`` until stopped, or ``run_once``."""

    def __init__(
        self,
        db: Database,
        settings: SenderSettings,
        *,
        connect: Connect | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.connect = connect or (lambda: connection_for(settings.smtp_url, settings.sink_dir))
        self.clock = clock

    def run(self, stop: threading.Event) -> None:
        """Send until ``stop`` is set; an unreachable database only delays the work."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("notify sender: sending failed; trying again shortly")
                stop.wait(max(self.settings.interval, 1.0))
                continue
            if not busy:
                stop.wait(self.settings.interval)

    def run_once(self) -> int:
        """Claim one batch of due mail, send it and record the outcomes. Returns how many
        rows were claimed."""
        token = uuid.uuid4().hex
        claimed = self.claim(token)
        if claimed:
            self.record(token, claimed, self.send(claimed))
        return len(claimed)

    def _due(self, now: datetime):
        stale = now - timedelta(seconds=self.settings.lease_seconds)
        return or_(
            and_(Delivery.status == QUEUED, Delivery.next_attempt_at <= now),
            and_(Delivery.status == SENDING, Delivery.claimed_at < stale),
        )

    def claim(self, token: str) -> list[Claimed]:
        now = self.clock()
        with self.db.transaction(readonly=True) as session:  # cheap when there is nothing
            if not session.scalar(select(exists().where(self._due(now)))):
                return []
        with self.db.transaction() as session:
            rows = session.execute(
                select(Delivery.id, Delivery.recipient, Delivery.message, Delivery.attempts)
                .where(self._due(now))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_([r.id for r in rows]))
                .values(status=SENDING, claimed_at=now, claim=token)
            )
        return [Claimed(r.id, r.recipient, r.message, r.attempts) for r in rows]

    def send(self, claimed: list[Claimed]) -> dict[int, Outcome]:
        """Send each claimed message on one connection; what became of each."""
        outcomes: dict[int, Outcome] = {}
        sender = self.settings.envelope_from
        try:
            with self.connect() as connection:
                for item in claimed:
                    try:
                        refused = connection.send(sender, [item.recipient], item.data)
                    except MessageRefused as exc:
                        outcomes[item.id] = _refused(str(exc.refusal), exc.refusal.permanent)
                        continue
                    except ConnectionTrouble:
                        raise
                    except Exception as exc:  # e.g. an address smtplib cannot encode
                        log.exception("notify sender: delivery %d failed", item.id)
                        outcomes[item.id] = Outcome(QUEUED, f"{type(exc).__name__}: {exc}"[:1000])
                        continue
                    refusal = next(iter(refused.values()), None)
                    if refusal is None:
                        outcomes[item.id] = Outcome(SENT)
                    else:
                        outcomes[item.id] = _refused(str(refusal), refusal.permanent)
        except ConnectionTrouble as exc:
            log.warning("notify sender: %s; %d mails wait for a retry", exc, len(claimed))
            for item in claimed:
                outcomes.setdefault(item.id, Outcome(QUEUED, str(exc)[:1000]))
        return outcomes

    def record(self, token: str, claimed: list[Claimed], outcomes: dict[int, Outcome]) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            sent = [c.id for c in claimed if outcomes[c.id].status == SENT]
            if sent:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(sent), Delivery.claim == token)
                    .values(
                        status=SENT,
                        sent_at=now,
                        attempts=Delivery.attempts + 1,
                        claim=None,
                        claimed_at=None,
                    )
                )
            for item in claimed:
                outcome = outcomes[item.id]
                if outcome.status != SENT:
                    self._record_failure(session, token, item, outcome, now)

    def _record_failure(
        self, session: Session, token: str, item: Claimed, outcome: Outcome, now: datetime
    ) -> None:
        attempts = item.attempts + 1
        values: dict = {
            "attempts": attempts,
            "last_error": outcome.error,
            "claim": None,
            "claimed_at": None,
        }
        if outcome.status == FAILED:
            values["status"] = FAILED
        elif attempts >= self.settings.max_attempts:
            values["status"] = DEAD
        else:
            delay = self.settings.retry_seconds * 2 ** (attempts - 1)
            values.update(status=QUEUED, next_attempt_at=now + timedelta(seconds=delay))
        session.execute(
            update(Delivery).where(Delivery.id == item.id, Delivery.claim == token).values(values)
        )


def _refused(error: str, permanent: bool) -> Outcome:
    return Outcome(FAILED if permanent else QUEUED, error[:1000])
