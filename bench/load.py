"""Submit + approve under load: pairs per second through the HTTP API, 1, 4 and 16 clients.

Issue 13's figures: pairs/s at 16 clients vs 1 client (aim >= 1.0: more clients must not
slow the suite down; the p95 of a pair at 16 clients < 0.5 s), and pairs/s at 4 clients
against ``GET /api/v1/me`` req/s at 4 clients, a token check and nothing else (aim >= 0.1:
a pair, two writes, costs at most ten of the cheapest authenticated request).

How. For each backend booking runs under gunicorn as deploy/ runs it (gthread, 4 threads,
keep-alive 65 s, ``2 x cores + 1`` workers, at most 8), on a port of 18400-18499, with a
fresh database: a SQLite file in a temporary directory or a throw-away PostgreSQL database
(``evbench_load_*``, dropped at the end). Sixteen organisers (one per client) and one infra
user have bearer tokens; sixteen venues that need approval are created through the API.
A client is a thread with one keep-alive connection that, until the phase ends, submits a
one-hour booking of its own venue (``POST /api/v1/bookings``, 201 pending) and approves it as
infra (``POST /api/v1/bookings/{id}/approve``, 200 approved); each pair an hour after the
client's previous one, so none collides. Every answer is checked. The clients run in a
child process, so their CPU does not share the measuring process's interpreter lock.

Phases: 1, 4 and 16 clients making pairs and 4 clients sending ``GET /api/v1/me``, each for
``--seconds`` after a 0.5 s warm-up, in order and reversed over ``--repeat`` repetitions.
The figures are the ratios of each repetition (min / median / max), HOLDS or SHORT on the
median. The outbox relay does not run: what is measured is the request path.

    .venv/bin/python bench/load.py [--backend sqlite|postgres|all] [--seconds 4] [--repeat 3]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
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
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench.feeds import (  # noqa: E402
    Backend,
    Connection,
    Server,
    postgres_backend,
    sqlite_backend,
)
from bench.figures import figure, write  # noqa: E402

PORTS = range(18400, 18500)  # this benchmark's own loopback ports
CLIENTS = (1, 4, 16)
ME_CLIENTS = 4
WARMUP = 0.5
AIM_SCALE, AIM_P95, AIM_ME, AIM_VISIBLE = 1.0, 0.5, 0.1, 0.3
FIRST = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def free_port() -> int:
    """A free loopback port of :data:`PORTS`."""
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class LoadServer(Server):
    """feeds.py's gunicorn server, on a port of this benchmark's range."""

    def start(self) -> None:
        self.port = free_port()
        with open(self.logs / f"{self.name}.log", "wb") as out:
            self.process = subprocess.Popen(
                self.argv(),
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as one
            )


def request(method: str, path: str, token: str, body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "User-Agent: evbench-load",
        f"Authorization: Bearer {token}",
    ]
    if method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + data


def expect(conn: Connection, raw: bytes, status: int) -> dict:
    got, _head, body = conn.send(raw)
    if got != status:
        raise RuntimeError(f"expected {status}, got {got}: {body[:300]!r}")
    return json.loads(body) if body else {}


@dataclass(frozen=True)
class Setup:
    port: int
    infra: str
    organisers: list[str]  # tokens, one per client
    resources: list[str]  # venue ids, one per client
    approved: dict | None = None  # title mark -> when its approve was answered (visible)
    sink: str = ""  # evenemang up's mail sink (visible)


FEED = "/calendar/feeds/public.ics"
MARK = re.compile(rb"Approved: Load (L\d+x\d+y)")
POLL = 0.02  # the watcher's pause between looks at the feed and the sink


def watch(setup: Setup, until: float, out: dict[str, dict[str, float]]) -> None:
    """Until ``until``: look at the public feed and the mail sink, and note for each
    approved booking how long after its approve it appeared in each."""
    assert setup.approved is not None
    conn, read = Connection(setup.port), set()
    feed, mail = out["feed"], out["mail"]
    try:
        while time.perf_counter() < until:
            status, _head, body = conn.send(request("GET", FEED, setup.infra))
            now = time.perf_counter()
            if status != 200:
                raise RuntimeError(f"{FEED} answered {status}")
            for mark, at in list(setup.approved.items()):
                if mark not in feed and mark.encode() in body:
                    feed[mark] = now - at
            names = os.listdir(setup.sink) if os.path.isdir(setup.sink) else ()
            for name in sorted(set(names) - read):
                if name.startswith("."):  # a mail being written (renamed in place when done)
                    continue
                read.add(name)
                text = (Path(setup.sink) / name).read_bytes()
                for found in MARK.findall(text):
                    mark = found.decode()
                    if mark in setup.approved and mark not in mail:
                        mail[mark] = now - setup.approved[mark]
            time.sleep(POLL)
    finally:
        conn.close()


def pairs(setup: Setup, i: int, first: int, until: float, start: float, out: list) -> int:
    """Client ``i``: submit + approve until ``until``; latencies of pairs begun after
    ``start`` (the warm-up's are not counted). The number of its next pair."""
    conn, n = Connection(setup.port), first
    try:
        while (now := time.perf_counter()) < until:
            begin = FIRST + timedelta(hours=n)
            mark = f"L{i}x{n}y"  # unique in the feed and in a mail's subject
            body = {
                "title": f"Load {mark}",
                "visibility": "public",
                "language": "en",  # the approval's subject in ASCII: "Approved: <title>"
                "start": begin.isoformat(),
                "end": (begin + timedelta(hours=1)).isoformat(),
                "resource_ids": [setup.resources[i]],
                "expected_attendees": 20,
            }
            made = expect(conn, request("POST", "/api/v1/bookings", setup.organisers[i], body), 201)
            if made["status"] != "pending":
                raise RuntimeError(f"submitted as {made['status']}, not pending")
            path = f"/api/v1/bookings/{made['id']}/approve"
            done = expect(conn, request("POST", path, setup.infra, {}), 200)
            if done["status"] != "approved":
                raise RuntimeError(f"approved as {done['status']}")
            if setup.approved is not None and now >= start:
                setup.approved[mark] = time.perf_counter()
            n += 1
            if now >= start:
                out.append(time.perf_counter() - now)
    finally:
        conn.close()
    return n


def me(setup: Setup, i: int, first: int, until: float, start: float, out: list) -> int:
    """Client ``i``: ``GET /api/v1/me`` with a bearer token until ``until``."""
    conn = Connection(setup.port)
    raw = request("GET", "/api/v1/me", setup.organisers[i])
    try:
        while (now := time.perf_counter()) < until:
            expect(conn, raw, 200)
            if now >= start:
                out.append(time.perf_counter() - now)
    finally:
        conn.close()
    return first


def clients(setup: Setup, mode: str, count: int, firsts: list[int], seconds: float, results):
    """A child process: ``count`` client threads; their latencies, after the warm-up."""
    start = time.perf_counter() + WARMUP
    until = start + seconds
    found: list[list[float]] = [[] for _ in range(count)]
    errors: list[str] = []
    work = pairs if mode == "pairs" else me
    nexts = list(firsts)
    seen: dict[str, dict[str, float]] = {"feed": {}, "mail": {}}
    watcher = None
    if setup.approved is not None:  # what a watcher sees until 20 s after the clients stop

        def watching() -> None:
            try:
                watch(setup, until + 20, seen)
            except Exception as exc:  # reported to the parent, which fails the run
                errors.append(f"watcher: {exc!r}")

        watcher = threading.Thread(target=watching)
        watcher.start()

    def run(i: int) -> None:
        try:
            nexts[i] = work(setup, i, firsts[i], until, start, found[i])
        except Exception as exc:  # reported to the parent, which fails the run
            errors.append(f"client {i}: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if watcher is not None:
        watcher.join()
        seen["approved"] = dict(setup.approved)
    results.put((errors, found, nexts, seen))


@dataclass
class Phase:
    rates: list[float] = field(default_factory=list)  # per second, per repetition
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)


def measure(setup: Setup, mode: str, count: int, firsts: list[int], seconds: float, warm=False):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=clients, args=(setup, mode, count, firsts, seconds, results))
    child.start()
    errors, found, nexts, seen = results.get(timeout=seconds + 120)
    child.join(timeout=30)
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    firsts[:] = nexts  # each client's next pair an hour after its last one
    latencies = sorted(t for per in found for t in per)
    if warm:
        return 0.0, 0.0, 0.0, ""
    if setup.approved is not None:
        return seen
    if not latencies:
        raise RuntimeError(f"{mode} with {count} clients: nothing done in {seconds} s")
    done = sorted(len(per) for per in found)  # how evenly the clients were served
    return (
        len(latencies) / seconds,
        statistics.median(latencies),
        latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        f"{done[0]}-{done[-1]}" if count > 1 else "",
    )


