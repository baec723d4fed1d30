"""Notify's own database: its read model of bookings, the events it has applied, the
delivery log, what each participant's calendar was last told, the reminders ahead, and
for deciders: how each wants to be alerted, their digest's lines, the 48-hour reminders
of waiting lines, and the resources' newest names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.notify.domain import DeliveryStatus
from shared.db import UTCDateTime, utcnow
from shared.replica import replica_tables


class Base(DeclarativeBase):
    pass


ProcessedEvent, Booking, KnownUser = replica_tables(Base)


class Delivery(Base):
    """One mail to one recipient, planned in the transaction that applied its event: the
    unique key (event id, recipient, kind) is what makes every event mail at most once.
    ``status`` is a :class:`~services.notify.domain.DeliveryStatus`."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "kind", name="uq_deliveries_event_recipient"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_booking_status", "booking_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(36))
    recipient: Mapped[str] = mapped_column(String(254))  # lower-cased address
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(400), default="")
    message: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claim: Mapped[str | None] = mapped_column(String(36), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Invitation(Base):
    """What a participant's calendar was last sent for a booking (iMIP REQUEST or CANCEL),
    so an update goes out only when time or place changed."""

    __tablename__ = "invitations"

    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sequence: Mapped[int] = mapped_column(Integer)


class Reminder(Base):
    """A reminder still to send: one per occurrence of an approved booking."""

    __tablename__ = "reminders"

    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KnownResource(Base):
    """A resource as its newest ``resource.changed`` says (revision-gated): mail names
    resources as they are called now, also in a reminder of a booking made before a rename."""

    __tablename__ = "resources"

    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))  # Swedish
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(300), default="")  # Swedish
    location_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DeciderPreference(Base):
    """How a user wants to hear of lines waiting for them (``user.changed``'s ``alerts``):
    ``each`` (a mail per request) or ``daily`` (one digest a day); and the language mail
    about their own jobs (an assignment) is worded in."""

    __tablename__ = "decider_preferences"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower-cased
    alerts: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(2), default="sv", server_default="sv")
    revision: Mapped[int] = mapped_column(Integer)


class DigestEntry(Base):
    """A line waiting for a decider who chose the daily digest, until their next digest."""

    __tablename__ = "digest_items"

    recipient: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower-cased
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WaitingReminder(Base):
    """A waiting line's 48-hour reminder: due at ``remind_at``; ``event_id`` once a
    scheduler has taken it (the reminder's delivery log id, empty when nothing was sent),
    so it is never taken twice and its mail is dropped if the line is decided first."""

    __tablename__ = "waiting_reminders"

    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
