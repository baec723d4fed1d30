"""SQLAlchemy 2.x engines and transactions built from a URL; SQLite runs in WAL mode."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from shared.files import private_file

if TYPE_CHECKING:
    from shared.config import Config


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


SQLITE_BUSY_SECONDS = 30.0  # without a statement timeout (migrations, tools)

# libpq settings that end a PostgreSQL connection gone silent (the server or the path to it
# stops answering without closing) within seconds instead of the system's two hours:
# unacknowledged writes give up after 10 s, an idle connection is probed every few seconds.
SILENT_CONNECTION_ENDS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def _probe_connect_args(dialect: str, timeout: float) -> dict:
    if dialect != "postgresql":
        return {}
    # libpq waits at least 2 s to connect; the probe's caller does not wait that long
    return {**SILENT_CONNECTION_ENDS, "connect_timeout": max(2, round(timeout))}


def make_engine(url: str, *, statement_timeout: float | None = None, **kwargs) -> Engine:
    """An engine for ``url``. PostgreSQL: every session's ``statement_timeout`` (seconds,
    none when not given), and a connection gone silent ended within seconds. SQLite: WAL, a
    busy timeout (the statement timeout, when given), and explicit BEGIN so writers can take
    the write lock up front (``BEGIN IMMEDIATE``) and serialise."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
            kwargs.setdefault("connect_args", dict(SILENT_CONNECTION_ENDS))
        if statement_timeout is not None and parsed.get_backend_name() == "postgresql":
            options = f"-c statement_timeout={round(statement_timeout * 1000)}"
            kwargs["connect_args"] = {"options": options, **kwargs.get("connect_args", {})}
        return create_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        private_file(parsed.database)
    # one busy timeout (seconds): connect_args, else the URL's ?timeout=, else the statement
    # timeout, else SQLITE_BUSY_SECONDS
    busy = SQLITE_BUSY_SECONDS if statement_timeout is None else statement_timeout
    kwargs.setdefault("connect_args", {"timeout": float(parsed.query.get("timeout", busy))})
    busy_ms = int(float(kwargs["connect_args"].get("timeout", busy)) * 1000)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """One service's database: an engine and short transactions around each use case."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.dialect = self.engine.dialect.name
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        reader = self.engine.execution_options(sqlite_begin="DEFERRED")
        self._readers = sessionmaker(reader, expire_on_commit=False)
        self._probe_engine: Engine | None = None

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.
        On SQLite a writing transaction takes the write lock at BEGIN."""
        factory = self._readers if readonly else self._sessions
        with factory() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.execution_options(sqlite_begin="DEFERRED").connect() as conn:
            conn.execute(text("SELECT 1"))

    def write_probe(self, timeout: float = 1.0) -> None:
        """Raise unless the database would take a write within about ``timeout`` seconds,
        writing nothing: SQLite takes its write lock (``BEGIN IMMEDIATE``) and lets go;
        PostgreSQL gives the transaction an id (refused read-only or in recovery) under a
        statement and lock timeout. Its own connection, so a full pool does not hide it."""
        url = self.engine.url
        if self.dialect == "sqlite":
            if not url.database or url.database == ":memory:":
                return self.ping()
            existing = f"{Path(url.database).resolve().as_uri()}?mode=rw"  # never creates it
            db = sqlite3.connect(existing, uri=True, timeout=timeout, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            finally:
                db.close()
            return None
        if self._probe_engine is None:
            self._probe_engine = create_engine(
                url, poolclass=NullPool, connect_args=_probe_connect_args(self.dialect, timeout)
            )
        millis = max(1, int(timeout * 1000))
        with self._probe_engine.connect() as conn:
            conn.exec_driver_sql(f"SET statement_timeout = {millis}")
            conn.exec_driver_sql(f"SET lock_timeout = {millis}")
            conn.exec_driver_sql("SELECT txid_current()")
            conn.rollback()
        return None

    def create_all(self, base: type[DeclarativeBase]) -> None:
        base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._probe_engine is not None:
            self._probe_engine.dispose()


def service_database(config: Config, service: str) -> Database:
    """A service's database as configured: its URL and the statement timeout."""
    return Database(config.database_url(service), statement_timeout=config.db_statement_timeout)
