"""How much work waits, read from a service's own database and queues: what readiness
judges and what the metrics show at each scrape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import ColumnElement, func, select

from shared.bus.connection import queue_depth
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database, utcnow
from shared.outbox import OutboxMixin

BROKER_TIMEOUT = 2.0  # seconds to reach the broker for a count


def oldest_waiting(
    db: Database, column: ColumnElement[datetime], *where: ColumnElement[bool]
) -> float | None:
    """Seconds since the oldest row matching ``where`` began waiting, or None for none."""
    with db.transaction(readonly=True) as session:
        oldest = session.scalar(select(func.min(column)).where(*where))
    return None if oldest is None else (utcnow() - oldest).total_seconds()


def counted_by(db: Database, column: ColumnElement[str]) -> dict[str, int]:
    """How many rows have each value of ``column``."""
    with db.transaction(readonly=True) as session:
        rows = session.execute(select(column, func.count()).group_by(column))
        return {value: count for value, count in rows}


def outbox_gauges(db: Database, model: type[OutboxMixin]) -> Iterator[Metric]:
    """Events the relay has yet to publish, and how long the oldest has waited."""
    unpublished = model.published_at.is_(None)
    with db.transaction(readonly=True) as session:
        backlog = session.scalar(select(func.count()).select_from(model).where(unpublished))
    yield _gauge("evenemang_outbox_backlog", "Outbox events not yet published", backlog)
    age = oldest_waiting(db, model.created_at, unpublished) or 0.0
    yield _gauge(
        "evenemang_outbox_oldest_age_seconds", "Seconds the oldest unpublished event waited", age
    )


def queue_gauges(config: Config, service: str) -> Iterator[Metric]:
    """Messages waiting on the service's queue (its lag) and in its dead-letter queue."""
    topology = build_topology(config.queue_type)
    waiting = GaugeMetricFamily(
        "evenemang_queue_messages", "Messages waiting on a queue, not yet taken", labels=["queue"]
    )
    for queue in (topology.queue(service), topology.dead_letter_queue(service)):
        depth = queue_depth(config.broker_url, topology, queue.name, timeout=BROKER_TIMEOUT)
        waiting.add_metric([queue.name], depth)
    yield waiting
    yield _gauge(
        "evenemang_dead_letters",
        "Messages in the service's dead-letter queue (evenemang dlq list)",
        waiting.samples[-1].value,
    )


def counted_gauge(name: str, doc: str, label: str, counts: dict[str, int]) -> Metric:
    """One gauge with a sample per value counted (``counted_by``)."""
    family = GaugeMetricFamily(name, doc, labels=[label])
    for value, count in sorted(counts.items()):
        family.add_metric([value], count)
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
