"""Helpers for tests of who is logged in: booking's ``user.changed`` events handed to
calendar's and notify's own consumers (what the bus does), a replica taught one user, and
a client whose cookie names a session of that user."""

from __future__ import annotations

from importlib import import_module

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services.booking.persistence.models import OutboxMessage
from shared.auth import SESSION_KEY, Principal
from shared.db import Database, utcnow
from shared.events import parse_event
from shared.sessions import SessionClaim
from tests.factories import user_changed

REPLICAS = ("calendar", "notify")


def _handler(app: Flask):
    service = app.extensions["evenemang"]["service"]
    consumer = import_module(f"services.{service}.entrypoints.consumer")
    return consumer.make_handler(app.extensions["evenemang"]["db"])


def deliver_user_events(apps: dict[str, Flask], booking_db: Database) -> None:
    """Hand booking's ``user.changed`` events to calendar's and notify's consumers."""
    with booking_db.transaction(readonly=True) as session:
        payloads = session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.event_type == "user.changed")
            .order_by(OutboxMessage.id)
        ).all()
    for service in REPLICAS:
        handle = _handler(apps[service])
        for payload in payloads:
            handle(parse_event(payload))


def teach(app: Flask, principal: Principal, **overrides) -> None:
    """Calendar or notify learns of ``principal`` from a ``user.changed`` event."""
    event = user_changed(
        principal.email,
        user_id=principal.user_id,
        name=principal.name,
        role=principal.role,
        **overrides,
    )
    _handler(app)(parse_event(event))


def logged_in(app: Flask, principal: Principal, session_id: str = "s-test") -> FlaskClient:
    """A client of calendar or notify with a live session of ``principal`` (taught to it)."""
    teach(app, principal)
    client = app.test_client()
    now = utcnow()
    with client.session_transaction() as session:
        session[SESSION_KEY] = SessionClaim(session_id, principal.user_id, now, now).dump()
    return client
