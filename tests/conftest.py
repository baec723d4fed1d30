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
    require_postgres,
    require_rabbitmq,
)


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
def _postgres() -> Iterator[tuple[PostgresDatabases, dict[str, str]]]:
    databases = PostgresDatabases(require_postgres())
    templates = {}
    for service in SERVICES:
        url = databases.create(f"evtmpl_{service}")
        upgrade(service, url)
        templates[service] = url
    yield databases, templates
    databases.drop_all()


def _postgres_urls(request) -> dict[str, str]:
    databases, templates = request.getfixturevalue("_postgres")
    from sqlalchemy.engine import make_url

    urls = {}
    for service in SERVICES:
        url = databases.create(f"evtest_{service}", template=make_url(templates[service]).database)
        urls[f"{service}_database_url"] = url
        request.addfinalizer(lambda url=url: databases.drop(url))
    return urls


@pytest.fixture
def config(request, tmp_path) -> Config:
    """A migrated, empty suite: embedded (SQLite + SQLite bus) or servers (PostgreSQL +
    RabbitMQ), by ``EVENEMANG_TEST_BACKEND``."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    overrides: dict[str, str] = {}
    if BACKEND == "servers":
        overrides.update(_postgres_urls(request))
        overrides["broker_url"] = require_rabbitmq()
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
