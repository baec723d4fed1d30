"""Calendar's and notify's replica of booking's users, fed by ``user.changed`` events, so
they honour deactivation, role changes, revoked API tokens and ended sessions without
calling booking."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.auth import Principal
from shared.db import Database
from shared.events import Event, UserSnapshot
from shared.readmodel import newest_per_key, upsert_if_newer
from shared.sessions import SessionClaim


class PrincipalMixin:
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_tokens: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The user's sessions that were ended (logged out, everywhere, deactivated) and could
    # otherwise still be live: booking lists those younger than the sessions' maximum age.
    ended_sessions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    revision: Mapped[int] = mapped_column(Integer)


def store_user(session: Session, model: type[PrincipalMixin], event: Event) -> None:
    """Keep the newest revision of a user (older or repeated events change nothing)."""
    user = event.data
    row = session.get(model, user.user_id, with_for_update=True)
    if row is not None and row.revision >= user.revision:
        return
    if row is None:
        row = model(user_id=user.user_id)
        session.add(row)
    for name, value in _user_row(user).items():
        setattr(row, name, value)


def store_users(session: Session, model: type[PrincipalMixin], events: list[Event]) -> None:
    """Batch form of :func:`store_user`: per user, keep the newest event's revision when it
    is newer than the stored one (one upsert, rows locked in user-id order)."""
    newest = newest_per_key(events, key=lambda event: event.aggregate_id)
    if not newest:
        return
    rows = [_user_row(event.data) for _, event in sorted(newest.items())]
    upsert_if_newer(session, model.__table__, rows, key="user_id")


def _user_row(user: UserSnapshot) -> dict:
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name or "",
        "role": user.role.value,
        "active": user.active,
        "revoked_tokens": list(user.revoked_tokens),
        "ended_sessions": list(user.ended_sessions),
        "revision": user.revision,
    }


class ReplicaAuthority:
    """Accept a signed principal unless the replica says the user is inactive, the token
    revoked or the session ended; the replica's role wins over the one signed into an older
    token. A session names only its user, so it holds once the replica knows that user."""

    def __init__(self, db: Database, model: type[PrincipalMixin]) -> None:
        self.db = db
        self.model = model

    def check_token(self, claimed: Principal, token: str) -> Principal | None:
        row = self._row(claimed.user_id)
        if row is None:
            return claimed  # no event yet: the signature is our proof
        if not row.active or (claimed.token_id and claimed.token_id in row.revoked_tokens):
            return None
        principal = _principal(row, claimed.token_id)
        return principal if principal.name else replace(principal, name=claimed.name)

    def check_session(self, claim: SessionClaim, now: datetime) -> Principal | None:
        row = self._row(claim.user_id)
        if row is None or not row.active or claim.session_id in (row.ended_sessions or ()):
            return None
        return _principal(row)

    def _row(self, user_id: str) -> PrincipalMixin | None:
        with self.db.transaction(readonly=True) as session:
            return session.get(self.model, user_id)


def _principal(row: PrincipalMixin, token_id: str | None = None) -> Principal:
    return Principal(
        user_id=row.user_id, email=row.email, name=row.name, role=row.role, token_id=token_id
    )
