"""The free/busy grid page: does it stay as fast with 100,000 bookings as with 1,000?

One run, SQLite files in a temporary directory, two databases migrated with
``shared.migrations.upgrade``: each holds an admin, an organiser who made every booking, a
second organiser who reads the grid (so the private titles are hidden, the privacy rule
at work), and 20 venues (``create_resource``). The bookings are bulk-inserted with
``bench/booking.py``'s rows (one hour long, two hours apart per resource; bookings,
lines, dates and slots): the measured week holds the same 420 in both databases (21 per
venue, every other one pending), and the rest (580, or 99,580) lie before and after it,
half each side, right up to the week, so the larger database's range scans walk the 15
days of look-back the conflict rule needs.

Measured: ``GET /grid?week=...`` through the booking app's Flask test client, logged in
(session cookie, CSRF login as a browser does): the whole page, the navigation's queries
and the rendering of 20 × 105 cells included. The sizes alternate in batches of 10 pages
(small, large, then large, small) after a warm-up; the figure is pages per second with
100,000 bookings over those with 1,000, per repeat, median of ``--repeat`` (aim ≥ 0.7).
Each page is checked to show the week's bookings (one "Booked" label per approved one).

    .venv/bin/python bench/grid.py [--pages 60] [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.booking import NOW, T0, _rows  # noqa: E402
from bench.figures import figure, write  # noqa: E402
from services.booking import create_app  # noqa: E402
from services.booking.commands import CreateResource  # noqa: E402
from services.booking.domain.grid import FIRST_HOUR, LAST_HOUR  # noqa: E402
from services.booking.persistence.models import Booking, BookingLine, Occurrence, Slot  # noqa: E402
from services.booking.usecases.resources import create_resource  # noqa: E402
from services.booking.usecases.users import add_user  # noqa: E402
from shared.auth import Principal  # noqa: E402
from shared.config import Config  # noqa: E402
from shared.events import Kind  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from shared.timezones import DEFAULT_ZONE as ZONE  # noqa: E402

SMALL, LARGE = 1_000, 100_000
TARGET = 0.7
VENUES = 20
WEEK_STRIDE = 4  # in the week, a booking every 4th two-hour step: 21 a venue
WEEK_STEPS = 84  # two-hour steps in a week from T0
BEFORE = 5  # steps before T0 to the week's start (T0 is Monday 09:00 in Stockholm)
BATCH = 10
WARMUP = 5
PASSWORD = "bench password 1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
WEEK_PAGE = f"/grid?week={T0.isocalendar()[0]}-W{T0.isocalendar()[1]:02d}"


def week_ks() -> list[int]:
    return list(range(0, WEEK_STEPS, WEEK_STRIDE))


def fill_ks(size: int) -> tuple[range, range]:
    """The steps of one venue's bookings outside the week: before it and after it."""
    rest = (size - VENUES * len(week_ks())) // VENUES
    before = rest // 2
    return range(-BEFORE - before + 1, -BEFORE + 1), range(WEEK_STEPS, WEEK_STEPS + rest - before)


def seed(app, size: int, venues: list[str], organiser_id: str) -> int:
    """``size`` bookings; every other one of the week pending. Returns the week's approved."""
    tables = {
        "bookings": Booking.__table__,
        "links": BookingLine.__table__,
        "occurrences": Occurrence.__table__,
        "slots": Slot.__table__,
    }
    db = app.extensions["evenemang"]["db"]
    approved = 0
    with db.engine.begin() as conn:
        for venue in venues:
            before, after = fill_ks(size)
            for ks, week in ((before, False), (week_ks(), True), (after, False)):
                rows = _rows(venue, organiser_id, ks)
                if week:
                    for n in range(1, len(ks), 2):  # every other one waits for a decision
                        rows["bookings"][n]["status"] = "pending"
                        rows["links"][n]["status"] = "pending"
                        rows["slots"][n].update(holds=False, pending=True)
                    approved += sum(
                        _shown(rows["bookings"][n]["start"]) for n in range(0, len(ks), 2)
                    )
                for name, table in tables.items():
                    conn.execute(insert(table), rows[name])
    return approved


