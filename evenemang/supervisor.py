"""Runs the suite's processes for ``evenemang up`` and stops every one of them cleanly."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger("evenemang.up")

GRACE_SECONDS = 10.0
MAX_QUICK_RESTARTS = 5


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """On Linux, a child gets SIGTERM if ``evenemang up`` itself is killed."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_restarts: int = 0
    restart_at: float | None = field(default=None)

    def start(self, env: dict[str, str]) -> None:
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        self.proc = subprocess.Popen(self.argv, env=env, preexec_fn=preexec)  # noqa: PLW1509
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("started %s (pid %d)", self.name, self.proc.pid)


class Supervisor:
    """Starts the children, restarts one that dies (with backoff), stops all on request."""

    def __init__(self, children: list[Child], env: dict[str, str]) -> None:
        self.children = children
        self.env = env
        self.stop = threading.Event()
        self.failed: str | None = None

    def start(self) -> None:
        for child in self.children:
            child.start(self.env)

    def watch(self, *, poll: float = 0.2) -> None:
        while not self.stop.wait(poll):
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.start(self.env)
                    continue
                code = child.proc.poll() if child.proc else None
                if code is None:
                    continue
                quick = now - child.started_at < 10
                child.quick_restarts = child.quick_restarts + 1 if quick else 0
                if child.quick_restarts > MAX_QUICK_RESTARTS:
                    self.failed = f"{child.name} keeps exiting (code {code})"
                    log.error("%s; stopping the suite", self.failed)
                    self.stop.set()
                    break
                delay = min(0.5 * 2**child.quick_restarts, 10.0)
                log.warning("%s exited with code %s; restarting in %.1fs", child.name, code, delay)
                child.restart_at = now + delay

    def shutdown(self, grace: float = GRACE_SECONDS) -> None:
        """SIGTERM every child, wait for them, SIGKILL whatever is left after ``grace``."""
        running = [c.proc for c in self.children if c.proc and c.proc.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %d did not stop in time; killing it", proc.pid)
                proc.kill()
                proc.wait()


def child_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "evenemang", *args]


def install_stop_signals(stop: threading.Event) -> None:
    def _handler(signum, _frame) -> None:
        log.info("received signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def child_env(data_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env["EVENEMANG_DATA_DIR"] = data_dir
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
