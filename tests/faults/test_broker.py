"""The broker failing while people book. On RabbitMQ, through a proxy that refuses, stalls
(for ``OUTAGE`` seconds) or silences the open connections (a half-open peer, for
``SILENCE`` seconds); on the embedded bus, its database taken (an exclusive transaction
held) for ``OUTAGE`` seconds. Nothing may be lost or arrive twice, and booking's writes go
on meanwhile: the outbox holds the events."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import OUTAGE, fault_run, sqlite_taken
from tests.support.backends import BACKEND
from tests.support.bus import unpublished

SILENCE = 45.0  # long enough for heartbeats of 10-15 s to notice twice over
OUTAGES = ["refuse", "stall", "silent"] if BACKEND == "servers" else ["locked"]


@pytest.mark.parametrize("mode", OUTAGES)
def test_broker_outage_loses_nothing_and_writes_go_on(config, tmp_path, mode):
    through = ("broker",) if BACKEND == "servers" else ()
    with fault_run(config, tmp_path, through=through, bookings=40) as run:
        run.workload.start()
        time.sleep(2)
        started = time.monotonic()
        if mode == "silent":
            with run.proxies["broker"].fault("silent", SILENCE):
                took, diff = run.caught_up(since=started, timeout=SILENCE - 2)
        else:
            outage = (
                sqlite_taken(run.config.broker_url, OUTAGE)
                if mode == "locked"
                else run.proxies["broker"].fault(mode, OUTAGE)
            )
            with outage:
                time.sleep(OUTAGE - 1)
                held = unpublished(run.config)
            assert held, "the outage held no event back"
        ended = time.monotonic()
        if mode != "silent":
            took, diff = run.caught_up(since=ended)
        slowest = run.answers.slowest_write(started, ended)
        meanwhile = f"slowest of {slowest[2]} writes meanwhile {slowest[0]:.2f} s"
        run.report(f"broker {mode} ({meanwhile})", took, diff)
        run.assert_exact(diff)
        run.assert_no_dead_letters()
        if mode == "silent":  # caught up while the old connections were still silent
            assert took < SILENCE - 2, took
        assert slowest[2] > 0, "no write was asked during the outage"
        assert slowest[0] < 5, f"a write waited for the broker: {slowest}"
