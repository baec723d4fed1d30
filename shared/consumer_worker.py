"""The worker loop of a consuming service: its queue, its handler, its database."""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared.bus.consumer import EventConsumer, Handler
from shared.bus.topology import build_topology
from shared.config import Config
from shared.db import Database, service_database


def consumer_loop(
    config: Config, service: str, make_handler: Callable[[Database], Handler]
) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        db = service_database(config, service)
        handler = make_handler(db)
        try:
            EventConsumer(
                config.broker_url,
                build_topology(config.queue_type),
                service,
                handler,
                # one transaction per batch when the handler can (InboxHandler.batch)
                batch_handler=getattr(handler, "batch", None),
                max_retries=config.bus_max_retries,
                backoff=config.bus_retry_backoff,
                prefetch=config.bus_prefetch,
                max_pause=config.bus_max_pause,
                heartbeat=config.broker_heartbeat,
                stop=stop,
            ).run()
        finally:
            db.dispose()

    return run
