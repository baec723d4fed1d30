"""Notify's application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from shared.config import Config
from shared.db import Database
from shared.web import make_app, resolve_config


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    cfg = resolve_config(config)
    db = Database(cfg.notify_database_url)
    app = make_app(__name__, "notify", cfg, db)
    return app
