"""Notify's bus consumer: booking events into its own database, once each, newest wins."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.notify.models import Booking, ProcessedEvent
from shared.db import Database
from shared.events import Event
from shared.inbox import apply_once
from shared.readmodel import store_if_newer


def apply_event(session: Session, event: Event) -> None:
    """Apply one booking event to the read model (stale revisions change nothing)."""
    store_if_newer(session, Booking, event)


def make_handler(db: Database):
    def handle(event: Event) -> None:
        apply_once(db, ProcessedEvent, event, apply_event)

    return handle
