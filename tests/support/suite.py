"""``evenemang up`` as a user runs it: a real process tree on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.config import Config
from tests.support.processes import ROOT, process_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_in_group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def http_status(url: str, timeout: float = 3) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@dataclass
class RunningSuite:
    proc: subprocess.Popen
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@contextlib.contextmanager
def evenemang_up(
    config: Config,
    log_dir: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[RunningSuite]:
    """``evenemang up`` on ``port`` (a free one when not given)."""
    port = port or free_port()
    log = log_dir / "up.log"
    with open(log, "ab") as handle:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "evenemang",
                "up",
                "--port",
                str(port),
                "--data-dir",
                str(config.data_dir),
                *extra,
            ],
            env={**process_env(config), **(env or {})},
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    suite = RunningSuite(proc, f"http://127.0.0.1:{port}", log)
    try:
        yield suite
    finally:
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                suite.terminate()
        for pid in processes_in_group(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def wait_healthy(suite: RunningSuite, timeout: float = 15) -> float:
    started = time.monotonic()
    paths = ("/healthz", "/calendar/healthz", "/notify/healthz")
    while time.monotonic() - started < timeout:
        if all(http_status(suite.url + p) == 200 for p in paths):
            return time.monotonic() - started
        if suite.proc.poll() is not None:
            raise AssertionError("evenemang up exited early:\n" + suite.output()[-3000:])
        time.sleep(0.1)
    raise AssertionError(f"not healthy within {timeout}s:\n" + suite.output()[-3000:])
