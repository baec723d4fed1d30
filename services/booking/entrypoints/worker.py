"""Booking's background work: the outbox relay."""

from __future__ import annotations

import threading

from services.booking.persistence.models import OutboxMessage
from shared.bus.publisher import Publisher
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import service_database
from shared.outbox import OutboxRelay


def relay_loop(config: Config):
    def run(stop: threading.Event) -> None:
        db = service_database(config, "booking")
        topology = build_topology(config.queue_type)
        with Publisher(config.broker_url, topology, heartbeat=config.broker_heartbeat) as publisher:
            relay = OutboxRelay(
                db,
                OutboxMessage,
                publisher,
                batch_size=config.relay_batch_size,
                lease_seconds=config.relay_lease_seconds,
            )
            relay.run(stop, interval=config.relay_interval)
        db.dispose()

    return run


def loops(config: Config, only: str | None = None) -> list:
    return [relay_loop(config)]
