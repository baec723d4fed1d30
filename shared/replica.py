"""The tables every consuming service keeps beside its own: the events it has applied
(the inbox), the newest snapshot of each booking, and booking's users as the
``user.changed`` events describe them. One definition, mapped on each service's own base."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy.orm import DeclarativeBase

from shared.inbox import ProcessedEventMixin
from shared.principals import PrincipalMixin
from shared.readmodel import BookingSnapshotMixin


class ReplicaTables(NamedTuple):
    processed_event: type[ProcessedEventMixin]
    booking: type[BookingSnapshotMixin]
    known_user: type[PrincipalMixin]


def replica_tables(base: type[DeclarativeBase]) -> ReplicaTables:
    """Map the replica tables on a service's declarative ``base``."""

    class ProcessedEvent(ProcessedEventMixin, base):
        __tablename__ = "processed_events"

    class Booking(BookingSnapshotMixin, base):
        """The newest snapshot of each booking this service has seen."""

        __tablename__ = "bookings"

    class KnownUser(PrincipalMixin, base):
        """Booking's users as the ``user.changed`` events describe them."""

        __tablename__ = "known_users"

    return ReplicaTables(ProcessedEvent, Booking, KnownUser)
