"""Booking's application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.booking.entrypoints.api import bp as api_bp
from services.booking.entrypoints.errors import install_domain_errors
from services.booking.entrypoints.pages import bp as pages_bp
from services.booking.entrypoints.session_api import bp as session_bp
from services.booking.entrypoints.users_api import bp as users_api_bp
from services.booking.openid import UniversityProvider
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases.users import booking_validator
from shared.config import Config
from shared.db import Database
from shared.web import make_app, resolve_config


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    cfg = resolve_config(config)
    db = Database(cfg.booking_database_url)
    app = make_app(__name__, "booking", cfg, db, booking_validator(db))
    app.extensions["booking_context"] = Context(db=db, config=cfg)
    if cfg.oidc_enabled:
        app.extensions["university_provider"] = UniversityProvider(cfg)
    install_domain_errors(app)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(session_bp, url_prefix="/api/v1")
    app.register_blueprint(users_api_bp, url_prefix="/api/v1")
    app.register_blueprint(pages_bp)
    return app
