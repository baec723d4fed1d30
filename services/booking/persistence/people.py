"""Queries over users for keeping people (users have no repository of their own; the use
cases work on the unit of work's session, as ``usecases.users`` and single sign-on do):
searching, the teams people are in, the admins a change must leave, the reset mails an
account was sent lately."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.booking.commands import PeopleQuery
from services.booking.persistence.models import OutboxMessage, Team, TeamMember, User
from services.booking.persistence.repositories import chunks
from shared.events import EventType, Role


def search(session: Session, query: PeopleQuery) -> list[User]:
    """Users whose name or address holds ``q`` (any case), by name then address."""
    statement = select(User)
    if query.q:
        needle = query.q.lower()
        statement = statement.where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
            )
        )
    if query.role is not None:
        statement = statement.where(User.role == query.role.value)
    if query.active is not None:
        statement = statement.where(User.active.is_(query.active))
    statement = statement.order_by(func.lower(User.name), User.email).limit(query.limit)
    return list(session.scalars(statement))


def by_id(session: Session, user_id: str, *, lock: bool = False) -> User | None:
    return session.get(User, user_id, with_for_update=lock or None, populate_existing=lock)


def by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def teams_of(session: Session, emails: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The teams (slug, name) each of these addresses is a member of, by team name."""
    found: dict[str, list[tuple[str, str]]] = {}
    for part in chunks(sorted(set(emails))):
        rows = session.execute(
            select(TeamMember.email, Team.slug, Team.name)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.email.in_(part))
            .order_by(Team.name, Team.slug)
        )
        for email, slug, name in rows:
            found.setdefault(email, []).append((slug, name))
    return found


def lock_active_admins(session: Session) -> list[str]:
    """The ids of every active admin, their rows locked in id order (PostgreSQL: two admins
    demoting each other at once queue here instead of both succeeding, and always in the
    same order, so they never deadlock; SQLite's writers are serialised anyway)."""
    return list(
        session.scalars(
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
            .order_by(User.id)
            .with_for_update()
        )
    )


def reset_mails_since(session: Session, user_id: str, since: datetime) -> int:
    """How many password reset mails this account was sent since then (counted from
    booking's outbox, which keeps every event it wrote)."""
    return session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.aggregate_id == user_id,
            OutboxMessage.event_type == EventType.ACCOUNT_PASSWORD_RESET.value,
            OutboxMessage.created_at >= since,
        )
    )
