"""kombu connections from a broker URL; knows our embedded ``sqlitebus://`` transport."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from kombu import Connection

from shared.bus import sqlite_transport

if TYPE_CHECKING:
    from shared.bus.topology import Topology

CONNECT_TIMEOUT = 5.0
HEARTBEAT = 10  # seconds, asked of the broker (EVENEMANG_BROKER_HEARTBEAT)
# seconds at most between two attempts to reach a broker that went away (the wait doubles
# from a short first one): after an outage the relay and the consumers are back within it,
# so the events that waited go through at the steady rate
MAX_RECONNECT_DELAY = 2.0
# seconds a read or write on the broker's socket may hang (py-amqp's socket options)
SOCKET_TIMEOUTS = {"read_timeout": 10, "write_timeout": 10}
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


def connect(
    url: str, *, heartbeat: int = 0, connect_timeout: float = CONNECT_TIMEOUT
) -> Connection:
    """A (lazy) kombu connection: nothing is opened until first use. Reads and writes on
    an AMQP socket that hang past a few seconds fail. With ``heartbeat`` (seconds; the
    broker may lower it) its holder must call :func:`keep_alive` at least twice an interval
    (or the broker ends the connection), and a connection gone silent is dropped within
    two intervals; short-lived connections (a command, a probe) ask for none."""
    sqlite_transport.register()
    amqp = url.partition(":")[0] in AMQP_SCHEMES
    return Connection(
        url,
        connect_timeout=connect_timeout,
        heartbeat=heartbeat if amqp else 0,
        transport_options=SOCKET_TIMEOUTS if amqp else None,
    )


def keep_alive(connection: Connection) -> None:
    """Send a heartbeat when one is due and raise when the broker's have stopped coming
    (kombu's ``heartbeat_check``: two intervals without a frame end the connection). Call
    it at least twice per interval; a no-op on transports without heartbeats."""
    if not connection.connected:
        return
    try:
        connection.heartbeat_check()
    except Exception:
        drop(connection)
        raise


def drop(connection: Connection) -> None:
    """Let go of a connection whose broker stopped answering, without the closing handshake
    (a graceful close would wait for an answer that never comes)."""
    with contextlib.suppress(Exception):
        connection.collect()


def queue_depth(
    url: str, topology: Topology, queue: str, *, timeout: float = CONNECT_TIMEOUT
) -> int:
    """How many messages wait in ``queue`` (ready, not yet taken by a consumer). The
    topology is declared first, as every process does: a queue no one declared yet holds
    nothing."""
    with connect(url, heartbeat=0, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        topology.declare(conn)
        return conn.default_channel.queue_declare(queue=queue, passive=True).message_count


def is_amqp(connection: Connection) -> bool:
    return connection.transport.driver_type == "amqp"


def ping(url: str, *, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise when the broker cannot be reached (one attempt, short timeout)."""
    with connect(url, heartbeat=0, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        conn.default_channel  # noqa: B018 - opening a channel proves the broker answers


def redact(url: str) -> str:
    """The URL without its password, for logs and health answers."""
    sqlite_transport.register()
    return Connection(url).as_uri()
