"""Test helpers over the real databases and bus of a configured suite."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from importlib import import_module
from typing import Any

from kombu import Connection
from sqlalchemy import func, select

from services.booking.persistence.models import OutboxMessage
from shared.bus.connection import connect
from shared.bus.consumer import EventConsumer
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database
from shared.outbox import enqueue


def write_to_outbox(config: Config, *envelopes: dict[str, Any]) -> None:
    db = Database(config.booking_database_url)
    try:
        with db.transaction() as session:
            for env in envelopes:
                enqueue(session, OutboxMessage, env)
    finally:
        db.dispose()


def unpublished(config: Config) -> int:
    db = Database(config.booking_database_url)
    try:
        with db.transaction(readonly=True) as session:
            return session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
            )
    finally:
        db.dispose()


def read_model(config: Config, service: str) -> tuple[dict[str, tuple[int, str]], int]:
    """``({booking_id: (revision, status)}, number of processed events)`` of a consumer."""
    models = import_module(f"services.{service}.persistence.models")
    db = Database(config.database_url(service))
    try:
        with db.transaction(readonly=True) as session:
            rows = {
                b.booking_id: (b.revision, b.status)
                for b in session.scalars(select(models.Booking))
            }
            processed = session.scalar(select(func.count()).select_from(models.ProcessedEvent))
            return rows, processed
    finally:
        db.dispose()


def publish_raw(config: Config, *bodies: str, routing_key: str = "booking.submitted") -> None:
    with Publisher(config.broker_url, build_topology(config.queue_type)) as publisher:
        publisher.publish(
            [
                OutgoingMessage(routing_key=routing_key, body=body, message_id=f"test-{i}")
                for i, body in enumerate(bodies)
            ]
        )


def publish_events(config: Config, *envelopes: dict[str, Any]) -> None:
    publish_raw(config, *(json.dumps(e) for e in envelopes))


def queue_size(config: Config, queue_name: str) -> int:
    with connect(config.broker_url) as conn:
        assert isinstance(conn, Connection)
        build_topology(config.queue_type).declare(conn)
        _, count, _ = conn.default_channel.queue_declare(queue_name, passive=True)
        return count


@contextlib.contextmanager
def consuming(consumer: EventConsumer) -> Iterator[EventConsumer]:
    """The consumer running in a thread while the block runs; stopped after it."""
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        yield consumer
    finally:
        consumer.stop.set()
        thread.join(30)


def calendar_consumer(config: Config, handler: Any, *, batched: bool = True, **options: Any):
    """Calendar's consumer on the suite's bus, quick to retry (``backoff`` 0.01 s)."""
    return EventConsumer(
        config.broker_url,
        build_topology(config.queue_type),
        "calendar",
        handler,
        batch_handler=handler.batch if batched else None,
        **{"backoff": 0.01, **options},
    )
