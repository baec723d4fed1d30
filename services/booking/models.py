"""Booking's persistence: SQLAlchemy mapping of the system of record."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.outbox import OutboxMixin


class Base(DeclarativeBase):
    pass


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"
