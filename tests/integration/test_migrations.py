"""Each service's migrations build exactly the tables its models describe, on the run's
database (SQLite, or PostgreSQL in the servers pass)."""

from __future__ import annotations

from importlib import import_module

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from shared.config import SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrations_match_the_models(config, service):
    url = getattr(config, f"{service}_database_url")
    models = import_module(f"services.{service}.persistence.models")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), models.Base.metadata
            )
    finally:
        engine.dispose()
    assert differences == []
