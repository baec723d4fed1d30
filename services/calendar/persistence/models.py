"""Calendar's own database: its read model of bookings and the events it has applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, utcnow
from shared.replica import replica_tables


class Base(DeclarativeBase):
    pass


ProcessedEvent, Booking, KnownUser = replica_tables(Base)


class FeedEntry(Base):
    """One booking as the feeds need it: what selects it, and its rendered VEVENTs (full, and
    busy-only for a non-public booking in a resource feed; both again as CANCELLED while the
    booking goes ahead but some resource feed shows it called off), rendered once per
    revision."""

    __tablename__ = "feed_entries"
    __table_args__ = (Index("ix_feed_entries_window", "last_end"),)

    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    generation: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    visibility: Mapped[str] = mapped_column(String(16))
    organiser_email: Mapped[str] = mapped_column(String(254), index=True)
    # the resources (ids) whose feeds list it, and those that show it called off, with when
    listed_resources: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    withdrawn_resources: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    deciders: Mapped[list[str]] = mapped_column(JSON)
    last_end: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # listed by the public and resource feeds: approved, or cancelled while approved
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    vevent_full: Mapped[str] = mapped_column(Text)
    vevent_busy: Mapped[str] = mapped_column(Text)
    vevent_withdrawn_full: Mapped[str] = mapped_column(Text, default="", server_default="")
    vevent_withdrawn_busy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # the same VEVENTs naming resources in English, those that differ, by kind ("full", ...)
    vevents_en: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # the staff assigned its jobs (lower-case addresses), those taken off them with when,
    # and the VEVENT of its jobs (and as CANCELLED) their assignments feeds show
    assigned: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    unassigned: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    vevent_assignment: Mapped[str] = mapped_column(Text, default="", server_default="")
    vevent_assignment_withdrawn: Mapped[str] = mapped_column(Text, default="", server_default="")


class FeedAssignee(Base):
    """Who is assigned a job of which booking now (``FeedEntry.assigned``, one row each):
    answers "has this person any assignments?" through an index, for the subscribe page."""

    __tablename__ = "feed_assignees"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class FeedState(Base):
    """A counter bumped with every change to any feed, and when it last moved: lets each web
    process keep rendered feeds in memory and know cheaply when they are stale."""

    __tablename__ = "feed_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedToken(Base):
    """A private feed's secret: only its hash is kept; revoking deletes nothing, it marks."""

    __tablename__ = "feed_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the feed it opens: "private" (the owner's bookings) or "assignments" (their jobs)
    kind: Mapped[str] = mapped_column(String(16), default="private", server_default="private")


class KnownResource(Base):
    """Each resource as its ``resource.changed`` events describe it (``revision`` 0: known
    only from the bookings that name it, until its first one): its feed."""

    __tablename__ = "known_resources"

    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(300), default="", server_default="")
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    location_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # when booking last changed it: while two renames are in flight, the later holds a slug
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FormerSlug(Base):
    """A slug a resource had before: its feed's old address, redirected to the current one."""

    __tablename__ = "resource_former_slugs"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), index=True)
