"""``evenemang up`` keeps the rest of the suite up: a worker that keeps dying is restarted
for as long as it takes (and said so, louder each time), and a web master killed outright
answers again within seconds, none of its orphaned workers holding the port."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from evenemang.supervisor import LOUD_AFTER
from tests.support.suite import evenemang_up, http_status, processes_in_group, wait_healthy

pytestmark = pytest.mark.slow


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def child_of_up(suite, marker: str, within: float = 20) -> int:
    """The pid of up's child whose command line holds ``marker`` (waits for a restart)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for pid in processes_in_group(suite.proc.pid):
            if parent_of(pid) == suite.proc.pid and marker in cmdline(pid):
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no {marker!r} child of up:\n" + suite.output()[-3000:])


def test_a_crash_looping_worker_is_restarted_while_the_web_stays_up(config, tmp_path):
    with evenemang_up(config, tmp_path) as suite:
        wait_healthy(suite, timeout=30)
        killed = []
        for _ in range(LOUD_AFTER + 1):  # one more than the old limit that stopped the suite
            pid = child_of_up(suite, "worker calendar", within=30)
            assert pid not in killed
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            assert http_status(suite.url + "/healthz") == 200
            assert http_status(suite.url + "/notify/healthz") == 200
        time.sleep(1)
        assert suite.proc.poll() is None, suite.output()[-3000:]
        assert http_status(suite.url + "/calendar/healthz") == 200
        output = suite.output()
        assert output.count("worker calendar exited with code -9; restarting in") >= LOUD_AFTER - 1
        assert "worker calendar keeps exiting (code -9, " in output  # said as an error
        child_of_up(suite, "worker calendar", within=20)  # and it comes back once more
        assert suite.terminate() == 0


def test_a_killed_web_master_answers_again_within_seconds(config, tmp_path):
    with evenemang_up(config, tmp_path) as suite:
        wait_healthy(suite, timeout=30)
        master = child_of_up(suite, "gunicorn")
        workers = [pid for pid in processes_in_group(suite.proc.pid) if parent_of(pid) == master]
        assert workers
        os.kill(master, signal.SIGKILL)
        killed_at = time.monotonic()
        while any(Path(f"/proc/{pid}").exists() and cmdline(pid) for pid in workers):
            assert time.monotonic() - killed_at < 10, "orphaned workers outlived their master"
            time.sleep(0.02)
        bound = None  # when the port takes connections again (the new master listens)
        while http_status(suite.url + "/healthz", timeout=1) != 200:
            if bound is None and _accepts(suite.url):
                bound = time.monotonic() - killed_at
            assert time.monotonic() - killed_at < 60, suite.output()[-3000:]
            time.sleep(0.05)
        took = time.monotonic() - killed_at
        bound = took if bound is None else bound
        # No orphan holds the port (above), so the new master binds it as soon as it starts;
        # the web answers once its workers have booted the apps: ~2-3 s on an idle machine,
        # up to 30 s seen on a loaded one. Printed, not asserted below the loop's minute.
        print(f"the port took connections {bound:.1f}s and the web answered {took:.1f}s after")
        assert child_of_up(suite, "gunicorn") != master
        assert suite.terminate() == 0


def _accepts(url: str) -> bool:
    """Whether something listens on the suite's port (a connection is not refused)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
            return True
    except OSError:
        return False
