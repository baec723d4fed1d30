"""The unit of work around each of notify's use cases (as in cosmicpython): the
repositories a use case reads and writes, one transaction, and an explicit ``commit`` —
leaving without it rolls everything back.

:class:`SqlAlchemyUnitOfWork` runs on notify's database; the consumer's one joins the
inbox's transaction instead, so an event's record and its mail commit together.
``persistence.fake.FakeUnitOfWork`` holds the same repositories in memory for unit tests.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any, Protocol, Self

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.notify.commands import ListDeliveries
from services.notify.domain import DigestItem, Invited, Outcome
from services.notify.persistence.deciders import (
    SqlDigests,
    SqlPreferences,
    SqlResources,
    SqlWaitingReminders,
)
from services.notify.persistence.delivery_log import SqlDeliveries
from services.notify.persistence.repositories import (
    SqlBookings,
    SqlInvitations,
    SqlReminders,
    SqlUsers,
)
from services.notify.readmodels import Claimed, DeliveryView, NewDelivery
from shared import unit_of_work as shared_uow
from shared.db import Database
from shared.events import BookingSnapshot, Event, ResourceRef


class Bookings(Protocol):
    """Notify's read model: the newest snapshot of each booking."""

    def lock(self, booking_ids: Iterable[str]) -> dict[str, BookingSnapshot]:
        """The stored snapshot of each booking notify has (rows locked, in id order)."""

    def store_newest(self, events: list[Event]) -> list[Event]:
        """Per booking keep the newest event's snapshot when it is newer than the stored
        one; the events stored."""

    def snapshots(self, booking_ids: Iterable[str]) -> dict[str, BookingSnapshot]:
        """The stored snapshots of these bookings (those notify has)."""


class Users(Protocol):
    def store_newest(self, events: list[Event]) -> None:
        """Per user keep the newest ``user.changed`` revision."""


class Resources(Protocol):
    """The resources' newest names and places, from ``resource.changed`` (and, for those
    no such event has told of yet, as booking snapshots last named them)."""

    def store_newest(self, events: list[Event]) -> None:
        """Per resource keep the newest revision."""

    def remember(self, refs: Iterable[ResourceRef]) -> None:
        """Keep these names for resources no ``resource.changed`` has told of."""

    def refs(self, resource_ids: Iterable[str]) -> dict[str, ResourceRef]:
        """What is known of these resources (those notify has heard of)."""


class Preferences(Protocol):
    """How each user wants to hear of lines waiting for them."""

    def store_newest(self, events: list[Event]) -> None:
        """Per user keep the newest ``user.changed`` revision's alert mode."""

    def daily(self) -> frozenset[str]:
        """The addresses (lower-case) of those who chose the daily digest."""

    def languages(self, emails: Collection[str]) -> dict[str, str]:
        """The language of each known user among these addresses (by lower-case address)."""


class Digests(Protocol):
    """The lines waiting for each digest recipient until their next digest."""

    def add(self, items: Iterable[DigestItem], now: datetime) -> None:
        """Keep each item not kept already (added ``now``)."""

    def any_due(self, cutoff: datetime) -> bool: ...

    def recipients_due(self, cutoff: datetime, limit: int) -> list[str]:
        """Up to ``limit`` recipients with items added by ``cutoff``."""

    def lock(self, recipient: str, cutoff: datetime) -> list[tuple[str, str]]:
        """A recipient's items added by ``cutoff`` (booking id, resource id), locked."""

    def remove(self, recipient: str, keys: Collection[tuple[str, str]]) -> None: ...


class WaitingReminders(Protocol):
    """The 48-hour reminders of waiting lines."""

    def lock_for_booking(self, booking_id: str) -> dict[str, datetime]:
        """Resource id → waiting since, of the booking's scheduled reminders (locked)."""

    def reschedule(
        self, booking_id: str, drop: Collection[str], add: Mapping[str, tuple[datetime, datetime]]
    ) -> list[str]:
        """Remove the ``drop`` lines' reminders, schedule ``add`` (resource id → waiting
        since, remind at); the event ids of removed reminders a scheduler had taken."""

    def any_due(self, now: datetime) -> bool: ...

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        """Up to ``limit`` due reminders not taken yet (booking, resource, waiting since),
        locked, skipping those another worker holds."""

    def mark_taken(self, booking_id: str, resource_ids: Collection[str], event_id: str) -> None:
        """Taken under ``event_id`` (empty: nothing was sent)."""


class Invitations(Protocol):
    """What each participant's calendar was last sent for a booking."""

    def lock_for_bookings(self, booking_ids: Iterable[str]) -> dict[str, dict[str, Invited]]:
        """Each booking's calendars (those it has), rows locked in booking order."""

    def save(self, saves: Sequence[tuple[str, Mapping[str, Invited], int]]) -> None:
        """Each (booking, its calendars' states, the revision they were sent) kept."""


class Reminders(Protocol):
    """The reminders ahead: one per occurrence of an approved booking."""

    def lock_for_bookings(self, booking_ids: Iterable[str]) -> dict[str, dict[int, datetime]]:
        """Per booking (those that have any), occurrence number → start time of its
        scheduled reminders; rows locked in booking order."""

    def lock_for_booking(self, booking_id: str) -> dict[int, datetime]:
        """Occurrence number → start time of the booking's scheduled reminders."""

    def reschedule(
        self, changes: Sequence[tuple[str, Iterable[int], Mapping[int, datetime]]], lead: timedelta
    ) -> None:
        """For each (booking, drop, add): remove the ``drop`` reminders, schedule ``add``
        (``lead`` before each start)."""

    def any_due(self, now: datetime) -> bool: ...

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, int, datetime]]:
        """Remove and return up to ``limit`` due reminders (booking, occurrence, start),
        skipping those another worker holds."""


