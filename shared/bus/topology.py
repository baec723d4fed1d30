"""The bus topology, declared in one place; every process declares all of it at start.

Server-less kombu transports route at publish time with the bindings the publishing
process knows; on RabbitMQ declaring is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Connection, Exchange, Queue, binding

EXCHANGE_NAME = "evenemang.events"

# consuming service -> routing keys it needs (account mail is notify's alone)
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "calendar": ("booking.#", "user.#", "resource.#"),
    "notify": ("booking.#", "user.#", "resource.#", "account.#"),
}


def queue_name(service: str) -> str:
    return f"{service}.events"


def dead_letter_queue_name(service: str) -> str:
    return f"{service}.events.dlq"


@dataclass(frozen=True)
class Topology:
    """The exchange, each consumer's queue with its bindings, and each one's dead-letter queue."""

    exchange: Exchange
    queues: dict[str, Queue]
    dead_letter_queues: dict[str, Queue]

    def queue(self, service: str) -> Queue:
        try:
            return self.queues[service]
        except KeyError:
            raise ValueError(
                f"{service!r} consumes no events; consumers are {', '.join(self.queues)}"
            ) from None

    def dead_letter_queue(self, service: str) -> Queue:
        self.queue(service)
        return self.dead_letter_queues[service]

    def declare(self, connection: Connection) -> None:
        channel = connection.default_channel
        self.exchange(channel).declare()
        for queue in (*self.queues.values(), *self.dead_letter_queues.values()):
            queue(channel).declare()


def build_topology(queue_type: str = "classic") -> Topology:
    """Durable topic exchange, durable queues (quorum when asked), persistent messages."""
    arguments = {"x-queue-type": "quorum"} if queue_type == "quorum" else None
    exchange = Exchange(EXCHANGE_NAME, type="topic", durable=True, delivery_mode="persistent")
    queues: dict[str, Queue] = {}
    dead: dict[str, Queue] = {}
    for service, keys in SUBSCRIPTIONS.items():
        queues[service] = Queue(
            queue_name(service),
            bindings=[binding(exchange, routing_key=key) for key in keys],
            durable=True,
            queue_arguments=arguments,
        )
        dead[service] = Queue(
            dead_letter_queue_name(service), durable=True, queue_arguments=arguments
        )
    return Topology(exchange=exchange, queues=queues, dead_letter_queues=dead)
