"""Which failures pass by themselves: a database or broker that is away, locked or cut off
answers again later, so the work is waited out (a consumer pauses, a page says "try again
in a moment") instead of being given up for good (a dead letter, a 500)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from sqlalchemy import exc as sa

try:  # the PostgreSQL driver, when installed
    from psycopg import OperationalError as PsycopgOperationalError
except ImportError:  # pragma: no cover - psycopg is a dependency
    PsycopgOperationalError = ()  # type: ignore[assignment,misc]

try:
    from kombu.exceptions import OperationalError as KombuOperationalError
except ImportError:  # pragma: no cover - kombu is a dependency
    KombuOperationalError = ()  # type: ignore[assignment,misc]

# SQLite's own words for a database it cannot reach now (locked by another writer, its file
# or disk away), as opposed to a statement that can never work ("no such table")
SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o", "readonly database")


RETRY_AFTER_SECONDS = 5  # what a 503 for a database away asks a client to wait


class OutcomeUnknown(Exception):
    """The database went away during COMMIT: the change may or may not have been saved."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, sa.DBAPIError) and current.orig is not None:
            yield current.orig
        current = current.__cause__  # not __context__: an error raised while handling another


def _sqlite_transient(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return any(words in text for words in SQLITE_TRANSIENT)


def is_database_outage(error: BaseException) -> bool:
    """The database could not be reached or written now (down, cut off, locked, restarting),
    as opposed to a statement it refused for good."""
    for cause in _chain(error):
        if isinstance(cause, sa.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sqlite3.OperationalError):
            return _sqlite_transient(cause)
        if isinstance(cause, PsycopgOperationalError):
            return True
        refused = cause.__cause__ or getattr(cause, "orig", None)  # SQLite's words decide
        if isinstance(
            cause, sa.OperationalError | sa.DisconnectionError | sa.TimeoutError
        ) and not isinstance(refused, sqlite3.Error):
            return True
    return False


def is_statement_timeout(error: BaseException) -> bool:
    """The database answered, but ended the statement at its time limit (PostgreSQL's
    ``statement_timeout``, SQLSTATE 57014): load may pass, but a statement too big for the
    limit fails the same way every time."""
    return any(getattr(cause, "sqlstate", None) == "57014" for cause in _chain(error))


def is_transient(error: BaseException) -> bool:
    """Worth waiting out: the database away (:func:`is_database_outage`), the broker away
    (kombu's OperationalError), or the network (any OSError, a timeout)."""
    if is_database_outage(error):
        return True
    return any(
        isinstance(cause, OSError | TimeoutError | KombuOperationalError)
        for cause in _chain(error)
        if not isinstance(cause, sqlite3.Error)
    )
