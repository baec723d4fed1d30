"""Booking submit with the conflict check: does its rate hold up as a resource fills up?

For each backend this measures, in one run, how many requests per second the
``submit_booking`` use case handles. The use case validates the request, checks for
conflicts inside the transaction, and writes the booking, its slots, its history and the
outbox event. It is measured against two resources: one holding 100,000 bookings and one
holding 1,000. The figure that matters is the ratio large/small. The conflict check
(``services.booking.persistence.sql.SqlSlots.near``) is meant to be an index range scan on
``slots(resource_id, block_start)``, bounded by ``MAX_BLOCK_LENGTH``, so its cost must not
depend on how many bookings the resource holds. The target is a ratio of 0.7 or more.

Setup. Each size gets its own database, migrated with ``shared.migrations.upgrade``. A
table scan would then show in the ratio (in a shared database it would cost both sizes the
same). Each database gets an admin and an organiser (``add_user``) and one venue created
with ``create_resource``: ``requires_approval=False`` (the auto-approve path, the heaviest),
no opening hours, no buffer. The existing bookings are then bulk-inserted with SQLAlchemy
Core (bookings, booking_resources, occurrences, and slots with ``holds=True``), not through
the use case. Each booking is one hour long, one every two hours, half in the past and half
in the future. Both databases hold the same bookings in the measured window (the 1,000
hours after "now"), so both sizes get the same neighbourhood. PostgreSQL gets a
``VACUUM ANALYZE`` after seeding, as autovacuum would soon do. SQLite gets no ``ANALYZE``,
because the application never runs it.

Measured submits. The clock (``Context.clock``) is fixed one hour before the window. Nine
submits in ten ask for a free slot between two existing bookings. Successive submits split
each free hour into equal pieces, so every check finds neighbours but no overlap. The
tenth asks for an existing booking's hour, and the use case refuses it with
``services.booking.domain.SlotTaken``. That request is counted as well; a refusal is a
request served. The run fails if a free slot is refused or a taken one is accepted. The
two sizes are interleaved in batches of 50 (small, large, then large, small, ...) to cancel
machine noise. After ``--repeat`` repeats of ``--n`` submits per size, the script prints
the median rates and their ratio. It also prints the time the conflict query itself takes
per submit, and the plan of the conflict query: ``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, on the statement the use case actually sent.
The script checks that this plan uses an index, not a scan. Finally it checks the rows
written against the plan.

Backends: ``sqlite`` (files in a temporary directory) and ``postgres``. For PostgreSQL the
URL is ``EVENEMANG_BENCH_POSTGRES_URL``, else ``EVENEMANG_TEST_POSTGRES_URL``, else
``postgresql+psycopg://postgres@127.0.0.1:5432/test``. The script creates throw-away
databases (``evbench_booking_*``) and drops them at the end. If PostgreSQL is unreachable,
that backend is skipped and the reason is printed. The exit status is 1 when a measured
ratio is below the target (or nothing could be measured).

    .venv/bin/python bench/booking.py [--n 300] [--backend sqlite|postgres|all] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.figures import figure, write  # noqa: E402
from services.booking.commands import CreateResource, SubmitBooking  # noqa: E402
from services.booking.domain import MAX_BLOCK_LENGTH, SlotTaken  # noqa: E402
from services.booking.persistence.models import (  # noqa: E402
    Booking,
    BookingLine,
    Occurrence,
    OutboxMessage,
    Slot,
)
from services.booking.persistence.unit_of_work import Context  # noqa: E402
from services.booking.usecases.availability import busy_blocks  # noqa: E402
from services.booking.usecases.bookings import submit_booking  # noqa: E402
from services.booking.usecases.resources import create_resource  # noqa: E402
from services.booking.usecases.users import add_user  # noqa: E402
from shared.auth import Principal  # noqa: E402
from shared.config import Config  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.events import Kind, Person  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

POSTGRES_URL = (
    os.environ.get("EVENEMANG_BENCH_POSTGRES_URL")
    or os.environ.get("EVENEMANG_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

SMALL, LARGE = 1_000, 100_000
TARGET = 0.7
WEEK_TARGET = 0.8  # issue 13: a resource's week page, 100,000 bookings vs 1,000
WEEK_PAGES = 100  # week pages per size per repeat, in batches of BATCH // 2
WEEK = timedelta(days=7)
BATCH = 50  # submits per batch; the two sizes alternate batch by batch
WARMUP = 20  # submits per size before measuring (caches, prepared statements)
TAKEN_EVERY = 10  # every 10th submit asks for a taken slot
CHUNK = 5_000  # rows per bulk INSERT

# Existing bookings: one hour long, one every two hours; booking k starts at T0 + k * STRIDE.
# The measured submits fill the free hours after bookings 0, 1, 2, ... (the window).
T0 = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)
STRIDE = timedelta(hours=2)
LENGTH = timedelta(hours=1)
WINDOW = SMALL // 2  # free hours after "now" that both databases hold identically
NOW = T0 - timedelta(hours=1)  # the fixed clock: every measured slot is in the future
SEEDED_AT = datetime(2024, 1, 1, tzinfo=UTC)  # made in the past of the wall clock, as in use
# (the limits per person count what an organiser made in the last real hour)

CONFLICT_SQL = ("FROM slots JOIN bookings", "block_start")  # how to spot find_conflicts' query
# The other statements whose plans are shown: the week page's range, the limits per person.
WATCHED = {
    "week page": ("FROM slots JOIN bookings", "ORDER BY slots.start"),
    "made in the last hour": ("bookings.organiser_id", "bookings.created_at >"),
    "pending now": ("count(bookings.id)", "bookings.organiser_id"),
}
INDEX_OF = {
    "conflict check": "ix_slots_resource_start",
    "week page": "ix_slots_resource_start",
    "made in the last hour": "ix_bookings_organiser_created",
    "pending now": "ix_bookings_organiser_",  # (organiser, status) or (organiser, created_at)
}


def seeded_interval(k: int) -> tuple[datetime, datetime]:
    start = T0 + k * STRIDE
    return start, start + LENGTH


# -- the requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    start: datetime
    end: datetime
    taken: bool  # expected to be refused with SlotTaken


def plan_requests(count: int) -> list[Request]:
    """``count`` requests: free pieces of the free hours in the window, in order, with every
    TAKEN_EVERY-th one asking instead for the existing booking before the current free hour."""
    n_taken = count // TAKEN_EVERY
    pieces_per_gap = math.ceil((count - n_taken) / WINDOW)
    piece = (STRIDE - LENGTH) / pieces_per_gap
    if piece < timedelta(minutes=1):
        raise SystemExit(f"--n too large: {count} submits do not fit the {WINDOW}-hour window")
    requests: list[Request] = []
    free = 0
    for i in range(count):
        gap, j = divmod(free, pieces_per_gap)
        if (i + 1) % TAKEN_EVERY == 0:
            start, _ = seeded_interval(gap)
            requests.append(Request(start + timedelta(minutes=15), start + LENGTH / 2, True))
            continue
        start = seeded_interval(gap)[1] + j * piece
        requests.append(Request(start, start + piece, False))
        free += 1
    return requests


# -- one database per size ---------------------------------------------------------------


@dataclass
class Sized:
    """One database holding one venue with ``size`` existing bookings."""

    size: int
    url: str
    db: Database
    ctx: Context
    organiser: Principal
    resource_id: str
    seconds_seeding: float
    requests: Iterator[Request]
    succeeded: int = 0
    refused: int = 0
    measuring: bool = False
    conflict_seconds: float = 0.0
    conflict_queries: int = 0
    conflict_statement: tuple[str, object] | None = None
    seen: dict[str, tuple[str, object]] = field(default_factory=dict)  # WATCHED statements

    def submit(self, request: Request, i: int) -> None:
        cmd = SubmitBooking(
            title=f"Seminar {i}",
            description="Measured by bench/booking.py",
            resource_ids=(self.resource_id,),
            start=request.start,
            end=request.end,
            expected_attendees=40,
            participants=(Person("guest@bench.invalid", "Guest Speaker"),),
        )
        try:
            submit_booking(self.ctx, self.organiser, cmd)
        except SlotTaken:
            if not request.taken:
                raise RuntimeError(f"free slot {request} refused (size {self.size})") from None
            self.refused += 1
            return
        if request.taken:
            raise RuntimeError(f"taken slot {request} accepted (size {self.size})")
        self.succeeded += 1

    def weeks(self, count: int, first: int) -> float:
        """Seconds for ``count`` week pages' reads (``busy_blocks``, what the page asks), of
        weeks starting on the days after T0 in turn: the same weeks for both sizes."""
        t = time.perf_counter()
        for i in range(first, first + count):
            start = T0 + timedelta(days=i % 30)
            blocks = busy_blocks(self.ctx, self.organiser, self.resource_id, start, start + WEEK)
            if not blocks:
                raise RuntimeError(f"an empty week from {start} (size {self.size})")
        return time.perf_counter() - t

    def run(self, count: int, first: int) -> float:
        """Seconds for the next ``count`` submits."""
        batch = [next(self.requests) for _ in range(count)]
        t = time.perf_counter()
        for i, request in enumerate(batch, first):
            self.submit(request, i)
        return time.perf_counter() - t


def _instrument(sized: Sized) -> None:
    """Time the conflict query (execute only) and keep one statement for EXPLAIN."""

    @event.listens_for(sized.db.engine, "before_cursor_execute")
    def _before(conn, _cursor, statement, parameters, _context, _many) -> None:
        for name, marks in WATCHED.items():
            if all(s in statement for s in marks):
                sized.seen[name] = (statement, parameters)
        if all(s in statement for s in CONFLICT_SQL) and "ORDER BY slots.start" not in statement:
            conn.info["bench_t"] = time.perf_counter()
            if sized.measuring:
                sized.conflict_statement = (statement, parameters)

    @event.listens_for(sized.db.engine, "after_cursor_execute")
    def _after(conn, _cursor, _statement, _parameters, _context, _many) -> None:
        t = conn.info.pop("bench_t", None)
        if t is not None and sized.measuring:
            sized.conflict_seconds += time.perf_counter() - t
            sized.conflict_queries += 1


def _rows(resource_id: str, organiser_id: str, ks: range) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {"bookings": [], "links": [], "occurrences": [], "slots": []}
    for k in ks:
        booking_id = str(uuid.uuid4())
        start, end = seeded_interval(k)
        rows["bookings"].append(
            {
                "id": booking_id,
                "uid": f"{booking_id}@evenemang",
                "title": f"Existing booking {k}",
                "description": "",
                "start": start,
                "end": end,
                "timezone": "Europe/Stockholm",
                "rrule": None,
                "status": "approved",
                "revision": 1,
                "visibility": "internal",
                "language": "sv",
                "expected_attendees": 30,
                "participants": [],
                "notes": "",
                "organiser_id": organiser_id,
                "reason": None,
                "decided_by": "automatic",
                "created_at": SEEDED_AT,
                "updated_at": SEEDED_AT,
            }
        )
        rows["links"].append(
            {"booking_id": booking_id, "resource_id": resource_id, "status": "approved"}
        )
        rows["occurrences"].append(
            {"booking_id": booking_id, "n": 0, "start": start, "end": end, "status": "active"}
        )
        rows["slots"].append(
            {
                "booking_id": booking_id,
                "occurrence_n": 0,
                "resource_id": resource_id,
                "start": start,
                "end": end,
                "block_start": start,
                "block_end": end,
                "holds": True,
                "pending": False,
            }
        )
    return rows


def seed(db: Database, size: int, resource_id: str, organiser_id: str) -> None:
    """``size`` approved one-hour bookings, half before T0 and half from T0 on."""
    ks = range(-(size // 2), size - size // 2)
    tables = {
        "bookings": Booking.__table__,
        "links": BookingLine.__table__,
        "occurrences": Occurrence.__table__,
        "slots": Slot.__table__,
    }
    with db.engine.begin() as conn:
        for lo in range(ks.start, ks.stop, CHUNK):
            rows = _rows(resource_id, organiser_id, range(lo, min(lo + CHUNK, ks.stop)))
            for name, table in tables.items():
                conn.execute(insert(table), rows[name])
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("bookings", "booking_resources", "occurrences", "slots"):
                conn.execute(text(f"VACUUM ANALYZE {table}"))


def prepare(url: str, size: int, requests: list[Request], data_dir: Path) -> Sized:
    upgrade("booking", url)
    db = Database(url)
    config = Config(
        data_dir=data_dir,
        booking_database_url=url,
        secret_key="bench",
        # one organiser makes every request: the limits per person are not what is measured
        max_bookings_per_hour=0,
        max_pending_bookings=0,
    )
    ctx = Context(db=db, config=config, clock=lambda: NOW)
    users = {}
    for role in ("admin", "organiser"):
        user = add_user(db, f"{role}@bench.invalid", role.title(), role)
        users[role] = Principal(user.id, user.email, user.name, user.role)
    resource = create_resource(
        ctx,
        users["admin"],
        CreateResource(
            name="Stora salen",
            kind=Kind.VENUE,
            capacity=200,
            location="Hus A",
            requires_approval=False,
            managers=("manager@bench.invalid",),
        ),
    )
    t = time.perf_counter()
    seed(db, size, resource.id, users["organiser"].user_id)
    sized = Sized(
        size=size,
        url=url,
        db=db,
        ctx=ctx,
        organiser=users["organiser"],
        resource_id=resource.id,
        seconds_seeding=time.perf_counter() - t,
        requests=iter(requests),
    )
    _instrument(sized)
    return sized


# -- checks and the query plan -----------------------------------------------------------


def check_rows(sized: Sized) -> str:
    """The rows written match the plan: every accepted submit added one booking, one holding
    slot and one outbox event; no refused one left anything behind."""
    with sized.db.transaction(readonly=True) as session:

        def count(model, *where) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where))

        bookings = count(Booking)
        slots = count(Slot, Slot.resource_id == sized.resource_id, Slot.holds.is_(True))
        outbox = count(OutboxMessage, OutboxMessage.event_type == "booking.approved")
    expected = sized.size + sized.succeeded
    if (bookings, slots, outbox) != (expected, expected, sized.succeeded):
        raise RuntimeError(
            f"size {sized.size}: {bookings} bookings, {slots} holding slots, "
            f"{outbox} booking.approved events; expected {expected}, {expected}, "
            f"{sized.succeeded}"
        )
    return f"{bookings:,} bookings, {slots:,} holding slots, {outbox:,} booking.approved events"


def range_width(sized: Sized, request: Request) -> int:
    """Index entries the conflict check's range scan walks for ``request``."""
    with sized.db.transaction(readonly=True) as session:
        return session.scalar(
            select(func.count())
            .select_from(Slot)
            .where(
                Slot.resource_id == sized.resource_id,
                Slot.block_start >= request.start - MAX_BLOCK_LENGTH,
                Slot.block_start < request.end,
            )
        )


