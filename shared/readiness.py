"""What ``/readyz`` adds to health, per job: the broker, and work that does not wait too
long (booking's outbox, a consumer's queue, notify's mail). Each is a plain check for
:class:`shared.health.Health`, which runs it under a deadline."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from shared.bus.connection import ping, queue_depth
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database
from shared.health import Check, NotReady, waiting_too_long
from shared.workload import BROKER_TIMEOUT, oldest_waiting


def broker_check(config: Config) -> Check:
    """The broker takes a connection and opens a channel."""
    return lambda: ping(config.broker_url, timeout=BROKER_TIMEOUT)


def waiting_rows_check(
    db: Database,
    what: str,
    column: ColumnElement[datetime],
    *where: ColumnElement[bool],
    limit: float,
) -> Check:
    """Not ready while the oldest row matching ``where`` has waited longer than ``limit``."""
    return lambda: waiting_too_long(what, oldest_waiting(db, column, *where), limit)


class ConsumerProgress:
    """Not ready while messages wait on the service's queue and none has been applied for
    longer than the limit since this check first saw them waiting. (A queue cannot say how
    old its oldest message is on every broker; the inbox says when the last one was
    applied.)"""

    def __init__(
        self, config: Config, service: str, db: Database, applied_at: ColumnElement[datetime]
    ) -> None:
        self.url = config.broker_url
        self.topology = build_topology(config.queue_type)
        self.queue = self.topology.queue(service).name
        self.db = db
        self.applied_at = applied_at
        self.limit = config.ready_max_wait_seconds
        self._lock = threading.Lock()
        self._stalled_since: float | None = None
        self._last_applied: datetime | None = None

    def __call__(self) -> None:
        waiting = queue_depth(self.url, self.topology, self.queue, timeout=BROKER_TIMEOUT)
        with self.db.transaction(readonly=True) as session:
            last = session.scalar(select(func.max(self.applied_at)))
        now = time.monotonic()
        with self._lock:
            moved = last != self._last_applied
            self._last_applied = last
            if not waiting or moved or self._stalled_since is None:
                self._stalled_since = now if waiting else None
                return
            stalled = now - self._stalled_since
        if stalled > self.limit:
            raise NotReady(
                f"{waiting} messages waiting on {self.queue}, none applied for {stalled:.0f}s "
                f"(limit {self.limit:.0f}s)"
            )


def consumer_readiness(
    config: Config, service: str, db: Database, applied_at: ColumnElement[datetime]
) -> dict[str, Check]:
    """A consuming service's readiness: the broker answers, its queue does not stall."""
    return {
        "broker": broker_check(config),
        "consumer": ConsumerProgress(config, service, db, applied_at),
    }
