"""Prometheus metrics: requests per endpoint on every web app, what the workers do, and
gauges read at scrape time from the service's own database and queues.

Several processes share one service (gunicorn's workers, the worker process): with
``PROMETHEUS_MULTIPROC_DIR`` set (``evenemang up`` sets ``<data dir>/metrics``) every
process writes its counters there and a web app's ``/metrics`` adds them up, the workers'
included; without it each process shows its own. A worker can also serve its own on
``EVENEMANG_METRICS_PORT``. Each ``/metrics`` shows its own service's samples only."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import Metric

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Defining a metric opens nothing: in multiprocess mode its file is made at first use.
HTTP_REQUESTS = Counter(
    "evenemang_http_requests_total",
    "HTTP requests answered, by endpoint (the route's name, not the raw path)",
    ["service", "method", "endpoint", "status"],
)
HTTP_LATENCY = Histogram(
    "evenemang_http_request_duration_seconds",
    "Seconds from a request's start to its answer, by endpoint",
    ["service", "method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS_CONSUMED = Counter(
    "evenemang_events_consumed_total", "Events a consumer applied and acked", ["service"]
)
EVENTS_DEAD_LETTERED = Counter(
    "evenemang_events_dead_lettered_total", "Events a consumer dead-lettered", ["service"]
)
EVENTS_PUBLISHED = Counter(
    "evenemang_events_published_total", "Outbox events the relay published", ["service"]
)
BROKER_RECONNECTS = Counter(
    "evenemang_broker_reconnects_total",
    "Broker connections a worker lost and opened again",
    ["service", "role"],
)

Gauges = Callable[[], Iterable[Metric]]


def init_metrics(app: Flask, service: str, gauges: Gauges | None = None) -> None:
    """Count and time every request by endpoint; serve ``/metrics`` (this service's
    samples, from every process sharing the metrics directory, and its ``gauges``)."""

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.endpoint or "unmatched"  # 404s are one series, not one a path
            HTTP_LATENCY.labels(service, request.method, endpoint).observe(
                time.perf_counter() - started
            )
            HTTP_REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        return response

    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics() -> Response:
        body = generate_latest(_ServiceView(service, gauges))
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

    app.register_blueprint(bp)


def serve_worker_metrics(port: int, service: str) -> None:
    """A worker's own metrics on ``port`` (all interfaces: scrape it from inside only)."""
    if port:
        start_http_server(port, registry=_ServiceView(service, None))
        log.info("%s worker metrics on port %d", service, port)


class _ServiceView:
    """What a scrape of one service shows: the counters of this process (or of every
    process sharing the metrics directory) with this service's label, the process's own
    runtime metrics, and the service's gauges read now."""

    def __init__(self, service: str, gauges: Gauges | None) -> None:
        self.service = service
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for family in _counted():
            samples = [
                s for s in family.samples if s.labels.get("service", self.service) == self.service
            ]
            if samples:
                family.samples = samples
                yield family
        if self.gauges is not None:
            try:
                yield from self.gauges()
            except Exception as exc:  # a scrape still shows the counters
                log.warning("%s metrics: gauges unavailable: %r", self.service, exc)


def _counted() -> Iterable[Metric]:
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return list(REGISTRY.collect())
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return list(registry.collect())
