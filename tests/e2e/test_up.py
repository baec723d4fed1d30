"""``evenemang up`` from an empty data directory, the way a new user starts it."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.support.suite import evenemang_up, processes_in_group, wait_healthy

pytestmark = pytest.mark.slow


def test_up_serves_all_three_and_stops_every_child_on_sigterm(config, tmp_path):
    fresh = config.replace(data_dir=tmp_path / "fresh-data", secret_key="")
    if config.broker_url.startswith("sqlitebus"):  # truly empty: nothing migrated yet
        fresh = fresh.replace(
            booking_database_url="", calendar_database_url="", notify_database_url="", broker_url=""
        ).with_defaults()
    with evenemang_up(fresh, tmp_path) as suite:
        took = wait_healthy(suite, timeout=30)  # migrating three databases first
        for path in ("/healthz", "/calendar/healthz", "/notify/healthz"):
            with urllib.request.urlopen(suite.url + path) as response:
                assert json.loads(response.read()) == {"status": "ok"}
        deadline = time.monotonic() + 5
        while "running at" not in suite.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"running at {suite.url}/" in suite.output()
        # an empty data directory has no one to log in: up says how to add the first admin
        assert "evenemang users add EMAIL --name NAME --role admin" in suite.output()
        assert "evenemang up --demo" in suite.output()
        children = processes_in_group(suite.proc.pid)
        assert len(children) >= 5, children  # up, web (+ its workers), three workers
        assert suite.terminate() == 0
        assert processes_in_group(suite.proc.pid) == []
    assert took < 15
    assert (fresh.data_dir / "secret_key").exists()
