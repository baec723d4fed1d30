"""The last line behind each request's own bounds: a statement that runs too long on
PostgreSQL is ended by its statement_timeout, a writer waiting for SQLite's lock gives up
after the same time, and the other sessions go on meanwhile (EVENEMANG_DB_STATEMENT_TIMEOUT)."""

from __future__ import annotations

import sqlite3
import threading
from time import perf_counter

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared.config import Config, ConfigError
from shared.db import Database, service_database
from tests.support.backends import BACKEND, require_postgres

TIMEOUT = 0.5


class Quick(threading.Thread):
    """Another session asking the database something small, again and again, timing it."""

    def __init__(self, db: Database) -> None:
        super().__init__(daemon=True)
        self.db, self.stop, self.took = db, threading.Event(), []

    def run(self) -> None:
        while not self.stop.is_set():
            began = perf_counter()
            with self.db.transaction(readonly=True) as session:
                assert session.scalar(text("SELECT 1")) == 1
            self.took.append(perf_counter() - began)
            self.stop.wait(0.02)


def _failing(db: Database, statement: str, reason: str) -> float:
    """Seconds until ``statement``, in a writing transaction, fails for ``reason``."""
    began = perf_counter()
    with pytest.raises(OperationalError, match=reason), db.transaction() as session:
        session.execute(text(statement))
    return perf_counter() - began


def test_postgres_ends_a_statement_that_runs_too_long_while_others_go_on(tmp_path):
    url = require_postgres()
    config = Config(data_dir=tmp_path, booking_database_url=url, db_statement_timeout=TIMEOUT)
    db = service_database(config.with_defaults(), "booking")
    quick = Quick(db)
    quick.start()
    try:
        took = _failing(db, "SELECT pg_sleep(30)", "statement timeout")
        with db.transaction(readonly=True) as session:  # the pool's connection is fine after
            assert session.scalar(text("SHOW statement_timeout")) == "500ms"
    finally:
        quick.stop.set()
        quick.join(5)
        db.dispose()
    assert TIMEOUT <= took < TIMEOUT + 2
    assert len(quick.took) >= 5 and max(quick.took) < 1


def test_a_writer_waits_for_sqlites_lock_no_longer_than_the_statement_timeout(tmp_path):
    config = Config(data_dir=tmp_path, db_statement_timeout=TIMEOUT).with_defaults()
    db = service_database(config, "booking")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(config.booking_database_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with db.transaction(readonly=True) as session:  # readers go on (WAL)
            assert session.scalar(text("SELECT count(*) FROM t")) == 0
        took = _failing(db, "INSERT INTO t VALUES (1)", "database is locked")
    finally:
        holder.rollback()
        holder.close()
    assert TIMEOUT * 0.9 <= took < TIMEOUT + 2
    with db.transaction() as session:  # and writes once the lock is free
        session.execute(text("INSERT INTO t VALUES (1)"))
    db.dispose()


def test_each_service_uses_the_configured_timeout(make_app, config):
    for service in ("booking", "calendar", "notify"):
        app = make_app(service, config.replace(db_statement_timeout=2.5))
        db = app.extensions["evenemang"]["db"]
        with db.transaction(readonly=True) as session:
            if BACKEND == "servers":
                assert session.scalar(text("SHOW statement_timeout")) == "2500ms"
            else:
                assert session.scalar(text("PRAGMA busy_timeout")) == 2500


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_statement_timeout_that_is_not_a_positive_number_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="EVENEMANG_DB_STATEMENT_TIMEOUT"):
        Config.from_env({"EVENEMANG_DB_STATEMENT_TIMEOUT": value}, data_dir=tmp_path)
