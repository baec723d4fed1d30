"""Users, passwords and API tokens. Every change to a user publishes ``user.changed`` so
calendar and notify learn of deactivation, role changes, revoked tokens and ended sessions
(``usecases.sessions`` starts and checks sessions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from services.booking.domain import NotFound, RuleViolation
from services.booking.persistence.models import (
    ApiToken,
    OutboxMessage,
    User,
    UserSession,
    new_id,
)
from services.booking.readmodels import TokenView, UserView
from shared.auth import Principal, hash_password, issue_token, token_hash, verify_password
from shared.db import Database, utcnow
from shared.events import USER_CHANGED, AlertMode, Language, Role, UserSnapshot, make_envelope
from shared.messages import Msg
from shared.outbox import enqueue


def _view(user: User) -> UserView:
    return UserView(
        user.id, user.email, user.name, Role(user.role), user.active, AlertMode(user.alerts)
    )


def _principal(user: User, token_id: str | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        token_id=token_id,
        language=user.language or "",
    )


def _publish_user(session, user: User) -> None:
    revoked = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_not(None))
    ).all()
    # Rows leave the table once older than the sessions' maximum age (start_session), so
    # this lists the ended sessions a cookie could still name.
    ended = session.scalars(
        select(UserSession.id).where(
            UserSession.user_id == user.id, UserSession.ended_at.is_not(None)
        )
    ).all()
    enqueue(
        session,
        OutboxMessage,
        make_envelope(
            USER_CHANGED,
            UserSnapshot(
                user_id=user.id,
                email=user.email,
                name=user.name,
                role=Role(user.role),
                active=user.active,
                revoked_tokens=tuple(sorted(revoked)),
                ended_sessions=tuple(sorted(ended)),
                revision=user.revision,
                alerts=AlertMode(user.alerts),
                language=Language(user.language),
            ),
        ),
    )


def add_user(
    db: Database, email: str, name: str, role: str, password: str | None = None
) -> UserView:
    """Create a user; the email must be new, and ASCII (mail could not reach it else)."""
    email = email.strip().lower()
    if not email.isascii():
        raise RuleViolation({"email": [Msg("email_not_ascii")]})
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.email == email)):
            raise RuleViolation({"email": [Msg("user_exists", email=email)]})
        user = new_user(session, email, name, role, hash_password(password) if password else None)
        return _view(user)


def new_user(
    session,
    email: str,
    name: str,
    role: str,
    password_hash: str | None = None,
    language: str = "sv",
) -> User:
    """Add a user (the address lower-case and new) in the caller's transaction and write
    their first ``user.changed``."""
    user = User(
        id=new_id(),
        email=email,
        name=name,
        role=role,
        language=language,
        revision=1,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    _publish_user(session, user)
    return user


def ensure_user(
    db: Database, email: str, name: str, role: str, password: str | None = None
) -> UserView:
    """The user with this email, created when missing (demo data, first admin)."""
    with db.transaction(readonly=True) as session:
        user = session.scalar(select(User).where(User.email == email.lower()))
        if user is not None:
            return _view(user)
    return add_user(db, email, name, role, password)


def update_user(
    db: Database,
    email: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> UserView:
    """Change a user's role, activity or password; the others learn of it (user.changed).
    Deactivation and a new password end every session of the user (a role change applies
    to live sessions as it is: each request reads the role)."""
    password_hash = hash_password(password) if password is not None else None
    with db.transaction() as session:
        user = _by_email(session, email, lock=True)
        apply_change(session, user, role=role, active=active, password_hash=password_hash)
        return _view(user)


def apply_change(
    session,
    user: User,
    *,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    password_hash: str | None = None,
) -> bool:
    """Set what is given on a user in the caller's transaction; when anything changed (a
    new password always does), raise their revision and write ``user.changed``. Every
    change of a person's name, role, activity or password goes through here."""
    wanted = {"name": name, "role": role, "active": active, "password_hash": password_hash}
    changed = False
    for attribute, value in wanted.items():
        if value is not None and getattr(user, attribute) != value:
            setattr(user, attribute, value)
            changed = True
    if changed:
        if active is False:
            end_sessions(session, user.id, utcnow(), "deactivated")
        if password_hash is not None:
            end_sessions(session, user.id, utcnow(), "password")
        user.revision += 1
        session.flush()
        _publish_user(session, user)
    return changed


