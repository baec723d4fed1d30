"""The harness proven on a suite without faults: the workload's bookings, feeds and mail
come out exactly as booking committed them, with nothing dead-lettered."""

from __future__ import annotations

import time

from tests.faults.harness import fault_run


def test_without_faults_everything_arrives_once(config, tmp_path):
    with fault_run(config, tmp_path) as run:
        run.workload.start()
        took, diff = run.caught_up(since=time.monotonic())
        run.report("no fault", took, diff)
        run.assert_exact(diff)
        run.assert_no_dead_letters()