class Deliveries(Protocol):
    """The delivery log: one row per (event, recipient, kind)."""

    def add(self, rows: list[NewDelivery], now: datetime) -> int:
        """Queue the rows not already in the log; how many were added."""

    def drop_queued_calendar_mail(
        self, booking_id: str, recipients: Collection[str], assignments: bool = False
    ) -> None:
        """The booking's calendar mail still queued to these recipients is ``dropped``:
        its invitations, or (``assignments``) the calendar mail of its jobs."""

    def drop_queued_reminders(self, booking_id: str, keep: Collection[str]) -> None:
        """The booking's reminders still queued, except those of the ``keep`` event ids,
        are ``dropped``."""

    def drop_queued_waiting(self, booking_id: str, event_ids: Collection[str]) -> None:
        """The booking's 48-hour reminders of these event ids still queued are ``dropped``."""

    def exists(self, event_id: str, recipient: str, kind: str) -> bool: ...

    def any_due(self, now: datetime, stale_before: datetime) -> bool: ...

    def held_claims(self, prefix: str) -> list[str]:
        """The claim tokens starting with ``prefix`` that hold rows ``sending``."""

    def release(self, claims: Collection[str]) -> None:
        """The rows ``sending`` under ``claims`` (their holders gone) are due again at
        once (claimed at ``RELEASED``, before any lease)."""

    def claim(self, now: datetime, stale_before: datetime, limit: int, token: str) -> list[Claimed]:
        """Take due rows (queued and due, or ``sending`` with a lease older than
        ``stale_before``) as ``sending`` under ``token``."""

    def record(self, token: str, item: Claimed, outcome: Outcome) -> None:
        """A failed attempt's outcome, if the claim is still this sender's."""

    def record_sent(self, token: str, ids: list[int], now: datetime) -> None: ...

    def renew(self, token: str, now: datetime) -> None:
        """The lease of what is still ``sending`` under ``token`` starts again at ``now``."""

    def list(self, query: ListDeliveries) -> list[DeliveryView]: ...


class UnitOfWork(shared_uow.UnitOfWork):
    """Notify's transaction over its repositories."""

    bookings: Bookings
    users: Users
    invitations: Invitations
    reminders: Reminders
    deliveries: Deliveries
    resources: Resources
    preferences: Preferences
    digests: Digests
    waiting: WaitingReminders

    @abc.abstractmethod
    def reading(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that only reads (no write lock on SQLite)."""

    def holding(self) -> AbstractContextManager[None]:
        """Inside it, each transaction runs on one connection kept for them all (the
        sender's short transaction per mail: a connection checked out, and pinged, once a
        batch rather than once a mail)."""
        return nullcontext()


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Notify's database: a new transaction each time it is entered."""

    def __init__(self, db: Database | None, *, readonly: bool = False) -> None:
        self.db = db
        self.readonly = readonly
        self._joined: Session | None = None
        self._transaction: AbstractContextManager[Session] | None = None
        self._held: Connection | None = None
        self._done = False

    @contextmanager
    def holding(self) -> Iterator[None]:
        assert self.db is not None and self._joined is None
        with self.db.engine.connect() as connection:
            self._held = connection
            try:
                yield
            finally:
                self._held = None

    @classmethod
    def joining(cls, session: Session) -> SqlAlchemyUnitOfWork:
        """A unit of work inside a transaction someone else opened and commits (the
        inbox's): ``commit`` leaves the commit to it."""
        uow = cls(None)
        uow._joined = session
        return uow

    def reading(self) -> SqlAlchemyUnitOfWork:
        if self._joined is not None:  # reads inside the owner's transaction
            return self
        return SqlAlchemyUnitOfWork(self.db, readonly=True)

    def __enter__(self) -> Self:
        if self._joined is not None:
            session = self._joined
        else:
            assert self.db is not None
            if self._held is not None and not self.readonly:
                self._transaction = _transaction_on(self._held)
            else:
                self._transaction = self.db.transaction(readonly=self.readonly)
            session = self._transaction.__enter__()
        self._bind(session)
        self._done = False
        return self

    def _bind(self, session: Session) -> None:
        self.session = session
        self.bookings = SqlBookings(session)
        self.users = SqlUsers(session)
        self.invitations = SqlInvitations(session)
        self.reminders = SqlReminders(session)
        self.deliveries = SqlDeliveries(session)
        self.resources = SqlResources(session)
        self.preferences = SqlPreferences(session)
        self.digests = SqlDigests(session)
        self.waiting = SqlWaitingReminders(session)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            return  # joined: the owner of the transaction commits or rolls back
        if exc_type is None and not self._done:
            self.session.rollback()
        transaction.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._done = True
        if self._transaction is not None:
            self.session.commit()

    def rollback(self) -> None:
        self._done = True
        if self._transaction is not None:
            self.session.rollback()


@contextmanager
def _transaction_on(connection: Connection) -> Iterator[Session]:
    """A session in one transaction on ``connection`` (as ``Database.transaction``: BEGIN
    IMMEDIATE on SQLite, committed on success, rolled back on any error)."""
    with Session(bind=connection, expire_on_commit=False) as session, session.begin():
        yield session
