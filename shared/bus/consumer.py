"""The consumer runner: ack only after the handler's transaction committed; bounded
retries with backoff, then the dead-letter queue. A poison message never stops it.

Only a message that can never be applied is dead-lettered (it cannot be parsed, or the
handler refuses it for good). When the handler fails because the service's database or
the network is away (:func:`shared.transient.is_transient`), the message is not its fault:
the consumer gives its unacked messages back to the queue, closes the connection and pauses,
with a backoff doubling up to ``max_pause`` seconds, then tries again, for as long as the
outage lasts. But for a statement the database ended at its time limit: after
``MAX_TIMEOUT_PAUSES`` pauses caused by the same event, that event is taken to be too big for
the limit and dead-lettered, so one message cannot hold its queue for ever.

With a batch handler, messages are taken up to the prefetch count (or until the queue
goes quiet for ``batch_wait`` seconds) and applied in one call, so one transaction and
one ack cover many events; if that call fails, the batch is handled message by message
exactly as without one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from kombu import Connection, Consumer
from kombu.message import Message

from shared.bus.connection import HEARTBEAT, MAX_RECONNECT_DELAY, connect, keep_alive
from shared.bus.publisher import OutgoingMessage, Publisher, PublishError
from shared.bus.topology import Topology
from shared.events import Event, parse_event
from shared.logs import log_context
from shared.metrics import BROKER_RECONNECTS, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED
from shared.transient import is_statement_timeout, is_transient

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]
BatchHandler = Callable[[list[Event]], None]

DEFAULT_BATCH_SIZE = 100  # when prefetch is unlimited (0)
MAX_BATCH_AGE = 1.0  # seconds: a steady trickle still gets applied, not held back
FIRST_PAUSE = 1.0  # seconds the first pause of an outage lasts; it doubles up to max_pause
# Pauses one event may cause by running into the database's statement timeout before it is
# taken for one that can never be applied in time (dead-lettered, to replay once mended):
# with pauses of 1, 2, 4 and 8 s, load has had a quarter of a minute to pass.
MAX_TIMEOUT_PAUSES = 5


class Outage(Exception):
    """The handler could not reach what it needs (database, network): pause, then retry."""


class EventConsumer:
    """Feeds one service's queue to its handler until ``stop`` is set."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        service: str,
        handler: Handler,
        *,
        batch_handler: BatchHandler | None = None,
        max_retries: int = 3,
        backoff: float = 0.2,
        prefetch: int = 100,
        batch_wait: float = 0.05,
        max_pause: float = 60.0,
        heartbeat: int = HEARTBEAT,
        stop: threading.Event | None = None,
    ) -> None:
        self.url = url
        self.topology = topology
        self.service = service
        self.queue = topology.queue(service)
        self.dead_letter_queue = topology.dead_letter_queue(service)
        self.handler = handler
        self.batch_handler = batch_handler
        self.max_retries = max_retries
        self.backoff = backoff
        self.prefetch = prefetch
        self.batch_size = prefetch or DEFAULT_BATCH_SIZE
        self.batch_wait = batch_wait
        self.max_pause = max_pause
        self.pauses = 0
        self.heartbeat = heartbeat
        self.stop = stop or threading.Event()
        self.processed = 0
        self.dead_lettered = 0
        self._dead_letters = Publisher(url, topology, heartbeat=heartbeat)
        self._pending: list[Message] = []
        self._pending_since = 0.0
        self._ack_multiple = False
        self._outage: Outage | None = None  # noted inside a delivery, raised after it
        self._timeouts: dict[str, int] = {}  # event id -> pauses its statement timeouts caused

    def run(self) -> None:
        """Consume until stopped; reconnect with backoff when the broker goes away."""
        delay, pause, applied = 0.5, FIRST_PAUSE, self.processed
        while not self.stop.is_set():
            try:
                self._consume()
                delay = 0.5
            except Outage as outage:
                if self.processed > applied:  # it got on since the last pause: start short
                    pause = FIRST_PAUSE
                applied = self.processed
                self.pauses += 1
                log.warning(
                    "%s consumer pauses %.0fs: %s (its messages wait on the queue)",
                    self.service,
                    pause,
                    outage,
                )
                self.stop.wait(pause)
                pause = min(pause * 2, self.max_pause)
            except Exception as exc:  # broker gone: wait and reconnect, never exit
                BROKER_RECONNECTS.labels(self.service, "consumer").inc()
                log.warning(
                    "%s consumer lost the broker (%r); retrying in %.1fs", self.service, exc, delay
                )
                self.stop.wait(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)
        self._dead_letters.close()

    def _consume(self) -> None:
        with connect(self.url, heartbeat=self.heartbeat) as conn:
            conn.ensure_connection(max_retries=1)
            self.topology.declare(conn)
            channel = conn.channel()
            self._ack_multiple = _acks_multiple(conn, channel)
            consumer = Consumer(
                channel,
                queues=[self.queue],
                on_message=self._on_message,
                prefetch_count=self.prefetch,
                accept=["json"],
            )
            with consumer:
                log.info("%s consumer listening on %s", self.service, self.queue.name)
                try:
                    while not self.stop.is_set():
                        self._drain(conn)
                    self._flush()  # stopping: settle what was taken before the channel closes
                finally:
                    # on a lost connection these were never acked: the broker delivers
                    # them again, so they must not be settled on the next channel
                    self._pending.clear()
                    self._outage = None

    def _drain(self, conn: Connection) -> None:
        """Wait for one message; flush the batch when full, old, or the queue is quiet.
        An outage noted meanwhile is raised here, outside the transport's delivery.
        Heartbeats are sent and checked on each turn (a turn lasts a second at most), so a
        broker gone silent ends the connection within two heartbeat intervals."""
        keep_alive(conn)
        self._dead_letters.keep_alive()
        try:
            conn.drain_events(timeout=self.batch_wait if self._pending else 1.0)
        except TimeoutError:
            self._flush()
        else:
            if self._pending and (
                len(self._pending) >= self.batch_size
                or time.monotonic() - self._pending_since >= MAX_BATCH_AGE
            ):
                self._flush()
        if self._outage is not None:
            raise self._outage

    def _on_message(self, message: Message) -> None:
        if self._outage is not None:
            return  # left unacked: it goes back to the queue with the connection
        if self.batch_handler is None:
            event = self._parse(message)
            if event is not None:
                self._handle(message, event)
            return
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append(message)

    def _parse(self, message: Message) -> Event | None:
        """The message's event, or None when it is refused (then it is dead-lettered)."""
        try:
            return parse_event(message.body)
        except Exception as exc:  # malformed or unknown version: retrying cannot fix it
            self._dead_letter(message, exc, attempts=1)
            return None

    def _flush(self) -> None:
        """Apply the pending messages with one batch-handler call, then ack them; on an
        error fall back to handling them one by one."""
        messages, self._pending = self._pending, []
        batch = [(m, event) for m in messages if (event := self._parse(m)) is not None]
        if not batch:
            return
        try:
            self.batch_handler([event for _, event in batch])
        except Exception as exc:
            if is_transient(exc) and not (is_statement_timeout(exc) and len(batch) > 1):
                self._note_outage(f"{len(batch)} events wait", exc)
                return
            # (a statement timeout in a batch: one by one, to find the event that causes it)
            log.warning(
                "%s: a batch of %d events failed (%r); handling them one by one",
                self.service,
                len(batch),
                exc,
                extra={"event_ids": [event.id for _, event in batch]},
            )
            for message, event in batch:
                if self._outage is None:
                    self._handle(message, event)
            return
        self.processed += len(batch)
        EVENTS_CONSUMED.labels(self.service).inc(len(batch))
        self._ack([message for message, _ in batch])

    def _ack(self, messages: list[Message]) -> None:
        # Every earlier delivery on this channel is settled by now: batches are flushed in
        # delivery order and each settles all its messages (refused ones were dead-lettered
        # or requeued above), so one multiple-ack covers exactly these messages.
        if self._ack_multiple:
            messages[-1].ack(multiple=True)
            return
        for message in messages:
            message.ack()

    def _handle(self, message: Message, event: Event) -> None:
        with log_context(event_id=event.id, event_type=event.type, booking_id=event.booking_id):
            self._settle(message, event)

    def _settle(self, message: Message, event: Event) -> None:
        error, attempts = self._handle_with_retries(event)
        if error is not None and is_statement_timeout(error):
            if len(self._timeouts) > 1000:  # events another consumer took meanwhile
                self._timeouts.clear()
            pauses = self._timeouts[event.id] = self._timeouts.get(event.id, 0) + 1
            if pauses >= MAX_TIMEOUT_PAUSES:  # not load: this event is too big for the limit
                self._timeouts.pop(event.id)
                self._dead_letter(message, error, attempts)
                return
        else:
            self._timeouts.pop(event.id, None)
        if error is None:
            self.processed += 1
            EVENTS_CONSUMED.labels(self.service).inc()
            message.ack()
        elif self.stop.is_set():
            message.requeue()  # interrupted by shutdown: another run will try again
        elif is_transient(error):
            # not the message's fault: it and those after it stay unacked, and go back to
            # the queue when the connection closes
            self._note_outage(f"event {event.id} waits", error)
        else:
            self._dead_letter(message, error, attempts)

    def _note_outage(self, what: str, error: Exception) -> None:
        self._outage = Outage(f"{what}: {error!r}"[:2000])
        self._outage.__cause__ = error

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
        EVENTS_DEAD_LETTERED.labels(self.service).inc()
        message_id = message.properties.get("message_id")
        log.error(
            "%s: dead-lettered message %s after %d attempts: %s",
            self.service,
            message_id,
            attempts,
            reason,
            extra={"message_id": message_id},
        )
        message.ack()


def _acks_multiple(conn: Connection, channel) -> bool:
    """Whether ``ack(multiple=True)`` settles every earlier delivery of the channel: true
    on AMQP and on the SQLite bus; kombu's other virtual transports ack only the one."""
    return conn.transport.driver_type == "amqp" or getattr(channel, "acks_multiple", False)
