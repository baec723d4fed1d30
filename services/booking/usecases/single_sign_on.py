"""Single sign-on: logins sent to the university's provider (each answered once), and the
person it vouches for logged in as a user here: matched by the issuer's ``sub``, else linked
once by a confirmed address, else created; their role and the teams that follow groups
follow their groups at every login (``user.changed`` when the role moves, as every change
to a user; ``resource.changed`` for a team's resources when its members change)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.booking.commands import SignIn
from services.booking.domain.identity import (
    GroupRules,
    KnownUser,
    Match,
    match_sign_in,
    role_at_sign_in,
)
from services.booking.persistence.models import PendingSignIn, TeamMember, User, new_id
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import PendingLogin
from services.booking.usecases.resources import revise
from services.booking.usecases.users import _principal, _publish_user
from shared.auth import Principal
from shared.db import Database, utcnow
from shared.events import Role

# How long a login may stay at the provider (the person typing their password).
PENDING_FOR = timedelta(minutes=10)


def begin_sign_in(
    db: Database,
    state: str,
    nonce: str,
    code_verifier: str,
    next_path: str | None,
    now: datetime | None = None,
) -> None:
    """Remember a login sent to the provider until it comes back; forget the ones that
    never did."""
    now = now or utcnow()
    with db.transaction() as session:
        session.execute(delete(PendingSignIn).where(PendingSignIn.created_at < now - PENDING_FOR))
        session.add(
            PendingSignIn(
                state=state,
                nonce=nonce,
                code_verifier=code_verifier,
                next_path=next_path,
                created_at=now,
            )
        )


def take_sign_in(db: Database, state: str, now: datetime | None = None) -> PendingLogin | None:
    """The login ``state`` began, once: a second return with the same state (a replay), an
    unknown state or one older than ten minutes finds nothing."""
    now = now or utcnow()
    with db.transaction() as session:
        row = session.get(PendingSignIn, state)
        if row is None:
            return None
        taken = session.execute(delete(PendingSignIn).where(PendingSignIn.state == state))
        if taken.rowcount != 1 or row.created_at < now - PENDING_FOR:
            return None  # another return took it first, or it waited too long
        return PendingLogin(row.nonce, row.code_verifier, row.next_path)


def sign_in(ctx: Context, person: SignIn, rules: GroupRules) -> Principal:
    """Log in the person the provider vouches for (see ``domain.identity.match_sign_in``),
    giving them their groups' role and teams and recording the login. A refusal
    (``SignInRefused``) writes nothing."""
    try:
        return _sign_in(ctx, person, rules)
    except IntegrityError:  # the same person's first login twice at once: the other won
        return _sign_in(ctx, person, rules)


def _sign_in(ctx: Context, person: SignIn, rules: GroupRules) -> Principal:
    with ctx.uow() as uow:
        session = uow.session  # users have no repository of their own (usecases.users)
        by_subject = session.scalar(
            select(User).where(
                User.oidc_issuer == person.issuer, User.oidc_subject == person.subject
            )
        )
        by_email = None
        if by_subject is None and person.email:
            by_email = session.scalar(select(User).where(User.email == person.email))
        match = match_sign_in(
            person.email, person.email_verified, _known(by_subject), _known(by_email)
        )
        if match is Match.CREATE:
            user = User(
                id=new_id(),
                email=person.email,
                name=person.name or person.email,
                role=role_at_sign_in(None, person.groups, rules).value,
                revision=1,
                oidc_issuer=person.issuer,
                oidc_subject=person.subject,
            )
            session.add(user)
            changed = True
        else:
            user = by_subject if match is Match.SUBJECT else by_email
            assert user is not None
            if match is Match.LINK:
                user.oidc_issuer, user.oidc_subject = person.issuer, person.subject
            changed = _follow_provider(user, person, rules)
            if changed:
                user.revision += 1
        user.last_login_at = ctx.clock()
        uow.flush()
        if changed:
            _publish_user(session, user)
        _follow_teams(uow, user.email, rules.teams_for(person.groups))
        principal = _principal(user)
        uow.commit()
    return principal


def _follow_teams(uow: UnitOfWork, email: str, belongs: dict[str, bool]) -> None:
    """Join or leave each team that follows groups; a team that changes revises each of its
    resources (their deciders changed), as a change on the teams page does. A team not made
    yet is skipped."""
    for slug in sorted(belongs):  # one order of locks for every login
        if not uow.teams.exists(slug):
            continue
        team = uow.teams.get(slug, lock=True)
        if (email in team.member_emails) == belongs[slug]:
            continue
        others = [m for m in team.members if m.email != email]
        team.members = others + (
            [TeamMember(team_id=team.id, email=email)] if belongs[slug] else []
        )
        team.updated_at = utcnow()
        for resource in uow.resources.of_team(team.id, lock=True):
            revise(uow, resource)


def _follow_provider(user: User, person: SignIn, rules: GroupRules) -> bool:
    """The role of the person's groups and the provider's name for them; whether either
    changed."""
    role = role_at_sign_in(Role(user.role), person.groups, rules)
    changed = role.value != user.role or bool(person.name and person.name != user.name)
    user.role = role.value
    user.name = person.name or user.name
    return changed


def _known(user: User | None) -> KnownUser | None:
    if user is None:
        return None
    return KnownUser(email=user.email, active=user.active, linked=user.oidc_subject is not None)
