"""The largest series allowed: submit, approve and read 500 dates on 10 resources.

Issue 13's aim is absolute: approving the largest series in under 1 s and reading it in
under 0.2 s (they took 7-8 s and 4.4 s). On a shared, noisy machine an absolute time says
little alone, so each is printed beside its baseline measured in the same run: the same
request for one date on one resource. The ratio large/one tells what a series costs in
single bookings (the work per date, not per request, is what the set-based slot writes and
range checks remove).

How. For each backend, booking's app is built (``services.booking.create_app``) on fresh,
migrated databases: SQLite files in a temporary directory, or a throw-away PostgreSQL
database (``evbench_series_*``, dropped at the end). The requests go through the app's
WSGI stack with Flask's test client, as an organiser (submit, read) and as infra (approve),
each with a bearer token: the whole request path (token check, validation, the conflict
check in the transaction, slots, history, outbox, the JSON answer), without a network hop.
Ten venues need approval and may be booked ten years ahead; each trial's series starts on
a day of its own, so trials never collide. Trials alternate one date / the largest series.
The limits per organiser are off (a benchmark submits more than a person may).

Prints, per backend and figure, seconds (min / median / max of ``--repeat``) for the
largest series and for one date, the ratio of the medians, the aim, and HOLDS or SHORT (on
the median seconds). ``--json PATH`` also writes the figures there (``make bench``; values:
the seconds of each trial of the largest series, aim in seconds). The exit status
is 1 when an aim is short.

    .venv/bin/python bench/series.py [--backend sqlite|postgres|all] [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import services.booking  # noqa: E402
from bench import figures  # noqa: E402
from services.booking.domain import MAX_OCCURRENCES  # noqa: E402
from shared.config import Config  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from tests.support.booking import BookingApi, at  # noqa: E402

POSTGRES_URL = (
    os.environ.get("EVENEMANG_BENCH_POSTGRES_URL")
    or os.environ.get("EVENEMANG_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RESOURCES = 10
NOW = datetime(2031, 1, 6, 8, 0, tzinfo=UTC)
AIMS = {"submit": 1.0, "approve": 1.0, "read": 0.2}  # seconds, for the largest series


def postgres_database(root: str) -> tuple[str, Callable[[], None]] | str:
    """A throw-away database (its URL and how to drop it), or why there is none."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"evbench_series_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable or refused: the backend is skipped, said why
        admin.dispose()
        return f"PostgreSQL at {POSTGRES_URL.split('@')[-1]}: {type(exc).__name__}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES_URL).set(database=name).render_as_string(False), drop


def timed(call: Callable[[], Any], status: int) -> float:
    started = time.perf_counter()
    response = call()
    took = time.perf_counter() - started
    if response.status_code != status:
        raise SystemExit(f"expected {status}, got {response.status_code}: {response.get_json()}")
    return took


def measure(api: BookingApi, repeat: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per figure ("submit", "approve", "read") and size ("one", "largest")."""
    rooms = [api.make_resource(max_advance_days=3650) for _ in range(RESOURCES)]
    seconds: dict[str, dict[str, list[float]]] = {
        figure: {"one": [], "largest": []} for figure in AIMS
    }
    first = NOW.date() + timedelta(days=7)
    sizes = [("one", 1, rooms[:1]), ("largest", MAX_OCCURRENCES, rooms)]
    for trial in range(repeat + 1):  # the first round warms caches and is not counted
        for size, dates, chosen in sizes if trial % 2 else reversed(sizes):
            # Each trial an hour of its own (the series every day from the same day; one
            # date on a day before it), so no request collides with an earlier one.
            day = first if dates > 1 else first - timedelta(days=1 + trial % 6)
            hour = 7 + trial % 12
            body = api.booking_body(
                *chosen, title=f"Trial {trial}", start=at(day, hour), end=at(day, hour + 1)
            )
            if dates > 1:
                body["rrule"] = f"FREQ=DAILY;COUNT={dates}"
            took: dict[str, float] = {}
            created: dict[str, Any] = {}

            def submit(body=body, created=created):
                response = api.post("/api/v1/bookings", api.organiser, body)
                created.update(response.get_json() or {})
                return response

            took["submit"] = timed(submit, 201)
            path = f"/api/v1/bookings/{created['id']}"
            took["approve"] = timed(lambda p=path: api.post(f"{p}/approve", api.infra, {}), 200)
            took["read"] = timed(lambda p=path: api.get(p, api.organiser), 200)
            if len(created["occurrences"]) != dates:
                raise SystemExit(f"{size}: {len(created['occurrences'])} dates, not {dates}")
            if trial:
                for figure, value in took.items():
                    seconds[figure][size].append(value)
    return seconds


def rows_for(backend: str, seconds: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    rows = []
    for figure, aim in AIMS.items():
        large, one = seconds[figure]["largest"], seconds[figure]["one"]
        ratios = sorted(big / small for big, small in zip(large, one, strict=True))
        rows.append(
            {
                "bench": "series",
                "backend": backend,
                "figure": f"{figure} {MAX_OCCURRENCES} dates x {RESOURCES} resources, s",
                "baseline": f"{figure} 1 date x 1 resource",
                "value": [min(large), statistics.median(large), max(large)],
                "values": large,
                "baseline_value": statistics.median(one),
                "ratio": [ratios[0], statistics.median(ratios), ratios[-1]],
                "aim": f"< {aim:g}",
                "holds": statistics.median(large) < aim,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=3, help="trials per size, <= 11 (3)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 11:
        parser.error("--repeat must be 1 to 11")

    rows: list[dict[str, Any]] = []
    root = Path(tempfile.mkdtemp(prefix="evenemang-bench-series-"))
    try:
        for backend in ("sqlite", "postgres") if args.backend == "all" else (args.backend,):
            overrides: dict[str, str] = {}
            drop: Callable[[], None] | None = None
            if backend == "postgres":
                made = postgres_database(str(root))
                if isinstance(made, str):
                    print(f"== {backend}: skipped: {made}", file=sys.stderr)
                    continue
                overrides["booking_database_url"], drop = made
            config = Config(
                data_dir=root / backend,
                max_bookings_per_hour=0,
                max_pending_bookings=0,
                **overrides,
            ).with_defaults()
            (root / backend).mkdir()
            config = config.ensure_secret_key()
            try:
                upgrade("booking", config.database_url("booking"))
                app = services.booking.create_app(config)
                try:
                    rows += rows_for(backend, measure(BookingApi(app, NOW), args.repeat))
                finally:
                    app.extensions["evenemang"]["db"].dispose()
            finally:
                if drop is not None:
                    drop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    figures.write(
        args.json,
        "series",
        [
            figures.figure(
                f"{row['figure']} ({row['backend']})",
                f"{row['baseline']}: {row['baseline_value']:.3f} s",
                row["values"],
                row["aim"],
            )
            for row in rows
        ],
    )
    print(f"{'backend':<9} {'figure':<44} {'s min/med/max':>20} {'one, s':>8} {'ratio':>6}")
    for row in rows:
        low, mid, high = row["value"]
        verdict = "HOLDS" if row["holds"] else "SHORT"
        print(
            f"{row['backend']:<9} {row['figure']:<44} {low:6.3f} {mid:6.3f} {high:6.3f} "
            f"{row['baseline_value']:8.3f} {row['ratio'][1]:6.0f}  aim {row['aim']} {verdict}"
        )
    return 0 if rows and all(row["holds"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
