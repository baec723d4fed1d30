"""The reports over 100,000 bookings: computed by the database, not by loading bookings.

Issue 15's aims, per report (events by month, occupancy by week, the heat map of hours,
services by month, decision times by team):

- over 100,000 bookings, the report over all of them answers in at most 0.05 of the time
  it takes to load those bookings into Python objects (the ORM: ``select(Booking)`` with
  its lines and occurrences, as the use cases load a booking);
- the same report (the same period: the days the 1,000 bookings span) on a database of
  100,000 bookings takes at most 10 times as long as on one of 1,000: what a report
  walks is its period (the index of occurrences by start), not the whole table.

How. Two fresh, migrated SQLite databases in a temporary directory, seeded with bulk
INSERTs (SQLAlchemy Core, 5,000 rows a statement): bookings one every 25 minutes from
Monday 6 January 2031 (100,000 span 4.75 years), each on one of ten venues (open weekdays
08-18, one of them always), half with a line of one of four services; 80 % approved, 10 %
pending, 10 % declined; every 50th a weekly series of four dates (one cancelled); some
service lines assigned to staff, others to one of three suppliers, some with hours
delivered. The reports run through the use case (``usecases.reports.report``) as an admin,
as the API's views call it (without the JSON). Trials alternate; the first round warms
caches and is not counted.

    .venv/bin/python bench/reports.py [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import figures  # noqa: E402
from services.booking.commands import ReportQuery  # noqa: E402
from services.booking.persistence.models import (  # noqa: E402
    Booking,
    BookingLine,
    Occurrence,
    Resource,
    Supplier,
    Team,
    Unit,
)
from services.booking.persistence.unit_of_work import Context  # noqa: E402
from services.booking.usecases import reports  # noqa: E402
from services.booking.usecases.users import add_user  # noqa: E402
from shared.auth import Principal  # noqa: E402
from shared.config import Config  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

SMALL, LARGE = 1_000, 100_000
SHARE_OF_LOAD = 0.05  # a report over all 100,000 vs loading them
GROWTH = 10.0  # a report's period on 100,000 vs on 1,000
CHUNK = 5_000
T0 = datetime(2031, 1, 6, 0, 0, tzinfo=UTC)  # a Monday
STEP = timedelta(minutes=25)
VENUES, SERVICES = 10, 4
CATEGORIES = ("seminar", "conference", "public-lecture", "reception", "recording", "other")
REASONS = ("No staff that day", " no staff that day", "Closed for works", "double booked")
OPEN = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
REPORTS = {  # figure name: (report, group)
    "events by month": ("events", "month"),
    "occupancy by week": ("occupancy", "week"),
    "busiest hours": ("occupancy", "hour"),
    "services by month": ("services", "month"),
    "decision times": ("decisions", "team"),
}


def _catalogue(db: Database) -> dict[str, list[str]]:
    """Teams, venues, services, units and suppliers; their ids by kind."""
    ids: dict[str, list[str]] = {"venue": [], "service": [], "supplier": [], "unit": []}
    with db.transaction() as session:
        infra, komm = Team(slug="infra", name="Infra"), Team(slug="komm", name="Komm")
        session.add_all([infra, komm])
        session.flush()
        for n in range(VENUES):
            hours = None if n == 0 else OPEN
            session.add(
                Resource(
                    slug=f"v{n}",
                    name=f"Venue {n}",
                    kind="venue",
                    team_id=infra.id,
                    opening_hours=hours,
                )
            )
        for n in range(SERVICES):
            kind = "studio" if n == 3 else "service"
            session.add(Resource(slug=f"s{n}", name=f"Service {n}", kind=kind, team_id=komm.id))
        for n in range(3):
            session.add(
                Supplier(
                    name=f"Supplier {n}",
                    agreement_ref=f"A{n}",
                    hourly_rate=Decimal(600 + 100 * n),
                    valid_from=date(2030, 1, 1),
                )
            )
        for n in range(10):
            session.add(Unit(slug=f"u{n}", name_sv=f"Enhet {n}", name_en=f"Unit {n}"))
        session.flush()
        for r in session.scalars(select(Resource).order_by(Resource.slug)):
            ids["venue" if r.kind == "venue" else "service"].append(r.id)
        ids["supplier"] = list(session.scalars(select(Supplier.id).order_by(Supplier.name)))
        ids["unit"] = [f"u{n}" for n in range(10)]
    return ids


def _rows(k: int, ids: dict[str, list[str]], organiser_id: str) -> dict[str, list[dict]]:
    """Booking ``k``: its row, its lines and its occurrences."""
    booking_id = str(uuid.uuid4())
    start = T0 + k * STEP
    end = start + timedelta(hours=1 + k % 3)
    created = start - timedelta(days=14)
    state = ("approved",) * 8 + ("pending", "declined")
    line_status = state[k % 10]
    status = {"approved": "approved", "pending": "pending"}.get(line_status, "rejected")
    decided = None if line_status == "pending" else created + timedelta(hours=k % 97)
    reason = REASONS[k % 4] if line_status == "declined" else None
    dates = 4 if k % 50 == 0 else 1
    occurrences = [
        {
            "booking_id": booking_id,
            "n": n + 1,
            "start": start + timedelta(weeks=n),
            "end": end + timedelta(weeks=n),
            "status": "cancelled" if n == 2 else "active",
        }
        for n in range(dates)
    ]
    line = {
        "booking_id": booking_id,
        "status": line_status,
        "decided_at": decided,
        "reason": reason,
        "assignee_kind": None,
        "assignee_email": None,
        "supplier_id": None,
        "hours_delivered": None,
    }
    lines = [{**line, "resource_id": ids["venue"][k % VENUES]}]
    if k % 2 == 0:
        service = {**line, "resource_id": ids["service"][(k // 2) % SERVICES]}
        if k % 4 == 0:
            service |= {"assignee_kind": "staff", "assignee_email": "staff@bench.invalid"}
        else:
            service |= {"assignee_kind": "supplier", "supplier_id": ids["supplier"][k % 3]}
        if k % 8 == 0:
            service["hours_delivered"] = Decimal("1.50")
        lines.append(service)
    booking = {
        "id": booking_id,
        "uid": f"{booking_id}@bench",
        "title": f"Event {k}",
        "description": "",
        "start": start,
        "end": end,
        "timezone": "Europe/Stockholm",
        "rrule": "FREQ=WEEKLY;COUNT=4" if dates > 1 else None,
        "status": status,
        "revision": 1,
        "visibility": "internal",
        "language": "sv",
        "expected_attendees": 10 + k % 90,
        "participants": [],
        "notes": "",
        "organiser_id": organiser_id,
        "reason": None,
        "decided_by": None,
        "created_at": created,
        "updated_at": created,
        "category": CATEGORIES[k % 6],
        "unit": ids["unit"][k % 10],
    }
    return {"bookings": [booking], "lines": lines, "occurrences": occurrences}


def seed(db: Database, size: int, organiser_id: str) -> None:
    ids = _catalogue(db)
    tables = {
        "bookings": Booking.__table__,
        "lines": BookingLine.__table__,
        "occurrences": Occurrence.__table__,
    }
    with db.engine.begin() as conn:
        for lo in range(0, size, CHUNK):
            rows: dict[str, list[dict]] = {name: [] for name in tables}
            for k in range(lo, min(lo + CHUNK, size)):
                for name, found in _rows(k, ids, organiser_id).items():
                    rows[name].extend(found)
            for name, table in tables.items():
                conn.execute(insert(table), rows[name])
        conn.exec_driver_sql("ANALYZE")


class Sized:
    """One database of ``size`` bookings, its use-case context and an admin."""

    def __init__(self, root: Path, size: int) -> None:
        url = f"sqlite:///{root / f'booking-{size}.db'}"
        upgrade("booking", url)
        self.size = size
        self.db = Database(url)
        config = Config(data_dir=root, booking_database_url=url, secret_key="bench")
        self.ctx = Context(db=self.db, config=config, clock=lambda: T0)
        user = add_user(self.db, "admin@bench.invalid", "Admin", "admin")
        self.admin = Principal(user.id, user.email, user.name, user.role)
        organiser = add_user(self.db, "organiser@bench.invalid", "Organiser", "organiser")
        started = time.perf_counter()
        seed(self.db, size, organiser.id)
        self.seeding = time.perf_counter() - started

    def report(self, name: str, group: str, first: date, last: date) -> float:
        query = ReportQuery(first=first, last=last, group=group)
        started = time.perf_counter()
        found = reports.report(self.ctx, self.admin, name, query, "en")
        took = time.perf_counter() - started
        if not found.rows:
            raise SystemExit(f"{name} by {group} over {self.size:,}: no rows")
        return took

    def load(self) -> float:
        """Seconds to load every booking (with its lines and occurrences) as ORM objects."""
        started = time.perf_counter()
        with Session(self.db.engine) as session:
            loaded = session.scalars(select(Booking)).all()
            count = sum(len(b.lines) + len(b.occurrences) for b in loaded)
        took = time.perf_counter() - started
        if len(loaded) != self.size or not count:
            raise SystemExit(f"loaded {len(loaded)} of {self.size} bookings")
        return took


def _median(values: list[float]) -> float:
    return statistics.median(values)


def measure(root: Path, repeat: int) -> list[dict[str, Any]]:
    small, large = Sized(root, SMALL), Sized(root, LARGE)
    print(f"seeded {SMALL:,} in {small.seeding:.1f} s, {LARGE:,} in {large.seeding:.1f} s")
    first = T0.date()
    last_all = (T0 + LARGE * STEP).date()
    last_small = (T0 + SMALL * STEP).date()
    loads, over_all = [], {name: [] for name in REPORTS}
    growth: dict[str, dict[int, list[float]]] = {n: {SMALL: [], LARGE: []} for n in REPORTS}
    for trial in range(repeat + 1):
        took_load = large.load() if trial else 0.0  # the warm-up round does not load
        rounds: dict[str, float] = {}
        for name, (report, group) in REPORTS.items():
            rounds[name] = large.report(report, group, first, last_all)
            for sized in (small, large) if trial % 2 else (large, small):
                took = sized.report(report, group, first, last_small)
                if trial:
                    growth[name][sized.size].append(took)
        if trial:
            loads.append(took_load)
            for name, took in rounds.items():
                over_all[name].append(took)
    load = _median(loads)
    print(f"\nloading {LARGE:,} bookings as ORM objects: {load:.2f} s (median of {repeat})")
    print(f"{'report':<20} {'all 100k s':>10} {'/ load':>8} {'1k s':>8} {'100k s':>8} {'ratio':>6}")
    found = []
    for name in REPORTS:
        shares = [t / load for t in over_all[name]]
        ratios = [b / s for s, b in zip(growth[name][SMALL], growth[name][LARGE], strict=True)]
        print(
            f"{name:<20} {_median(over_all[name]):>10.3f} {_median(shares):>8.4f} "
            f"{_median(growth[name][SMALL]):>8.4f} {_median(growth[name][LARGE]):>8.4f} "
            f"{_median(ratios):>6.2f}"
        )
        found.append(
            figures.figure(
                f"{name}: all {LARGE:,} / loading them",
                "ORM load of the bookings",
                shares,
                f"<= {SHARE_OF_LOAD}",
            )
        )
        found.append(
            figures.figure(
                f"{name}: {LARGE:,} / {SMALL:,}",
                f"the same period over {SMALL:,}",
                ratios,
                f"<= {GROWTH}",
            )
        )
    small.db.dispose()
    large.db.dispose()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repeats; median (3)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be positive")
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-reports-"))
    try:
        found = measure(root, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures.write(args.json, "reports", found)
    short = [f["figure"] for f in found if not figures.holds(f["aim"], f["values"])]
    for name in short:
        print(f"SHORT: {name}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
