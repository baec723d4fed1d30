"""Running the suite's real processes from tests, and waiting on what they do."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from shared.config import Config

ROOT = Path(__file__).resolve().parents[2]


def process_env(config: Config, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENEMANG_")}
    env.update(config.to_env())
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_until_killed(code: str, config: Config) -> None:
    """Run a Python snippet that is meant to SIGKILL itself mid-work; fail with its stderr
    when it ends any other way."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=process_env(config),
        timeout=60,
        capture_output=True,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


def start(args: list[str], config: Config, log: Path, **kwargs) -> subprocess.Popen:
    with open(log, "ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, *args],
            env=process_env(config),
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            **kwargs,
        )


def run_cli(config: Config, *args: str, timeout: float = 120) -> str:
    """``evenemang ARGS`` in its own process on ``config``: its stdout, or a failure with
    its stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "evenemang", *args],
        cwd=ROOT,
        env=process_env(config),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def start_worker(service: str, config: Config, log_dir: Path) -> subprocess.Popen:
    return start(["-m", "evenemang", "worker", service], config, log_dir / f"worker-{service}.log")


def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"pid {proc.pid} ignored SIGTERM for {timeout}s") from None
    return proc.returncode


@contextlib.contextmanager
def running(*procs: subprocess.Popen) -> Iterator[tuple[subprocess.Popen, ...]]:
    try:
        yield procs
    finally:
        for proc in procs:
            with contextlib.suppress(AssertionError):
                stop(proc)


def wait_for(
    condition: Callable[[], object],
    timeout: float = 20,
    interval: float = 0.1,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
