"""SIGKILL of each process kind while people book: three kills a few seconds apart, each of
whatever process of that kind ``evenemang up`` runs at the time. Nothing lost; nothing
twice, but for at most one mail per kill of notify's worker (its sender may die between
the server's "250" and noting it)."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import fault_run

KILLS = 3
KINDS = [
    "web",  # gunicorn's master (its workers follow it)
    "worker booking",  # the outbox relay
    "worker calendar",  # calendar's consumer
    "worker notify",  # notify's consumer, mail sender and scheduler
]


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_during_the_workload(config, tmp_path, kind):
    with fault_run(config, tmp_path, bookings=40) as run:
        sender = kind == "worker notify"
        if sender:
            run.smtp.recorder.delay = 0.1  # a slow server: the sender is mid-batch for long
        run.workload.start()
        for _ in range(KILLS):
            time.sleep(3)
            if sender:  # the kill lands while the sender holds claimed mail
                assert run.mail_in_flight(), "the sender never held mail to send"
            run.kill(kind)
        ended = time.monotonic()
        took, diff = run.caught_up(since=ended)
        run.report(f"{KILLS} x SIGKILL {kind}", took, diff)
        run.assert_exact(diff, twice_allowed=KILLS if kind == "worker notify" else 0)
        run.assert_no_dead_letters()
