"""Calendar feeds under polling: requests/s, 304s/s and the time to catch up after a change.

With ``--bookings`` (10,000) approved public bookings in calendar's read model, this prints,
in one run:

1. Feed requests per second through the service, as a ratio of a minimal Flask app that
   returns the same bytes with the same Content-Type (aim >= 0.8). Both answer uncompressed
   (``Accept-Encoding: identity``); a second row does the same with gzip.
2. The time to bring the public feed up to date after one booking changes, as a ratio of
   rendering all the bookings from scratch with the ``ics`` package (aim <= 0.05). The clock
   starts before ``parse_event`` + ``make_handler(db)(event)`` apply one ``booking.changed``
   event. It stops when a poller that sends ``If-None-Match`` with the old ETag in a tight
   loop first gets a 200 with the new body. The time is split into apply, stale (the worker
   still answers 304 from its cached feed: it reads the generation at most once per second)
   and render+get (the request that re-rendered and returned the new feed). "quiet": only
   that poller; an idle second, then one poll makes the worker read the generation, and the
   change follows (rep + 0.5) / repeat of a second later, so the phases are spread evenly
   and the median wait is the mean wait. "polled": the same while ``--connections`` - 1
   more clients poll with conditional GETs, as subscribed calendars do (the phase is then
   random). The baseline builds an ``ics.Calendar`` with one ``ics.Event`` per booking
   carrying the same fields (UID, SEQUENCE, times, status, summary, description, location,
   URL, categories, class, organizer, DTSTAMP, LAST-MODIFIED, RRULE and EXDATE) and calls
   ``serialize()``.
3. 304 answers per second (``If-None-Match`` with the current ETag) through the service,
   against the same minimal app answering 304 to the same conditional request.

Setup. The calendar database is migrated with ``shared.migrations.upgrade``. The bookings
are seeded through the real consumer path: ``tests.factories.envelope`` builds a valid
``booking.approved`` event per booking (distinct booking ids, spread over the next year,
varied titles, venues, organisers, some weekly series with a cancelled occurrence), and
``parse_event`` + ``make_handler(db).batch`` apply them in batches of 100, so the stored
VEVENTs are exactly what ``services.calendar.usecases.events.render_entry`` renders.

Servers. Two gunicorn masters with the same settings: 1 worker, ``gthread``, 4 threads,
keep-alive 65 s, no ``max_requests``, on free loopback ports. One serves
``services.calendar:create_app()``, configured through ``EVENEMANG_*`` variables with
``testing`` off, so the feed cache checks the generation at most once per second as in
production. The other serves ``bench.feeds:minimal_app()``, a Flask app holding the service's
own bytes in memory (and its gzip bytes and ETag). It gets new bytes after each measured
change through a POST to a route that is never measured.

Client. Python, in this process: 4 threads, each with one keep-alive HTTP/1.1 connection
over a raw socket (it sends a prepared request and reads the status line, the headers and
Content-Length bytes). This client costs far less CPU per request than ``http.client``, so
it stays ahead of the server. A rate counts the answers completed in ``--seconds`` after a
0.5 s warm-up. Every answer's status and length are checked, and the first body on each
connection is compared byte for byte. The CPU time of each gunicorn worker (from
``/proc``) is printed per request as well. On a shared machine it is steadier than the
rates.

Each repetition runs: the two changes (2), the service and minimal pairs for 200 identity,
200 gzip and 304 (their order alternates between repetitions), then the ``ics`` baseline.
Medians of ``--repeat`` (3) are printed. The steps of ``FeedCache.render`` are also timed one
by one in this process (on the same database, checked to give the same bytes), together
with two cheaper variants, to show where the catch-up time goes.

Backends: ``sqlite`` (a file in a temporary directory, the default) and ``postgres``
(``EVENEMANG_BENCH_POSTGRES_URL``, else ``EVENEMANG_TEST_POSTGRES_URL``, else
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; a throw-away ``evbench_feeds_*``
database, dropped at the end, and skipped with the reason printed when unreachable).
The exit status is 1 when an aim is missed.

    .venv/bin/python bench/feeds.py [--bookings 10000] [--seconds 2] [--repeat 3]
                                    [--backend sqlite|postgres|all] [--connections 4]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
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
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

CONTENT_TYPE = "text/calendar; charset=utf-8"
FEED_PATH = "/feeds/public.ics"
RELOAD_PATH = "/_bench/reload"
ENV_BODY = "EVBENCH_FEEDS_DIR"  # the minimal app reads body, body.gz and etag from here


# -- the minimal app (imported by gunicorn: keep this part free of project imports) --------


def minimal_app():
    """A Flask app returning the service's feed bytes: the yardstick for the service."""
    from flask import Flask, Response, request

    folder = Path(os.environ[ENV_BODY])
    feed: dict[str, Any] = {}

    def load() -> None:
        feed["body"] = (folder / "body").read_bytes()
        feed["gzipped"] = (folder / "body.gz").read_bytes()
        feed["etag"] = (folder / "etag").read_text()

    load()
    app = Flask("minimal")

    @app.get(FEED_PATH)
    def public_feed():
        if request.headers.get("If-None-Match") == feed["etag"]:
            return Response(status=304, headers={"ETag": feed["etag"]})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            return Response(
                feed["gzipped"], content_type=CONTENT_TYPE, headers={"Content-Encoding": "gzip"}
            )
        return Response(feed["body"], content_type=CONTENT_TYPE)

    @app.post(RELOAD_PATH)
    def reload():
        load()
        return "", 204

    return app