def week_width(sized: Sized, start: datetime) -> tuple[int, int]:
    """Index entries the week page's range walks for the week from ``start``, and the
    bookings it returns: the lower bound (longest block) keeps the walk short."""
    with sized.db.transaction(readonly=True) as session:
        walked = session.scalar(
            select(func.count())
            .select_from(Slot)
            .where(
                Slot.resource_id == sized.resource_id,
                Slot.block_start >= start - MAX_BLOCK_LENGTH,
                Slot.block_start < start + WEEK,
            )
        )
    return walked, len(
        busy_blocks(sized.ctx, sized.organiser, sized.resource_id, start, start + WEEK)
    )


def explain(sized: Sized, name: str = "conflict check") -> tuple[list[str], bool]:
    """The plan of a query as the use case sent it, and whether it searches the index it
    is meant to (:data:`INDEX_OF`) instead of scanning its table."""
    seen = sized.conflict_statement if name == "conflict check" else sized.seen.get(name)
    if seen is None:
        raise RuntimeError(f"the {name} query was never seen")
    statement, parameters = seen
    table = "slots" if "slots" in INDEX_OF[name] else "bookings"
    engine = sized.db.engine.execution_options(sqlite_begin="DEFERRED")
    with engine.connect() as conn:
        if sized.db.dialect == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            depth = {0: -1}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            plan = "\n".join(lines)
            scans = f"SCAN {table}" in plan or INDEX_OF[name] not in plan
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).all()
            conn.rollback()
            lines = [r[0] for r in rows]
            plan = "\n".join(lines)
            scans = f"Seq Scan on {table}" in plan or "Index" not in plan
    return lines, not scans


