"""Feeds served as files: through deploy/'s nginx against nginx serving the same bytes as a
static file, the cost of past bookings to a publish, and the memory of calendar's web.

Setup. A calendar database (``--backend``: sqlite, the default, or postgres) is migrated and
``--bookings`` (10,000) approved public bookings over the next year are applied through
calendar's consumer handler (``make_handler(db).batch``, batches of 100), with one private
feed token; calendar's publisher (``services.calendar.usecases.publishing``) writes every
feed into a feed directory. A second database holds the same and ``--past`` (90,000)
bookings that ended 200 to 560 days ago (their ``feed_entries`` and ``bookings`` rows
copied from a rendered one, so no feed shows them). Servers: calendar under gunicorn (2
workers, gthread, 4 threads, as one web container) on the second database, behind Debian's
nginx (``/usr/sbin/nginx``) started on loopback with deploy/nginx.conf (its upstreams
pointed at the local gunicorn, its feed directory at the bench's; ``tests/support/nginx.py``)
plus one location, ``/bench-static/``, serving a copy of the public feed and its gzip as
plain static files with the same directives (the baseline).

Figures, each the ratio of the service path to its baseline in the same run, 3 interleaved
trials (the order of the two sides alternates), min / median / max:

1. feed 304: ``GET /calendar/feeds/public.ics`` with ``If-None-Match`` (the current gzip
   ETag, ``Accept-Encoding: gzip``), answers/s, vs nginx answering the same conditional
   request for the static copy (aim >= 0.8);
2. feed gzip 200 vs the static gzip (aim >= 0.8);
3. feed 200 identity vs the static file, same bytes (aim >= 0.9).
   Client: this process, ``--connections`` (4) threads, each one keep-alive HTTP/1.1
   connection over a raw socket; every answer's status and length checked, the first body
   on each connection byte for byte. A trial measures each side ``--seconds`` (2) in 8
   alternating turns (0.1 s warm-up each), so a load that comes and goes on a shared
   machine falls on both sides alike.
4. one change, then the publish that follows it (``FeedPublisher.changed()``: every feed,
   both languages, rendered, the changed ones written), on the database with the past
   bookings vs the one without (aim <= 1.1); a trial: 3 changes on each, alternating;
   both databases analyzed first (PostgreSQL: ``VACUUM ANALYZE``).
5. memory (VmRSS) of each calendar web worker on the database with ``bookings + past``
   bookings vs on an empty one, after 200 feed requests (public, a resource's, the private
   feed; identity and gzip) straight to gunicorn, the thin handler serving the files (aim
   <= 1.1: flat).

``--json PATH`` also writes the figures as ``{"bench": "feeds", "figures": [...]}`` for
``bench/run.py``. The exit status is 1 when an aim is missed.

    .venv/bin/python bench/feeds.py [--bookings 10000] [--past 90000] [--seconds 2]
                                    [--connections 4] [--backend sqlite|postgres]
                                    [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FEED_PATH = "/calendar/feeds/public.ics"
SLICES = 8  # a trial's measuring time, split into turns of the two sides
TURNS = 3  # changes, each published, per side in a trial of the publish figure
STATIC_PATH = "/bench-static/public.ics"
STATIC_LOCATION = """
        location /bench-static/ {{
            alias {folder}/;
            types {{ text/calendar ics; }}
            charset utf-8;
            charset_types text/calendar;
            gzip_static on;
            gzip_vary on;
            etag on;
            add_header Cache-Control "public, max-age=900" always;
            add_header Content-Disposition 'inline; filename="public.ics"' always;
        }}
