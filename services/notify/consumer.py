"""Notify's bus consumer: booking events into its own database, once each, newest wins."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.notify.models import Booking, KnownUser, ProcessedEvent
from shared.db import Database
from shared.events import Event
from shared.inbox import apply_once
from shared.principals import store_user
from shared.readmodel import store_if_newer


def apply_event(session: Session, event: Event) -> None:
    """Apply one event to this service's database (stale revisions change nothing)."""
    if event.type.startswith("user."):
        store_user(session, KnownUser, event)
        return
    store_if_newer(session, Booking, event)


def make_handler(db: Database):
    def handle(event: Event) -> None:
        apply_once(db, ProcessedEvent, event, apply_event)

    return handle
