"""Health and readiness that tell the truth, fast.

``/healthz`` (alive) asks whether the service can write to its own database; ``/readyz``
(ready for traffic and doing its job) adds what the service's work needs: the broker, and
progress of its relay, consumer or sender. Each check runs in a daemon thread of its own
under a deadline, at most one run of a check at a time, and its answer is kept for a
moment: a probe answers within a second whatever is stuck, and probes never pile up
behind a stuck check (the stuck one is reported as such until it returns)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify

Check = Callable[[], None]

ANSWER_WITHIN = 0.8  # seconds a probe waits for its checks: a probe answers within a second
KEEP_FOR = 1.0  # seconds a check's answer is reused before the check runs again


class NotReady(Exception):
    """A check's own refusal (work waiting too long), as opposed to an error it met."""


class Probe:
    """One named check run in the background: one run at a time, its answer kept a moment."""

    def __init__(self, name: str, check: Check, *, keep_for: float = KEEP_FOR) -> None:
        self.name = name
        self.check = check
        self.keep_for = keep_for
        self._lock = threading.Lock()
        self._failure: str | None = None
        self._answered_at = float("-inf")
        self._started_at = 0.0
        self._done: threading.Event | None = None

    def answer(self, deadline: float) -> str | None:
        """None when the check holds, else why not; waits at most until ``deadline``."""
        with self._lock:
            now = time.monotonic()
            if now - self._answered_at < self.keep_for:
                return self._failure
            if self._done is None:
                self._done = done = threading.Event()
                self._started_at = now
                threading.Thread(
                    target=self._run, args=(done,), name=f"probe {self.name}", daemon=True
                ).start()
            done, started = self._done, self._started_at
        if not done.wait(max(0.0, deadline - time.monotonic())):
            return f"no answer after {time.monotonic() - started:.1f}s"
        with self._lock:
            return self._failure

    def _run(self, done: threading.Event) -> None:
        try:
            self.check()
            failure = None
        except Exception as exc:
            failure = str(exc) if isinstance(exc, NotReady) else f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._failure = failure[:300] if failure else None
            self._answered_at = time.monotonic()
            self._done = None
        done.set()


@dataclass
class Health:
    """A service's liveness checks and the readiness checks it adds to them."""

    alive: Mapping[str, Check]
    ready: Mapping[str, Check]
    answer_within: float = ANSWER_WITHIN
    keep_for: float = KEEP_FOR

    def __post_init__(self) -> None:
        names = {**self.alive, **self.ready}
        self._probes = {
            name: Probe(name, check, keep_for=self.keep_for) for name, check in names.items()
        }

    def failures(self, *, ready: bool) -> dict[str, str]:
        """The failing checks by name (liveness only, or readiness too)."""
        names = [*self.alive, *(self.ready if ready else ())]
        deadline = time.monotonic() + self.answer_within
        answers = {name: self._probes[name].answer(deadline) for name in names}
        return {name: why for name, why in answers.items() if why}


def health_blueprint(health: Health) -> Blueprint:
    """``/healthz`` and ``/readyz``: 200 ``{"status": "ok"}``, or 503 naming what fails."""
    bp = Blueprint("health", __name__)

    def answer(*, ready: bool):
        failing = health.failures(ready=ready)
        if not failing:
            return jsonify(status="ok")
        current_app.logger.warning(
            "%s check failed: %s", "readiness" if ready else "health", failing
        )
        return jsonify(status="unavailable", unreachable=failing), 503

    bp.add_url_rule("/healthz", "healthz", lambda: answer(ready=False))
    bp.add_url_rule("/readyz", "readyz", lambda: answer(ready=True))
    return bp


def waiting_too_long(what: str, age_seconds: float | None, limit: float) -> None:
    """Refuse readiness when the oldest waiting piece of work is older than ``limit``."""
    if age_seconds is not None and age_seconds > limit:
        raise NotReady(f"{what} waiting {age_seconds:.0f}s (limit {limit:.0f}s)")
