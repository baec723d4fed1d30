"""Notify's bus consumer: booking events into its own database, once each, newest wins, and
the mail each one calls for planned in the same transaction (see ``planning``)."""

from __future__ import annotations

from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.persistence.models import Booking, KnownUser, ProcessedEvent
from services.notify.planning import plan_for_booking
from services.notify.settings import MailSettings
from shared.bus.consumer import BatchHandler
from shared.config import Config
from shared.db import Database
from shared.events import Event
from shared.inbox import InboxHandler
from shared.principals import store_user, store_users
from shared.readmodel import store_if_newer, store_newest


def _settings(settings: MailSettings | None) -> MailSettings:
    return settings or MailSettings.from_config(Config.from_env())


def apply_event(session: Session, event: Event, settings: MailSettings | None = None) -> None:
    """Apply one event to this service's database (stale revisions change nothing) and plan
    the mail it calls for."""
    if event.type.startswith("user."):
        store_user(session, KnownUser, event)
        return
    row, _ = store_if_newer(session, Booking, event)
    if row is not None:
        plan_for_booking(session, [event], _settings(settings))


def apply_events(
    session: Session, events: list[Event], settings: MailSettings | None = None
) -> None:
    """Apply a batch of events (per booking or user only the newest revision is stored) and
    plan the mail: every event newer than what was stored before counts for the organiser,
    the newest state for everyone else — the same mail as applying them one by one, except
    that deciders are not asked about a request the batch already shows decided."""
    users: list[Event] = []
    bookings: list[Event] = []
    for event in events:
        (users if event.type.startswith("user.") else bookings).append(event)
    store_users(session, KnownUser, users)
    if not bookings:
        return
    stored_before = _stored_revisions(session, {e.booking_id for e in bookings})
    applied = store_newest(session, Booking, bookings)
    if not applied:
        return
    mail_settings = _settings(settings)
    for newest in applied:
        floor = stored_before.get(newest.booking_id, 0)
        fresh = _by_revision(
            e for e in bookings if e.booking_id == newest.booking_id and e.revision > floor
        )
        plan_for_booking(session, fresh, mail_settings)


def _stored_revisions(session: Session, booking_ids: set[str]) -> dict[str, int]:
    """The stored revision of each booking, its row locked (in id order, as the upsert
    takes them, so two workers never deadlock)."""
    rows = session.execute(
        select(Booking.booking_id, Booking.revision)
        .where(Booking.booking_id.in_(sorted(booking_ids)))
        .order_by(Booking.booking_id)
        .with_for_update()
    )
    return {booking_id: revision for booking_id, revision in rows}


def _by_revision(events) -> list[Event]:
    """Oldest first; a repeated revision counts once (the first one seen)."""
    seen: dict[int, Event] = {}
    for event in events:
        seen.setdefault(event.revision, event)
    return [seen[r] for r in sorted(seen)]


def make_handler(db: Database, settings: MailSettings | None = None) -> InboxHandler:
    """Apply each event once: ``handler(event)`` alone, ``handler.batch(events)`` together.
    ``settings`` default to the environment's."""
    mail_settings = _settings(settings)
    return InboxHandler(
        db,
        ProcessedEvent,
        partial(apply_event, settings=mail_settings),
        partial(apply_events, settings=mail_settings),
    )


def make_batch_handler(db: Database, settings: MailSettings | None = None) -> BatchHandler:
    """Apply a batch of events in one transaction, each at most once."""
    return make_handler(db, settings).batch
