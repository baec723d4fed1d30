"""kombu connections from a broker URL; knows our embedded ``sqlitebus://`` transport."""

from __future__ import annotations

from kombu import Connection

from shared.bus import sqlite_transport

CONNECT_TIMEOUT = 5.0


def connect(url: str) -> Connection:
    """A (lazy) kombu connection: nothing is opened until first use."""
    sqlite_transport.register()
    return Connection(url, connect_timeout=CONNECT_TIMEOUT)


def is_amqp(connection: Connection) -> bool:
    return connection.transport.driver_type == "amqp"


def ping(url: str) -> None:
    """Raise when the broker cannot be reached (one attempt, short timeout)."""
    with connect(url) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT)
        conn.default_channel  # noqa: B018 - opening a channel proves the broker answers


def redact(url: str) -> str:
    """The URL without its password, for logs and health answers."""
    sqlite_transport.register()
    return Connection(url).as_uri()
