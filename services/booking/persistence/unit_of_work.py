"""What every use case needs: a unit of work per transaction, the configuration and a clock.

``SqlAlchemyUnitOfWork`` is one transaction on booking's database. A writing one takes
SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``: writers queue instead of failing
halfway); on PostgreSQL a slot another transaction took first surfaces as
:class:`SlotRace` (the exclusion constraint ``slots_no_overlap``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.booking.persistence.idempotency import claim_in_progress
from services.booking.persistence.models import OutboxMessage, User
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.sql import (
    SqlBookings,
    SqlCatalog,
    SqlResources,
    SqlSlots,
    SqlTeams,
)
from shared.config import Config
from shared.db import Database, utcnow
from shared.events import EventType, Snapshot, make_envelope
from shared.outbox import enqueue_now
from shared.transient import OutcomeUnknown, is_database_outage

EXCLUSION_CONSTRAINT = "slots_no_overlap"


class SlotRace(Exception):
    """PostgreSQL's exclusion constraint refused a slot another transaction just took."""


_READERS: WeakKeyDictionary[Database, Engine] = WeakKeyDictionary()


def _reader(db: Database) -> Engine:
    """The engine a reader uses: on SQLite it begins DEFERRED (no write lock); a writer
    begins IMMEDIATE (shared.db)."""
    if db not in _READERS:
        _READERS[db] = db.engine.execution_options(sqlite_begin="DEFERRED")
    return _READERS[db]


def _lost_race(error: BaseException | None) -> bool:
    return isinstance(error, IntegrityError) and EXCLUSION_CONSTRAINT in str(error.orig)


class SqlAlchemyUnitOfWork(UnitOfWork):
    def __init__(self, db: Database, *, readonly: bool = False) -> None:
        self.db = db
        self.readonly = readonly

    def __enter__(self) -> Self:
        bind = _reader(self.db) if self.readonly else self.db.engine
        self.session = Session(bind, expire_on_commit=False)
        self.session.begin()
        self.teams = SqlTeams(self.session)
        self.resources = SqlResources(self.session)
        self.bookings = SqlBookings(self.session)
        self.slots = SqlSlots(self.session)
        self.catalog = SqlCatalog(self.session)
        self.claim = None if self.readonly else claim_in_progress.get()
        if self.claim is not None:
            self.claim.watch(self.session)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(kind, error, trace)
        finally:
            self.session.close()
        if _lost_race(error):
            raise SlotRace() from error

    def commit(self) -> None:
        try:
            if self.claim is not None:  # an Idempotency-Key: with what it creates, or neither
                self.claim.write(self.session)
            self.session.commit()
        except IntegrityError as exc:
            if _lost_race(exc):
                raise SlotRace() from exc
            raise
        except Exception as exc:
            if is_database_outage(exc):  # the answer to COMMIT was lost: saved or not?
                raise OutcomeUnknown() from exc
            raise

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()

    def user(self, user_id: str, *, lock: bool = False) -> User | None:
        return self.session.get(User, user_id, with_for_update=lock or None)

    def user_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email))

    def publish(self, event_type: EventType, snapshot: Snapshot) -> None:
        enqueue_now(self.session, OutboxMessage, make_envelope(event_type, snapshot))


@dataclass
class Context:
    """The use cases' surroundings: units of work (the database's, or ``units`` given, as
    the unit tests give fakes), the configuration and the clock."""

    db: Database | None
    config: Config
    clock: Callable[[], datetime] = field(default=utcnow)
    units: Callable[..., UnitOfWork] | None = None

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        """A fresh unit of work (use it in a ``with``)."""
        if self.units is not None:
            return self.units(readonly=readonly)
        assert self.db is not None, "a context without units needs a database"
        return SqlAlchemyUnitOfWork(self.db, readonly=readonly)
