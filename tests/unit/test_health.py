"""The probes behind /healthz and /readyz: an answer within the deadline whatever a check
does, one run of a check at a time, answers kept a moment."""

from __future__ import annotations

import threading
import time

from shared.health import Health, NotReady


class StuckCheck:
    """A check that hangs until released, counting how often it was started."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0

    def __call__(self) -> None:
        self.started += 1
        self.release.wait(10)


def timed(health: Health, *, ready: bool) -> tuple[dict[str, str], float]:
    started = time.monotonic()
    failures = health.failures(ready=ready)
    return failures, time.monotonic() - started


def test_a_stuck_check_is_named_within_the_deadline_and_never_piles_up():
    stuck = StuckCheck()
    health = Health(alive={"database": stuck}, ready={}, answer_within=0.3, keep_for=0.2)
    for _ in range(5):
        failures, took = timed(health, ready=False)
        assert took < 0.5
        assert failures["database"].startswith("no answer after")
    assert stuck.started == 1  # the probes waited on the one run, none started another
    stuck.release.set()
    time.sleep(0.3)
    assert timed(health, ready=False)[0] == {}


def test_readiness_adds_its_checks_and_names_their_refusals():
    def outbox() -> None:
        raise NotReady("events waiting 300s (limit 120s)")

    def broken() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    health = Health(alive={"database": lambda: None}, ready={"outbox": outbox, "broker": broken})
    assert health.failures(ready=False) == {}
    assert health.failures(ready=True) == {
        "outbox": "events waiting 300s (limit 120s)",
        "broker": "ConnectionRefusedError: [Errno 111] Connection refused",
    }


def test_an_answer_is_kept_a_moment_then_asked_again():
    calls = []
    health = Health(alive={"database": lambda: calls.append(1)}, ready={}, keep_for=0.3)
    for _ in range(4):
        health.failures(ready=False)
    assert len(calls) == 1
    time.sleep(0.35)
    health.failures(ready=False)
    assert len(calls) == 2
