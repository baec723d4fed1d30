"""Logged-in requests while anonymous clients guess passwords: the median latency of a
logged-in request with 8 guessing clients hammering ``POST /login``, against the same
request without them, measured in the same run (aim: a ratio of 2 or less).

Setup. Booking's database is migrated with ``shared.migrations.upgrade`` and holds one
member (``add_user``, with a password); booking runs under gunicorn as in bench/feeds.py
(``gthread``, ``--threads`` threads, keep-alive 65 s, no ``max_requests``, on a free
loopback port) with as many worker processes as deploy/gunicorn.conf.py starts on this
machine (``2 × cores + 1``, at most 8; ``--workers``), and ``EVENEMANG_PROXY_HOPS=1``, so
each guesser can come from an address of its own through ``X-Forwarded-For`` (as behind
the deploy/ nginx). The member logs in once through ``POST /api/v1/session`` and keeps the
session cookie.

Measured. One client thread in this process sends ``GET /api/v1/me`` with the member's
session cookie over one keep-alive connection, one request after the other, for
``--seconds`` after a 0.5 s warm-up, and keeps each latency (every answer must be 200 with
the member's address). The guessers are 8 threads in a child process (so their CPU does not
share this process's interpreter lock with the measuring thread), each with its own
keep-alive connection: it loads the login page once for a cookie and the form's token, as
a browser would (every page's POST must carry them), then sends form posts to ``/login`` as
fast as the answers come, never waiting for Retry-After:

* ``alone``: no guessers (the baseline).
* ``guessers``: each guesser has one address of its own and tries passwords for the
  member's account and for made-up accounts in turn. After 5 failures its address (and the
  member's account) must wait, so nearly every answer is an early 429.
* ``anonymous`` (for comparison, no aim): the same 8 clients sending the cheapest request
  there is, ``GET /api/v1/me`` without credentials (401 at once). No guess can cost the
  server less than this, so it is the floor of what 8 hammering clients do to the member.
* ``rotating`` (printed for information, no aim): every guess comes from a new address for
  a new made-up account, so the throttle never applies and every guess costs one argon2
  check: what a large botnet could do. It shows what is left once the count cannot help.

The phases alternate (in the order above, then in reverse order, ...) for
``--repeat`` repetitions; the figures are medians of the repetitions' medians. The ratio is
guessers/alone of the p50. The guessers' answers are counted by status (401, 429; anything
else fails the run), and the gunicorn workers' CPU time per phase is read from ``/proc``.

Backends: ``sqlite`` (a file in a temporary directory, the default) and ``postgres``
(``EVENEMANG_BENCH_POSTGRES_URL``, else ``EVENEMANG_TEST_POSTGRES_URL``, else the local
``test`` database; a throw-away ``evbench_login_*`` database, dropped at the end; skipped
with the reason printed when unreachable). The exit status is 1 when the aim is missed.

    .venv/bin/python bench/login.py [--seconds 4] [--repeat 3] [--guessers 8] [--threads 4]
                                    [--workers N] [--backend sqlite|postgres|all]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench.feeds import (  # noqa: E402
    Backend,
    Connection,
    Server,
    postgres_backend,
    sqlite_backend,
    worker_cpu,
)
from bench.figures import figure, write  # noqa: E402

AIM = 2.0
WARMUP = 0.5
MEMBER = ("member@bench.invalid", "a long and correct passphrase")
MEMBER_ADDRESS = "192.0.2.10"
PHASES = ("alone", "guessers", "anonymous", "rotating")
COOKIE_RE = re.compile(rb"\r\nset-cookie:[ \t]*(evenemang_session=[^;\r\n]*)", re.IGNORECASE)
TOKEN_RE = re.compile(rb'name="csrf_token" value="([^"]+)"')


def request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: evbench-login"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


ANONYMOUS = request("GET", "/api/v1/me", X_Forwarded_For="203.0.113.9")  # 401, nothing else


def form_token(conn: Connection) -> tuple[str, str]:
    """A session cookie and its form token from the login page (a page's POST must carry
    them, a guesser's too: it loads the page once and keeps both)."""
    status, head, body = conn.send(request("GET", "/login"))
    cookie = COOKIE_RE.search(head)
    token = TOKEN_RE.search(body)
    if status != 200 or cookie is None or token is None:
        raise RuntimeError(f"the login page answered {status} without a form token")
    return cookie.group(1).decode(), token.group(1).decode()


def guess(email: str, password: str, address: str, cookie: str, token: str) -> bytes:
    form = urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    return request(
        "POST",
        "/login",
        form,
        Content_Type="application/x-www-form-urlencoded",
        Cookie=cookie,
        X_Forwarded_For=address,
    )


# -- the guessers (a child process) -----------------------------------------------------------


def guessers(port: int, count: int, mode: str, seconds: float, results) -> None:
    """``count`` threads guessing until ``seconds`` have passed; the answers by status."""
    until = time.perf_counter() + seconds
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        conn, seen, n = Connection(port), Counter(), 0
        try:
            cookie, token = form_token(conn)
            while time.perf_counter() < until:
                n += 1
                if mode == "anonymous":
                    status, _head, _body = conn.send(ANONYMOUS)
                    seen[status] += 1
                    continue
                if mode == "rotating":
                    address = f"10.{i}.{n // 250 % 250}.{n % 250 + 1}"
                    email = f"nobody-{i}-{n}@bench.invalid"
                else:
                    address = f"198.51.100.{i + 1}"
                    email = MEMBER[0] if n % 2 else f"staff{n % 50}@bench.invalid"
                raw = guess(email, f"guess {n}", address, cookie, token)
                status, _head, _body = conn.send(raw)
                seen[status] += 1
        finally:
            conn.close()
            with lock:
                statuses.update(seen)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(statuses))