def read_user(db: Database, user_id: str) -> UserView:
    """One user by id (their own settings)."""
    with db.transaction(readonly=True) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(Msg("no_such_user", email=user_id))
        return _view(user)


def set_alerts(db: Database, user_id: str, alerts: AlertMode) -> UserView:
    """How requests waiting for this person's decision reach them: a mail each, or a daily
    digest. Notify learns of it from ``user.changed``; choosing what is chosen writes
    nothing."""
    with db.transaction() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(Msg("no_such_user", email=user_id))
        if user.alerts != alerts:
            user.alerts = alerts.value
            user.revision += 1
            _publish_user(session, user)
        return _view(user)


def has_users(db: Database) -> bool:
    """Whether anyone at all can log in yet (a fresh data directory has no one)."""
    with db.transaction(readonly=True) as session:
        return session.scalar(select(User.id).limit(1)) is not None


def _by_email(session, email: str, *, lock: bool = False) -> User:
    query = select(User).where(User.email == email.strip().lower())
    user = session.scalar(query.with_for_update() if lock else query)
    if user is None:
        raise NotFound(Msg("no_such_user", email=email))
    return user


def create_token(db: Database, secret_key: str, email: str, label: str = "") -> str:
    """A new API token for the user; only its hash is kept."""
    with db.transaction() as session:
        user = _by_email(session, email)
        if not user.active:
            raise RuleViolation({"email": [Msg("user_deactivated", email=email)]})
        token_id = new_id()
        token = issue_token(secret_key, _principal(user), token_id)
        session.add(
            ApiToken(id=token_id, user_id=user.id, token_hash=token_hash(token), label=label)
        )
        return token


def list_tokens(db: Database, email: str) -> list[TokenView]:
    """A user's tokens, oldest first."""
    with db.transaction(readonly=True) as session:
        user = _by_email(session, email)
        tokens = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
        return [TokenView(t.id, t.label, t.created_at, t.revoked_at) for t in tokens]


def revoke_token(db: Database, token_id: str) -> None:
    """Revoke a token; the others learn of it (user.changed lists revoked tokens)."""
    with db.transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(Msg("no_such_token", id=token_id))
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            publish_user(session, token.user_id)


def authenticate(db: Database, email: str, password: str) -> Principal | None:
    """The user with this email and password, as a principal; ``None`` otherwise. An
    unknown address, an account without a password and a deactivated one take as long as a
    wrong password (a hash is always checked), and all four answer the same."""
    password_hash, principal = credentials(db, email)
    # Checked outside the transaction: argon2 takes tens of milliseconds on purpose.
    return principal if verify_password(password_hash, password) else None


def credentials(db: Database, email: str) -> tuple[str | None, Principal | None]:
    """The password hash to check for this email (``None``: a dummy one is checked) and
    whom it logs in when it matches (``None``: no one, the account is not active)."""
    with db.transaction(readonly=True) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            return None, None
        return user.password_hash, _principal(user) if user.active else None


def end_sessions(
    session, user_id: str, now: datetime, reason: str, session_id: str | None = None
) -> int:
    """End the user's live sessions (only ``session_id`` when given) inside the caller's
    transaction; the caller publishes the user. The number ended."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if session_id is not None:
        query = query.where(UserSession.id == session_id)
    ended = session.execute(query.values(ended_at=now, ended_by=reason)).rowcount
    session.flush()
    return ended


def publish_user(session, user_id: str) -> None:
    """Raise the user's revision and write their ``user.changed`` (the row locked, so two
    changes at once get two revisions)."""
    user = session.get(User, user_id, with_for_update=True)
    user.revision += 1
    session.flush()
    _publish_user(session, user)


def record_login(db: Database, user_id: str) -> None:
    """Note when someone logged in (with a password; single sign-on notes its own)."""
    with db.transaction() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.last_login_at = utcnow()