"""


# -- the client --------------------------------------------------------------------------------


def request_bytes(method: str = "GET", path: str = FEED_PATH, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: evbench-feeds"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


LENGTH_RE = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
ETAG_RE = re.compile(rb'\r\netag:[ \t]*("[^"\r\n]*")', re.IGNORECASE)


class Connection:
    """One keep-alive HTTP/1.1 connection; answers must carry Content-Length (or be 304)."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.rest = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.rest = sock, b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, raw: bytes) -> tuple[int, bytes, bytes]:
        """(status, head, body) of one request."""
        sock = self.sock or self._connect()
        sock.sendall(raw)
        buf = self.rest
        while (end := buf.find(b"\r\n\r\n")) < 0:
            chunk = sock.recv(262144)
            if not chunk:
                self.close()
                raise ConnectionError("the server closed the connection")
            buf += chunk
        head, buf = buf[: end + 2], buf[end + 4 :]
        status = int(head[9:12])
        length = 0
        if status != 304 and status >= 200 and status != 204:
            found = LENGTH_RE.search(head)
            if found is None:
                raise RuntimeError(f"answer without Content-Length: {head[:300]!r}")
            length = int(found.group(1))
        if len(buf) >= length:
            body, self.rest = buf[:length], buf[length:]
        else:
            whole = bytearray(length)
            whole[: len(buf)] = buf
            view, got = memoryview(whole), len(buf)
            while got < length:
                n = sock.recv_into(view[got:])
                if not n:
                    self.close()
                    raise ConnectionError("the server closed the connection mid-body")
                got += n
            body, self.rest = bytes(whole), b""
        if b"\r\nconnection: close" in head.lower():
            self.close()
        return status, head, body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app: str
    env: dict[str, str]
    logs: Path
    threads: int = 4
    workers: int = 1
    port: int = 0
    process: subprocess.Popen | None = None
    worker_pid: int = 0
    worker_pids: list[int] = field(default_factory=list)

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", "gthread",
            "--threads", str(self.threads),
            "--keep-alive", "65",
            "--timeout", "120",
            "--max-requests", "0",
            "--no-control-socket",
            "--log-level", "warning",
            "--chdir", str(ROOT),
            self.app,
        ]  # fmt: skip

    def start(self) -> None:
        self.port = free_port()
        log = self.logs / f"{self.name}.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                self.argv(),
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as one
            )

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = children.read_text().split() if children.exists() else []
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
            except OSError:
                time.sleep(0.1)
                continue
            if len(pids) == self.workers:
                self.worker_pids = [int(pid) for pid in pids]
                self.worker_pid = self.worker_pids[0]
                return
            time.sleep(0.1)
        log = (self.logs / f"{self.name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


# -- the bookings --------------------------------------------------------------------------------

TITLES = (
    "Disputation i teoretisk fysik",
    "Öppen föreläsning: Klimat, hav & isar – vad vet vi egentligen?",
    "Seminarium; språkteknologi och samhälle",
    "Konsert med universitetets kammarkör",
    "Public lecture: Why do glaciers surge? A long title that needs folding at 75 octets",
    "Workshop: Öppen vetenskap",
    "Docentföreläsning i musikvetenskap",
    "Alumnikväll med mingel",
)
VENUES = (
    ("aula", "Aula Magna", "Frescativägen 6"),
    ("horsal-1", "Hörsal 1", "Hus A, plan 2"),
    ("studio-b", "Studio B", "Mediehuset"),
    ("lilla-salen", "Lilla salen", "Hus C"),
    ("konserthallen", "Konserthallen", "Stora gatan 12, ingång från parken"),
    ("seminarierum-4", "Seminarierum 4", ""),
)
ZONE = "Europe/Stockholm"


def booking_overrides(k: int, n: int, today: datetime, seeded_at: datetime) -> dict[str, Any]:
    """Booking ``k`` of ``n`` as overrides of ``tests.factories.snapshot``: approved, public,
    spread over the next year, in Stockholm's daytime; every 20th a weekly series of 8 with
    its fourth occurrence cancelled; every 5th with a technician (a service resource)."""
    zone = ZoneInfo(ZONE)
    day = today.date() + timedelta(days=1 + (k * 364) // n)
    start = datetime(day.year, day.month, day.day, 8 + k % 11, 15 * (k % 4), tzinfo=zone)
    end = start + timedelta(minutes=60 + 30 * (k % 4))
    slug, name, location = VENUES[k % len(VENUES)]
    kind = "studio" if slug.startswith("studio") else "venue"
    resources = [
        {"id": f"r-{slug}", "slug": slug, "name": name, "kind": kind, "location": location,
         "requires_approval": True, "managers": [f"manager-{slug}@bench.invalid"]},
    ]  # fmt: skip
    if k % 5 == 0:
        resources.append(
            {"id": "r-teknik", "slug": "teknik", "name": "Teknik & ljud", "kind": "service",
             "location": "", "requires_approval": False, "managers": []}
        )  # fmt: skip
    booking_id = str(uuid.uuid4())
    overrides: dict[str, Any] = {
        "booking_id": booking_id,
        "status": "approved",
        "visibility": "public",
        "title": f"{TITLES[k % len(TITLES)]} #{k}",
        "description": (
            "Alla är välkomna; ingen föranmälan.\nFika serveras, efteråt mingel.\n" if k % 3 else ""
        ),
        "start": start,
        "end": end,
        "language": "en" if k % 7 == 0 else "sv",
        "resources": resources,
        "organiser": {"email": f"organiser{k % 50}@bench.invalid", "name": f"Organisatör {k % 50}"},
        "participants": [{"email": "guest@bench.invalid", "name": "Gäst, Föreläsare"}]
        if k % 4 == 0
        else [],
        "url": f"https://evenemang.example.org/bookings/{booking_id}",
        "created_at": seeded_at.isoformat(),
        "updated_at": seeded_at.isoformat(),
        "decided_by": "manager@bench.invalid",
    }
    if k % 20 == 0:
        overrides["rrule"] = "FREQ=WEEKLY;COUNT=8"
        overrides["occurrences"] = [
            {
                "n": i,
                "start": (start + timedelta(weeks=i)).isoformat(),
                "end": (end + timedelta(weeks=i)).isoformat(),
                "status": "cancelled" if i == 3 else "active",
            }
            for i in range(8)
        ]
    else:
        overrides["occurrences"] = [
            {"n": 0, "start": start.isoformat(), "end": end.isoformat(), "status": "active"}
        ]
    return overrides


def seed(db, bookings: list[dict[str, Any]], batch: int = 100) -> list[dict[str, Any]]:
    """Apply a ``booking.approved`` event per booking through calendar's consumer handler;
    returns the snapshots as they went on the wire."""
    from services.calendar.entrypoints.consumer import make_handler
    from shared.events import BOOKING_APPROVED, parse_event
    from tests.factories import envelope

    handler = make_handler(db)
    snapshots = []
    for lo in range(0, len(bookings), batch):
        events = [
            parse_event(envelope(BOOKING_APPROVED, **overrides))
            for overrides in bookings[lo : lo + batch]
        ]
        handler.batch(events)
        snapshots += [event.snapshot_json for event in events]
    return snapshots


POSTGRES_URL = (
    os.environ.get("EVENEMANG_BENCH_POSTGRES_URL")
    or os.environ.get("EVENEMANG_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Backend:
    name: str
    label: str
    url: str
    cleanups: list[Callable[[], None]] = field(default_factory=list)


def sqlite_backend(root: Path, service: str = "calendar") -> Backend:
    import sqlite3

    path = root / "sqlite" / f"{service}.db"
    path.parent.mkdir(parents=True)
    return Backend("sqlite", f"SQLite {sqlite3.sqlite_version}, {path}", f"sqlite:///{path}")


def postgres_backend(prefix: str = "evbench_feeds") -> Backend | str:
    """A throw-away database (``<prefix>_*``), or why PostgreSQL cannot be used."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parts = urlsplit(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"))
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        return f"{host}:{port} not reachable ({exc.strerror or exc})"
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            version = conn.scalar(text("SHOW server_version"))
            name = f"{prefix}_{uuid.uuid4().hex[:8]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means: skip, and say why
        return f"cannot use {make_url(POSTGRES_URL).render_as_string()}: {exc}".splitlines()[0]

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    shown = make_url(POSTGRES_URL).set(database=name, password=None).render_as_string()
    return Backend("postgres", f"PostgreSQL {version}, {shown}", url, [drop])


def measure_rate(
    port: int,
    raw: bytes,
    status: int,
    body: bytes | None,
    seconds: float,
    connections: int,
    warmup: float = 0.5,
) -> float:
    """Answers per second over ``seconds`` (after ``warmup``), ``connections`` at once."""
    start = time.perf_counter() + 0.05
    counting_from, until = start + warmup, start + warmup + seconds
    counts = [0] * connections
    errors: list[BaseException] = []

    def run(i: int) -> None:
        conn = Connection(port)
        checked = False
        try:
            while time.perf_counter() < start:
                time.sleep(0.001)
            while True:
                got, _head, answer = conn.send(raw)
                done = time.perf_counter()
                if got != status:
                    raise RuntimeError(f"port {port}: status {got}, expected {status}")
                if body is not None:
                    if len(answer) != len(body) or (not checked and answer != body):
                        raise RuntimeError(f"port {port}: the body is not the expected one")
                    checked = True
                if done >= until:
                    break
                if done >= counting_from:
                    counts[i] += 1
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts) / seconds


# -- the data ----------------------------------------------------------------------------------


def calendar_config(root: Path, url: str, name: str):
    from shared.config import Config

    data_dir = root / f"data-{name}"
    data_dir.mkdir()
    return Config(
        data_dir=data_dir, calendar_database_url=url, secret_key="bench", testing=False,
        feed_dir=str(root / f"feeds-{name}"),
    ).with_defaults()  # fmt: skip


def publisher_of(config, db):
    from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
    from services.calendar.usecases.publishing import feed_publisher

    return feed_publisher(config, lambda: SqlAlchemyUnitOfWork(db))


def add_token(db) -> str:
    from services.calendar.commands import CreateFeedToken
    from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
    from services.calendar.usecases.tokens import create_feed_token
    from shared.events import Role

    command = CreateFeedToken("u-bench", "organiser0@bench.invalid", Role.ORGANISER, "bench")
    return create_feed_token(SqlAlchemyUnitOfWork(db), command)


def add_past(db, count: int, now: datetime) -> None:
    """``count`` bookings that ended 200-560 days ago: rows of ``bookings`` and
    ``feed_entries`` copied from a stored one under new ids (as the consumer leaves them)."""
    from sqlalchemy import insert, select

    from services.calendar.persistence.models import Booking, FeedEntry

    with db.engine.begin() as conn:
        booking = dict(conn.execute(select(Booking.__table__).limit(1)).mappings().one())
        entry = dict(conn.execute(select(FeedEntry.__table__).limit(1)).mappings().one())
        key = next(iter(Booking.__table__.primary_key.columns)).name
        for lo in range(0, count, 5000):
            ids = [str(uuid.uuid4()) for _ in range(lo, min(count, lo + 5000))]
            conn.execute(insert(Booking.__table__), [{**booking, key: i} for i in ids])
            ended = [
                now - timedelta(days=200 + (k * 360) // count) for k in range(lo, lo + len(ids))
            ]
            conn.execute(
                insert(FeedEntry.__table__),
                [
                    {**entry, "booking_id": i, "last_end": e}
                    for i, e in zip(ids, ended, strict=True)
                ],
            )


def analyze(db) -> None:
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def change_one(db, overrides: dict[str, Any], revision: int) -> None:
    """One booking.changed applied through calendar's consumer handler (no publish)."""
    from services.calendar.entrypoints.consumer import make_handler
    from shared.events import BOOKING_CHANGED, parse_event
    from tests.factories import envelope

    changed = {**overrides, "revision": revision, "title": f"Changed {revision}"}
    make_handler(db)(parse_event(envelope(BOOKING_CHANGED, **changed)))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used (bench/login.py's CPU per answer)."""
    fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Figure:
    figure: str
    baseline: str
    aim: str  # "<op> <number>"
    values: list[float] = field(default_factory=list)
    note: str = ""

    def holds(self) -> bool:
        op, number = self.aim.split()
        median = statistics.median(self.values)
        return {
            ">=": median >= float(number), "<=": median <= float(number),
            ">": median > float(number), "<": median < float(number),
        }[op]  # fmt: skip

    def row(self) -> str:
        low, mid, high = min(self.values), statistics.median(self.values), max(self.values)
        verdict = "HOLDS" if self.holds() else "SHORT"
        return (
            f"{self.figure:<48} {low:>6.2f} {mid:>6.2f} {high:>6.2f}  aim {self.aim:<7}"
            f" {verdict}  {self.note}"
        )


def web_server(name: str, config, root: Path, workers: int = 2) -> Server:
    env = {k: v for k, v in config.to_env().items() if k != "EVENEMANG_EXTRA"}
    return Server(name, "services.calendar:create_app()", env, root, 4, workers)


def memory_after_polls(server: Server, paths: list[str]) -> list[int]:
    """VmRSS (KiB) of each worker after 200 feed requests straight to gunicorn."""
    conns = [Connection(server.port) for _ in range(4)]
    try:
        for k in range(200):
            path = paths[k % len(paths)]
            encoding = "gzip" if k % 2 else "identity"
            raw = request_bytes(path=path, Accept_Encoding=encoding)
            status, _, _ = conns[k % 4].send(raw)
            if status != 200:
                raise RuntimeError(f"{server.name}: {path} answered {status}")
    finally:
        for conn in conns:
            conn.close()
    return [rss_kib(pid) for pid in server.worker_pids]


def run(backend_name: str, args, root: Path, stack: ExitStack) -> list[Figure]:
    from services.calendar.persistence.feed_files import FeedFile
    from shared.db import Database
    from shared.migrations import upgrade
    from tests.support.nginx import nginx_binary, nginx_running

    if nginx_binary() is None:
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    urls = {}
    for name in ("without", "with", "empty"):
        backend = sqlite_backend(root / name) if backend_name == "sqlite" else postgres_backend()
        if isinstance(backend, str):
            raise SystemExit(f"{backend_name}: {backend}")
        for cleanup in backend.cleanups:
            stack.callback(cleanup)
        upgrade("calendar", backend.url)
        urls[name] = backend.url
    configs = {name: calendar_config(root, url, name) for name, url in urls.items()}
    dbs = {name: Database(url) for name, url in urls.items()}
    for db in dbs.values():
        stack.callback(db.dispose)

    now = datetime.now(UTC)
    seeded_at = now - timedelta(days=2)
    bookings = [booking_overrides(k, args.bookings, now, seeded_at) for k in range(args.bookings)]
    t = time.perf_counter()
    for name in ("without", "with"):
        seed(dbs[name], bookings)
    add_past(dbs["with"], args.past, now)
    for db in dbs.values():  # statistics now, not an autovacuum during the measurements
        analyze(db)
    tokens = {name: add_token(dbs[name]) for name in dbs}
    print(
        f"{backend_name}: seeded {args.bookings:,} bookings twice through make_handler(db).batch"
        f" and {args.past:,} past ones into the second in {time.perf_counter() - t:.0f} s"
    )
    publishers = {name: publisher_of(configs[name], dbs[name]) for name in dbs}
    for name, publisher in publishers.items():
        t = time.perf_counter()
        written = publisher.publish_all()
        print(f"  {name}: first publish {written} files in {time.perf_counter() - t:.1f} s")

    # 4. a change and its publish, with the past bookings vs without
    publish = Figure(
        f"one change's publish, {args.past:,} past bookings more",
        "the same without them", "<= 1.1",
    )  # fmt: skip
    seconds: dict[str, list[float]] = {"with": [], "without": []}
    for rep in range(3):
        took = {"with": 0.0, "without": 0.0}
        for turn in range(TURNS):  # alternating, so other work falls on both alike
            order = ("with", "without") if (rep + turn) % 2 == 0 else ("without", "with")
            for name in order:
                revision = 10 + rep * TURNS + turn
                change_one(dbs[name], bookings[len(bookings) // 2], revision)
                t = time.perf_counter()
                written = publishers[name].changed()
                took[name] += time.perf_counter() - t
                if written < 1:
                    raise RuntimeError(f"{name}: the change wrote no feed")
        for name, total in took.items():
            seconds[name].append(total / TURNS)
        publish.values.append(took["with"] / took["without"])
    publish.note = (
        f"(median {statistics.median(seconds['with']) * 1000:.0f} ms vs "
        f"{statistics.median(seconds['without']) * 1000:.0f} ms, every feed in both languages)"
    )

    # 1-3. through deploy's nginx vs nginx serving the same bytes as a static file
    feed_files = Path(configs["with"].feed_dir)
    static = root / "static"
    static.mkdir()
    for suffix in ("", ".gz"):
        shutil.copy2(feed_files / "en" / f"public.ics{suffix}", static / f"public.ics{suffix}")
    body = (static / "public.ics").read_bytes()
    zipped = (static / "public.ics.gz").read_bytes()
    web = web_server("calendar-with", configs["with"], root)
    web.start()
    stack.callback(web.stop)
    web.wait_ready()
    proxy_dir = root / "nginx"
    proxy_dir.mkdir()
    extra = STATIC_LOCATION.format(folder=static)
    port = stack.enter_context(
        nginx_running(proxy_dir, web.port, feed_files, workers=1, extra=extra)
    )
    etag = FeedFile.at(feed_files / "en" / "public.ics.gz").etag
    static_etag = FeedFile.at(static / "public.ics.gz").etag
    kinds = {
        "304": Figure("feed 304 through deploy/'s nginx", "nginx 304, static file", ">= 0.8"),
        "gzip": Figure("feed gzip 200 through deploy/'s nginx", "nginx static gzip", ">= 0.8"),
        "200": Figure("feed 200 through deploy/'s nginx", "nginx static, same bytes", ">= 0.9"),
    }
    requests = {
        "304": lambda path, tag: (request_bytes(path=path, Accept_Encoding="gzip",
                                                If_None_Match=tag), 304, None),
        "gzip": lambda path, tag: (request_bytes(path=path, Accept_Encoding="gzip"), 200, zipped),
        "200": lambda path, tag: (request_bytes(path=path, Accept_Encoding="identity"), 200, body),
    }  # fmt: skip
    rates: dict[str, dict[str, list[float]]] = {k: {"feed": [], "static": []} for k in kinds}
    for rep in range(3):
        for key, figure in kinds.items():
            counted = {"feed": 0.0, "static": 0.0}
            for piece in range(SLICES):  # short turns, alternating, so both share the load
                order = ("feed", "static") if (rep + piece) % 2 == 0 else ("static", "feed")
                for side in order:
                    path, tag = (FEED_PATH, etag) if side == "feed" else (STATIC_PATH, static_etag)
                    raw, status, expected = requests[key](path, tag)
                    counted[side] += measure_rate(
                        port, raw, status, expected, args.seconds / SLICES, args.connections, 0.1
                    )
            for side, total in counted.items():
                rates[key][side].append(total / SLICES)
            figure.values.append(rates[key]["feed"][-1] / rates[key]["static"][-1])
    for key, figure in kinds.items():
        figure.note = (
            f"(median {statistics.median(rates[key]['feed']):,.0f}/s vs "
            f"{statistics.median(rates[key]['static']):,.0f}/s)"
        )
    web.stop()

    # 5. memory of each web worker: 100,000 bookings vs an empty database
    memory = Figure(
        f"RSS per calendar web worker, {args.bookings + args.past:,} bookings",
        "the same, empty database", "<= 1.1",
    )  # fmt: skip
    kib: dict[str, list[float]] = {"with": [], "empty": []}
    for rep in range(3):
        order = ("with", "empty") if rep % 2 == 0 else ("empty", "with")
        for name in order:
            server = web_server(f"calendar-{name}-{rep}", configs[name], root)
            server.start()
            try:
                server.wait_ready()
                paths = ["/feeds/public.ics", "/feeds/private/" + tokens[name] + ".ics"]
                if name == "with":
                    paths.append("/feeds/resources/aula.ics")
                kib[name].append(statistics.mean(memory_after_polls(server, paths)))
            finally:
                server.stop()
        memory.values.append(kib["with"][-1] / kib["empty"][-1])
    memory.note = (
        f"(median {statistics.median(kib['with']) / 1024:.0f} MiB vs "
        f"{statistics.median(kib['empty']) / 1024:.0f} MiB)"
    )
    print(
        f"  public feed: {body.count(b'BEGIN:VEVENT'):,} VEVENTs, {len(body):,} bytes "
        f"({len(zipped):,} gzipped); client: {args.connections} keep-alive connections, "
        f"{args.seconds:g} s per measurement"
    )
    return [kinds["304"], kinds["gzip"], kinds["200"], publish, memory]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000, help="current ones (10000)")
    parser.add_argument("--past", type=int, default=90_000, help="past ones (90000)")
    parser.add_argument("--seconds", type=float, default=2.0, help="per rate measurement (2)")
    parser.add_argument("--connections", type=int, default=4, help="client connections (4)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if min(args.bookings, args.past, args.connections) < 1 or args.seconds <= 0:
        parser.error("--bookings, --past, --seconds, --connections must be positive")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on ^C
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-feeds-"))
    root.chmod(0o755)  # nginx's workers read the feeds under it
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        figures = run(args.backend, args, root, stack)
    print(f"\n{'figure':<48} {'min':>6} {'median':>6} {'max':>6}  (ratios; {args.backend})")
    for figure in figures:
        print(figure.row())
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        rows = [
            {"figure": f.figure, "baseline": f.baseline, "values": f.values, "aim": f.aim}
            for f in figures
        ]
        Path(args.json).write_text(json.dumps({"bench": "feeds", "figures": rows}, indent=1))
    return 0 if all(f.holds() for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