# -- the logged-in client -------------------------------------------------------------------


def log_in(port: int) -> str:
    """The member's session cookie (``name=value``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"email": MEMBER[0], "password": MEMBER[1]})
    headers = {"Content-Type": "application/json", "X-Forwarded-For": MEMBER_ADDRESS}
    conn.request("POST", "/api/v1/session", body, headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        raise RuntimeError(f"the member could not log in: {answer.status}")
    cookie = answer.getheader("Set-Cookie", "").split(";", 1)[0]
    conn.close()
    if not cookie.startswith("evenemang_session="):
        raise RuntimeError(f"no session cookie: {cookie!r}")
    return cookie


def latencies(port: int, cookie: str, seconds: float) -> list[float]:
    """Seconds per logged-in ``GET /api/v1/me``, one after the other."""
    raw = request("GET", "/api/v1/me", Cookie=cookie, X_Forwarded_For=MEMBER_ADDRESS)
    conn, found = Connection(port), []
    start = time.perf_counter()
    try:
        while (now := time.perf_counter()) < start + WARMUP + seconds:
            status, _head, body = conn.send(raw)
            took = time.perf_counter() - now
            if status != 200 or MEMBER[0].encode() not in body:
                raise RuntimeError(f"GET /api/v1/me answered {status}: {body[:200]!r}")
            if now >= start + WARMUP:
                found.append(took)
    finally:
        conn.close()
    return found


def workers_cpu(server: Server) -> float:
    return sum(worker_cpu(pid) for pid in server.worker_pids)


@dataclass
class Phase:
    p50: list[float] = field(default_factory=list)
    p90: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the workers' CPU, in cores
    guesses: Counter = field(default_factory=Counter)

    @property
    def median_p50(self) -> float:
        return statistics.median(self.p50)


def measure(server: Server, cookie: str, mode: str, args) -> tuple[list[float], dict, float]:
    """The member's latencies while ``mode`` runs, the guessers' answers, worker CPU share."""
    results = multiprocessing.get_context("fork").Queue()
    child = None
    if mode != "alone":
        child = multiprocessing.get_context("fork").Process(
            target=guessers,
            args=(server.port, args.guessers, mode, WARMUP * 2 + args.seconds + 0.5, results),
        )
        child.start()
        time.sleep(WARMUP)  # the guessers are at it before the first measured request
    cpu, wall = workers_cpu(server), time.perf_counter()
    found = latencies(server.port, cookie, args.seconds)
    share = (workers_cpu(server) - cpu) / (time.perf_counter() - wall)
    statuses: dict = {}
    if child is not None:
        statuses = results.get(timeout=60)
        child.join(timeout=60)
        if child.exitcode != 0:
            raise RuntimeError(f"the guessers' process ended with {child.exitcode}")
        unexpected = set(statuses) - {401, 429}
        if unexpected:
            raise RuntimeError(f"guesses answered {sorted(unexpected)}: {statuses}")
    return found, statuses, share


def run_backend(backend: Backend, args, root: Path) -> dict[str, Phase]:
    from services.booking.usecases.users import add_user
    from shared.config import Config
    from shared.db import Database
    from shared.migrations import upgrade

    print(f"\n== {backend.name}: {backend.label} ==")
    data_dir = root / f"data-{backend.name}"
    data_dir.mkdir()
    config = Config(
        data_dir=data_dir,
        booking_database_url=backend.url,
        secret_key="bench",
        proxy_hops=1,
        testing=False,
    ).with_defaults()
    upgrade("booking", backend.url)
    db = Database(backend.url)
    try:
        add_user(db, MEMBER[0], "Member", "organiser", MEMBER[1])
    finally:
        db.dispose()
    phases = {name: Phase() for name in PHASES}
    with ExitStack() as stack:
        env = {k: v for k, v in config.to_env().items() if k != "EVENEMANG_EXTRA"}
        server = Server(
            "booking", "services.booking:create_app()", env, root, args.threads, args.workers
        )
        server.start()
        stack.callback(server.stop)
        server.wait_ready()
        cookie = log_in(server.port)
        print(
            f"server: gunicorn, {args.workers} workers, gthread {args.threads} threads, "
            f"keep-alive 65 s; "
            f"{args.guessers} guessers in a child process; the member's GET /api/v1/me "
            f"one after the other for {args.seconds:g} s after {WARMUP} s"
        )
        for rep in range(args.repeat):
            for mode in PHASES if rep % 2 == 0 else tuple(reversed(PHASES)):
                found, statuses, share = measure(server, cookie, mode, args)
                phase = phases[mode]
                ordered = sorted(found)
                phase.p50.append(statistics.median(ordered))
                phase.p90.append(ordered[int(0.9 * (len(ordered) - 1))])
                phase.requests.append(len(found))
                phase.cpu.append(share)
                phase.guesses.update(statuses)
                time.sleep(0.5)
    report(phases, args)
    return phases


def report(phases: dict[str, Phase], args) -> None:
    alone = phases["alone"].median_p50
    print(f"\n-- GET /api/v1/me with a session (medians of {args.repeat}) --")
    print(
        f"{'':<10} {'p50 ms':>7} {'p90 ms':>7} {'ratio':>6}  {'per rep':<16} {'requests':>8}"
        f" {'server CPU':>11}  guesses answered"
    )
    for name, phase in phases.items():
        per_rep = " ".join(
            f"{p / a:.2f}" for p, a in zip(phase.p50, phases["alone"].p50, strict=True)
        )
        answered = ", ".join(f"{n} × {s}" for s, n in sorted(phase.guesses.items())) or "-"
        print(
            f"{name:<10} {phase.median_p50 * 1000:>7.2f}"
            f" {statistics.median(phase.p90) * 1000:>7.2f} {phase.median_p50 / alone:>6.2f}"
            f"  {per_rep:<16} {statistics.median(phase.requests):>8.0f}"
            f" {statistics.median(phase.cpu):>5.2f} cores  {answered}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per phase (4)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians (3)")
    parser.add_argument("--guessers", type=int, default=8, help="guessing clients (8)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn gthread threads (4)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn processes (deploy/gunicorn.conf.py's default)"
    )

    parser.add_argument(
        "--backend", choices=("sqlite", "postgres", "all"), default="sqlite", help="(sqlite)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures there")
    args = parser.parse_args(argv)
    if args.workers is None:  # as deploy/gunicorn.conf.py: 2 × cores + 1, at most 8
        args.workers = min(2 * len(os.sched_getaffinity(0)) + 1, 8)
    if min(args.repeat, args.guessers, args.threads, args.workers) < 1 or args.seconds <= 0:
        parser.error("--seconds, --repeat, --guessers, --threads, --workers must be positive")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on ^C
    started = time.perf_counter()
    outcomes: dict[str, dict[str, Phase]] = {}
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-login-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        for name in ("sqlite", "postgres") if args.backend == "all" else (args.backend,):
            if name == "sqlite":
                backend = sqlite_backend(root, "booking")
            else:
                backend = postgres_backend("evbench_login")
            if isinstance(backend, str):
                print(f"\n== {name}: skipped: {backend} ==")
                continue
            for cleanup in backend.cleanups:
                stack.callback(cleanup)
            outcomes[name] = run_backend(backend, args, root)

    if outcomes:
        print(f"\nsummary: p50 with {args.guessers} guessers / alone (aim <= {AIM:g})")
        for name, phases in outcomes.items():
            alone = phases["alone"].median_p50
            print(
                f"{name:<9} guessers {phases['guessers'].median_p50 / alone:.2f}"
                f"   (8 anonymous 401s: {phases['anonymous'].median_p50 / alone:.2f};"
                f" rotating addresses: {phases['rotating'].median_p50 / alone:.2f})"
            )
    write(
        args.json,
        "login",
        [
            figure(
                f"GET /api/v1/me p50 with {args.guessers} guessers ({name})",
                f"alone: p50 {phases['alone'].median_p50 * 1000:.2f} ms",
                [g / a for g, a in zip(phases["guessers"].p50, phases["alone"].p50, strict=True)],
                f"<= {AIM:g}",
            )
            for name, phases in outcomes.items()
        ],
    )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    ok = outcomes and all(
        p["guessers"].median_p50 / p["alone"].median_p50 <= AIM for p in outcomes.values()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