# -- backends ----------------------------------------------------------------------------


def reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        return f"{host}:{port} not reachable ({exc.strerror or exc})"
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip, and say why
        return f"cannot connect to {make_url(url).render_as_string()}: {exc}".splitlines()[0]
    return None


@dataclass
class Backend:
    name: str
    label: str
    new_url: Callable[[str], str]  # size label -> URL of a fresh, empty database
    cleanups: list[Callable[[], None]] = field(default_factory=list)


def sqlite_backend(root: Path) -> Backend:
    import sqlite3

    return Backend(
        "sqlite",
        f"SQLite {sqlite3.sqlite_version}, files in {root}",
        lambda label: f"sqlite:///{root / f'booking-{label}.db'}",
    )


def postgres_backend() -> Backend | str:
    reason = reachable(POSTGRES_URL)
    if reason:
        return reason
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
    created: list[str] = []

    def new_url(label: str) -> str:
        name = f"evbench_booking_{label}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all() -> None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    host = make_url(POSTGRES_URL).set(password=None).render_as_string()
    return Backend("postgres", f"PostgreSQL {version} at {host}", new_url, [drop_all])


# -- the run -----------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    small: float
    large: float
    ratios: list[float]  # submits, large/small, per repeat
    week_ratios: list[float]  # week pages, large/small, per repeat

    @property
    def ratio(self) -> float:
        return self.large / self.small

    @property
    def week_ratio(self) -> float:
        return statistics.median(self.week_ratios)

    def figures(self) -> list[dict]:
        return [
            figure(
                f"submit with the conflict check, 100,000 bookings ({self.backend})",
                f"1,000 bookings: {self.small:.0f} submits/s",
                self.ratios,
                f">= {TARGET}",
            ),
            figure(
                f"a resource's week page, 100,000 bookings ({self.backend})",
                "1,000 bookings",
                self.week_ratios,
                f">= {WEEK_TARGET}",
            ),
        ]

    @property
    def holds(self) -> bool:
        return self.ratio >= TARGET and self.week_ratio >= WEEK_TARGET


