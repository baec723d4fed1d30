"""Alembic per service, driven from code (no alembic.ini): each service keeps its own
``migrations/`` folder and its own database."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig


def alembic_config(service: str, url: str) -> AlembicConfig:
    package = import_module(f"services.{service}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring one service's database to ``revision``."""
    command.upgrade(alembic_config(service, url), revision)


def run_env(target_metadata) -> None:
    """The body of every service's ``migrations/env.py``."""
    from alembic import context
    from sqlalchemy import text

    from shared.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # several instances may migrate at once: one at a time, the rest find it
                    # done (the lock ends with the transaction)
                    connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
                context.run_migrations()
    finally:
        engine.dispose()
