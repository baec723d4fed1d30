"""Helpers for tests of people and passwords: the account and user events booking wrote,
the set-password link of the newest account mail, and a quick password hasher (argon2's
own cost is for production)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from sqlalchemy import select

from services.booking.persistence.models import OutboxMessage
from shared.db import Database
from shared.events import Event, EventType, parse_event

QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Single sign-on set up (the provider is never called by these tests).
OIDC = {
    "oidc_issuer": "https://login.example.org",
    "oidc_client_id": "evenemang",
    "oidc_client_secret": "s3cret",
}


def quick_passwords(monkeypatch) -> None:
    monkeypatch.setattr("shared.auth._hasher", QUICK_HASHER)


def written(db: Database, *types: EventType) -> list[Event]:
    """Events of these types in booking's outbox, oldest first (each validated)."""
    with db.transaction(readonly=True) as session:
        payloads = session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.event_type.in_([t.value for t in types]))
            .order_by(OutboxMessage.id)
        ).all()
    return [parse_event(p) for p in payloads]


def account_mails(db: Database) -> list[Event]:
    return written(db, EventType.ACCOUNT_INVITED, EventType.ACCOUNT_PASSWORD_RESET)


def newest_link(db: Database) -> str:
    """The path (``/password/reset/<token>``) of the newest account mail's link."""
    url = account_mails(db)[-1].data.url
    assert url, "the newest account mail carries no link"
    return urlsplit(url).path


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def payloads(db: Database) -> list[dict[str, Any]]:
    """Every event booking wrote, as JSON (to compare before and after a refusal)."""
    with db.transaction(readonly=True) as session:
        rows = session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id)).all()
    return [json.loads(r) for r in rows]
