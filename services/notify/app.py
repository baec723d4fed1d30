"""Notify's application factory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask
from prometheus_client.core import Metric

from services.notify.domain.delivery import DeliveryStatus
from services.notify.entrypoints.api import api
from services.notify.entrypoints.pages import pages
from services.notify.persistence.models import Delivery, KnownUser, ProcessedEvent
from shared.config import Config
from shared.db import service_database
from shared.principals import ReplicaAuthority
from shared.readiness import consumer_readiness, waiting_rows_check
from shared.web import make_app, resolve_config
from shared.workload import counted_by, counted_gauge, queue_gauges


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    cfg = resolve_config(config)
    db = service_database(cfg, "notify")
    ready = consumer_readiness(cfg, "notify", db, ProcessedEvent.processed_at)
    # mail due to go out that the sender has not sent (a sender stopped or stuck)
    ready["sender"] = waiting_rows_check(
        db,
        "mail",
        Delivery.next_attempt_at,
        Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
        limit=cfg.ready_max_wait_seconds,
    )

    def gauges() -> Iterator[Metric]:
        by_status = counted_by(db, Delivery.status)  # first: it needs no broker
        yield counted_gauge("evenemang_mail_deliveries", "Mail by status", "status", by_status)
        yield from queue_gauges(cfg, "notify")

    authority = ReplicaAuthority(db, KnownUser)
    app = make_app(__name__, "notify", cfg, db, authority, ready=ready, gauges=gauges)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(pages)
    return app
