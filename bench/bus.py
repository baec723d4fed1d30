"""Bus throughput: booking's outbox -> calendar's read model, against raw kombu.

For each backend this measures, in the same run and interleaved (raw, pipeline, pipeline,
raw, ...), two end-to-end rates over N messages of the same ~1.5 KB JSON bodies:

* **raw kombu**: a plain kombu ``Producer`` publishes N persistent messages to the topic
  exchange (routed like booking events), then a plain kombu ``Consumer`` (same prefetch as
  the suite) consumes and acks them from calendar's queue. Timed from opening the
  connection to the last ack.
* **pipeline**: N envelopes (``tests.factories.envelope``, distinct booking ids) are
  written to booking's outbox with ``shared.outbox.enqueue`` (untimed, a few
  transactions); then the outbox relay (``OutboxRelay.run``) and calendar's consumer
  (``EventConsumer`` + ``services.calendar.entrypoints.consumer.make_handler``) are
  started in threads and timed until every one of the N events has been applied
  (committed) in calendar's
  read model.

Backends: ``embedded`` (SQLite databases + the ``sqlitebus://`` transport) and ``rabbitmq``
(RabbitMQ, with PostgreSQL for the databases when reachable, SQLite files otherwise).
On a local RabbitMQ with ``rabbitmqctl`` the run uses a throw-away vhost, so it neither
sees nor disturbs the queues of tests running at the same time; otherwise it uses the
URL's vhost and purges the suite's queues. Throw-away PostgreSQL databases are dropped and
temporary files removed at the end.

    .venv/bin/python bench/bus.py [--n 2000] [--backend embedded|rabbitmq|all] [--repeat 3]
                                  [--profile]

``--profile`` runs one extra pipeline trial per backend with cProfile in the relay and
consumer threads and prints where their time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(ROOT))

from kombu import Consumer, Producer  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from services.booking.persistence.models import OutboxMessage  # noqa: E402
from services.calendar.entrypoints.consumer import make_handler  # noqa: E402
from services.calendar.persistence.models import Booking, ProcessedEvent  # noqa: E402
from shared.bus.connection import connect  # noqa: E402
from shared.bus.consumer import EventConsumer  # noqa: E402
from shared.bus.publisher import Publisher  # noqa: E402
from shared.bus.sqlite_transport import broker_url_for  # noqa: E402
from shared.bus.topology import EXCHANGE_NAME, Topology, build_topology  # noqa: E402
from shared.config import Config  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.events import BOOKING_SUBMITTED  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from shared.outbox import OutboxRelay, enqueue  # noqa: E402
from tests.factories import envelope  # noqa: E402

log = logging.getLogger("bench.bus")

AMQP_URL = os.environ.get(
    "EVENEMANG_BENCH_AMQP_URL",
    os.environ.get("EVENEMANG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
)
POSTGRES_URL = os.environ.get(
    "EVENEMANG_BENCH_POSTGRES_URL",
    os.environ.get(
        "EVENEMANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
)
SERVICES = ("booking", "calendar")  # the two databases the pipeline touches
ENQUEUE_CHUNK = 500  # outbox rows per transaction when filling the outbox (untimed)
DEFAULTS = Config()  # the suite's defaults: relay batch, prefetch, retries, intervals


# -- payloads ---------------------------------------------------------------------------


def make_envelopes(n: int) -> list[dict]:
    """N valid booking events of ~1.5 KB JSON each, one booking per event."""
    participants = [
        {"email": f"participant{i}@example.org", "name": f"Participant Number {i}"}
        for i in range(7)
    ]
    return [envelope(BOOKING_SUBMITTED, participants=participants) for _ in range(n)]


def dumps(env: dict) -> str:
    """The wire text, exactly as ``shared.outbox.enqueue`` stores it."""
    return json.dumps(env, separators=(",", ":"), ensure_ascii=False)


# -- environment helpers ----------------------------------------------------------------


def reachable(url: str, default_port: int) -> str | None:
    """None when a TCP connection to the URL's host and port succeeds, else the reason."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"{host}:{port} not reachable ({exc.strerror or exc})"


