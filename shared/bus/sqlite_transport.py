"""A kombu virtual transport on one SQLite file, safe to share between OS processes.

kombu's own server-less transports do not survive several processes: ``filesystem://``
deletes a message when it is read (a crash loses it), ``sqla://`` keeps exchange bindings
in process memory and hides a read row forever, ``memory://`` is one process.  This
transport keeps *everything* in the database file:

* exchanges, bindings and queues are rows, so a process that publishes routes by the
  bindings any process declared and knows the exchange type from the file;
* a consumer claims a message under a lease (``UPDATE ... RETURNING``): the row stays in
  the table, invisible until ``visible_at``.  Ack deletes it, requeue/recover/channel
  close make it visible at once, and a consumer that dies without acking (``SIGKILL``)
  loses its lease: at once to a consumer on the same host (the lease token names its
  holder, ``shared.holders``; every consumer looks for leases of dead holders when it
  starts and every ``REAP_EVERY`` seconds), else after ``lease_seconds``; the message is
  delivered again with ``delivery_info['redelivered'] = True``;
* each queue is FIFO by the row id (ids are handed out under SQLite's write lock, so in
  commit order); the message priority is stored but not used for ordering.

Delivery is at least once: a handler that runs longer than ``lease_seconds`` may see its
message delivered to another consumer as well (its late ack is then a logged no-op).

URL: ``sqlitebus:///absolute/path/to/bus.db?lease_seconds=60&polling_interval=0.05``
(see :func:`broker_url_for`).  Call :func:`register` before handing the URL to kombu.

Options, from the URL query string or ``Connection(transport_options=...)`` (the latter
wins): ``lease_seconds`` (60), ``polling_interval`` (0.05 s), ``synchronous``
(``FULL``; ``OFF``/``NORMAL``/``FULL``/``EXTRA``), ``busy_timeout`` (30 s).  The usual
virtual-transport options ``body_encoding`` and ``deadletter_queue`` are honoured from
``transport_options``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from queue import Empty
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, virtual
from kombu.transport.virtual.base import NOT_EQUIVALENT_FMT, NotEquivalentError
from kombu.utils.json import dumps, loads
from kombu.utils.uuid import uuid

from shared import holders
from shared.files import private_file

__all__ = ["SCHEME", "Channel", "Transport", "broker_url_for", "register"]

logger = logging.getLogger(__name__)

SCHEME = "sqlitebus"
TRANSPORT_PATH = "shared.bus.sqlite_transport:Transport"
SCHEMA_VERSION = 1
MIN_SQLITE = (3, 35, 0)  # UPDATE ... RETURNING

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _positive_float(name: str, value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{SCHEME} option {name} must be > 0, got {value!r}")
    return number


def _non_negative_float(name: str, value: Any) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(f"{SCHEME} option {name} must be >= 0, got {value!r}")
    return number


def _synchronous(name: str, value: Any) -> str:
    text = str(value).strip().upper()
    if text not in _SYNCHRONOUS:
        raise ValueError(f"{SCHEME} option {name} must be one of {_SYNCHRONOUS}, got {value!r}")
    return text


#: option name -> (parser, default)
OPTIONS: dict[str, tuple[Callable[[str, Any], Any], Any]] = {
    "lease_seconds": (_positive_float, 60.0),
    "polling_interval": (_non_negative_float, 0.05),
    "synchronous": (_synchronous, "FULL"),
    "busy_timeout": (_positive_float, 30.0),
}


def _parse_options(raw: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    options = {}
    for name, value in raw.items():
        if name not in OPTIONS:
            if strict:
                raise ValueError(
                    f"unknown {SCHEME} option {name!r}; known: {', '.join(sorted(OPTIONS))}"
                )
            continue
        options[name] = OPTIONS[name][0](name, value)
    return options


def register() -> None:
    """Make ``sqlitebus://`` URLs known to kombu (idempotent, touches nothing else)."""
    TRANSPORT_ALIASES.setdefault(SCHEME, TRANSPORT_PATH)


def broker_url_for(path: os.PathLike[str] | str, **options: Any) -> str:
    """The broker URL for the database file ``path`` (made absolute), e.g.
    ``sqlitebus:///srv/evenemang/bus.db?lease_seconds=30``."""
    parsed = _parse_options(options, strict=True)
    absolute = Path(path).expanduser().absolute()
    url = f"{SCHEME}://{quote(os.fspath(absolute), safe='/')}"
    if parsed:
        url += "?" + urlencode(sorted((k, str(options[k])) for k in parsed))
    return url