def _shown(start) -> bool:
    """Whether the grid shows a cell for a booking starting then (07:00 to 22:00)."""
    return FIRST_HOUR <= start.astimezone(ZONE).hour < LAST_HOUR


@dataclass
class Sized:
    size: int
    client: FlaskClient
    approved: int
    app: object

    def pages(self, count: int) -> float:
        """Seconds for ``count`` grid pages (each checked)."""
        t = time.perf_counter()
        for _ in range(count):
            page = self.client.get(WEEK_PAGE)
            body = page.get_data(as_text=True)
            if (
                page.status_code != 200
                or body.count('class="fb-c fb-busy fb-run-') != self.approved
            ):
                raise RuntimeError(f"size {self.size}: the grid page is not what was seeded")
        return time.perf_counter() - t


def prepare(root: Path, size: int) -> Sized:
    url = f"sqlite:///{root / f'booking-{size}.db'}"
    upgrade("booking", url)
    data_dir = root / f"var-{size}"
    data_dir.mkdir()
    config = Config(data_dir=data_dir, booking_database_url=url, secret_key="bench")
    app = create_app(config)
    ctx = app.extensions["booking_context"]
    ctx.clock = lambda: NOW
    db = app.extensions["evenemang"]["db"]
    admin = add_user(db, "admin@bench.invalid", "Admin", "admin")
    organiser = add_user(db, "organiser@bench.invalid", "Organiser", "organiser")
    add_user(db, "reader@bench.invalid", "Reader", "organiser", PASSWORD)
    who = Principal(admin.id, admin.email, admin.name, admin.role)
    venues = [
        create_resource(ctx, who, CreateResource(name=f"Hall {n:02}", kind=Kind.VENUE)).id
        for n in range(VENUES)
    ]
    t = time.perf_counter()
    approved = seed(app, size, venues, organiser.id)
    print(f"seeded {size:>7,} bookings on {VENUES} venues in {time.perf_counter() - t:5.1f} s")
    client = app.test_client()
    client.set_cookie("evenemang_lang", "en")
    found = TOKEN.search(client.get("/login").get_data(as_text=True))
    assert found, "no login form"
    form = {"csrf_token": found.group(1), "email": "reader@bench.invalid", "password": PASSWORD}
    if client.post("/login", data=form).status_code != 302:
        raise RuntimeError("the bench's reader could not log in")
    return Sized(size, client, approved, app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60, help="pages per size per repeat (60)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats; median (3)")
    parser.add_argument("--json", metavar="PATH", help="also write the figure there")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.repeat < 1:
        parser.error("--pages and --repeat must be positive")
    started = time.perf_counter()
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="evenemang-bench-grid-"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        sized = {size: prepare(root, size) for size in (SMALL, LARGE)}
        for s in sized.values():
            stack.callback(s.app.extensions["evenemang"]["db"].dispose)
            s.pages(WARMUP)
        ratios = []
        print(f"{'repeat':>6}  {'1,000 bookings':>16}  {'100,000 bookings':>16}  {'ratio':>6}")
        for r in range(args.repeat):
            seconds = {SMALL: 0.0, LARGE: 0.0}
            for b, first in enumerate(range(0, args.pages, BATCH)):
                count = min(BATCH, args.pages - first)
                for size in (SMALL, LARGE) if b % 2 == 0 else (LARGE, SMALL):
                    seconds[size] += sized[size].pages(count)
            small, large = args.pages / seconds[SMALL], args.pages / seconds[LARGE]
            ratios.append(large / small)
            print(
                f"{r + 1:>6}  {small:>9.1f} pages/s  {large:>9.1f} pages/s  {large / small:>6.2f}"
            )
        ratio = statistics.median(ratios)
        verdict = "OK" if ratio >= TARGET else "BELOW TARGET"
        print(f"grid page 100,000/1,000: {ratio:.2f} (target >= {TARGET}): {verdict}")
    write(
        args.json,
        "grid",
        [
            figure(
                "the free/busy grid page, 20 venues, a week, 100,000 bookings",
                "1,000 bookings",
                ratios,
                f">= {TARGET}",
            )
        ],
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
