"""Notify: mails per second from booking event to accepted by a loopback SMTP server, as a
ratio of plain ``smtplib`` sending the same messages to the same server in the same run.

Pipeline. ``--events`` ``booking.approved`` envelopes (distinct bookings, each with
``--participants`` participants, so each event calls for 1 + participants mails: the
organiser's confirmation and one iMIP invitation per participant) go through notify's own
code: ``parse_event`` and ``make_handler(db)`` (the inbox, the read model, planning and
composing every mail, inserting the delivery log rows), one event per transaction as the
worker's consumer does (``single``) or in batches of 100 (``batch``, ``handler.batch``).
A sender thread (the worker's ``mail_sender`` round repeated, batch 50, polling every
10 ms, its SMTP connection kept from round to round) claims, sends over SMTP and records
the outcomes at the same time, as in the notify worker. The clock starts before the first
event is handed to the handler and stops when the server has accepted the last mail
(``sendmail`` returned without a refusal). Afterwards every delivery row must be ``sent``.

Baseline. The exact bytes the pipeline sent (read back from the delivery log), sent with
one ``smtplib.SMTP`` connection, ``sendmail`` per message to its recipient, from connecting
to ``quit``.

The SMTP server is aiosmtpd in its own process on a free loopback port (it accepts and
discards), so it does not share the GIL with what is measured. Trials are interleaved
(baseline, pipeline, then pipeline, baseline, ...) because the machine is shared; every
pipeline trial gets a fresh notify database (a copy of a migrated template). Each pair of
trials gives a ratio (pipeline mails/s over smtplib's); the figure is their min / median /
max (aim >= 0.6), the mails/s shown are medians of ``--repeat``. ``--json PATH`` also
writes them as ``{"bench": "notify", "figures": [...]}`` for ``make bench``.

Backends: ``sqlite`` (a file in a temporary directory) and ``postgres``
(``EVENEMANG_BENCH_POSTGRES_URL``, else ``EVENEMANG_TEST_POSTGRES_URL``, else
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; throw-away ``evbench_notify_*``
databases, dropped at the end; skipped with the reason printed when unreachable).

    .venv/bin/python bench/notify.py [--events 200] [--participants 4] [--repeat 3]
                                     [--backend sqlite|postgres|all] [--mode single|batch|both]
                                     [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from services.notify.entrypoints.consumer import make_handler  # noqa: E402
from services.notify.entrypoints.worker import mail_sender, repeat  # noqa: E402
from services.notify.persistence.models import Delivery  # noqa: E402
from services.notify.settings import MailSettings, SenderSettings  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.events import BOOKING_APPROVED, parse_event  # noqa: E402
from shared.mail import SmtpConnection, parse_smtp_url  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from tests.factories import envelope  # noqa: E402

POSTGRES_URL = (
    os.environ.get("EVENEMANG_BENCH_POSTGRES_URL")
    or os.environ.get("EVENEMANG_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MAIL_FROM = "noreply@evenemang.example"
BATCH = 100
AIM = ">= 0.6"

SERVER = r"""
import sys, time
from aiosmtpd.controller import Controller

class Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Accept(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[str]:
    """aiosmtpd in a child process; yields its ``smtp://`` URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            raise RuntimeError("the SMTP server did not start")
        yield f"smtp://127.0.0.1:{port}?timeout=30"
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def make_events(count: int, participants: int) -> list[dict]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    events = []
    for k in range(count):
        people = [
            {"email": f"guest{k}.{i}@example.org", "name": f"Guest {k}.{i}"}
            for i in range(participants)
        ]
        when = start + timedelta(hours=k)
        events.append(
            envelope(
                BOOKING_APPROVED,
                status="approved",
                revision=2,
                title=f"Seminar {k}",
                start=when,
                end=when + timedelta(hours=2),
                occurrences=[
                    {
                        "n": 0,
                        "start": when.isoformat(),
                        "end": (when + timedelta(hours=2)).isoformat(),
                        "status": "active",
                    }
                ],
                participants=people,
                language="en" if k % 2 else "sv",
                organiser={"email": f"organiser{k % 7}@example.org", "name": "Olga Organiser"},
            )
        )
    return events


# --- databases ---------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    fresh: Callable[[], str]  # a new migrated database's URL
    cleanup: Callable[[], None]


def sqlite_backend(root: Path) -> Backend:
    template = root / "template.db"
    upgrade("notify", f"sqlite:///{template}")

    def fresh() -> str:
        path = root / f"notify-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"

    return Backend("sqlite", fresh, lambda: None)


def postgres_backend() -> Backend | str:
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        shown = make_url(POSTGRES_URL).render_as_string()
        return f"cannot use {shown}: {exc}".splitlines()[0]
    created: list[str] = []

    def create(template: str | None = None) -> str:
        name = f"evbench_notify_{uuid.uuid4().hex[:8]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    template_url = create()
    upgrade("notify", template_url)
    template_name = make_url(template_url).database

    def cleanup() -> None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Backend("postgres", lambda: create(template_name), cleanup)


# --- trials ------------------------------------------------------------------------------------


class TrialFailed(RuntimeError):
    pass


class Counting:
    """An SMTP connection that counts the mails the server accepted."""

    accepted = 0
    lock = threading.Lock()
    done = threading.Event()
    target = 0

    def __init__(self, url: str) -> None:
        self.inner = SmtpConnection(parse_smtp_url(url))

    def __enter__(self) -> Counting:
        self.inner.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def alive(self) -> bool:
        return self.inner.alive()

    def send(self, sender: str, recipients: list[str], data: bytes):
        refused = self.inner.send(sender, recipients, data)
        if not refused:
            with Counting.lock:
                Counting.accepted += 1
                if Counting.accepted >= Counting.target:
                    Counting.done.set()
        return refused


def pipeline_trial(
    url: str, smtp_url: str, events: list[dict], mode: str, expected: int, timeout: float
) -> float:
    consumer_db, sender_db = Database(url), Database(url)
    settings = MailSettings(mail_from=f"Evenemang <{MAIL_FROM}>", infra_team=())
    handler = make_handler(consumer_db, settings)
    sender_settings = SenderSettings(
        smtp_url, Path(tempfile.gettempdir()), MAIL_FROM, interval=0.01
    )
    sender = mail_sender(sender_db, sender_settings, connect=lambda: Counting(smtp_url))
    Counting.accepted, Counting.target = 0, expected
    Counting.done.clear()
    stop = threading.Event()
    thread = threading.Thread(
        target=repeat, args=(stop, sender, sender_settings.interval, "sender"), daemon=True
    )
    thread.start()
    try:
        started = time.perf_counter()
        if mode == "single":
            for body in events:
                handler(parse_event(body))
        else:
            for i in range(0, len(events), BATCH):
                handler.batch([parse_event(body) for body in events[i : i + BATCH]])
        if not Counting.done.wait(timeout):
            raise TrialFailed(f"{Counting.accepted} of {expected} mails within {timeout}s")
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        thread.join(30)
        sender.close()
    with sender_db.transaction(readonly=True) as session:
        statuses = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
    consumer_db.dispose()
    sender_db.dispose()
    if statuses != {"sent": expected}:
        raise TrialFailed(f"delivery log after the trial: {statuses}")
    return elapsed


def sent_messages(url: str) -> list[tuple[str, bytes]]:
    db = Database(url)
    try:
        with db.transaction(readonly=True) as session:
            return list(
                session.execute(
                    select(Delivery.recipient, Delivery.message).order_by(Delivery.id)
                ).all()
            )
    finally:
        db.dispose()


def smtplib_trial(smtp_url: str, messages: list[tuple[str, bytes]]) -> float:
    settings = parse_smtp_url(smtp_url)
    started = time.perf_counter()
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    smtp.ehlo()
    for recipient, data in messages:
        if smtp.sendmail(MAIL_FROM, [recipient], data):
            raise TrialFailed(f"the server refused {recipient}")
    smtp.quit()
    return time.perf_counter() - started


def breakdown(url: str, smtp_url: str, events: list[dict], expected: int) -> tuple[float, float]:
    """The two halves one after the other on a fresh database: the consumer alone (events
    to queued rows), then the sender alone (queued rows to accepted mail); seconds each."""
    db = Database(url)
    handler = make_handler(db, MailSettings(mail_from=f"Evenemang <{MAIL_FROM}>"))
    started = time.perf_counter()
    for body in events:
        handler(parse_event(body))
    consumer = time.perf_counter() - started
    sender = mail_sender(
        db, SenderSettings(smtp_url, Path(tempfile.gettempdir()), MAIL_FROM, interval=0.01)
    )
    started, claimed = time.perf_counter(), 0
    while batch := sender():
        claimed += batch
    sending = time.perf_counter() - started
    sender.close()
    db.dispose()
    if claimed != expected:
        raise TrialFailed(f"the sender claimed {claimed} of {expected}")
    return consumer, sending


@dataclass
class Result:
    mode: str
    mails: int
    pipeline: list[float]
    baseline: list[float]
    halves: tuple[float, float] = (0.0, 0.0)  # mails/s: consumer alone, sender alone

    def rate(self, seconds: list[float]) -> float:
        return self.mails / statistics.median(seconds)

    @property
    def ratios(self) -> list[float]:
        """Each interleaved pair's ratio: pipeline mails/s over smtplib's."""
        return [b / p for p, b in zip(self.pipeline, self.baseline, strict=True)]


def run_backend(backend: Backend, args: argparse.Namespace, modes: list[str]) -> list[Result]:
    events = make_events(args.events, args.participants)
    expected = args.events * (1 + args.participants)
    results = []
    with smtp_server() as smtp_url:
        warm = backend.fresh()  # untimed: gives the exact bytes the baseline sends
        pipeline_trial(warm, smtp_url, events, "single", expected, args.timeout)
        messages = sent_messages(warm)
        assert len(messages) == expected
        for mode in modes:
            result = Result(mode, expected, [], [])
            for rep in range(args.repeat):
                order = ("baseline", "pipeline") if rep % 2 == 0 else ("pipeline", "baseline")
                for which in order:
                    if which == "baseline":
                        result.baseline.append(smtplib_trial(smtp_url, messages))
                    else:
                        url = backend.fresh()
                        result.pipeline.append(
                            pipeline_trial(url, smtp_url, events, mode, expected, args.timeout)
                        )
            results.append(result)
        consumer, sending = breakdown(backend.fresh(), smtp_url, events, expected)
        results[0].halves = (expected / consumer, expected / sending)
    return results


def report(backend: Backend, args: argparse.Namespace, results: list[Result]) -> None:
    print(
        f"\n{backend.name}: {args.events} approved events x (organiser + {args.participants} "
        f"participants) = {results[0].mails} mails, median of {args.repeat}"
    )
    for result in results:
        pipeline, baseline = result.rate(result.pipeline), result.rate(result.baseline)
        ratios = sorted(result.ratios)
        print(
            f"  consumer {result.mode:<6}  pipeline {pipeline:7.1f} mails/s   smtplib "
            f"{baseline:7.1f} mails/s   ratio min/median/max {ratios[0]:.2f} / "
            f"{statistics.median(ratios):.2f} / {ratios[-1]:.2f} (aim {AIM})"
        )
    consumer, sender = results[0].halves
    print(
        f"  one after the other: consumer alone {consumer:7.1f} mails/s "
        f"({1000 / consumer:.2f} ms/mail), sender alone {sender:7.1f} mails/s"
    )


def figures(backend: Backend, results: list[Result]) -> list[dict]:
    """The ``--json`` rows: one figure per backend and consumer mode."""
    return [
        {
            "figure": f"notify: event -> accepted by a loopback SMTP server ({backend.name}, "
            f"consumer {result.mode})",
            "baseline": "plain smtplib, one connection, the same messages to the same server",
            "values": [round(ratio, 4) for ratio in result.ratios],
            "aim": AIM,
        }
        for result in results
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--participants", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--mode", choices=("single", "batch", "both"), default="both")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    modes = ["single", "batch"] if args.mode == "both" else [args.mode]
    root = Path(tempfile.mkdtemp(prefix="evbench-notify-"))
    try:
        backends: list[Backend] = []
        if args.backend in ("sqlite", "all"):
            backends.append(sqlite_backend(root))
        if args.backend in ("postgres", "all"):
            pg = postgres_backend()
            if isinstance(pg, str):
                print(f"postgres: skipped ({pg})")
            else:
                backends.append(pg)
        for backend in backends:
            try:
                results = run_backend(backend, args, modes)
                report(backend, args, results)
                rows += figures(backend, results)
            finally:
                backend.cleanup()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": "notify", "figures": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
