"""The consumer runner: ack only after the handler's transaction committed; bounded
retries with backoff, then the dead-letter queue. A poison message never stops it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from kombu import Consumer
from kombu.message import Message

from shared.bus.connection import connect
from shared.bus.publisher import OutgoingMessage, Publisher, PublishError
from shared.bus.topology import Topology
from shared.events import Event, parse_event

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]


class EventConsumer:
    """Feeds one service's queue to its handler until ``stop`` is set."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        service: str,
        handler: Handler,
        *,
        max_retries: int = 3,
        backoff: float = 0.2,
        prefetch: int = 100,
        stop: threading.Event | None = None,
    ) -> None:
        self.url = url
        self.topology = topology
        self.service = service
        self.queue = topology.queue(service)
        self.dead_letter_queue = topology.dead_letter_queue(service)
        self.handler = handler
        self.max_retries = max_retries
        self.backoff = backoff
        self.prefetch = prefetch
        self.stop = stop or threading.Event()
        self.processed = 0
        self.dead_lettered = 0
        self._dead_letters = Publisher(url, topology)

    def run(self) -> None:
        """Consume until stopped; reconnect with backoff when the broker goes away."""
        delay = 0.5
        while not self.stop.is_set():
            try:
                self._consume()
                delay = 0.5
            except Exception as exc:  # broker gone: wait and reconnect, never exit
                log.warning(
                    "%s consumer lost the broker (%r); retrying in %.1fs", self.service, exc, delay
                )
                self.stop.wait(delay)
                delay = min(delay * 2, 10.0)
        self._dead_letters.close()

    def _consume(self) -> None:
        with connect(self.url) as conn:
            conn.ensure_connection(max_retries=1)
            self.topology.declare(conn)
            channel = conn.channel()
            consumer = Consumer(
                channel,
                queues=[self.queue],
                on_message=self._on_message,
                prefetch_count=self.prefetch,
                accept=["json"],
            )
            with consumer:
                log.info("%s consumer listening on %s", self.service, self.queue.name)
                while not self.stop.is_set():
                    try:
                        conn.drain_events(timeout=1.0)
                    except TimeoutError:
                        continue

    def _on_message(self, message: Message) -> None:
        try:
            event = parse_event(message.body)
        except Exception as exc:  # malformed or unknown version: retrying cannot fix it
            self._dead_letter(message, exc, attempts=1)
            return
        error, attempts = self._handle_with_retries(event)
        if error is None:
            self.processed += 1
            message.ack()
        elif self.stop.is_set():
            message.requeue()  # interrupted by shutdown: another run will try again
        else:
            self._dead_letter(message, error, attempts)

    def _handle_with_retries(self, event: Event) -> tuple[Exception | None, int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                self.handler(event)
                return None, attempt
            except Exception as exc:
                if attempt > self.max_retries:
                    return exc, attempt
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning(
                    "%s: event %s failed (attempt %d): %r; retrying in %.2fs",
                    self.service,
                    event.id,
                    attempt,
                    exc,
                    delay,
                )
                if self.stop.wait(delay):
                    return exc, attempt

    def _dead_letter(self, message: Message, error: Exception, attempts: int) -> None:
        reason = f"{type(error).__name__}: {error}"[:2000]
        headers = dict(message.headers or {})
        headers.update(
            {
                "x-dead-letter-reason": reason,
                "x-dead-lettered-at": datetime.now(UTC).isoformat(),
                "x-original-queue": self.queue.name,
                "x-attempts": attempts,
            }
        )
        body = message.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        try:
            self._dead_letters.publish(
                [
                    OutgoingMessage(
                        routing_key=self.dead_letter_queue.name,
                        exchange="",
                        body=body,
                        message_id=str(message.properties.get("message_id") or ""),
                        content_type=message.content_type or "application/json",
                        content_encoding=message.content_encoding or "utf-8",
                        headers=headers,
                    )
                ]
            )
        except PublishError:
            log.exception(
                "%s: could not dead-letter a message; it stays on the queue", self.service
            )
            message.requeue()
            return
        self.dead_lettered += 1
        log.error(
            "%s: dead-lettered message %s after %d attempts: %s",
            self.service,
            message.properties.get("message_id"),
            attempts,
            reason,
        )
        message.ack()
