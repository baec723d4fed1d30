"""What ``evenemang up`` writes under the data directory is its owner's alone: the
databases (with their WAL and shared-memory files), the embedded bus, the secret key and
the mail sink, 0600 in directories 0700, from a data directory that did not exist, after a
booking has gone through to the sink."""

from __future__ import annotations

import json
import stat
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.processes import run_cli
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow


def _post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _shared_with_others(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root)} {stat.filemode(path.stat().st_mode)}"
        for path in [root, *root.rglob("*")]
        if path.stat().st_mode & 0o077
    ]


def test_up_keeps_what_it_writes_in_the_data_directory_to_its_owner(config, tmp_path):
    data = tmp_path / "new" / "data"
    fresh = config.replace(data_dir=data, secret_key="")
    if config.broker_url.startswith("sqlitebus"):  # the whole embedded suite, made by up
        fresh = fresh.replace(
            booking_database_url="", calendar_database_url="", notify_database_url="", broker_url=""
        ).with_defaults()
    with evenemang_up(fresh, tmp_path) as suite:
        wait_healthy(suite, timeout=60)  # migrating first, on a loaded machine
        run_cli(fresh, "users", "add", "ada@example.org", "--name", "Ada", "--role", "admin")
        token = run_cli(fresh, "tokens", "create", "ada@example.org").strip().splitlines()[-1]
        room = _post(
            f"{suite.url}/api/v1/resources",
            token,
            {"name": "Room", "kind": "venue", "requires_approval": False},
        )
        day = date.today() + timedelta(days=30)
        _post(
            f"{suite.url}/api/v1/bookings",
            token,
            {
                "title": "Seminar",
                "start": f"{day}T10:00",
                "end": f"{day}T11:00",
                "resource_ids": [room["id"]],
                "participants": [{"email": "guest@example.org"}],
            },
        )
        deadline = time.monotonic() + 30
        while len(list((data / "mail").glob("*.eml"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        written = {p.name for p in data.rglob("*")}
        assert suite.terminate() == 0
    assert {"secret_key", "mail"} <= written
    assert len(list((data / "mail").glob("*.eml"))) >= 2
    if config.broker_url.startswith("sqlitebus"):
        assert {"booking.db", "calendar.db", "notify.db"} <= written
        assert any(name.endswith("-wal") for name in written)
    assert _shared_with_others(data) == []
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
