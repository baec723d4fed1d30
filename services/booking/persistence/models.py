"""Booking's persistence: the SQLAlchemy mapping of the system of record."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship

from shared.db import UTCDateTime, utcnow
from shared.outbox import OutboxMixin


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    language: Mapped[str] = mapped_column(String(2), default="sv")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How requests waiting for this person's decision reach them: "each" or "daily".
    alerts: Mapped[str] = mapped_column(String(8), default="each", server_default="each")
    # Who they are at the university's OpenID provider (single sign-on), once linked.
    oidc_issuer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),)


class ApiToken(Base):
    """An API token: only its hash is stored; revoking sets ``revoked_at``."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A browser session: the shared cookie names its ``id`` (shared.sessions). It lives
    until ``ended_at`` (logged out, everywhere, deactivated, a new password: ``ended_by``),
    8 hours without a request (``last_seen_at``, written every few minutes) or 30 days
    after ``created_at``. Rows older than that are deleted when their user next logs in."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (Index("ix_user_sessions_user_id_created_at", "user_id", "created_at"),)


class LoginThrottle(Base):
    """Failed logins of one account or one client address (``key``: a keyed hash of it,
    so neither is kept in clear), counted until the window passes without one; shared by
    every instance of booking. A row whose last failure is older than the window counts
    nothing and is deleted."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Team(Base):
    """A group that decides the lines of its resources (Infrastructure: venues;
    Kommunikation: photographers, film crews, studios). ``email``: a shared mailbox its
    alerts go to instead of each member."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[TeamMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TeamMember.email"
    )

    @property
    def member_emails(self) -> list[str]:
        return [m.email for m in self.members]


class TeamMember(Base):
    """A person (by email, lower-case) who decides the lines of a team's resources."""

    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254), primary_key=True, index=True)


class Resource(Base):
    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    location: Mapped[str] = mapped_column(String(300), default="")
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_hours: Mapped[int] = mapped_column(Integer, default=0)
    max_advance_days: Mapped[int] = mapped_column(Integer, default=365)
    max_duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=True)
    # May a decider of this resource approve a request they made themselves?
    self_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # No foreign key: adding one to SQLite means rebuilding ``resources``, which five tables
    # reference; the team use cases keep it right (a team is never deleted, only emptied).
    team_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rises with every change (each one a resource.changed event); old slugs redirect.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    former_slugs: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team: Mapped[Team | None] = relationship(
        lazy="joined", primaryjoin="foreign(Resource.team_id) == Team.id"
    )
    managers: Mapped[list[ResourceManager]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ResourceManager.email"
    )
    closures: Mapped[list[Closure]] = relationship(
        cascade="all, delete-orphan", order_by="Closure.start"
    )

    @property
    def manager_emails(self) -> list[str]:
        return [m.email for m in self.managers]


class ResourceManager(Base):
    """A person (by email) who may decide on one resource's bookings."""

    __tablename__ = "resource_managers"

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254), primary_key=True, index=True)


