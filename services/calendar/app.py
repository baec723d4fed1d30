"""Calendar's application factory: wiring only."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from flask import Flask

from services.calendar.entrypoints.api import api
from services.calendar.entrypoints.feeds import feeds
from services.calendar.entrypoints.pages import pages
from services.calendar.persistence.models import KnownUser, ProcessedEvent
from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
from services.calendar.usecases.publishing import feed_publisher
from shared.config import Config
from shared.db import service_database
from shared.principals import ReplicaAuthority
from shared.readiness import consumer_readiness
from shared.web import make_app, resolve_config
from shared.workload import queue_gauges


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    cfg = resolve_config(config)
    db = service_database(cfg, "calendar")
    ready = consumer_readiness(cfg, "calendar", db, ProcessedEvent.processed_at)
    authority = ReplicaAuthority(db, KnownUser)
    gauges = partial(queue_gauges, cfg, "calendar")
    app = make_app(__name__, "calendar", cfg, db, authority, ready=ready, gauges=gauges)
    app.extensions["feed_publisher"] = feed_publisher(cfg, lambda: SqlAlchemyUnitOfWork(db))
    app.register_blueprint(feeds)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(pages)
    return app
