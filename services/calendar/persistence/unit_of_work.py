"""The unit of work around each of calendar's use cases: its repositories, one transaction,
and nothing kept unless the use case commits (as in cosmicpython).

``with uow:`` writes; ``with uow.reading():`` only reads (on SQLite it takes no write lock).
A unit of work object may be entered again and again, one transaction each time, but by
one thread at a time: build one per request."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType

from sqlalchemy.orm import Session

from services.calendar.persistence import repositories
from services.calendar.persistence.sql import bind_repositories
from shared.db import Database


class UnitOfWork(ABC):
    bookings: repositories.BookingRepository
    users: repositories.UserRepository
    entries: repositories.EntryRepository
    feed_state: repositories.FeedStateRepository
    resources: repositories.ResourceRepository
    tokens: repositories.TokenRepository

    @abstractmethod
    def __enter__(self) -> UnitOfWork:
        """Begin a writing transaction."""

    @abstractmethod
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End it: what was not committed is rolled back."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction that only reads."""

    @abstractmethod
    def commit(self) -> None: ...


class SqlAlchemyUnitOfWork(UnitOfWork):
    """A unit of work over calendar's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._transaction: AbstractContextManager[Session] | None = None
        self.session: Session | None = None

    def _begin(self, readonly: bool) -> UnitOfWork:
        self._transaction = self.db.transaction(readonly=readonly)
        self.session = self._transaction.__enter__()
        bind_repositories(self, self.session)
        return self

    def _end(self, exc_type, exc, tb, *, discard: bool) -> None:
        transaction, session = self._transaction, self.session
        self._transaction = self.session = None
        if exc is None and discard:
            session.rollback()  # a no-op after commit(); else nothing is kept
        transaction.__exit__(exc_type, exc, tb)

    def __enter__(self) -> UnitOfWork:
        return self._begin(readonly=False)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._end(exc_type, exc, tb, discard=True)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        self._begin(readonly=True)
        try:
            yield self
        except BaseException as exc:
            self._end(type(exc), exc, exc.__traceback__, discard=True)
            raise
        else:
            self._end(None, None, None, discard=False)  # read only: nothing to discard

    def commit(self) -> None:
        self.session.commit()


class HeldUnitOfWork(UnitOfWork):
    """A unit of work whose transaction, if any, is held by someone else: entering it
    begins nothing and leaving it ends nothing."""

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        return None

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        yield self


class JoinedUnitOfWork(HeldUnitOfWork):
    """A unit of work inside the consumer's inbox transaction, which records each event in
    the same transaction as its effect and commits both."""

    def __init__(self, session: Session) -> None:
        self.session = session
        bind_repositories(self, session)

    def commit(self) -> None:
        self.session.flush()  # the owner of the transaction commits