# -- HTTP: a lean keep-alive client ---------------------------------------------------------

LENGTH_RE = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
ETAG_RE = re.compile(rb'\r\netag:[ \t]*("[^"\r\n]*")', re.IGNORECASE)


def request_bytes(method: str = "GET", path: str = FEED_PATH, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: evbench-feeds"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if method == "POST":
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


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


def etag_of(head: bytes) -> str:
    found = ETAG_RE.search(head)
    if found is None:
        raise RuntimeError(f"answer without an ETag: {head[:300]!r}")
    return found.group(1).decode("ascii")


def worker_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Rate:
    per_second: float
    cpu_us: float  # worker CPU per answer, microseconds
    client_cpu: float  # share of one core this process used


def measure_rate(
    server: Server,
    raw: bytes,
    status: int,
    body: bytes | None,
    seconds: float,
    connections: int,
    warmup: float = 0.5,
) -> Rate:
    """Answers per second over ``seconds``, ``connections`` keep-alive connections at once."""
    start = time.perf_counter() + 0.05
    counting_from, until = start + warmup, start + warmup + seconds
    counts = [0] * connections
    errors: list[BaseException] = []
    cpu_marks: dict[str, float] = {}
    mark_lock = threading.Lock()

    def mark(name: str) -> None:
        with mark_lock:
            if name not in cpu_marks:
                cpu_marks[name] = worker_cpu(server.worker_pid)
                cpu_marks[name + "_client"] = time.process_time()
                cpu_marks[name + "_wall"] = time.perf_counter()

    def run(i: int) -> None:
        conn = Connection(server.port)
        checked = False
        try:
            while time.perf_counter() < start:
                time.sleep(0.001)
            while True:
                got, _head, answer = conn.send(raw)
                done = time.perf_counter()
                if got != status:
                    raise RuntimeError(f"{server.name}: status {got}, expected {status}")
                if body is not None:
                    if len(answer) != len(body) or (not checked and answer != body):
                        raise RuntimeError(f"{server.name}: the body is not the expected one")
                    checked = True
                if done >= until:
                    mark("end")
                    break
                if done >= counting_from:
                    mark("begin")
                    counts[i] += 1
        except BaseException as exc:  # report in the caller
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
    if "begin" not in cpu_marks or "end" not in cpu_marks:
        raise RuntimeError(f"{server.name}: no answer completed inside the measured window")
    total = sum(counts)
    wall = cpu_marks["end_wall"] - cpu_marks["begin_wall"]
    return Rate(
        per_second=total / seconds,
        cpu_us=1e6 * (cpu_marks["end"] - cpu_marks["begin"]) / max(total, 1),
        client_cpu=(cpu_marks["end_client"] - cpu_marks["begin_client"]) / wall,
    )


# -- gunicorn --------------------------------------------------------------------------------


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


# -- the bookings ----------------------------------------------------------------------------

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


def _location(snapshot: dict[str, Any]) -> str:
    """The baseline's LOCATION, read straight from the stored JSON as booking_ical words it."""
    places = [r for r in snapshot["resources"] if r["kind"] != "service"]
    return "; ".join(
        f"{r['name']}, {r['location']}" if r.get("location") else r["name"] for r in places
    )


def render_with_ics(snapshots: list[dict[str, Any]]) -> str:
    """All the bookings from scratch with the ``ics`` package alone: one Calendar, one Event
    per booking with the same fields, serialized."""
    import ics
    from ics.grammar.parse import ContentLine

    from shared.booking_ical import STATUS

    calendar = ics.Calendar(creator="-//Evenemang//Evenemang booking//EN")
    for s in snapshots:
        updated = datetime.fromisoformat(s["updated_at"])
        services = [r["name"] for r in s["resources"] if r["kind"] == "service"]
        description = s.get("description") or ""
        if services:
            description = (description + "\n\n" if description else "") + ", ".join(services)
        organiser = s["organiser"]
        event = ics.Event(
            uid=s["uid"],
            name=s["title"],
            begin=datetime.fromisoformat(s["start"]),
            end=datetime.fromisoformat(s["end"]),
            description=description or None,
            location=_location(s) or None,
            url=s.get("url"),
            created=updated,
            last_modified=updated,
            status=STATUS[s["status"]],
            categories={r["kind"] for r in s["resources"]},
            classification="PUBLIC",
            organizer=ics.Organizer(organiser["email"], common_name=organiser.get("name")),
        )
        event.extra.append(ContentLine(name="SEQUENCE", value=str(s["revision"])))
        if s.get("rrule"):
            event.extra.append(ContentLine(name="RRULE", value=s["rrule"]))
            for o in s["occurrences"]:
                if o["status"] == "cancelled":
                    when = datetime.fromisoformat(o["start"]).astimezone(UTC)
                    event.extra.append(ContentLine(name="EXDATE", value=f"{when:%Y%m%dT%H%M%SZ}"))
        calendar.events.add(event)
    return calendar.serialize()


# -- backends --------------------------------------------------------------------------------

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


# -- the run ---------------------------------------------------------------------------------

AIM_RATE = 0.8
AIM_UPDATE = 0.05


@dataclass
class Pair:
    label: str
    service: list[Rate] = field(default_factory=list)
    minimal: list[Rate] = field(default_factory=list)

    def median(self, side: str, attr: str = "per_second") -> float:
        return statistics.median(getattr(r, attr) for r in getattr(self, side))

    @property
    def ratio(self) -> float:
        return self.median("service") / self.median("minimal")


@dataclass
class Update:
    apply: float  # parse_event + handler, s
    stale: float  # from the commit until the request that got the new feed was sent, s
    fetch: float  # that request: render in the worker + transfer, s
    polls: int  # conditional GETs answered 304 (stale) before it

    @property
    def total(self) -> float:
        return self.apply + self.stale + self.fetch


@dataclass
class Outcome:
    backend: str
    pairs: dict[str, Pair]
    updates: list[Update]
    polled: list[Update]  # the same, while other clients poll
    ics_seconds: list[float]

    @property
    def update_ratio(self) -> float:
        return statistics.median(u.total for u in self.updates) / statistics.median(
            self.ics_seconds
        )


class Feeds:
    """Both servers, the service's current feed, and the minimal app kept in step with it."""

    def __init__(self, service: Server, minimal: Server, folder: Path):
        self.service, self.minimal, self.folder = service, minimal, folder
        self.body = self.gzipped = b""
        self.etag = ""

    def fetch(self) -> None:
        """The service's current bytes (identity and gzip) and ETag."""
        conn = Connection(self.service.port)
        try:
            status, head, body = conn.send(request_bytes(Accept_Encoding="identity"))
            status_gz, head_gz, gzipped = conn.send(request_bytes(Accept_Encoding="gzip"))
        finally:
            conn.close()
        if status != 200 or status_gz != 200 or b"content-encoding: gzip" not in head_gz.lower():
            raise RuntimeError(f"unexpected feed answers {status}, {status_gz}")
        if etag_of(head) != etag_of(head_gz) or gzip.decompress(gzipped) != body:
            raise RuntimeError("the gzip answer is not the identity answer compressed")
        ctype = re.search(rb"(?i)\r\ncontent-type:[ \t]*([^\r\n]*)", head)
        if ctype is None or ctype.group(1).decode() != CONTENT_TYPE:
            raise RuntimeError(f"unexpected Content-Type in {head!r}")
        self.body, self.gzipped, self.etag = body, gzipped, etag_of(head)

    def write(self) -> None:
        (self.folder / "body").write_bytes(self.body)
        (self.folder / "body.gz").write_bytes(self.gzipped)
        (self.folder / "etag").write_text(self.etag)

    def sync_minimal(self) -> None:
        """The minimal app answers with the service's current bytes."""
        self.write()
        conn = Connection(self.minimal.port)
        try:
            status, _, _ = conn.send(request_bytes("POST", RELOAD_PATH))
            check = conn.send(request_bytes(Accept_Encoding="identity"))
        finally:
            conn.close()
        if status != 204 or check[0] != 200 or check[2] != self.body:
            raise RuntimeError("the minimal app did not take the new bytes")


CHECK_SECONDS = 1.0  # how often a worker's FeedCache reads the generation (testing off)


def one_update(
    db, feeds: Feeds, overrides: dict[str, Any], rep: int, repeat: int, others: int = 0
) -> tuple[Update, dict[str, Any]]:
    """Change one booking (title, revision) and wait for the service's feed to show it;
    returns the timings and the new snapshot.

    Without ``others``, the change is applied at a chosen phase of the worker's generation
    check: after an idle second, one poll makes the worker read the generation; the change
    follows (rep + 0.5) / repeat of CHECK_SECONDS later, so the phases of the repetitions
    are spread evenly and the median wait is the mean one. With ``others``, that many more
    clients poll the feed (conditional GETs, each with its own ETag) throughout, as
    subscribed calendars do, and the phase is whatever it is."""
    from services.calendar.entrypoints.consumer import make_handler
    from shared.events import BOOKING_CHANGED, parse_event
    from tests.factories import envelope

    handler = make_handler(db)
    now = datetime.now(UTC)
    overrides["revision"] = overrides.get("revision", 1) + 1
    overrides["title"] = f"Ändrad titel, repetition {rep + 1}{' (polled)' if others else ''}"
    overrides["updated_at"] = now.isoformat()
    wire = envelope(BOOKING_CHANGED, **overrides)
    old_etag = feeds.etag
    poll = request_bytes(Accept_Encoding="identity", If_None_Match=old_etag)
    conn = Connection(feeds.service.port)
    stop = threading.Event()
    errors: list[BaseException] = []

    def background() -> None:
        other = Connection(feeds.service.port)
        etag = old_etag
        try:
            while not stop.is_set():
                status, head, _ = other.send(
                    request_bytes(Accept_Encoding="identity", If_None_Match=etag)
                )
                if status == 200:
                    etag = etag_of(head)
                elif status != 304:
                    raise RuntimeError(f"background poll answered {status}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=background) for _ in range(others)]
    try:
        if others:
            for thread in threads:
                thread.start()
            conn.send(poll)
            time.sleep(0.5)
        else:
            time.sleep(CHECK_SECONDS * 1.1)
            conn.send(poll)  # the worker reads the generation now
            time.sleep(CHECK_SECONDS * (rep + 0.5) / repeat)
        t0 = time.perf_counter()
        handler(parse_event(wire))
        applied = time.perf_counter()
        polls = 0
        while True:
            sent = time.perf_counter()
            status, head, body = conn.send(poll)
            done = time.perf_counter()
            if status == 200:
                break
            if status != 304:
                raise RuntimeError(f"poll answered {status}")
            polls += 1
            if done - t0 > 60:
                raise RuntimeError("the feed did not change within 60 s")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        conn.close()
    if errors:
        raise errors[0]
    if f"SUMMARY:{overrides['title']}".replace(",", "\\,").encode() not in body:
        raise RuntimeError("the new body does not hold the changed title")
    if etag_of(head) == old_etag:
        raise RuntimeError("the ETag did not change")
    update = Update(apply=applied - t0, stale=sent - applied, fetch=done - sent, polls=polls)
    return update, wire["data"]


def render_steps(db, expected: bytes, config) -> list[tuple[str, float]]:
    """The steps of ``FeedCache.render`` for the public feed, timed one by one in this
    process (median of 3), plus two cheaper variants."""
    from sqlalchemy import and_, or_, select

    from services.calendar.domain import PUBLIC_FEED, feed_vevents, feed_wording
    from services.calendar.persistence.models import FeedEntry
    from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
    from services.calendar.usecases.feed_cache import FeedCache, FeedSettings
    from shared.ical import render_calendar
    from shared.messages import text as word

    settings = FeedSettings.from_config(config)
    cache = FeedCache(lambda: SqlAlchemyUnitOfWork(db), settings, check_seconds=0)
    scope = PUBLIC_FEED
    name, description = (word(message, "en") for message in feed_wording(scope))
    if cache.get(scope, "en").body != expected:
        raise RuntimeError("FeedCache in this process does not render the service's bytes")
    timings: dict[str, list[float]] = {}

    def timed(step: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        result = fn(*args, **kwargs)
        timings.setdefault(step, []).append(time.perf_counter() - t)
        return result

    def columns_only(now: datetime) -> list[str]:
        window = now - timedelta(days=settings.past_days)
        dropped = now - timedelta(days=settings.cancelled_days)
        shown = or_(
            FeedEntry.status == "approved",
            and_(FeedEntry.status == "cancelled", FeedEntry.cancelled_at > dropped),
        )
        stmt = (
            select(FeedEntry.vevent_full)
            .where(FeedEntry.last_end >= window, shown, FeedEntry.visibility == "public")
            .order_by(FeedEntry.booking_id)
        )
        with db.transaction(readonly=True) as session:
            return list(session.scalars(stmt))

    def sha256(body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()

    for _ in range(3):
        now = datetime.now(UTC)
        version = cache.version()
        mirror = cache._sync(version.generation)
        timed("whole: FeedCache.render", cache.render, scope, "en", mirror, version.changed_at)
        entries = timed(
            "feed_vevents: choose from the mirror", feed_vevents, scope, mirror, now,
            settings.retention,
        )  # fmt: skip
        text = timed(
            "render_calendar: join the VEVENTs",
            render_calendar,
            entries,
            name=name,
            description=description,
            method="PUBLISH",
            zones=[settings.zone],
            refresh_minutes=settings.ttl_minutes,
        )
        body = timed("encode UTF-8", text.encode, "utf-8")
        timed("gzip.compress level 6", gzip.compress, body, compresslevel=6, mtime=0)
        timed("sha256 ETag", sha256, body)
        if body != expected:
            raise RuntimeError("the steps do not give the service's bytes")
        timed("variant: SELECT vevent_full only (no ORM objects)", columns_only, now)
        timed("variant: gzip.compress level 1", gzip.compress, body, compresslevel=1, mtime=0)
    return [(name, statistics.median(values)) for name, values in timings.items()]


def run_backend(backend: Backend, args, root: Path) -> Outcome:
    from shared.config import Config
    from shared.db import Database
    from shared.migrations import upgrade

    print(f"\n== {backend.name}: {backend.label} ==")
    data_dir = root / f"data-{backend.name}"
    data_dir.mkdir()
    config = Config(
        data_dir=data_dir, calendar_database_url=backend.url, secret_key="bench", testing=False
    ).with_defaults()
    upgrade("calendar", backend.url)
    db = Database(backend.url)
    pairs = {
        "200": Pair("feed 200, identity"),
        "gzip": Pair("feed 200, gzip"),
        "304": Pair("304, If-None-Match"),
    }
    updates: list[Update] = []
    polled: list[Update] = []
    ics_seconds: list[float] = []
    with ExitStack() as stack:
        stack.callback(db.dispose)
        today = datetime.now(UTC)
        seeded_at = today - timedelta(days=2)
        bookings = [
            booking_overrides(k, args.bookings, today, seeded_at) for k in range(args.bookings)
        ]
        t = time.perf_counter()
        snapshots = seed(db, bookings)
        seeding = time.perf_counter() - t
        print(
            f"seeded {args.bookings:,} approved public bookings through "
            f"make_handler(db).batch (batches of 100) in {seeding:.1f} s "
            f"({args.bookings / seeding:.0f}/s, envelope + parse_event included)"
        )

        folder = root / f"feed-{backend.name}"
        folder.mkdir()
        env = {k: v for k, v in config.to_env().items() if k != "EVENEMANG_EXTRA"}
        service = Server("service", "services.calendar:create_app()", env, root, args.threads)
        minimal = Server("minimal", "bench.feeds:minimal_app()", {ENV_BODY: str(folder)}, root,
                         args.threads)  # fmt: skip
        feeds = Feeds(service, minimal, folder)
        service.start()
        stack.callback(service.stop)
        service.wait_ready()
        cold = Connection(service.port)
        t = time.perf_counter()
        cold.send(request_bytes(Accept_Encoding="gzip"))
        first = time.perf_counter() - t
        cold.close()
        feeds.fetch()
        vevents = feeds.body.count(b"BEGIN:VEVENT\r\n")
        if vevents != args.bookings:
            raise RuntimeError(f"the feed holds {vevents} VEVENTs, not {args.bookings}")
        feeds.write()
        minimal.start()
        stack.callback(minimal.stop)
        minimal.wait_ready()
        feeds.sync_minimal()
        print(
            f"public feed: {vevents:,} VEVENTs, {len(feeds.body):,} bytes "
            f"({len(feeds.gzipped):,} gzipped); first GET after the worker started (cold render)"
            f" {first * 1000:.0f} ms"
        )
        print(
            f"servers: gunicorn, 1 worker, gthread {args.threads} threads, keep-alive 65 s,"
            " no max-requests; "
            f"client: {args.connections} keep-alive connections, {args.seconds:g} s per "
            f"measurement after 0.5 s warm-up"
        )

        steps = render_steps(db, feeds.body, config)

        requests = {
            "200": (request_bytes(Accept_Encoding="identity"), 200),
            "gzip": (request_bytes(Accept_Encoding="gzip"), 200),
        }
        changed = len(bookings) // 2
        for rep in range(args.repeat):
            for others, into in ((0, updates), (args.connections - 1, polled)):
                update, snapshots[changed] = one_update(
                    db, feeds, bookings[changed], rep, args.repeat, others
                )
                into.append(update)
                feeds.fetch()
            feeds.sync_minimal()
            requests["304"] = (
                request_bytes(Accept_Encoding="gzip", If_None_Match=feeds.etag),
                304,
            )
            expected = {"200": feeds.body, "gzip": feeds.gzipped, "304": None}
            for key, pair in pairs.items():
                raw, status = requests[key]
                order = ("service", "minimal") if rep % 2 == 0 else ("minimal", "service")
                for side in order:
                    server = service if side == "service" else minimal
                    rate = measure_rate(
                        server, raw, status, expected[key], args.seconds, args.connections
                    )
                    getattr(pair, side).append(rate)
            t = time.perf_counter()
            text = render_with_ics(snapshots)
            ics_seconds.append(time.perf_counter() - t)
            if text.count("BEGIN:VEVENT") != args.bookings:
                raise RuntimeError("ics rendered an unexpected number of events")

    outcome = Outcome(backend.name, pairs, updates, polled, ics_seconds)
    report(outcome, steps, args)
    return outcome


def report(outcome: Outcome, steps: list[tuple[str, float]], args) -> None:
    print(f"\n-- requests per second (median of {args.repeat}) --")
    print(
        f"{'':<20} {'service':>9} {'minimal':>9} {'ratio':>6}   {'per rep':<18}"
        f" {'worker CPU/answer':>25}"
    )
    for key, pair in outcome.pairs.items():
        per_rep = " ".join(
            f"{s.per_second / m.per_second:.2f}"
            for s, m in zip(pair.service, pair.minimal, strict=True)
        )
        cpu_s, cpu_m = pair.median("service", "cpu_us"), pair.median("minimal", "cpu_us")
        aim = ""
        if key == "200":
            aim = "  aim >= 0.8: " + ("met" if pair.ratio >= AIM_RATE else "MISSED")
        print(
            f"{pair.label:<20} {pair.median('service'):>9.1f} {pair.median('minimal'):>9.1f}"
            f" {pair.ratio:>6.2f}   {per_rep:<18} {cpu_s:>7.0f} µs vs {cpu_m:>6.0f} µs"
            f" ({cpu_m / cpu_s:.2f}){aim}"
        )
    client = statistics.median(
        r.client_cpu for p in outcome.pairs.values() for r in p.service + p.minimal
    )
    print(f"(client process CPU: median {client:.2f} of one core during the measurements)")

    ics_med = statistics.median(outcome.ics_seconds)
    print(f"\n-- one booking.changed until the feed shows it (median of {args.repeat}) --")
    print(
        f"{'':<8} {'rep':>3} {'apply':>8} {'stale':>8} {'render+get':>11} {'total':>8}"
        f" {'polls':>6} {'ics, all':>9} {'ratio':>6}"
    )
    for label, updates in (("quiet", outcome.updates), ("polled", outcome.polled)):
        for i, (u, ics_s) in enumerate(zip(updates, outcome.ics_seconds, strict=True)):
            print(
                f"{label:<8} {i + 1:>3} {u.apply * 1000:>6.1f}ms {u.stale * 1000:>6.0f}ms"
                f" {u.fetch * 1000:>9.0f}ms {u.total * 1000:>6.0f}ms {u.polls:>6}"
                f" {ics_s * 1000:>7.0f}ms {u.total / ics_s:>6.3f}"
            )

        def med(attr: str, updates: list[Update] = updates) -> float:
            return statistics.median(getattr(u, attr) for u in updates) * 1000

        ratio = med("total") / 1000 / ics_med
        verdict = ""
        if label == "quiet":
            verdict = f"  aim <= {AIM_UPDATE}: " + ("met" if ratio <= AIM_UPDATE else "MISSED")
        print(
            f"{label:<8} {'med':>3} {med('apply'):>6.1f}ms {med('stale'):>6.0f}ms"
            f" {med('fetch'):>9.0f}ms {med('total'):>6.0f}ms {'':>6} {ics_med * 1000:>7.0f}ms"
            f" {ratio:>6.3f}{verdict}"
        )
        without = (med("apply") + med("fetch")) / 1000 / ics_med
        print(f"{label:<8} without the stale wait (apply + render+get): ratio {without:.3f}")
    print(
        "(apply: parse_event + handler, committed. stale: the worker still served the old"
        " feed (it reads the generation at most once per second); quiet: changes placed at"
        " evenly spread phases of that second; polled: while"
        f" {args.connections - 1} more clients poll. render+get: the request that got the"
        f" new feed. polls: 304s before it. ics, all: {args.bookings:,} events built and"
        " serialized with ics alone)"
    )
    print("\n-- FeedCache.render, step by step in this process (median of 3) --")
    for name, seconds in steps:
        print(f"{seconds * 1000:>8.1f} ms  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000, help="(10000)")
    parser.add_argument("--seconds", type=float, default=2.0, help="per rate measurement (2)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians (3)")
    parser.add_argument("--connections", type=int, default=4, help="client connections (4)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn gthread threads (4)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgres", "all"), default="sqlite", help="(sqlite)"
    )
    args = parser.parse_args(argv)
    if min(args.bookings, args.repeat, args.connections, args.threads) < 1 or args.seconds <= 0:
        parser.error("--bookings, --seconds, --repeat, --connections, --threads must be positive")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on ^C
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-feeds-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        for name in ("sqlite", "postgres") if args.backend == "all" else (args.backend,):
            backend = sqlite_backend(root) if name == "sqlite" else postgres_backend()
            if isinstance(backend, str):
                print(f"\n== {name}: skipped: {backend} ==")
                continue
            for cleanup in backend.cleanups:
                stack.callback(cleanup)
            outcomes.append(run_backend(backend, args, root))

    if outcomes:
        print(f"\nsummary (medians of {args.repeat})")
        print(
            f"{'backend':<9} {'200 ratio':>9} {'gzip ratio':>10} {'304 ratio':>9}"
            f" {'update/ics':>10}"
        )
        for o in outcomes:
            print(
                f"{o.backend:<9} {o.pairs['200'].ratio:>9.2f} {o.pairs['gzip'].ratio:>10.2f}"
                f" {o.pairs['304'].ratio:>9.2f} {o.update_ratio:>10.3f}"
            )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    ok = outcomes and all(
        o.pairs["200"].ratio >= AIM_RATE and o.update_ratio <= AIM_UPDATE for o in outcomes
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
