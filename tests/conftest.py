"""Fixtures: a fresh configuration per test on the run's backend (embedded or servers),
migrated databases, apps and clients, and helpers to run the suite's processes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import SERVICES, Config
from shared.migrations import upgrade
from tests.support.backends import (
    BACKEND,
    PostgresDatabases,
    purge_rabbitmq,
    rabbitmqctl_available,
    require_postgres,
    require_rabbitmq,
)
from tests.support.environment import IN_CI


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: every skip there is a test that did not run, so it is
    reported as a failure with its reason (tests.support.environment already fails for the
    machine's gaps; this catches any other skip). There are no deliberate skips."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"
    return report


def pytest_sessionfinish(session, exitstatus):
    """And a skip outside a test (a whole module at collection) fails the CI run too."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        reporter.write_sep("=", f"CI=true: {len(skipped)} skipped, and nothing may be", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _all_queue_names() -> list[str]:
    from shared.bus.topology import build_topology

    topology = build_topology()
    return [q.name for q in (*topology.queues.values(), *topology.dead_letter_queues.values())]


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory) -> Path:
    """Migrated SQLite files, made once and copied for each test."""
    root = tmp_path_factory.mktemp("templates")
    for service in SERVICES:
        upgrade(service, f"sqlite:///{root / (service + '.db')}")
    return root


@pytest.fixture(scope="session")
def _postgres() -> Iterator[tuple[dict[str, str], dict]]:
    """One migrated database per service for the whole run, emptied before each test
    (TRUNCATE is much faster than creating databases per test)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    databases = PostgresDatabases(require_postgres())
    urls, engines = {}, {}
    for service in SERVICES:
        urls[service] = databases.create(f"evtest_{service}")
        upgrade(service, urls[service])
        engines[service] = create_engine(urls[service], poolclass=NullPool)
        _SEEDED[service] = _seeded_rows(engines[service])
    yield urls, engines
    for engine in engines.values():
        engine.dispose()
    databases.drop_all()


_SEEDED: dict[str, dict] = {}  # per service: the rows its migrations wrote, by table


def _seeded_rows(engine) -> dict:
    """The rows the migrations wrote (the default categories, say): each test starts with
    them, as a fresh database does (TRUNCATE takes them with everything else)."""
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(engine)
    seeded = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name != "alembic_version":
                rows = [dict(row._mapping) for row in conn.execute(table.select())]
                if rows:
                    seeded[table] = rows
    return seeded


def _postgres_urls(request) -> dict[str, str]:
    from sqlalchemy import text

    urls, engines = request.getfixturevalue("_postgres")
    for service, engine in engines.items():
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            tables = (
                conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
                .scalars()
                .all()
            )
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table, rows in _SEEDED.get(service, {}).items():
                conn.execute(table.insert(), rows)
    return {f"{service}_database_url": url for service, url in urls.items()}


@pytest.fixture(scope="session")
def _amqp_url() -> Iterator[str]:
    """RabbitMQ for this run: a throw-away virtual host when rabbitmqctl is at hand, so
    concurrent runs on one machine never share queues; else the configured URL."""
    import subprocess
    import uuid

    url = require_rabbitmq()
    if not url.rstrip("/").endswith(":5672") or not rabbitmqctl_available():
        yield url
        return
    vhost = f"evenemang-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    yield url.rstrip("/") + "/" + vhost
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


@pytest.fixture
def config(request, tmp_path) -> Config:
    """A migrated, empty suite: embedded (SQLite + SQLite bus) or servers (PostgreSQL +
    RabbitMQ), by ``EVENEMANG_TEST_BACKEND``."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    overrides: dict[str, str] = {}
    if BACKEND == "servers":
        overrides.update(_postgres_urls(request))
        overrides["broker_url"] = request.getfixturevalue("_amqp_url")
        purge_rabbitmq(overrides["broker_url"], _all_queue_names())
    else:
        templates = request.getfixturevalue("_sqlite_templates")
        for service in SERVICES:
            shutil.copy(templates / f"{service}.db", data_dir / f"{service}.db")
    cfg = Config(
        data_dir=data_dir, testing=True, bus_retry_backoff=0.01, relay_interval=0.05, **overrides
    ).with_defaults()
    return cfg.ensure_secret_key()


@pytest.fixture
def make_app(config):
    """Build a service's app from the test config; its database pool is closed afterwards."""
    from importlib import import_module

    built = []

    def make(service: str, cfg: Config | None = None):
        app = import_module(f"services.{service}").create_app(cfg or config)
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["evenemang"]["db"].dispose()


@pytest.fixture
def smtp():
    """A real SMTP server on loopback that keeps what it accepts."""
    from tests.support.smtp import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def notify(config, smtp):
    """Notify's consumer, scheduler and sender on the test's database, mailing ``smtp``."""
    from tests.support.smtp import Notify

    harness = Notify(config, smtp.url)
    yield harness
    harness.close()
