"""Notify's own database: its read model of bookings and the events it has applied."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.inbox import ProcessedEventMixin
from shared.principals import PrincipalMixin
from shared.readmodel import BookingSnapshotMixin


class Base(DeclarativeBase):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    __tablename__ = "processed_events"


class Booking(BookingSnapshotMixin, Base):
    """The newest snapshot of each booking this service has seen."""

    __tablename__ = "bookings"


class KnownUser(PrincipalMixin, Base):
    """Booking's users as the ``user.changed`` events describe them."""

    __tablename__ = "known_users"
