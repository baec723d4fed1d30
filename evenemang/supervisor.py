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
QUICK_EXIT = 10.0  # seconds: a child that exits sooner after starting is crash-looping
LOUD_AFTER = 5  # quick exits in a row after which each restart is logged as an error
FIRST_BACKOFF = 0.5  # seconds before the first restart; doubles with each quick exit
MAX_BACKOFF = 15.0  # seconds: a crash-looping child is tried again at least this often


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """On Linux, this process gets ``sig`` when the thread that started it ends (for a
    child of ``evenemang up``: when up itself is killed). Elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, sig)  # PR_SET_PDEATHSIG


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    die_with_parent(signal.SIGTERM)


def restart_delay(quick_exits: int) -> float:
    """Seconds to wait before restarting a child that exited ``quick_exits`` times in a
    row soon after starting (0: it had run a while)."""
    return min(FIRST_BACKOFF * 2 ** max(quick_exits - 1, 0), MAX_BACKOFF)


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
    """Starts the children, restarts one that dies, for as long as it runs (a crash-looping
    child with capped backoff, said louder the longer it lasts) while the others stay up;
    stops all on request."""

    def __init__(self, children: list[Child], env: dict[str, str]) -> None:
        self.children = children
        self.env = env
        self.stop = threading.Event()

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
                quick = now - child.started_at < QUICK_EXIT
                child.quick_restarts = child.quick_restarts + 1 if quick else 0
                delay = restart_delay(child.quick_restarts)
                if child.quick_restarts >= LOUD_AFTER:
                    log.error(
                        "%s keeps exiting (code %s, %d times in a row within %.0fs of "
                        "starting); restarting in %.1fs, the rest of the suite runs on",
                        child.name,
                        code,
                        child.quick_restarts,
                        QUICK_EXIT,
                        delay,
                    )
                else:
                    log.warning(
                        "%s exited with code %s; restarting in %.1fs", child.name, code, delay
                    )
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
