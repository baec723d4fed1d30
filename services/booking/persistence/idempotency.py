"""A create that carries an ``Idempotency-Key``: the claim its request holds while the use
case runs, written by the unit of work in the same transaction as what it creates, so a
retry finds either nothing (nothing was created) or the key with what it created."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from services.booking.persistence.models import IdempotencyKey

KEEP = timedelta(hours=24)


@dataclass
class Claim:
    """``principal_id`` creating something of ``model`` (named by its ``ident`` attribute)
    with ``key``, for the request with ``fingerprint``."""

    principal_id: str
    key: str
    fingerprint: str
    model: type
    ident: str
    now: datetime
    created_id: str | None = None
    written: bool = False

    def watch(self, session: Session) -> None:
        """Note what the session creates of ``model`` as it is flushed."""

        @event.listens_for(session, "after_flush")
        def _created(flushed: Session, _context: Any) -> None:
            for instance in flushed.new:
                if isinstance(instance, self.model) and self.created_id is None:
                    self.created_id = str(getattr(instance, self.ident))

    def write(self, session: Session) -> None:
        """The key's row, in the transaction about to commit (once); keys older than
        :data:`KEEP` go."""
        if self.written:
            return
        session.flush()
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < self.now - KEEP))
        session.add(
            IdempotencyKey(
                principal_id=self.principal_id,
                key=self.key,
                fingerprint=self.fingerprint,
                created_id=self.created_id,
                created_at=self.now,
            )
        )
        session.flush()  # a concurrent request with the same key fails here, creating nothing
        self.written = True


claim_in_progress: ContextVar[Claim | None] = ContextVar("claim_in_progress", default=None)
