"""The ``sqlitebus://`` kombu transport: routing, acks and leases, across real OS processes."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.transport import TRANSPORT_ALIASES

from shared.bus import sqlite_transport
from shared.bus.sqlite_transport import Transport, broker_url_for, register

ROOT = Path(__file__).resolve().parents[2]

EXCHANGE = Exchange("evenemang.events", type="topic", durable=True)
CALENDAR = Queue("calendar.events", exchange=EXCHANGE, routing_key="booking.#", durable=True)

# One script, several roles, each run as its own interpreter (a real OS process).
CHILD = r"""
import json, sys, time
from pathlib import Path
from kombu import Connection, Exchange, Queue
from shared.bus.sqlite_transport import register

register()
role, url = sys.argv[1], sys.argv[2]
exchange = Exchange("evenemang.events", type="topic", durable=True)
calendar = Queue("calendar.events", exchange=exchange, routing_key="booking.#", durable=True)


def wait_for_go(path):
    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.002)


if role == "declare":
    with Connection(url) as conn:
        calendar(conn.default_channel).declare()
    print("declared", flush=True)

elif role == "consume":  # ack every message until the queue has been idle a while
    go, idle = sys.argv[3], float(sys.argv[4])
    seen = []
    with Connection(url) as conn:
        channel = conn.default_channel
        wait_for_go(go)
        last = time.monotonic()
        while time.monotonic() - last < idle:
            message = channel.basic_get("calendar.events")
            if message is None:
                time.sleep(0.005)
                continue
            seen.append(json.loads(message.body)["n"])
            message.ack()
            last = time.monotonic()
    print(json.dumps(seen), flush=True)

elif role == "claim":  # take a message, never ack it, wait to be killed
    with Connection(url) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get("calendar.events")) is None:
            time.sleep(0.01)
        print(json.dumps(json.loads(message.body)), flush=True)
        time.sleep(120)

elif role == "schema":  # open a brand-new file together with the others
    go = sys.argv[3]
    wait_for_go(go)
    with Connection(url) as conn:
        channel = conn.default_channel
        calendar(channel).declare()
        producer = conn.Producer(channel)
        producer.publish({"pid": __import__("os").getpid()}, exchange=exchange.name,
                         routing_key="booking.created")
    print("ok", flush=True)
