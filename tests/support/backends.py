"""Which database and broker a test run uses, and how to reach the real servers.

``EVENEMANG_TEST_BACKEND=embedded`` (default): SQLite files and the embedded SQLite bus.
``EVENEMANG_TEST_BACKEND=servers``: PostgreSQL and RabbitMQ. A server that cannot be reached
skips the test with the reason on a developer's machine and fails it in CI (``CI=true``), by
the one rule of ``tests.support.environment``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.environment import need

BACKEND = os.environ.get("EVENEMANG_TEST_BACKEND", "embedded")
POSTGRES_URL = os.environ.get(
    "EVENEMANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("EVENEMANG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def require(name: str, url: str, default_port: int) -> None:
    need(
        _reachable(url, default_port),
        f"{name} is not reachable at {url.split('@')[-1]}",
        "start it (.ci/run does) or set EVENEMANG_TEST_* to where it runs",
    )


def require_postgres() -> str:
    require("PostgreSQL", POSTGRES_URL, 5432)
    return POSTGRES_URL


def require_rabbitmq() -> str:
    require("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL


class PostgresDatabases:
    """Creates throw-away databases on the test server (from a migrated template)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            self.drop(self.url_for(name))
        self.engine.dispose()


def purge_rabbitmq(url: str, queue_names: list[str]) -> None:
    """Empty the suite's queues on RabbitMQ so each test starts from a clean bus."""
    from kombu import Connection

    with Connection(url) as conn:
        channel = conn.channel()
        for name in queue_names:
            try:
                channel.queue_purge(name)
            except Exception:  # the queue does not exist yet
                channel = conn.channel()


def rabbitmqctl_available() -> bool:
    try:
        subprocess.run(["rabbitmqctl", "--help"], capture_output=True, timeout=20)
        return True
    except (OSError, subprocess.TimeoutExpired):
        return False