class Closure(Base):
    __tablename__ = "closures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (  # the limits per person: made in the last hour, pending now
        Index("ix_bookings_organiser_created", "organiser_id", "created_at"),
        Index("ix_bookings_organiser_status", "organiser_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    visibility: Mapped[str] = mapped_column(String(16), default="internal")
    language: Mapped[str] = mapped_column(String(2), default="sv")
    expected_attendees: Mapped[int | None] = mapped_column(Integer, nullable=True)
    participants: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    organiser_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the event is and who organises it: slugs of the lists admins keep (no foreign
    # key, like ``team_id``: a list entry is retired, never deleted).
    category: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    unit: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    # Will participants and speakers be photographed or filmed, and how they are told.
    recording_photo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    recording_film: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    recording_notice: Mapped[str] = mapped_column(Text, default="", server_default="")

    organiser: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    lines: Mapped[list[BookingLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="BookingLine.resource_id"
    )
    occurrences: Mapped[list[Occurrence]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Occurrence.n"
    )

    @property
    def resources(self) -> list[Resource]:
        """The resources the booking holds or wants (its lines not declined), by name."""
        live = [line.resource for line in self.lines if line.status != "declined"]
        return sorted(live, key=lambda r: (r.name, r.id))

    def line(self, resource_id: str) -> BookingLine | None:
        return next((line for line in self.lines if line.resource_id == resource_id), None)


class BookingLine(Base):
    """One resource of a request and its own decision (``pending``, ``approved``,
    ``declined``). A declined line stays as a record; it holds and wants nothing."""

    __tablename__ = "booking_resources"

    booking_id: Mapped[str] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Who does the job: "staff" (``assignee_email``) or "supplier" (``supplier_id``); and
    # the hours delivered, recorded after the event (None: as booked).
    assignee_kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    assignee_email: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    supplier_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    hours_delivered: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), nullable=True)
    assigned_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    resource: Mapped[Resource] = relationship(lazy="selectin")


class ListEntry:
    """An entry of a list admins keep, named in both languages; retired, never deleted
    (bookings keep its slug)."""

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_sv: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Category(ListEntry, Base):
    """What kind of event a request is (seminar, conference, public lecture, ...)."""

    __tablename__ = "categories"


class Unit(ListEntry, Base):
    """Who organises an event: a department or the school office."""

    __tablename__ = "units"


class Supplier(Base):
    """An external supplier on a procured agreement (its reference, hourly rate and the
    dates it is valid), who can be assigned a line's job."""

    __tablename__ = "suppliers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    agreement_ref: Mapped[str] = mapped_column(String(100))
    hourly_rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="SEK", server_default="SEK")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordingOptOut(Base):
    """A participant who asked not to be photographed or filmed at one booking's event
    (by the personal link in their invitation)."""

    __tablename__ = "recording_opt_outs"

    booking_id: Mapped[str] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DecisionLinkUse(Base):
    """A decision link from a mail that has been used (each works once)."""

    __tablename__ = "decision_link_uses"

    link_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Occurrence(Base):
    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("booking_id", "n"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")


class Slot(Base):
    """The time one occurrence holds one resource, buffers included. ``holds`` is true while
    the booking is approved and the occurrence active; PostgreSQL forbids two holding slots
    of one resource to overlap (an exclusion constraint, added in the migration)."""

    __tablename__ = "slots"
    __table_args__ = (
        Index("ix_slots_resource_start", "resource_id", "block_start"),
        Index("ix_slots_booking", "booking_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    occurrence_n: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    block_start: Mapped[datetime] = mapped_column(UTCDateTime)
    block_end: Mapped[datetime] = mapped_column(UTCDateTime)
    holds: Mapped[bool] = mapped_column(Boolean, default=False)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)


class HistoryEntry(Base):
    __tablename__ = "booking_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class PendingSignIn(Base):
    """A login sent to the university's provider and not back yet: what its return must
    match. Taken (deleted) by the first return with its ``state``, so a replay finds none."""

    __tablename__ = "pending_sign_ins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotencyKey(Base):
    """A create a client may retry (the ``Idempotency-Key`` header): written in the same
    transaction as what it created (``created_id``), and the first answer beside it right
    after, so a retry with the same key by the same person gets that answer again. Kept 24 h."""

    __tablename__ = "idempotency_keys"

    principal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # the request: method, path, body
    created_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- names read with their rows ---------------------------------------------------------------
# What a booking's event says of its category and unit (both names) and of who does a line's
# job (a staff member's or a supplier's name): read in the same statement as the row (a
# subquery per name, no extra statement per booking), and set by the use case that changes
# them (not expired by a flush: nothing is asked again before the event is written).


def _looked_up(value: Any, key: Any, where: Any, owner: type) -> Any:
    return column_property(
        select(value).where(key == where).correlate_except(owner).scalar_subquery(),
        expire_on_flush=False,
    )


Booking.category_sv = _looked_up(Category.name_sv, Category.slug, Booking.category, Category)
Booking.category_en = _looked_up(Category.name_en, Category.slug, Booking.category, Category)
Booking.unit_sv = _looked_up(Unit.name_sv, Unit.slug, Booking.unit, Unit)
Booking.unit_en = _looked_up(Unit.name_en, Unit.slug, Booking.unit, Unit)
BookingLine.staff_name = _looked_up(User.name, User.email, BookingLine.assignee_email, User)
BookingLine.supplier_name = _looked_up(
    Supplier.name, Supplier.id, BookingLine.supplier_id, Supplier
)
BookingLine.supplier_email = _looked_up(
    Supplier.email, Supplier.id, BookingLine.supplier_id, Supplier
)
# A new line's names, known without asking (nobody is assigned yet).
UNASSIGNED = {"staff_name": None, "supplier_name": None, "supplier_email": None}
