"""Private feed tokens: unguessable, shown once, kept as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from services.calendar.persistence.models import FeedToken, KnownUser
from shared.auth import Principal
from shared.db import Database, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed_token(db: Database, owner: Principal, label: str = "") -> str:
    token = secrets.token_urlsafe(32)
    with db.transaction() as session:
        session.add(
            FeedToken(
                token_hash=_hash(token),
                user_id=owner.user_id,
                email=owner.email.lower(),
                role=owner.role,
                label=label,
            )
        )
    return token


def revoke_feed_token(db: Database, actor: Principal, token: str) -> bool:
    """Revoke a token of the actor's (or any, for an admin); False when there is none."""
    with db.transaction() as session:
        row = session.get(FeedToken, _hash(token))
        if row is None or row.revoked_at is not None:
            return False
        if row.user_id != actor.user_id and not actor.is_admin:
            return False
        row.revoked_at = utcnow()
        return True


def feed_owner(db: Database, token: str) -> Principal | None:
    """Who a live token belongs to, with their current role; None when revoked, unknown or
    the user was deactivated."""
    if len(token) > 100:
        return None
    with db.transaction(readonly=True) as session:
        row = session.get(FeedToken, _hash(token))
        if row is None or row.revoked_at is not None:
            return None
        user = session.get(KnownUser, row.user_id)
        if user is not None and not user.active:
            return None
        role = user.role if user is not None else row.role
        return Principal(user_id=row.user_id, email=row.email, name="", role=role)


def my_tokens(db: Database, owner: Principal) -> list[FeedToken]:
    with db.transaction(readonly=True) as session:
        return list(
            session.scalars(
                select(FeedToken)
                .where(FeedToken.user_id == owner.user_id, FeedToken.revoked_at.is_(None))
                .order_by(FeedToken.created_at)
            )
        )
