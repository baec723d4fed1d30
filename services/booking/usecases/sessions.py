"""Sessions that end: booking keeps each browser session as a row, checks it on every
request, and tells calendar and notify when one ends (``user.changed`` lists the ended
sessions). Logging out ends one session; logging out everywhere ends them all (API tokens
are left alone: they are for scripts, and each is revoked on its own)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from services.booking.persistence.models import ApiToken, User, UserSession
from services.booking.usecases.users import _principal, end_sessions, publish_user
from shared.auth import Principal, token_hash
from shared.db import Database
from shared.sessions import SessionClaim, SessionLimits


@dataclass(frozen=True)
class SessionView:
    """One live session of a user, for their account page."""

    session_id: str
    started_at: datetime
    last_seen_at: datetime


class BookingAuthority:
    """Booking checks tokens and sessions against its own tables (the source of truth): a
    revoked token, an ended, idle or too old session, or a deactivated user is refused at
    once, and the role is read from the user on every request."""

    def __init__(self, db: Database, limits: SessionLimits) -> None:
        self.db = db
        self.limits = limits

    def check_token(self, claimed: Principal, token: str) -> Principal | None:
        with self.db.transaction(readonly=True) as session:
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
            if row is None or row.revoked_at is not None or not row.user.active:
                return None
            return _principal(row.user, claimed.token_id)

    def check_session(self, claim: SessionClaim, now: datetime) -> Principal | None:
        with self.db.transaction(readonly=True) as session:
            found = session.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.id == claim.session_id)
            ).one_or_none()
            if found is None:
                return None
            record, user = found
            if record.user_id != claim.user_id or record.ended_at is not None or not user.active:
                return None
            # Another service may have seen the session later than booking did.
            seen = max(record.last_seen_at, claim.seen_at)
            if self.limits.over(record.created_at, seen, now):
                return None
            principal = _principal(user)
        if self.limits.stale(record.last_seen_at, now):
            _touch(self.db, record.id, now)
        return principal

    def start_session(self, user_id: str, now: datetime) -> SessionClaim:
        return start_session(self.db, user_id, now, self.limits)

    def end_session(self, claim: SessionClaim, now: datetime) -> None:
        end_session(self.db, claim, now)


def start_session(db: Database, user_id: str, now: datetime, limits: SessionLimits) -> SessionClaim:
    """A new session for the user (after their password or single sign-on was checked);
    their sessions too old to matter any more are deleted."""
    session_id = secrets.token_urlsafe(24)
    with db.transaction() as session:
        session.execute(
            delete(UserSession).where(
                UserSession.user_id == user_id, UserSession.created_at < now - limits.max_age
            )
        )
        session.add(UserSession(id=session_id, user_id=user_id, created_at=now, last_seen_at=now))
    return SessionClaim(session_id, user_id, now, now)


def end_session(db: Database, claim: SessionClaim, now: datetime) -> None:
    """Log out: end this session here at once, and on calendar and notify when they apply
    the ``user.changed`` this writes."""
    with db.transaction() as session:
        if end_sessions(session, claim.user_id, now, "logout", claim.session_id):
            publish_user(session, claim.user_id)


def end_every_session(db: Database, user_id: str, now: datetime) -> int:
    """Log out everywhere: end every live session of the user (on calendar and notify with
    the ``user.changed`` this writes). API tokens keep working. The number ended."""
    with db.transaction() as session:
        ended = end_sessions(session, user_id, now, "everywhere")
        if ended:
            publish_user(session, user_id)
        return ended


def live_sessions(
    db: Database, user_id: str, now: datetime, limits: SessionLimits
) -> list[SessionView]:
    """The user's sessions that have not ended, expired or grown too old, newest first."""
    with db.transaction(readonly=True) as session:
        rows = session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.created_at >= now - limits.max_age,
                UserSession.last_seen_at >= now - limits.idle,
            )
            .order_by(UserSession.created_at.desc())
        ).all()
        return [SessionView(r.id, r.created_at, r.last_seen_at) for r in rows]


def _touch(db: Database, session_id: str, now: datetime) -> None:
    """Write the last seen time (every few minutes, not on every request)."""
    with db.transaction() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.last_seen_at < now)
            .values(last_seen_at=now)
        )
