"""What every service's Flask app shares: config, error format, health and readiness."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from jinja2 import ChoiceLoader, FileSystemLoader

from shared.auth import Authority, init_auth
from shared.config import Config
from shared.csrf import init_csrf
from shared.db import Database
from shared.health import Check, Health, health_blueprint
from shared.i18n import init_i18n
from shared.logs import configure_logging
from shared.metrics import Gauges, init_metrics
from shared.problems import install_error_handlers, install_validation_handler
from shared.sessions import SessionLimits
from shared.text_input import init_text_input
from shared.timezones import current_zone

MAX_CONTENT_LENGTH = 1024 * 1024
SHARED = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def resolve_config(config: Config | Mapping[str, Any] | None) -> Config:
    """``None`` reads the environment; a mapping overrides fields of the environment's config."""
    if isinstance(config, Config):
        return config.with_defaults().ensure_secret_key()
    base = Config.from_env()
    if config:
        overrides = dict(config)
        base = base.replace(**overrides).with_defaults()
    return base.ensure_secret_key()


def make_app(
    import_name: str,
    service: str,
    config: Config,
    db: Database,
    authority: Authority,
    *,
    ready: Mapping[str, Check] | None = None,
    gauges: Gauges | None = None,
) -> Flask:
    """A Flask app wired with the shared config, error handlers, ``/healthz`` (its own
    database takes a write), ``/readyz`` (and the ``ready`` checks of its job hold),
    ``/metrics`` (and the service's scrape-time ``gauges``), the one session and token
    check (``authority`` says whether a signed principal or a session still holds) and
    the message catalogue."""
    app = Flask(import_name, static_folder=str(SHARED / "static"), static_url_path="/static")
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path) / "templates")),
            FileSystemLoader(str(SHARED / "templates")),
        ]
    )
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        JSON_SORT_KEYS=False,
        TESTING=config.testing,
        SESSION_COOKIE_NAME="evenemang_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(days=config.session_max_days),
        # The cookie is written when it changes (a login, the last seen time every few
        # minutes: shared.sessions), not on every answer.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.extensions["evenemang"] = {"config": config, "db": db, "service": service}
    install_error_handlers(app)
    install_validation_handler(app)
    init_text_input(app)  # before anything reads a field (sessions, CSRF, the views)
    init_auth(app, authority, SessionLimits.from_config(config))
    init_i18n(app)
    if config.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    @app.before_request
    def _zone() -> None:
        current_zone.set(config.zone)

    @app.after_request
    def _security_headers(response):
        if request.endpoint not in ("static", "favicon"):
            # Pages and JSON say who is logged in and what is theirs: no cache (a browser's,
            # a shared proxy's) keeps them. Answers meant to be cached (the feeds) say so.
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for it whatever the page says: the same icon (an SVG), from memory
        (no file is held open by an answer nobody reads)."""
        answer = Response(_favicon(), mimetype="image/svg+xml")
        answer.cache_control.public = True
        answer.cache_control.max_age = 24 * 3600
        return answer

    base_path = urlsplit(config.base_url).path.rstrip("/")
    app.jinja_env.globals["base_path"] = base_path
    init_csrf(app)

    app.register_blueprint(
        health_blueprint(Health(alive={"database": db.write_probe}, ready=ready or {}))
    )
    init_metrics(app, service, gauges)
    if not app.debug:
        configure_logging(config.log_format)
    return app


@functools.cache
def _favicon() -> bytes:
    return (SHARED / "static" / "favicon.svg").read_bytes()


def app_config() -> Config:
    return current_app.extensions["evenemang"]["config"]


def app_db() -> Database:
    return current_app.extensions["evenemang"]["db"]