def prepare(backend: Backend, root: Path) -> tuple[dict[str, str], list[str], str, str]:
    """Migrate, add the users with tokens; the server's environment, the organisers' tokens,
    infra's and admin's tokens."""
    from services.booking.usecases.users import add_user, create_token
    from shared.config import Config
    from shared.db import Database
    from shared.migrations import upgrade

    data_dir = root / f"data-{backend.name}"
    data_dir.mkdir()
    config = Config(
        data_dir=data_dir,
        booking_database_url=backend.url,
        secret_key="bench",
        testing=False,
        # a client submits more than a person may: the limits per person are not measured
        max_bookings_per_hour=0,
        max_pending_bookings=0,
    ).with_defaults()
    upgrade("booking", backend.url)
    db = Database(backend.url)
    try:
        tokens = {}
        people = [(f"organiser{i}@bench.invalid", "organiser") for i in range(max(CLIENTS))]
        for email, role in [
            *people,
            ("infra@bench.invalid", "infra"),
            ("admin@x.invalid", "admin"),
        ]:
            add_user(db, email, email.split("@")[0].title(), role)
            tokens[email] = create_token(db, config.secret_key, email)
    finally:
        db.dispose()
    env = {k: v for k, v in config.to_env().items() if k != "EVENEMANG_EXTRA"}
    organisers = [tokens[email] for email, _ in people]
    return env, organisers, tokens["infra@bench.invalid"], tokens["admin@x.invalid"]


