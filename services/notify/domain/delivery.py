"""The delivery log: a delivery's states, and how hard a mail is retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class DeliveryStatus(StrEnum):
    """A delivery's state. ``sending`` is a claim under a lease (shown as ``queued``);
    ``dropped``: never sent because it stopped being true (a reminder of a cancelled or
    moved booking, an invitation superseded by a newer one before it went out)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    DROPPED = "dropped"

    @property
    def shown(self) -> DeliveryStatus:
        """The state a reader sees: a claim in progress is still queued to them."""
        return DeliveryStatus.QUEUED if self is DeliveryStatus.SENDING else self


SHOWN_STATUSES = tuple(s for s in DeliveryStatus if s is not DeliveryStatus.SENDING)


DROPPED_SUPERSEDED = "superseded by a newer calendar message"
# when a ``sending`` claim whose sender is gone counts as claimed: before any lease, so
# the next sender takes it at once
RELEASED = datetime(2000, 1, 1, tzinfo=UTC)
DROPPED_MOVED = "the occurrence moved or was cancelled"
DROPPED_DECIDED = "the line was decided or its booking ended"


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: SENT, FAILED (refused for good), QUEUED (to try again
    at ``retry_at``) or DEAD (no attempts left), with the last error."""

    status: DeliveryStatus
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Retry:
    """How hard the sender tries: ``max_attempts`` in all, the first retry after
    ``retry_seconds``, each following one after twice the wait before it."""

    max_attempts: int = 8
    retry_seconds: float = 60.0

    def after(self, outcome: Outcome, attempts: int, now: datetime) -> Outcome:
        """What attempt number ``attempts`` leaves: sent or failed as it was; else queued
        for a later attempt, or dead after the last one."""
        if outcome.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            return outcome
        if attempts >= self.max_attempts:
            return Outcome(DeliveryStatus.DEAD, outcome.error)
        delay = self.retry_seconds * 2 ** (attempts - 1)
        return Outcome(DeliveryStatus.QUEUED, outcome.error, now + timedelta(seconds=delay))
