"""Notify's application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.notify.entrypoints.api import api
from services.notify.entrypoints.pages import pages
from services.notify.persistence.models import KnownUser
from shared.config import Config
from shared.db import service_database
from shared.principals import ReplicaAuthority
from shared.web import make_app, resolve_config


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    cfg = resolve_config(config)
    db = service_database(cfg, "notify")
    app = make_app(__name__, "notify", cfg, db, ReplicaAuthority(db, KnownUser))
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(pages)
    return app
