"""Operator tools for dead-lettered messages: list them, and put them back on the queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.bus.connection import connect
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import Topology

DEAD_LETTER_HEADERS = (
    "x-dead-letter-reason",
    "x-dead-lettered-at",
    "x-original-queue",
    "x-attempts",
)


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str | None
    booking_id: str | None
    reason: str
    dead_lettered_at: str
    attempts: int
    body: str

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "body"}


def _describe(message) -> DeadLetter:
    headers = message.headers or {}
    body = (
        message.body.decode("utf-8", "replace")
        if isinstance(message.body, bytes)
        else str(message.body)
    )
    event_type = booking_id = None
    try:
        parsed = json.loads(body)
        event_type = parsed.get("type")
        booking_id = (parsed.get("data") or {}).get("booking_id")
    except (ValueError, AttributeError):
        pass
    return DeadLetter(
        message_id=str(message.properties.get("message_id") or ""),
        event_type=event_type,
        booking_id=booking_id,
        reason=str(headers.get("x-dead-letter-reason", "")),
        dead_lettered_at=str(headers.get("x-dead-lettered-at", "")),
        attempts=int(headers.get("x-attempts", 0) or 0),
        body=body,
    )


def list_dead_letters(url: str, topology: Topology, service: str) -> list[DeadLetter]:
    """Every message in the service's dead-letter queue, oldest first; nothing is removed."""
    queue = topology.dead_letter_queue(service)
    found: list[DeadLetter] = []
    with connect(url) as conn:
        topology.declare(conn)
        channel = conn.channel()
        bound = queue(channel)
        while (message := bound.get(no_ack=False)) is not None:
            found.append(_describe(message))
        channel.close()  # unacked: every message goes back to the queue
    return found


def replay_dead_letters(url: str, topology: Topology, service: str) -> int:
    """Move every dead letter back to the service's queue; return how many moved."""
    queue = topology.dead_letter_queue(service)
    target = topology.queue(service).name
    moved = 0
    with connect(url) as conn, Publisher(url, topology) as publisher:
        topology.declare(conn)
        channel = conn.channel()
        bound = queue(channel)
        while (message := bound.get(no_ack=False)) is not None:
            headers = {
                k: v for k, v in (message.headers or {}).items() if k not in DEAD_LETTER_HEADERS
            }
            headers["x-replayed"] = int((message.headers or {}).get("x-replayed", 0) or 0) + 1
            letter = _describe(message)
            publisher.publish(
                [
                    OutgoingMessage(
                        routing_key=target,
                        exchange="",
                        body=letter.body,
                        message_id=letter.message_id,
                        content_type=message.content_type or "application/json",
                        content_encoding=message.content_encoding or "utf-8",
                        headers=headers,
                    )
                ]
            )
            message.ack()
            moved += 1
        channel.close()
    return moved
