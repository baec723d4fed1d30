"""Publishing with delivery guarantees: persistent messages, and on AMQP publisher
confirms awaited per batch (py-amqp's own confirm mode waits for each message in turn)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Producer

from shared.bus.connection import connect, drop, is_amqp, keep_alive
from shared.bus.topology import EXCHANGE_NAME, Topology

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The broker did not take (or did not confirm) every message of a batch."""


PERSISTENT = 2  # AMQP delivery mode: the broker keeps the message on disk
CORK_BYTES = 256 * 1024  # a batch's frames go to the socket in writes of about this size


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to publish: its fields are kombu's ``Producer.publish`` arguments."""

    routing_key: str
    body: str
    message_id: str
    exchange: str = EXCHANGE_NAME
    content_type: str = "application/json"
    content_encoding: str = "utf-8"
    headers: dict[str, Any] = field(default_factory=dict)


class _Confirms:
    """Tracks publisher confirms on one AMQP channel (delivery tags count from 1)."""

    def __init__(self, channel: Any) -> None:
        self.next_tag = 1
        self.outstanding: set[int] = set()
        self.nacked: set[int] = set()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._ack)
        channel.events["basic_nack"].add(self._nack)

    def sent(self) -> None:
        self.outstanding.add(self.next_tag)
        self.next_tag += 1

    def _settle(self, tag: int, multiple: bool) -> set[int]:
        done = {t for t in self.outstanding if t <= tag} if multiple else {tag}
        self.outstanding -= done
        return done

    def _ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _nack(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked |= self._settle(delivery_tag, multiple)


class Publisher:
    """Publishes batches to the bus; a batch returns only once the broker holds it. Asked
    for ``heartbeat``s, its holder calls :meth:`keep_alive` between batches (the relay does)."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        confirm_timeout: float = 30.0,
        heartbeat: int = 0,
    ) -> None:
        self.url = url
        self.topology = topology
        self.confirm_timeout = confirm_timeout
        self.heartbeat = heartbeat
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: _Confirms | None = None

    def _ensure(self) -> Producer:
        if self._producer is not None:
            return self._producer
        conn = connect(self.url, heartbeat=self.heartbeat)
        try:
            conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
            self.topology.declare(conn)
            channel = conn.channel()
            self._confirms = _Confirms(channel) if is_amqp(conn) else None
            self._producer = Producer(channel)
        except BaseException:
            conn.release()
            raise
        self._connection = conn
        return self._producer

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish every message persistently; raise :class:`PublishError` unless all are held."""
        if not messages:
            return
        try:
            producer = self._ensure()
            # the embedded bus writes a batch in one transaction (one commit, not one each);
            # on AMQP its frames leave in a few large writes (not a system call each)
            batch = getattr(producer.channel, "batch", None) or self._corked
            with batch():
                for message in messages:
                    producer.publish(**vars(message), delivery_mode=PERSISTENT, retry=False)
                    if self._confirms is not None:
                        self._confirms.sent()
            self._await_confirms()
        except PublishError:
            self._drop()
            raise
        except Exception as exc:
            self._drop()
            raise PublishError(f"publish failed: {exc!r}") from exc

    @contextlib.contextmanager
    def _corked(self) -> Iterator[None]:
        """AMQP: the frames written in the block are gathered and sent together when it
        ends (in pieces of at most ``CORK_BYTES``), instead of one ``sendall`` each."""
        assert self._connection is not None
        transport = getattr(self._connection.connection, "_transport", None)
        send = getattr(transport, "_write", None)
        if send is None:  # not py-amqp's socket transport: as it is
            yield
            return
        pending = bytearray()

        def gather(data: Any) -> None:
            pending.extend(data)  # a copy: py-amqp reuses its frame buffer
            if len(pending) >= CORK_BYTES:
                send(bytes(pending))
                pending.clear()

        transport._write = gather
        try:
            yield
        finally:
            transport._write = send
        if pending:
            transport.write(bytes(pending))

    def _await_confirms(self) -> None:
        confirms = self._confirms
        if confirms is None:
            return
        assert self._connection is not None
        deadline = time.monotonic() + self.confirm_timeout
        while confirms.outstanding:
            keep_alive(self._connection)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(confirms.outstanding)} messages not confirmed in time")
            try:
                self._connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        if confirms.nacked:
            count = len(confirms.nacked)
            confirms.nacked.clear()
            raise PublishError(f"the broker refused {count} messages")

    def keep_alive(self) -> None:
        """Between batches: send a heartbeat when due; a connection whose broker went
        silent is closed here (and opened afresh by the next publish)."""
        if self._connection is None:
            return
        try:
            if self._confirms is not None:  # read what came (the broker's heartbeats)
                with contextlib.suppress(TimeoutError):
                    self._connection.drain_events(timeout=0.01)
            keep_alive(self._connection)
        except Exception as exc:
            log.warning("the broker stopped answering (%r); reconnecting", exc)
            self._drop()

    def _drop(self) -> None:
        """After a failure: let the connection go without waiting on the broker."""
        if self._connection is not None:
            drop(self._connection)
        self._connection = self._producer = self._confirms = None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # closing a broken connection may fail; it is gone either way
                log.debug("closing publisher connection failed", exc_info=True)
        self._connection = self._producer = self._confirms = None

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
