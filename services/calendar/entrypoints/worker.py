"""Calendar's background work: its bus consumer, and the publisher that writes the feeds
after each applied batch, at start-up and when the day turns."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from services.calendar.entrypoints.consumer import make_handler
from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
from services.calendar.usecases.publishing import feed_publisher
from shared.config import Config
from shared.consumer_worker import consumer_loop
from shared.db import service_database

log = logging.getLogger(__name__)
CHECK_SECONDS = 60.0  # the publisher looks at the generation and the day at least this often


def loops(config: Config, only: str | None = None) -> list:
    wake = threading.Event()
    handler = consumer_loop(config, "calendar", lambda db: make_handler(db, publisher=wake.set))
    return [handler, publishing_loop(config, wake)]


def publishing_loop(config: Config, wake: threading.Event) -> Callable[[threading.Event], None]:
    """Publish every feed at start, then whenever ``wake`` is set (a batch committed) or a
    minute passed: once per burst of batches, never holding up the consumer."""

    def run(stop: threading.Event) -> None:
        db = service_database(config, "calendar")
        publisher = feed_publisher(config, lambda: SqlAlchemyUnitOfWork(db))
        first = True
        try:
            while not stop.is_set():
                try:
                    publisher.publish_all() if first else publisher.changed()
                    first = False
                except Exception:
                    log.exception("calendar feeds: publishing failed; trying again shortly")
                    stop.wait(1.0)
                    continue
                waited = 0.0
                while not stop.is_set() and not wake.wait(0.5) and waited < CHECK_SECONDS:
                    waited += 0.5
                wake.clear()
        finally:
            db.dispose()

    return run
