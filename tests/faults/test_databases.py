"""Each service's database away for ``OUTAGE`` seconds while people book: on PostgreSQL
through a proxy that refuses connections (open ones reset); on SQLite, the file taken by
an exclusive transaction (a SQLite database is not "away" but locked: its writers wait up
to the busy timeout, 30 s, and the consumers' retries outlast that again). The events wait
(booking answers 503 meanwhile, never 500); nothing lost, nothing twice, nothing
dead-lettered."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import OUTAGE, fault_run, sqlite_taken
from tests.support.backends import BACKEND

SERVICES = ["booking", "calendar", "notify"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_database_away(config, tmp_path, service):
    through = (service,) if BACKEND == "servers" else ()
    with fault_run(config, tmp_path, through=through, bookings=40) as run:
        run.workload.start()
        time.sleep(3)
        if BACKEND == "servers":
            with run.proxies[service].fault("refuse", OUTAGE):
                pass
        else:
            with sqlite_taken(run.config.database_url(service), OUTAGE):
                pass
        ended = time.monotonic()
        took, diff = run.caught_up(since=ended)
        run.report(f"{service}'s database away {OUTAGE:.0f} s", took, diff)
        run.assert_exact(diff)
        run.assert_no_dead_letters()
