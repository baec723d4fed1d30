"""Booking's application factory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from services.booking.entrypoints.api import bp as api_bp
from services.booking.entrypoints.catalog_api import bp as catalog_api_bp
from services.booking.entrypoints.errors import install_domain_errors
from services.booking.entrypoints.pages import bp as pages_bp
from services.booking.entrypoints.session_api import bp as session_bp
from services.booking.entrypoints.users_api import bp as users_api_bp
from services.booking.openid import UniversityProvider
from services.booking.persistence.models import OutboxMessage
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases.logins import LoginGate
from services.booking.usecases.sessions import BookingAuthority
from shared.config import Config
from shared.db import service_database
from shared.password_checks import PasswordChecks
from shared.readiness import waiting_rows_check
from shared.sessions import SessionLimits
from shared.web import make_app, resolve_config
from shared.workload import outbox_gauges


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    cfg = resolve_config(config)
    db = service_database(cfg, "booking")
    authority = BookingAuthority(db, SessionLimits.from_config(cfg))
    # events the relay has not published: booking itself works without the broker
    outbox = waiting_rows_check(
        db,
        "events",
        OutboxMessage.created_at,
        OutboxMessage.published_at.is_(None),
        limit=cfg.ready_max_wait_seconds,
    )
    app = make_app(
        __name__,
        "booking",
        cfg,
        db,
        authority,
        ready={"outbox": outbox},
        gauges=lambda: outbox_gauges(db, OutboxMessage),
    )
    app.extensions["booking_context"] = Context(db=db, config=cfg)
    # Sessions and logins read the use cases' clock (tests move it).
    app.extensions["evenemang_auth"].clock = lambda: app.extensions["booking_context"].clock()
    # This process's turns to check passwords (one at a time with the processes sharing
    # the data directory) and the waits it has told.
    app.extensions["login_gate"] = LoginGate(
        PasswordChecks(lock_dir=cfg.data_dir), hold=timedelta(seconds=cfg.login_hold_seconds)
    )
    if cfg.oidc_enabled:
        app.extensions["university_provider"] = UniversityProvider(cfg)
    install_domain_errors(app)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(session_bp, url_prefix="/api/v1")
    app.register_blueprint(users_api_bp, url_prefix="/api/v1")
    app.register_blueprint(catalog_api_bp, url_prefix="/api/v1")
    app.register_blueprint(pages_bp)
    return app