class PostgresDatabases:
    """Throw-away databases on a PostgreSQL server, all dropped by :meth:`drop_all`."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        base = make_url(self.admin_url)
        for name in list(self.created):
            self.drop(base.set(database=name).render_as_string(hide_password=False))
        self.engine.dispose()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def private_vhost(amqp_url: str) -> Iterator[tuple[str, str]]:
    """``(url, note)``: the URL on a throw-away vhost (deleted afterwards) when RabbitMQ is
    local and ``rabbitmqctl`` works, else the URL unchanged (its queues get purged)."""
    parts = urlsplit(amqp_url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not local or shutil.which("rabbitmqctl") is None:
        yield amqp_url, "shared vhost (no local rabbitmqctl): the suite's queues are purged"
        return
    vhost = f"evenemang-bench-{uuid.uuid4().hex[:8]}"
    try:
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
    except (OSError, subprocess.SubprocessError) as exc:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _rabbitmqctl("delete_vhost", vhost)
        yield amqp_url, f"shared vhost (rabbitmqctl failed: {exc!r}): queues are purged"
        return
    try:
        yield urlunsplit(parts._replace(path="/" + vhost)), f"throw-away vhost {vhost}"
    finally:
        try:
            _rabbitmqctl("delete_vhost", vhost)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"  warning: could not delete vhost {vhost}: {exc!r}", file=sys.stderr)


def purge_queues(broker_url: str, topology: Topology) -> None:
    """Empty every queue of the topology (notify's queue fills up: nobody consumes it)."""
    with connect(broker_url) as conn:
        topology.declare(conn)
        channel = conn.default_channel
        for queue in (*topology.queues.values(), *topology.dead_letter_queues.values()):
            channel.queue_purge(queue.name)


# -- backends ---------------------------------------------------------------------------


@dataclass
class Backend:
    """Where one backend's trials run: fresh bus state and fresh databases per trial."""

    name: str
    label: str
    notes: list[str]
    topology: Topology
    new_broker: Callable[[], str]
    new_databases: Callable[[], dict[str, str]]
    drop_databases: Callable[[dict[str, str]], None]
    cleanups: list[Callable[[], None]] = field(default_factory=list)


class Workspace:
    """Temporary files and throw-away servers' objects of the whole run."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="evenemang-bench-"))
        self.stack = contextlib.ExitStack()
        self._counter = 0

    def fresh_dir(self, prefix: str) -> Path:
        self._counter += 1
        path = self.root / f"{prefix}-{self._counter}"
        path.mkdir()
        return path

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def sqlite_databases(ws: Workspace) -> tuple[Callable[[], dict[str, str]], Callable]:
    """Migrate template SQLite files once; each trial gets copies in a fresh directory."""
    templates = ws.fresh_dir("templates")
    for service in SERVICES:
        upgrade(service, f"sqlite:///{templates / (service + '.db')}")

    def new() -> dict[str, str]:
        trial = ws.fresh_dir("db")
        urls = {}
        for service in SERVICES:
            shutil.copy(templates / f"{service}.db", trial / f"{service}.db")
            urls[service] = f"sqlite:///{trial / (service + '.db')}"
        return urls

    def drop(urls: dict[str, str]) -> None:
        for url in urls.values():
            path = Path(make_url(url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    return new, drop


def postgres_databases(ws: Workspace) -> tuple[Callable[[], dict[str, str]], Callable]:
    """Migrate a template database per service once; each trial gets copies of them."""
    pg = PostgresDatabases(POSTGRES_URL)
    ws.stack.callback(pg.drop_all)
    templates = {}
    for service in SERVICES:
        url = pg.create(f"evbench_tmpl_{service}")
        upgrade(service, url)
        templates[service] = make_url(url).database

    def new() -> dict[str, str]:
        return {s: pg.create(f"evbench_{s}", template=templates[s]) for s in SERVICES}

    def drop(urls: dict[str, str]) -> None:
        for url in urls.values():
            pg.drop(url)

    return new, drop


def embedded_backend(ws: Workspace) -> Backend:
    new_db, drop_db = sqlite_databases(ws)
    return Backend(
        name="embedded",
        label="embedded: SQLite databases + sqlitebus",
        notes=[f"files under {ws.root}"],
        topology=build_topology(),
        new_broker=lambda: broker_url_for(ws.fresh_dir("bus") / "bus.db"),
        new_databases=new_db,
        drop_databases=drop_db,
    )


def rabbitmq_backend(ws: Workspace) -> Backend | str:
    """The RabbitMQ backend, or the reason it is skipped."""
    reason = reachable(AMQP_URL, 5672)
    if reason:
        return f"RabbitMQ at {AMQP_URL.split('@')[-1]}: {reason}"
    url, vhost_note = ws.stack.enter_context(private_vhost(AMQP_URL))
    topology = build_topology()
    try:
        purge_queues(url, topology)
    except Exception as exc:
        return f"RabbitMQ at {AMQP_URL.split('@')[-1]} does not answer: {exc!r}"
    notes = [vhost_note]
    pg_reason = reachable(POSTGRES_URL, 5432)
    if pg_reason is None:
        try:
            new_db, drop_db = postgres_databases(ws)
            databases = "PostgreSQL"
        except Exception as exc:
            pg_reason = f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    if pg_reason is not None:
        notes.append(f"PostgreSQL skipped ({pg_reason}); databases are SQLite files")
        new_db, drop_db = sqlite_databases(ws)
        databases = "SQLite databases"

    def new_broker() -> str:
        purge_queues(url, topology)
        return url

    return Backend(
        name="rabbitmq",
        label=f"rabbitmq: RabbitMQ + {databases}",
        notes=notes,
        topology=topology,
        new_broker=new_broker,
        new_databases=new_db,
        drop_databases=drop_db,
    )


def backends(ws: Workspace, wanted: tuple[str, ...]) -> Iterator[Backend]:
    """The wanted backends that can be reached, each announced (or why it is skipped)."""
    for name in wanted:
        try:
            backend = embedded_backend(ws) if name == "embedded" else rabbitmq_backend(ws)
        except Exception as exc:
            backend = f"setup failed: {exc!r}"
        if isinstance(backend, str):
            print(f"\n{name}: skipped - {backend}")
            continue
        print(f"\n{backend.label}  ({'; '.join(backend.notes)})")
        yield backend


# -- the two measurements ---------------------------------------------------------------


class TrialFailed(RuntimeError):
    pass


def raw_trial(broker_url: str, topology: Topology, bodies: list[str], timeout: float) -> float:
    """Plain kombu: publish every body to the topic exchange, then consume and ack them."""
    n = len(bodies)
    received = 0

    def on_message(_body, message) -> None:
        nonlocal received
        message.ack()
        received += 1

    started = time.perf_counter()
    deadline = started + timeout
    with connect(broker_url) as conn:
        conn.ensure_connection(max_retries=1)
        topology.declare(conn)
        producer = Producer(conn.channel())
        for i, body in enumerate(bodies):
            producer.publish(
                body,
                exchange=EXCHANGE_NAME,
                routing_key=BOOKING_SUBMITTED,
                content_type="application/json",
                content_encoding="utf-8",
                message_id=f"raw-{i}",
                delivery_mode=2,
                retry=False,
            )
        consumer = Consumer(
            conn.channel(),
            queues=[topology.queue("calendar")],
            callbacks=[on_message],
            prefetch_count=DEFAULTS.bus_prefetch,
            accept=["json"],
        )
        with consumer:
            while received < n:
                if time.perf_counter() > deadline:
                    raise TrialFailed(f"raw: {received}/{n} consumed in {timeout:.0f}s")
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=1.0)
        elapsed = time.perf_counter() - started
    return n / elapsed


def fill_outbox(db: Database, envelopes: list[dict]) -> None:
    for start in range(0, len(envelopes), ENQUEUE_CHUNK):
        with db.transaction() as session:
            for env in envelopes[start : start + ENQUEUE_CHUNK]:
                enqueue(session, OutboxMessage, env)


def _profiled(target: Callable[[], None], profile: cProfile.Profile | None) -> Callable[[], None]:
    if profile is None:
        return target

    def run() -> None:
        profile.enable()
        try:
            target()
        finally:
            profile.disable()

    return run


class Pipeline:
    """Booking's outbox relay and calendar's consumer (as ``evenemang worker`` runs them,
    with the suite's defaults) in two threads of this process, on fresh databases; it
    counts the expected events as their batches commit in calendar's read model."""

    def __init__(
        self,
        broker_url: str,
        topology: Topology,
        urls: dict[str, str],
        profiles: dict[str, cProfile.Profile] | None = None,
    ) -> None:
        self.booking_db = Database(urls["booking"])
        self.calendar_db = Database(urls["calendar"])
        self.publisher = Publisher(broker_url, topology)
        self.stop = threading.Event()
        self.remaining: set[str] = set()
        self.expected = 0
        self.all_applied = threading.Event()
        self._lock = threading.Lock()
        apply = make_handler(self.calendar_db)

        def handler(event) -> None:
            apply(event)  # returns once the event's transaction committed
            self._applied([event])

        def batch_handler(events) -> None:
            apply.batch(events)  # as the worker does; returns once the batch committed
            self._applied(events)

        self.relay = OutboxRelay(
            self.booking_db, OutboxMessage, self.publisher, batch_size=DEFAULTS.relay_batch_size
        )
        self.consumer = EventConsumer(
            broker_url,
            topology,
            "calendar",
            handler,
            batch_handler=batch_handler,
            max_retries=DEFAULTS.bus_max_retries,
            backoff=DEFAULTS.bus_retry_backoff,
            prefetch=DEFAULTS.bus_prefetch,
            stop=self.stop,
        )
        profiles = profiles or {}
        self.threads = [
            threading.Thread(
                target=_profiled(
                    lambda: self.relay.run(self.stop, interval=DEFAULTS.relay_interval),
                    profiles.get("relay"),
                ),
                name="bench-relay",
                daemon=True,
            ),
            threading.Thread(
                target=_profiled(self.consumer.run, profiles.get("consumer")),
                name="bench-consumer",
                daemon=True,
            ),
        ]

    def _applied(self, events) -> None:
        with self._lock:
            self.remaining.difference_update(event.id for event in events)
            if not self.remaining:
                self.all_applied.set()

    def fill(self, envelopes: list[dict]) -> None:
        """Write the events to booking's outbox and expect them in the read model."""
        with self._lock:
            self.remaining |= {env["id"] for env in envelopes}
            self.expected += len(envelopes)
            self.all_applied.clear()
        fill_outbox(self.booking_db, envelopes)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait(self, timeout: float) -> None:
        """Return once every expected event is applied; TrialFailed after ``timeout``."""
        if not self.all_applied.wait(timeout):
            raise TrialFailed(
                f"pipeline: {self.expected - len(self.remaining)}/{self.expected} applied in"
                f" {timeout:.0f}s (dead-lettered {self.consumer.dead_lettered})"
            )

    def close(self) -> None:
        """Stop the threads, check the read model and the outbox, let the databases go."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
        self.publisher.close()
        try:
            with self.calendar_db.transaction(readonly=True) as session:
                bookings = session.scalar(select(func.count()).select_from(Booking))
                processed = session.scalar(select(func.count()).select_from(ProcessedEvent))
            if self.all_applied.is_set() and (
                bookings != self.expected or processed != self.expected
            ):
                raise TrialFailed(
                    f"pipeline: read model has {bookings} bookings, {processed} events"
                )
            if self.all_applied.is_set() and self.relay.pending():
                raise TrialFailed(f"pipeline: {self.relay.pending()} outbox rows left unpublished")
        finally:
            self.booking_db.dispose()
            self.calendar_db.dispose()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pipeline_trial(
    broker_url: str,
    topology: Topology,
    urls: dict[str, str],
    envelopes: list[dict],
    timeout: float,
    profiles: dict[str, cProfile.Profile] | None = None,
) -> float:
    """Outbox relay + calendar consumer, timed until all N events are in the read model."""
    with Pipeline(broker_url, topology, urls, profiles) as pipeline:
        pipeline.fill(envelopes)
        started = time.perf_counter()
        pipeline.start()
        pipeline.wait(timeout)
        elapsed = time.perf_counter() - started
    return len(envelopes) / elapsed


# -- running and reporting --------------------------------------------------------------


@dataclass
class Result:
    raw: list[float] = field(default_factory=list)
    pipeline: list[float] = field(default_factory=list)


def run_backend(backend: Backend, n: int, repeat: int, timeout: float) -> Result:
    result = Result()

    def raw() -> None:
        bodies = [dumps(env) for env in make_envelopes(n)]
        result.raw.append(raw_trial(backend.new_broker(), backend.topology, bodies, timeout))

    def pipeline() -> None:
        envelopes = make_envelopes(n)
        urls = backend.new_databases()
        try:
            rate = pipeline_trial(backend.new_broker(), backend.topology, urls, envelopes, timeout)
        finally:
            backend.drop_databases(urls)
        result.pipeline.append(rate)

    for i in range(repeat):  # interleaved: raw, pipeline | pipeline, raw | raw, pipeline ...
        for step in (raw, pipeline) if i % 2 == 0 else (pipeline, raw):
            step()
    backend.new_broker()  # leaves the queues empty (RabbitMQ: purge)
    return result


def profile_backend(backend: Backend, n: int, timeout: float, top: int) -> None:
    profiles = {"relay": cProfile.Profile(), "consumer": cProfile.Profile()}
    urls = backend.new_databases()
    try:
        rate = pipeline_trial(
            backend.new_broker(), backend.topology, urls, make_envelopes(n), timeout, profiles
        )
    finally:
        backend.drop_databases(urls)
    backend.new_broker()
    print(f"  profiled pipeline trial: {rate:,.0f} ev/s (cProfile overhead included)")
    for name, profile in profiles.items():
        for sort in ("tottime", "cumulative"):
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats(sort).print_stats(top)
            body = out.getvalue()
            body = body[body.find("   ncalls") :] if "   ncalls" in body else body
            print(f"\n  -- {name} thread, top {top} by {sort} --")
            print(body.replace(str(ROOT) + "/", "").rstrip())


def fmt(rates: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in rates)


def report(backend: Backend, n: int, result: Result) -> None:
    raw = statistics.median(result.raw)
    pipe = statistics.median(result.pipeline)
    pairs = [p / r for p, r in zip(result.pipeline, result.raw, strict=True)]
    print(f"  raw kombu    {raw:>9,.0f} msg/s   median of [{fmt(result.raw)}]")
    print(f"  pipeline     {pipe:>9,.0f} ev/s    median of [{fmt(result.pipeline)}]")
    print(
        f"  ratio pipeline/raw  {pipe / raw:.2f}"
        f"   (per interleaved pair: {', '.join(f'{r:.2f}' for r in pairs)})"
    )


AIMS = {"embedded": ">= 0.7", "rabbitmq": ">= 0.5"}  # issue 13


def figure(backend: Backend, result: Result) -> dict:
    """The backend's row for ``make bench``: the ratio of each interleaved pair."""
    pairs = [p / r for p, r in zip(result.pipeline, result.raw, strict=True)]
    return {
        "figure": f"outbox -> calendar read model, {backend.label} (events/s ratio)",
        "baseline": f"raw kombu publish + consume, median {statistics.median(result.raw):,.0f}"
        " msg/s",
        "values": [round(r, 3) for r in pairs],
        "aim": AIMS[backend.name],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per trial (2000)")
    parser.add_argument(
        "--backend", choices=("embedded", "rabbitmq", "all"), default="all", help="(all)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="trials of each kind; median (3)")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="give up on a trial after (120) seconds"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run one pipeline trial under cProfile per backend and print the top entries",
    )
    parser.add_argument("--top", type=int, default=25, help="profile entries shown (25)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    wanted = ("embedded", "rabbitmq") if args.backend == "all" else (args.backend,)
    print(
        f"bus throughput: N={args.n}, repeat={args.repeat} (median),"
        f" {len(dumps(make_envelopes(1)[0]).encode()):,} bytes of JSON per message,"
        f" relay batch {DEFAULTS.relay_batch_size}, prefetch {DEFAULTS.bus_prefetch},"
        f" {os.cpu_count()} CPUs"
    )
    ws = Workspace()
    failed = False
    figures = []
    try:
        for backend in backends(ws, wanted):
            run_started = time.perf_counter()
            try:
                result = run_backend(backend, args.n, args.repeat, args.timeout)
                report(backend, args.n, result)
                figures.append(figure(backend, result))
                if args.profile:
                    profile_backend(backend, args.n, args.timeout, args.top)
            except Exception as exc:
                failed = True
                print(f"  FAILED: {exc!r}")
            print(f"  ({time.perf_counter() - run_started:.0f}s for this backend)")
    finally:
        ws.close()
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": "bus", "figures": figures}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
