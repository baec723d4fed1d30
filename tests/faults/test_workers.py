"""A worker that keeps dying, and a message that can never be applied."""

from __future__ import annotations

import threading
import time
import uuid

from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import build_topology
from tests.faults.harness import fault_run

CRASHES = 7  # more than evenemang up's quick restarts before it gives up today (5)


def test_a_crash_looping_worker_leaves_the_rest_up(config, tmp_path):
    """Calendar's worker is killed each time it is back, seven times: the web keeps
    answering throughout, and once it is left alone calendar catches up."""
    with fault_run(config, tmp_path, bookings=20) as run:
        silent: list[float] = []
        watching = threading.Event()

        def watch() -> None:
            while not watching.is_set():
                if not run.web_answers():
                    silent.append(time.monotonic())
                time.sleep(0.5)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        run.workload.start()
        try:
            for _ in range(CRASHES):
                run.kill("worker calendar", wait=60)
                time.sleep(0.5)
        finally:
            ended = time.monotonic()
            watching.set()
            watcher.join()
        took, diff = run.caught_up(since=ended)
        run.report(f"calendar's worker killed {CRASHES} times in a row", took, diff)
        assert not silent, f"the web did not answer {len(silent)} times"
        run.assert_exact(diff)
        run.assert_no_dead_letters()


def test_a_poison_message_is_dead_lettered_and_nothing_else(config, tmp_path):
    """A message that is not an event, amid the workload, ends in each consumer's dead
    letters; everything else arrives."""
    with fault_run(config, tmp_path) as run:
        run.workload.start()
        time.sleep(2)
        poison = str(uuid.uuid4())
        with Publisher(run.config.broker_url, build_topology(run.config.queue_type)) as bus:
            bus.publish(
                [
                    OutgoingMessage(
                        routing_key="booking.submitted", body="{not json", message_id=poison
                    )
                ]
            )
        took, diff = run.caught_up(since=time.monotonic())
        run.report("a poison message", took, diff)
        run.assert_exact(diff)
        run.assert_no_dead_letters(poison)