def measure(backend: Backend, n: int, repeat: int, data_dir: Path) -> Result:
    print(f"\n== {backend.name}: {backend.label} ==")
    requests = plan_requests(WARMUP + n * repeat)
    # The warm-up takes the first requests; each repeat then gets the same mix.
    warmup_refused = sum(r.taken for r in requests[:WARMUP])
    sized: dict[int, Sized] = {}
    try:
        for size in (SMALL, LARGE):
            sized[size] = prepare(backend.new_url(f"{size}"), size, requests, data_dir)
            s = sized[size]
            print(f"seeded {size:>7,} bookings in {s.seconds_seeding:5.1f} s")
        small, large = sized[SMALL], sized[LARGE]
        for s in (small, large):
            s.run(WARMUP, 0)
        for s in (small, large):
            s.weeks(WARMUP, 0)
        rates: dict[int, list[float]] = {SMALL: [], LARGE: []}
        week_rates: dict[int, list[float]] = {SMALL: [], LARGE: []}
        per_repeat_refused = []
        print(f"{'repeat':>6}  {'1,000 bookings':>16}  {'100,000 bookings':>16}  {'ratio':>6}")
        for r in range(repeat):
            seconds = {SMALL: 0.0, LARGE: 0.0}
            refused_before = large.refused
            done = 0
            b = 0
            while done < n:
                count = min(BATCH, n - done)
                order = (small, large) if b % 2 == 0 else (large, small)
                for s in order:
                    s.measuring = True
                    seconds[s.size] += s.run(count, WARMUP + r * n + done)
                    s.measuring = False
                done += count
                b += 1
            per_repeat_refused.append(large.refused - refused_before)
            week_seconds = {SMALL: 0.0, LARGE: 0.0}
            for b, first in enumerate(range(0, WEEK_PAGES, BATCH // 2)):
                count = min(BATCH // 2, WEEK_PAGES - first)
                for s in (small, large) if b % 2 == 0 else (large, small):
                    week_seconds[s.size] += s.weeks(count, first)
            for size in (SMALL, LARGE):
                rates[size].append(n / seconds[size])
                week_rates[size].append(WEEK_PAGES / week_seconds[size])
            print(
                f"{r + 1:>6}  {rates[SMALL][-1]:>10.1f} req/s  {rates[LARGE][-1]:>10.1f} req/s  "
                f"{rates[LARGE][-1] / rates[SMALL][-1]:>6.2f}   week pages "
                f"{week_rates[SMALL][-1]:.0f} / {week_rates[LARGE][-1]:.0f} per s, "
                f"{week_rates[LARGE][-1] / week_rates[SMALL][-1]:.2f}"
            )
        ratios = [lg / sm for sm, lg in zip(rates[SMALL], rates[LARGE], strict=True)]
        result = Result(
            backend.name,
            statistics.median(rates[SMALL]),
            statistics.median(rates[LARGE]),
            ratios,
            [lg / sm for sm, lg in zip(week_rates[SMALL], week_rates[LARGE], strict=True)],
        )
        print(
            f"{'median':>6}  {result.small:>10.1f} req/s  {result.large:>10.1f} req/s  "
            f"{result.ratio:>6.2f}"
        )
        print(
            f"ratio of the medians {result.ratio:.2f}; median of the per-repeat ratios "
            f"{statistics.median(ratios):.2f}"
        )
        print(
            f"refused with SlotTaken: {per_repeat_refused} of {n} per repeat "
            f"(+{warmup_refused} in the warm-up), as planned"
        )
        for s in (small, large):
            per_submit = 1000 / statistics.median(rates[s.size])
            query_ms = 1000 * s.conflict_seconds / max(s.conflict_queries, 1)
            print(
                f"conflict query, {s.size:>7,} bookings: {query_ms:.3f} ms (execute) of "
                f"{per_submit:.2f} ms per submit; range scan walks "
                f"{range_width(s, requests[WARMUP]):,} index entries "
                f"(lookback {MAX_BLOCK_LENGTH.days} days)"
            )
        for s in (small, large):
            walked, returned = week_width(s, T0)
            print(
                f"week page, {s.size:>7,} bookings: the range walks {walked:,} index entries "
                f"to return {returned} bookings"
            )
        kind = "EXPLAIN QUERY PLAN" if backend.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS)"
        for name in ("conflict check", *WATCHED):
            lines, indexed = explain(large, name)
            print(f"{kind} of the {name} query ({LARGE:,} bookings):")
            for line in lines:
                print(f"    {line}")
            print(f"uses {INDEX_OF[name]}* (no table scan): {'yes' if indexed else 'NO'}")
        for s in (small, large):
            print(f"rows check, {s.size:>7,}: {check_rows(s)}")
        verdict = "OK" if result.ratio >= TARGET else "BELOW TARGET"
        print(f"ratio 100,000/1,000: {result.ratio:.2f} (target >= {TARGET}): {verdict}")
        verdict = "OK" if result.week_ratio >= WEEK_TARGET else "BELOW TARGET"
        print(
            f"week page 100,000/1,000: {result.week_ratio:.2f} (target >= {WEEK_TARGET}): {verdict}"
        )
        return result
    finally:
        for s in sized.values():
            s.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="submits per size per repeat (300)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgres", "all"), default="all", help="(all)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repeats; median (3)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be positive")

    started = time.perf_counter()
    results: list[Result] = []
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-booking-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        names = ("sqlite", "postgres") if args.backend == "all" else (args.backend,)
        for name in names:
            if name == "sqlite":
                backend: Backend | str = sqlite_backend(root / "sqlite")
                (root / "sqlite").mkdir()
            else:
                backend = postgres_backend()
            if isinstance(backend, str):
                print(f"\n== {name}: skipped: {backend} ==")
                continue
            for cleanup in backend.cleanups:
                stack.callback(cleanup)
            results.append(measure(backend, args.n, args.repeat, root))

    if results:
        print(f"\nsummary (median of {args.repeat}, {args.n} submits per size per repeat)")
        print(f"{'backend':<9} {'1,000':>12} {'100,000':>12} {'ratio':>6} {'week page':>9}")
        for res in results:
            print(
                f"{res.backend:<9} {res.small:>8.1f} r/s {res.large:>8.1f} r/s {res.ratio:>6.2f} "
                f"{res.week_ratio:>9.2f}"
            )
    write(args.json, "booking", [f for res in results for f in res.figures()])
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0 if results and all(r.holds for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
