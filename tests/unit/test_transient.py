"""Which failures are waited out (a consumer pauses, a request answers 503) and which are
the message's or request's own (dead letter, 500): real errors of SQLite, PostgreSQL's driver
and the network, as the services meet them."""

from __future__ import annotations

import socket
import sqlite3

import psycopg
import pytest
from sqlalchemy import create_engine, text

from shared.transient import is_database_outage, is_transient


def _locked_error(tmp_path) -> tuple[sqlite3.OperationalError, Exception]:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        waiting = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError) as raw:
            waiting.execute("INSERT INTO t VALUES (1)")
        waiting.close()
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
        with pytest.raises(Exception) as wrapped, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        engine.dispose()
    finally:
        holder.close()
    return raw.value, wrapped.value


def test_a_locked_sqlite_database_is_an_outage_raw_and_through_sqlalchemy(tmp_path):
    raw, wrapped = _locked_error(tmp_path)
    assert "locked" in str(raw)
    assert is_database_outage(raw) and is_database_outage(wrapped) and is_transient(wrapped)


def test_a_statement_sqlite_can_never_run_is_not_an_outage(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(Exception) as missing, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()
    assert not is_database_outage(missing.value) and not is_transient(missing.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgresql_that_cannot_be_reached_is_an_outage_raw_and_through_sqlalchemy():
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none"
    with pytest.raises(psycopg.OperationalError) as raw:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2)
    engine = create_engine(url)
    with pytest.raises(Exception) as wrapped:
        engine.connect()
    engine.dispose()
    assert is_database_outage(raw.value) and is_database_outage(wrapped.value)


def test_the_network_is_transient_but_a_handlers_own_error_is_not():
    with pytest.raises(OSError) as refused:
        socket.create_connection(("127.0.0.1", _closed_port()), timeout=2)
    assert is_transient(refused.value) and not is_database_outage(refused.value)
    assert not is_transient(ValueError("can never be applied"))
    try:
        try:
            raise ConnectionResetError("while reading")
        except ConnectionResetError:
            raise KeyError("a bug in the handler")  # noqa: B904 - the context is the point
    except KeyError as bug:  # raised while handling a network error: still the bug's
        assert not is_transient(bug)


def test_a_statement_timeout_is_transient_and_known_as_such():
    from psycopg.errors import QueryCanceled
    from sqlalchemy.exc import OperationalError

    from shared.transient import is_statement_timeout

    error = OperationalError("SELECT 1", {}, QueryCanceled("canceling statement"))
    assert is_transient(error) and is_statement_timeout(error)
    assert not is_statement_timeout(OperationalError("SELECT 1", {}, OSError("gone")))