"""


def child(role: str, url: str, *args: str) -> subprocess.Popen:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, role, url, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_together(processes: list[subprocess.Popen], go: Path) -> None:
    """Wait until every child waits at the starting line, then let them all go."""
    for proc in processes:
        assert proc.stdout.readline().strip() == "ready", proc.communicate(timeout=30)[1]
    go.touch()


def finish(proc: subprocess.Popen, timeout: float = 30) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def rows(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def stored(db_path: Path, queue: str) -> int:
    """Messages in ``queue``, leased ones included."""
    return rows(db_path, "SELECT count(*) FROM messages WHERE queue = ?", (queue,))[0][0]


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "bus" / "bus.db"


@pytest.fixture
def url(db_path) -> str:
    register()
    return broker_url_for(db_path, polling_interval=0.01)


@pytest.fixture
def conn(url):
    with Connection(url) as connection:
        yield connection


def publish(conn: Connection, *bodies, routing_key: str = "booking.created") -> None:
    producer = Producer(conn.default_channel, exchange=EXCHANGE)
    for body in bodies:
        producer.publish(body, routing_key=routing_key, serializer="json")


def drain(conn: Connection, queue: Queue, count: int, *, ack: bool = True) -> list:
    got = []

    def on_message(body, message):
        got.append(body)
        if ack:
            message.ack()

    with Consumer(conn.default_channel, [queue], callbacks=[on_message]):
        deadline = time.monotonic() + 10
        while len(got) < count and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=0.2)
    return got


# -- URL and registration ------------------------------------------------------------


def test_url_round_trips_an_absolute_path_and_options(tmp_path):
    register()
    register()  # idempotent
    assert TRANSPORT_ALIASES["sqlitebus"] == "shared.bus.sqlite_transport:Transport"

    assert broker_url_for(Path("/tmp/x/bus.db")) == "sqlitebus:///tmp/x/bus.db"
    transport = Connection(broker_url_for(Path("/tmp/x/bus.db"))).transport
    assert isinstance(transport, Transport)
    assert transport.path == Path("/tmp/x/bus.db")

    odd = tmp_path / "a dir; with #odd?chars" / "bus.db"
    url = broker_url_for(odd, lease_seconds=2, polling_interval=0.05)
    connection = Connection(url)
    assert connection.transport.path == odd
    assert connection.transport.options["lease_seconds"] == 2.0
    assert connection.transport.polling_interval == 0.05
    assert connection.as_uri() == url
    assert not odd.parent.exists()  # nothing opened until a channel is needed

    handwritten = Connection("sqlitebus:///tmp/x/bus.db?lease_seconds=2&polling_interval=0.05")
    assert handwritten.transport.path == Path("/tmp/x/bus.db")
    assert handwritten.transport.options["lease_seconds"] == 2.0
    assert handwritten.transport.polling_interval == 0.05

    overridden = Connection(url, transport_options={"lease_seconds": 7})
    assert overridden.transport.options["lease_seconds"] == 7.0

    with pytest.raises(ValueError, match="unknown sqlitebus option"):
        broker_url_for(odd, lease_secs=2)
    with pytest.raises(ValueError, match="unknown sqlitebus option"):
        Connection("sqlitebus:///tmp/x/bus.db?lease_secs=2").transport  # noqa: B018
    with pytest.raises(ValueError, match="absolute"):
        Connection("sqlitebus://relative/bus.db").transport  # noqa: B018

    with Connection(url) as opened:
        opened.connect()
        assert odd.exists()
        assert rows(odd, "PRAGMA journal_mode") == [("wal",)]


def test_connection_pragmas(conn):
    db = conn.default_channel.db
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


# -- publishing and consuming ----------------------------------------------------------


def test_producer_and_consumer(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    publish(conn, *({"n": n} for n in range(20)))
    assert conn.default_channel.queue_declare("calendar.events", passive=True).message_count == 20

    assert drain(conn, CALENDAR, 20) == [{"n": n} for n in range(20)]  # FIFO
    assert stored(db_path, "calendar.events") == 0


def test_simple_queue(conn, db_path):
    queue = conn.SimpleQueue("simple")
    try:
        for n in range(3):
            queue.put({"n": n})
        assert queue.qsize() == 3
        first = queue.get(timeout=2)
        assert first.payload == {"n": 0}
        first.ack()
        assert queue.get(timeout=2).payload == {"n": 1}  # not acked: back on close
        assert queue.qsize() == 1
    finally:
        queue.close()
    conn.release()
    with Connection(conn.as_uri()) as again:
        queue = again.SimpleQueue("simple")
        try:
            assert sorted(queue.get(timeout=2).payload["n"] for _ in range(2)) == [1, 2]
        finally:
            queue.close()
    assert stored(db_path, "simple") == 2  # none of those two was acked
    with Connection(conn.as_uri()) as again:
        again.SimpleQueue("simple").clear()
    assert stored(db_path, "simple") == 0


def test_topic_routing(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    publish(conn, {"n": 1}, routing_key="booking.created")
    publish(conn, {"n": 2}, routing_key="booking.approved.by_admin")
    publish(conn, {"n": 3}, routing_key="user.created")  # no binding: dropped
    assert drain(conn, CALENDAR, 2) == [{"n": 1}, {"n": 2}]
    assert rows(db_path, "SELECT count(*) FROM messages") == [(0,)]
    exchanges = rows(db_path, "SELECT name, type, durable FROM exchanges")
    assert exchanges == [("evenemang.events", "topic", 1)]
    assert rows(db_path, "SELECT exchange, routing_key, queue FROM bindings") == [
        ("evenemang.events", "booking.#", "calendar.events")
    ]


def test_default_exchange_delivers_to_the_named_queue(conn, db_path):
    dead_letters = Queue("calendar.events.dlq", durable=True)
    dead_letters(conn.default_channel).declare()
    producer = Producer(conn.default_channel)
    producer.publish({"n": 1}, exchange="", routing_key="calendar.events.dlq")
    producer.publish({"n": 2}, exchange="", routing_key="never.declared")
    assert drain(conn, dead_letters, 1) == [{"n": 1}]
    assert stored(db_path, "never.declared") == 1


def test_fanout_exchange(conn):
    fan = Exchange("fan", type="fanout")
    one, two = Queue("one", exchange=fan), Queue("two", exchange=fan)
    one(conn.default_channel).declare()
    two(conn.default_channel).declare()
    Producer(conn.default_channel, exchange=fan).publish({"n": 1}, routing_key="whatever")
    assert drain(conn, one, 1) == [{"n": 1}]
    assert drain(conn, two, 1) == [{"n": 1}]


def test_prefetch_limits_unacked_deliveries(conn):
    CALENDAR(conn.default_channel).declare()
    publish(conn, *({"n": n} for n in range(5)))
    channel = conn.default_channel
    channel.basic_qos(prefetch_size=0, prefetch_count=2, apply_global=False)
    held = []
    with Consumer(channel, [CALENDAR], callbacks=[lambda body, message: held.append(message)]):
        for _ in range(6):
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=0.05)
        assert len(held) == 2
        held.pop(0).ack()
        conn.drain_events(timeout=1)
        assert len(held) == 2
    assert channel._size("calendar.events") == 2  # 1 acked, 2 held, 2 never delivered


# -- acknowledgement -----------------------------------------------------------------------


def test_ack_deletes_the_row(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    publish(conn, {"n": 1})
    message = conn.default_channel.basic_get("calendar.events")
    assert message.delivery_info["redelivered"] is False
    assert stored(db_path, "calendar.events") == 1  # leased, still in the file
    assert conn.default_channel._size("calendar.events") == 0  # but not ready
    message.ack()
    assert stored(db_path, "calendar.events") == 0


def test_reject_with_requeue_is_available_at_once(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    publish(conn, {"n": 1})
    channel = conn.default_channel
    first = channel.basic_get("calendar.events")
    first.reject(requeue=True)
    again = channel.basic_get("calendar.events")
    assert again is not None
    assert json.loads(again.body) == {"n": 1}
    assert again.delivery_info["redelivered"] is True
    assert again.delivery_tag != first.delivery_tag
    again.ack()
    assert stored(db_path, "calendar.events") == 0


def test_reject_without_requeue_drops(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    publish(conn, {"n": 1})
    conn.default_channel.basic_get("calendar.events").reject(requeue=False)
    assert stored(db_path, "calendar.events") == 0
    assert conn.default_channel.basic_get("calendar.events") is None


def test_unacked_message_is_redelivered_after_channel_close(url, db_path):
    with Connection(url) as first:
        CALENDAR(first.default_channel).declare()
        publish(first, {"n": 1}, {"n": 2})
        channel = first.channel()
        held = channel.basic_get("calendar.events")
        assert json.loads(held.body) == {"n": 1}
        channel.close()  # restores what it had not acked
    with Connection(url) as second:
        channel = second.default_channel
        again = channel.basic_get("calendar.events")
        assert json.loads(again.body) == {"n": 1}  # still first in line
        assert again.delivery_info["redelivered"] is True
        channel.basic_recover(requeue=True)
        assert json.loads(channel.basic_get("calendar.events").body) == {"n": 1}
    assert stored(db_path, "calendar.events") == 2


# -- several processes ---------------------------------------------------------------------


@pytest.mark.slow
def test_binding_declared_in_one_process_routes_for_another(url, db_path):
    assert finish(child("declare", url)).strip() == "declared"

    # This process never declared the exchange or the binding, and says nothing of its type.
    with Connection(url) as conn:
        channel = conn.default_channel
        assert channel.typeof("evenemang.events").type == "topic"
        Producer(channel).publish(
            {"n": 1}, exchange="evenemang.events", routing_key="booking.created"
        )
        Producer(channel).publish({"n": 2}, exchange="evenemang.events", routing_key="user.created")
        assert stored(db_path, "calendar.events") == 1
        message = channel.basic_get("calendar.events")
        assert json.loads(message.body) == {"n": 1}
        message.ack()


@pytest.mark.slow
def test_competing_consumers_in_two_processes_get_everything_once(url, db_path, tmp_path):
    total = 200
    with Connection(url) as conn:
        CALENDAR(conn.default_channel).declare()
        publish(conn, *({"n": n} for n in range(total // 2)))
        go = tmp_path / "go"
        consumers = [child("consume", url, str(go), "1.0") for _ in range(2)]
        start_together(consumers, go)
        publish(conn, *({"n": n} for n in range(total // 2, total)))  # while they consume
    seen = [json.loads(finish(proc)) for proc in consumers]
    everything = seen[0] + seen[1]
    assert sorted(everything) == list(range(total))  # none lost, none twice
    assert all(batch == sorted(batch) for batch in seen)  # FIFO as each one saw it
    assert stored(db_path, "calendar.events") == 0


@pytest.mark.slow
def test_a_live_consumers_lease_holds_and_a_killed_ones_message_comes_back_at_once(db_path):
    register()
    url = broker_url_for(db_path, lease_seconds=60, polling_interval=0.01)
    with Connection(url) as conn:
        CALENDAR(conn.default_channel).declare()
        publish(conn, {"n": 1})
        claimer = child("claim", url)
        try:
            assert json.loads(claimer.stdout.readline()) == {"n": 1}
            channel = conn.default_channel
            for _ in range(3):  # the claimer lives: its lease holds, looked at again and again
                assert channel.basic_get("calendar.events") is None
                channel._next_reap = 0.0
                time.sleep(0.1)
        finally:
            claimer.kill()  # SIGKILL: no ack, no restore
            claimer.communicate(timeout=10)
        killed_at = time.monotonic()
        deadline = killed_at + 5
        while (message := channel.basic_get("calendar.events")) is None:
            assert time.monotonic() < deadline, "the dead consumer's lease never came back"
            time.sleep(0.02)
        assert time.monotonic() - killed_at <= sqlite_transport.REAP_EVERY + 1  # not 60 s
        assert json.loads(message.body) == {"n": 1}
        assert message.delivery_info["redelivered"] is True
        message.ack()
    assert stored(db_path, "calendar.events") == 0


@pytest.mark.slow
def test_a_lease_whose_holder_cannot_be_judged_runs_out(db_path):
    """A token that names no holder here (another host, an older worker): only the lease
    ends it."""
    register()
    url = broker_url_for(db_path, lease_seconds=1, polling_interval=0.01)
    with Connection(url) as conn:
        CALENDAR(conn.default_channel).declare()
        publish(conn, {"n": 1})
        claimed_at = time.time()
        with contextlib.closing(sqlite3.connect(db_path)) as db, db:
            db.execute("UPDATE messages SET lease = ?, visible_at = ?", ("f" * 32, claimed_at + 1))
        channel = conn.default_channel
        assert channel.basic_get("calendar.events") is None  # still leased
        deadline = time.monotonic() + 5
        while (message := channel.basic_get("calendar.events")) is None:
            assert time.monotonic() < deadline, "the lease never ran out"
            time.sleep(0.02)
        assert time.time() - claimed_at >= 0.5
        message.ack()


@pytest.mark.slow
def test_processes_creating_the_schema_together_do_not_fail(url, db_path, tmp_path):
    go = tmp_path / "go"
    processes = [child("schema", url, str(go)) for _ in range(4)]
    start_together(processes, go)
    assert [finish(proc).strip() for proc in processes] == ["ok"] * 4
    assert stored(db_path, "calendar.events") == 4
    assert rows(db_path, "SELECT count(*) FROM bindings") == [(1,)]
    assert rows(db_path, "PRAGMA user_version") == [(sqlite_transport.SCHEMA_VERSION,)]


# -- batches: claims up to the prefetch count, publishes in one transaction --------------


def leased(db_path: Path) -> int:
    return rows(db_path, "SELECT count(*) FROM messages WHERE lease IS NOT NULL")[0][0]


def test_a_consumer_claims_up_to_its_prefetch_count_at_once_and_gives_back_the_rest(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    publish(conn, *({"n": n} for n in range(25)))
    got = []
    channel = conn.channel()
    consumer = Consumer(channel, [CALENDAR], callbacks=[lambda body, m: got.append(body)])
    consumer.qos(prefetch_count=10)
    with consumer:
        conn.drain_events(timeout=2)
        assert got == [{"n": 0}]
        assert leased(db_path) == 10  # one claim took ten; nine wait in the channel
        while len(got) < 10:
            conn.drain_events(timeout=2)
        assert leased(db_path) == 10  # handed out from the channel, no new claim
    channel.close()  # none acked: the delivered and the waiting go back at once
    assert leased(db_path) == 0 and stored(db_path, "calendar.events") == 25
    assert drain(conn, CALENDAR, 25) == [{"n": n} for n in range(25)]  # FIFO still
    assert stored(db_path, "calendar.events") == 0


def test_a_batch_of_publishes_is_kept_whole_or_not_at_all(conn, db_path):
    CALENDAR(conn.default_channel).declare()
    channel = conn.default_channel
    with pytest.raises(RuntimeError), channel.batch():
        publish(conn, {"n": 0}, {"n": 1})
        raise RuntimeError("the publisher failed midway")
    assert stored(db_path, "calendar.events") == 0
    with channel.batch():
        publish(conn, *({"n": n} for n in range(3)))
    assert drain(conn, CALENDAR, 3) == [{"n": n} for n in range(3)]