def run_backend(backend: Backend, args, root: Path) -> dict[tuple[str, int], Phase]:
    print(f"\n== {backend.name}: {backend.label} ==", flush=True)
    env, organisers, infra, admin = prepare(backend, root)
    phases: dict[tuple[str, int], Phase] = {}
    with ExitStack() as stack:
        server = LoadServer("booking", "services.booking:create_app()", env, root, 4, args.workers)
        server.start()
        stack.callback(server.stop)
        server.wait_ready()
        conn = Connection(server.port)
        resources = []
        for i in range(max(CLIENTS)):
            body = {"name": f"Sal {i}", "kind": "venue", "capacity": 80, "max_advance_days": 3650}
            resources.append(expect(conn, request("POST", "/api/v1/resources", admin, body), 201))
        conn.close()
        setup = Setup(server.port, infra, organisers, [r["id"] for r in resources])
        print(
            f"gunicorn on 127.0.0.1:{server.port}: {args.workers} workers, gthread 4 threads; "
            f"{args.seconds:g} s per phase after {WARMUP} s; clients in a child process",
            flush=True,
        )
        order = [("pairs", n) for n in CLIENTS] + [("me", ME_CLIENTS)]
        firsts = [0] * max(CLIENTS)
        measure(setup, "pairs", max(CLIENTS), firsts, 2.0, warm=True)  # every worker connected
        print(f"{'rep':>3} {'phase':<14} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8}  per client")
        for rep in range(args.repeat):
            for mode, count in order if rep % 2 == 0 else reversed(order):
                rate, p50, p95, spread = measure(setup, mode, count, firsts, args.seconds)
                phase = phases.setdefault((mode, count), Phase())
                phase.rates.append(rate)
                phase.p50.append(p50)
                phase.p95.append(p95)
                label = f"{mode} x {count}"
                print(
                    f"{rep + 1:>3} {label:<14} {rate:>8.1f} {p50 * 1e3:>8.1f} {p95 * 1e3:>8.1f}"
                    f"  {spread}"
                )
    return phases


def figures_of(name: str, phases: dict[tuple[str, int], Phase]) -> list[dict]:
    one, many, four = phases[("pairs", 1)], phases[("pairs", 16)], phases[("pairs", 4)]
    me_rates = phases[("me", ME_CLIENTS)].rates
    return [
        figure(
            f"submit+approve pairs/s, 16 clients ({name})",
            f"1 client: {statistics.median(one.rates):.1f} pairs/s",
            [m / o for m, o in zip(many.rates, one.rates, strict=True)],
            f">= {AIM_SCALE}",
        ),
        figure(
            f"p95 of a pair at 16 clients, s ({name})",
            f"1 client: p95 {statistics.median(one.p95):.3f} s",
            many.p95,
            f"< {AIM_P95}",
        ),
        figure(
            f"pairs/s at 4 clients ({name})",
            f"GET /api/v1/me at 4 clients: {statistics.median(me_rates):.0f} req/s",
            [p / m for p, m in zip(four.rates, me_rates, strict=True)],
            f">= {AIM_ME}",
        ),
    ]