def parse_url(url: str) -> tuple[Path, dict[str, Any]]:
    """``(database path, options)`` of a ``sqlitebus://`` URL (or of a bare absolute path)."""
    if "://" not in url:
        if not os.path.isabs(url):
            raise ValueError(f"{SCHEME}: need an absolute database path, got {url!r}")
        return Path(url), {}
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        raise ValueError(f"not a {SCHEME}:// URL: {url!r}")
    if parts.netloc not in ("", "localhost"):
        raise ValueError(
            f"{SCHEME} URLs carry an absolute path: {SCHEME}:///abs/path/bus.db, got {url!r}"
        )
    if parts.fragment:
        raise ValueError(f"{SCHEME} URL has a fragment ('#' must be %23-quoted): {url!r}")
    path = unquote(parts.path)
    if not path or not os.path.isabs(path):
        raise ValueError(f"{SCHEME}: need an absolute database path, got {url!r}")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Path(path), _parse_options(query, strict=True)


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS exchanges (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        durable INTEGER NOT NULL DEFAULT 1,
        auto_delete INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS bindings (
        exchange TEXT NOT NULL,
        routing_key TEXT NOT NULL,
        pattern TEXT,
        queue TEXT NOT NULL,
        UNIQUE (exchange, routing_key, queue)
    )""",
    "CREATE INDEX IF NOT EXISTS bindings_by_queue ON bindings (queue)",
    """CREATE TABLE IF NOT EXISTS queues (
        name TEXT PRIMARY KEY,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        payload TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        visible_at REAL NOT NULL,
        lease TEXT,
        deliveries INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""",
    # ready messages of a queue (size, purge, "anything to get?")
    "CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_at, id)",
    # FIFO claim: walk a queue in id order, skipping the few leased rows at its head
    "CREATE INDEX IF NOT EXISTS messages_fifo ON messages (queue, id)",
)

_CLAIM = """
    UPDATE messages SET lease = ?, visible_at = ?, deliveries = deliveries + 1
    WHERE id IN (
        SELECT id FROM messages INDEXED BY messages_fifo
        WHERE queue = ? AND visible_at <= ? ORDER BY id LIMIT ?
    )
    RETURNING id, payload, deliveries
"""
_TAKE = """
    DELETE FROM messages
    WHERE id = (
        SELECT id FROM messages INDEXED BY messages_fifo
        WHERE queue = ? AND visible_at <= ? ORDER BY id LIMIT 1
    )
    RETURNING id, payload, deliveries + 1
"""
_HELD_HERE = "SELECT DISTINCT lease FROM messages WHERE lease LIKE ? AND visible_at > ?"
_ORPHANED = "UPDATE messages SET lease = NULL, visible_at = ? WHERE lease = ? AND visible_at > ?"
REAP_EVERY = 2.0  # seconds between a consumer's looks for leases of dead holders
_ANY_READY = "SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1"


def _retry_busy(fn: Callable[[], Any], timeout: float) -> Any:
    """Run ``fn`` again while SQLite answers 'locked'/'busy' without waiting on its own
    (e.g. switching a brand-new file to WAL while another process does the same)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class Channel(virtual.Channel):
    """A virtual channel with its own SQLite connection."""

    supports_fanout = True
    do_restore = True
    #: ``basic_ack(tag, multiple=True)`` settles every earlier delivery, as on AMQP
    acks_multiple = True

    def __init__(self, connection: Transport, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self._lock = threading.RLock()
        #: delivery tag -> (row id, lease token) of messages this channel holds
        self._leases: dict[str, tuple[int, str]] = {}
        #: queues consumed with no_ack (a get deletes the row instead of leasing it)
        self._no_ack_queues: set[str] = set()
        #: per queue, messages claimed together and not yet handed to the consumer
        self._claimed: dict[str, deque[dict]] = {}
        self._batch = 0  # depth of :meth:`batch`: writes join its transaction
        self._pid = os.getpid()
        self._next_reap = 0.0  # monotonic: when to look for leases of dead holders
        self.lease_seconds: float = connection.options["lease_seconds"]
        try:
            self._db: sqlite3.Connection | None = connection._connect()
        except BaseException:
            with suppress(ValueError):
                connection._used_channel_ids.remove(self.channel_id)
            raise

    # -- database helpers ----------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise ChannelError(f"{SCHEME} channel is closed")
        if os.getpid() != self._pid:
            raise ChannelError(
                f"{SCHEME} channel was opened in process {self._pid}; an SQLite connection"
                " must not cross fork(): open a new kombu Connection in this process"
            )
        return self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction (BEGIN IMMEDIATE: take the write lock up front), or
        the one :meth:`batch` holds open."""
        with self._lock:
            db = self.db
            if self._batch:
                yield db
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write in the block (e.g. a batch of publishes) in one transaction: all of
        it is kept, or, should the block fail, none of it; one commit (and one sync to
        disk) instead of one per message."""
        with self._lock, self._write():
            self._batch += 1
            try:
                yield
            finally:
                self._batch -= 1

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def _close_db(self) -> None:
        with self._lock:
            db, self._db = self._db, None
        if db is not None and self._pid == os.getpid():  # never touch one inherited by fork
            db.close()

    # -- exchanges and bindings (stored, so every process routes alike) --------------

    def _exchange_row(self, exchange: str) -> tuple | None:
        rows = self._read(
            "SELECT type, durable, auto_delete FROM exchanges WHERE name = ?", (exchange,)
        )
        return rows[0] if rows else None

    def exchange_declare(
        self,
        exchange=None,
        type="direct",
        durable=False,
        auto_delete=False,
        arguments=None,
        nowait=False,
        passive=False,
    ):
        type = type or "direct"
        exchange = exchange or f"amq.{type}"
        vhost = self.connection.client.virtual_host or "/"
        if passive:
            if self._exchange_row(exchange) is None:
                raise ChannelError(
                    f"NOT_FOUND - no exchange {exchange!r} in vhost {vhost!r}",
                    (50, 10),
                    "Channel.exchange_declare",
                    "404",
                )
            return
        if type not in self.exchange_types:
            raise ChannelError(f"{SCHEME} has no exchange type {type!r}")
        with self._write() as db:
            row = db.execute(
                "SELECT type, durable, auto_delete FROM exchanges WHERE name = ?", (exchange,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO exchanges (name, type, durable, auto_delete, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (exchange, type, bool(durable), bool(auto_delete), time.time()),
                )
                return
        if (row[0], bool(row[1]), bool(row[2])) != (type, bool(durable), bool(auto_delete)):
            raise NotEquivalentError(NOT_EQUIVALENT_FMT.format(exchange, vhost))

    def exchange_delete(self, exchange, if_unused=False, nowait=False):
        with self._write() as db:
            if (
                if_unused
                and db.execute(
                    "SELECT 1 FROM bindings WHERE exchange = ? LIMIT 1", (exchange,)
                ).fetchone()
            ):
                return
            db.execute("DELETE FROM bindings WHERE exchange = ?", (exchange,))
            db.execute("DELETE FROM exchanges WHERE name = ?", (exchange,))

    def get_exchanges(self):
        return [name for (name,) in self._read("SELECT name FROM exchanges ORDER BY name")]

    def typeof(self, exchange, default="direct"):
        row = self._exchange_row(exchange) if exchange else None
        return self.exchange_types[row[0] if row else default]

    def get_table(self, exchange):
        """The bindings of ``exchange`` as ``[(routing_key, pattern, queue)]``, from the file."""
        rows = self._read(
            "SELECT routing_key, pattern, queue FROM bindings WHERE exchange = ? ORDER BY rowid",
            (exchange,),
        )
        if any(pattern is None for _, pattern, _ in rows):
            # bound before the exchange was declared with its real type
            exchange_type = self.typeof(exchange)
            rows = [
                (rkey, pattern, queue)
                if pattern is not None
                else exchange_type.prepare_bind(queue, exchange, rkey, None)
                for rkey, pattern, queue in rows
            ]
        return rows

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        with self._write() as db:
            db.execute(
                "INSERT INTO bindings (exchange, routing_key, pattern, queue)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (exchange, routing_key, queue)"
                " DO UPDATE SET pattern = excluded.pattern",
                (exchange, routing_key, pattern, queue),
            )

    def queue_bind(self, queue, exchange=None, routing_key="", arguments=None, **kwargs):
        exchange = exchange or "amq.direct"
        meta = self.typeof(exchange).prepare_bind(queue, exchange, routing_key, arguments)
        self._queue_bind(exchange, *meta)

    def queue_unbind(self, queue, exchange=None, routing_key="", arguments=None, **kwargs):
        exchange = exchange or "amq.direct"
        with self._write() as db:
            db.execute(
                "DELETE FROM bindings WHERE exchange = ? AND routing_key = ? AND queue = ?",
                (exchange, routing_key, queue),
            )

    def list_bindings(self):
        return iter(self._read("SELECT queue, exchange, routing_key FROM bindings ORDER BY rowid"))

    # -- queues ----------------------------------------------------------------------

    def _new_queue(self, queue, **kwargs):
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO queues (name, created_at) VALUES (?, ?)",
                (queue, time.time()),
            )

    def _has_queue(self, queue, **kwargs):
        return bool(
            self._read(
                "SELECT EXISTS (SELECT 1 FROM queues WHERE name = ?)"
                " OR EXISTS (SELECT 1 FROM messages WHERE queue = ?)",
                (queue, queue),
            )[0][0]
        )

    def _size(self, queue):
        """Ready messages (AMQP ``message_count``): not those leased to a consumer."""
        return self._read(
            "SELECT count(*) FROM messages WHERE queue = ? AND visible_at <= ?",
            (queue, time.time()),
        )[0][0]

    def _purge(self, queue):
        """Delete the ready messages; those leased to a consumer stay (AMQP semantics)."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM messages WHERE queue = ? AND visible_at <= ?", (queue, time.time())
            ).rowcount

    def _delete(self, queue, *args, **kwargs):
        with self._write() as db:
            db.execute("DELETE FROM messages WHERE queue = ?", (queue,))
            db.execute("DELETE FROM bindings WHERE queue = ?", (queue,))
            db.execute("DELETE FROM queues WHERE name = ?", (queue,))

    def queue_delete(self, queue, if_unused=False, if_empty=False, **kwargs):
        if if_empty and self._size(queue):
            return
        self._delete(queue)

    # -- publishing ------------------------------------------------------------------

    def _put(self, queue, message, **kwargs):
        self._put_many([queue], message)

    def _put_many(self, queues, message):
        queues = [queue for queue in dict.fromkeys(queues) if queue]
        if not queues:
            return
        payload = dumps(message)
        priority = self._get_message_priority(message)
        now = time.time()
        with self._write() as db:
            db.executemany(
                "INSERT INTO messages (queue, payload, priority, visible_at, lease, deliveries,"
                " created_at) VALUES (?, ?, ?, ?, NULL, 0, ?)",
                [(queue, payload, priority, now, now) for queue in queues],
            )

    def _put_fanout(self, exchange, message, routing_key, **kwargs):
        self._put_many([queue for _, _, queue in self.get_table(exchange)], message)

    def basic_publish(self, message, exchange, routing_key, **kwargs):
        """Route with the stored bindings; one transaction for all the target queues."""
        self._inplace_augment_message(message, exchange, routing_key)
        if not exchange:  # default exchange: the routing key names the queue
            queues = [routing_key]
        else:
            queues = list(self._lookup(exchange, routing_key))
            if self.typeof(exchange).type == "topic" and self.deadletter_queue:
                # as kombu's TopicExchange.deliver: never to the dead-letter queue
                queues = [queue for queue in queues if queue != self.deadletter_queue]
        self._put_many(queues, message)

    # -- consuming ---------------------------------------------------------------------

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        else:
            self._no_ack_queues.discard(queue)
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_cancel(self, consumer_tag):
        queue = self._tag_to_queue.get(consumer_tag)
        super().basic_cancel(consumer_tag)
        if queue is not None and queue not in self._active_queues:
            self._no_ack_queues.discard(queue)
            self._release_claimed(queue)

    def _release_claimed(self, queue: str) -> None:
        """Claimed messages no consumer was given: back to the queue at once."""
        waiting = self._claimed.pop(queue, None)
        if waiting:
            tags = [message["properties"]["delivery_tag"] for message in waiting]
            self._settle_many(tags, requeue=True)

    def basic_get(self, queue, no_ack=False, **kwargs):
        try:
            payload = self._get(queue, no_ack=no_ack, limit=1)
        except Empty:
            return None
        message = self.Message(payload, channel=self)
        if not no_ack:
            self.qos.append(message, message.delivery_tag)
        return message

    def _get(self, queue, timeout=None, no_ack=None, limit=None):
        """The oldest visible message of ``queue``: claimed (taken, when not acked) in one
        statement together with those after it, as many as the consumer's prefetch count
        allows (or ``limit``); the others wait in the channel, leased, for the next calls
        (:meth:`close` and a cancelled consumer give them back)."""
        if no_ack is None:
            no_ack = queue in self._no_ack_queues
        waiting = self._claimed.get(queue)
        if waiting:
            return waiting.popleft()
        now = time.time()
        if time.monotonic() >= self._next_reap:
            self._next_reap = time.monotonic() + REAP_EVERY
            self._reap(now)
        if not self._read(_ANY_READY, (queue, now)):  # cheap, takes no write lock
            raise Empty()
        token = holders.token()
        with self._write() as db:
            if no_ack:
                rows = db.execute(_TAKE, (queue, now)).fetchall()
            else:
                # no prefetch count: one at a time, as before (nothing bounds a batch)
                count = limit or self.qos.can_consume_max_estimate() or 1
                rows = db.execute(
                    _CLAIM, (token, now + self.lease_seconds, queue, now, count)
                ).fetchall()
        if not rows:
            raise Empty()
        messages = deque(self._delivery(row, None if no_ack else token) for row in sorted(rows))
        first = messages.popleft()
        if messages:
            self._claimed[queue] = messages
        return first

    def _reap(self, now: float) -> None:
        """Make the messages leased by consumers of this host that no longer run visible
        again (a live one's lease is never touched: ``shared.holders``)."""
        here = holders.prefix()
        if here is None:
            return
        dead = holders.dead(lease for (lease,) in self._read(_HELD_HERE, (here + "%", now)))
        if not dead:
            return
        with self._write() as db:
            freed = sum(db.execute(_ORPHANED, (now, lease, now)).rowcount for lease in dead)
        logger.info("%d messages leased by %d dead consumers are visible again", freed, len(dead))

    def _delivery(self, row: tuple, token: str | None) -> dict:
        """A claimed row as kombu's message, leased under ``token`` (None: taken)."""
        row_id, payload, deliveries = row
        message = loads(payload)
        properties = message["properties"]
        # The tag kombu put in at publish time is the same on every delivery of the row;
        # give each delivery its own so a redelivery to this channel cannot collide.
        tag = uuid()
        properties["delivery_tag"] = tag
        delivery_info = properties.setdefault("delivery_info", {})
        delivery_info["redelivered"] = deliveries > 1
        delivery_info["delivery_count"] = deliveries
        if token is not None:
            self._leases[tag] = (row_id, token)
        return message

    def _find_lease(self, delivery_tag) -> tuple[Channel, tuple[int, str]] | None:
        lease = self._leases.get(delivery_tag)
        if lease is not None:
            return self, lease
        # kombu's Transport._reject_inbound_message hands the message to the first channel
        transport = self.connection
        for channel in getattr(transport, "channels", None) or ():
            if channel is not self and isinstance(channel, Channel):
                lease = channel._leases.get(delivery_tag)
                if lease is not None:
                    return channel, lease
        return None

    def _settle(self, delivery_tag, *, requeue: bool) -> None:
        """Delete the leased row (ack/drop) or make it visible again (requeue)."""
        self._settle_many([delivery_tag], requeue=requeue)

    def _settle_many(self, delivery_tags, *, requeue: bool) -> None:
        """:meth:`_settle` for several deliveries, in one write transaction."""
        found = [(tag, lease) for tag in delivery_tags if (lease := self._find_lease(tag))]
        if not found:
            return
        lost = []
        with self._write() as db:
            for _, (_, (row_id, token)) in found:
                if requeue:
                    changed = db.execute(
                        "UPDATE messages SET lease = NULL, visible_at = ?"
                        " WHERE id = ? AND lease = ?",
                        (time.time(), row_id, token),
                    ).rowcount
                else:
                    changed = db.execute(
                        "DELETE FROM messages WHERE id = ? AND lease = ?", (row_id, token)
                    ).rowcount
                if not changed:
                    lost.append(row_id)
        for tag, (owner, _) in found:
            owner._leases.pop(tag, None)
        for row_id in lost:
            logger.warning(
                "%s: lease of message %s ran out before it was %s; another consumer "
                "may have it (raise lease_seconds?)",
                SCHEME,
                row_id,
                "requeued" if requeue else "settled",
            )

    def basic_ack(self, delivery_tag, multiple=False):
        tags = self._unsettled_through(delivery_tag) if multiple else [delivery_tag]
        self._settle_many(tags, requeue=False)
        for tag in tags:
            super().basic_ack(tag)

    def _unsettled_through(self, delivery_tag) -> list:
        """The tags of this channel's unsettled deliveries, in delivery order, up to and
        including ``delivery_tag`` (just that one when it is not among them)."""
        delivered, dirty = self.qos._delivered, self.qos._dirty
        if delivery_tag not in delivered or delivery_tag in dirty:
            return [delivery_tag]
        tags = []
        for tag in delivered:
            if tag not in dirty:
                tags.append(tag)
            if tag == delivery_tag:
                break
        return tags

    def basic_reject(self, delivery_tag, requeue=False):
        self._settle(delivery_tag, requeue=requeue)
        # only the QoS bookkeeping: the base class would re-publish a copy on requeue
        super().basic_reject(delivery_tag, requeue=False)

    def _restore(self, message):
        """Unacked message back to its queue (recover, channel close): visible at once."""
        self._settle(message.delivery_tag, requeue=True)

    def _restore_at_beginning(self, message):
        self._restore(message)

    # -- lifecycle -----------------------------------------------------------------

    def close(self):
        try:
            super().close()  # cancels consumers and restores unacked messages
            self._claimed.clear()
            if self.do_restore and self._db is not None and self._pid == os.getpid():
                # claimed but never handed to QoS (those claimed together, still waiting)
                self._settle_many(list(self._leases), requeue=True)
        finally:
            self._close_db()


class Transport(virtual.Transport):
    """``sqlitebus://`` transport: one SQLite file, any number of processes."""

    Channel = Channel

    #: kombu hands us the whole URL as ``client.hostname``; we parse path and query.
    can_parse_url = True
    polling_interval = OPTIONS["polling_interval"][1]
    default_port = None
    driver_type = "sqlite"
    driver_name = "sqlite3"

    #: 'database is locked' past busy_timeout, 'unable to open', disk I/O: worth a retry
    connection_errors = virtual.Transport.connection_errors + (sqlite3.OperationalError,)

    implements = virtual.Transport.implements.extend(
        exchange_type=frozenset(["direct", "topic", "fanout"]),
    )

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        hostname = client.hostname
        if not hostname or hostname == "localhost":
            raise ValueError(f"{SCHEME}: give the database as {SCHEME}:///abs/path/bus.db")
        self.path, url_options = parse_url(hostname)
        options = {name: default for name, (_, default) in OPTIONS.items()}
        options.update(url_options)
        options.update(_parse_options(dict(client.transport_options or {}), strict=False))
        self.options = options
        self.polling_interval = options["polling_interval"]
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise RuntimeError(
                f"{SCHEME} needs SQLite >= {'.'.join(map(str, MIN_SQLITE))}"
                f" (UPDATE ... RETURNING); this Python has {sqlite3.sqlite_version}"
            )
        busy_timeout = self.options["busy_timeout"]
        private_file(self.path)
        db = sqlite3.connect(
            os.fspath(self.path),
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            mode = _retry_busy(
                lambda: db.execute("PRAGMA journal_mode = WAL").fetchone()[0], busy_timeout
            )
            if str(mode).lower() != "wal":
                logger.warning("%s: %s stays in journal mode %r, not WAL", SCHEME, self.path, mode)
            db.execute(f"PRAGMA synchronous = {self.options['synchronous']}")
            with self._schema_lock:
                if not self._schema_ready:
                    _retry_busy(lambda: self._create_schema(db), busy_timeout)
                    self._schema_ready = True
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _create_schema(db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def driver_version(self):
        return sqlite3.sqlite_version

    def as_uri(self, uri: str, include_password=False, mask="**") -> str:
        return uri  # no credentials in a file URL