def run_visible(args, root: Path) -> list[dict]:
    """Approve -> visible: ``evenemang up`` on the embedded defaults (relay, consumers,
    sender as its worker processes, mail to the sink), 16 clients making public pairs, a
    watcher reading the public feed and the sink; seconds from the approve's answer."""
    from services.booking.usecases.users import add_user, create_token
    from shared.config import Config
    from shared.db import Database
    from shared.migrations import upgrade
    from tests.support.suite import evenemang_up, wait_healthy

    print("\n== visible: evenemang up, embedded ==", flush=True)
    data_dir = root / "data-up"
    data_dir.mkdir()
    config = Config(
        data_dir=data_dir, max_bookings_per_hour=0, max_pending_bookings=0
    ).with_defaults()
    config = config.ensure_secret_key()
    url = config.database_url("booking")
    upgrade("booking", url)
    db = Database(url)
    try:
        tokens = {}
        people = [f"organiser{i}@bench.invalid" for i in range(max(CLIENTS))]
        for email, role in [*((e, "organiser") for e in people), ("infra@x.invalid", "infra"),
                            ("admin@x.invalid", "admin")]:  # fmt: skip
            add_user(db, email, email.split("@")[0].title(), role)
            tokens[email] = create_token(db, config.secret_key, email)
    finally:
        db.dispose()
    feed, mail, missing = [], [], []
    with evenemang_up(config, root, port=free_port()) as suite:
        wait_healthy(suite, timeout=60)
        port = int(suite.url.rsplit(":", 1)[1])
        conn = Connection(port)
        venues = []
        for i in range(max(CLIENTS)):
            body = {"name": f"Sal {i}", "kind": "venue", "capacity": 80, "max_advance_days": 3650}
            made = expect(
                conn, request("POST", "/api/v1/resources", tokens["admin@x.invalid"], body), 201
            )
            venues.append(made["id"])
        conn.close()
        setup = Setup(port, tokens["infra@x.invalid"], [tokens[e] for e in people], venues)
        firsts = [0] * max(CLIENTS)
        measure(setup, "pairs", max(CLIENTS), firsts, 2.0, warm=True)
        for rep in range(args.repeat):
            watched = replace(setup, approved={}, sink=str(data_dir / "mail"))
            seen = measure(watched, "pairs", max(CLIENTS), firsts, args.seconds)
            approved = seen["approved"]
            feed.append(statistics.median(seen["feed"].values() or [math.inf]))
            mail.append(statistics.median(seen["mail"].values() or [math.inf]))
            missing.append((len(approved) - len(seen["feed"]), len(approved) - len(seen["mail"])))
            print(
                f"{rep + 1:>3} {len(approved)} approved: in the feed p50 {feed[-1]:.3f} s, "
                f"mail in the sink p50 {mail[-1]:.3f} s; not seen in 20 s: {missing[-1]}",
                flush=True,
            )
    return [
        figure(
            "approve -> in the public feed, p50 at 16 clients, s (embedded)",
            f"evenemang up; the watcher looks every {POLL * 1000:.0f} ms",
            feed,
            f"< {AIM_VISIBLE}",
        ),
        figure(
            "approve -> mail in the sink, p50 at 16 clients, s (embedded)",
            f"evenemang up; the watcher looks every {POLL * 1000:.0f} ms",
            mail,
            f"< {AIM_VISIBLE}",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    from bench.figures import holds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--seconds", type=float, default=4.0, help="per phase (4)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians (3)")
    parser.add_argument("--workers", type=int, help="gunicorn processes (as deploy/)")
    parser.add_argument(
        "--visible", choices=("yes", "no", "only"), default="yes", help="approve -> visible (yes)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures there")
    args = parser.parse_args(argv)
    if args.workers is None:  # as deploy/gunicorn.conf.py: 2 x cores + 1, at most 8
        args.workers = min(2 * len(os.sched_getaffinity(0)) + 1, 8)
    if min(args.repeat, args.workers) < 1 or args.seconds <= 0:
        parser.error("--seconds, --repeat and --workers must be positive")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on ^C
    started = time.perf_counter()
    found: list[dict] = []
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-load-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        names = ("sqlite", "postgres") if args.backend == "all" else (args.backend,)
        for name in names if args.visible != "only" else ():
            backend = sqlite_backend(root, "booking") if name == "sqlite" else None
            backend = backend or postgres_backend("evbench_load")
            if isinstance(backend, str):
                print(f"\n== {name}: skipped: {backend} ==")
                continue
            for cleanup in backend.cleanups:
                stack.callback(cleanup)
            found += figures_of(name, run_backend(backend, args, root))
        if args.visible != "no":
            found += run_visible(args, root)

    print(f"\n{'figure':<44} {'baseline':<38} {'min / median / max':>20}  aim")
    for f in found:
        values = f["values"]
        spread = " / ".join(
            f"{v:.3g}" for v in (min(values), statistics.median(values), max(values))
        )
        verdict = "HOLDS" if holds(f["aim"], values) else "SHORT"
        print(f"{f['figure']:<44} {f['baseline']:<38} {spread:>20}  {f['aim']} {verdict}")
    write(args.json, "load", found)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0 if found and all(holds(f["aim"], f["values"]) for f in found) else 1


if __name__ == "__main__":
    sys.exit(main())
