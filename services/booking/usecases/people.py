"""Keeping people (admins, and the operator at the command line): finding them, their role,
deactivating and reactivating them, inviting someone new by mail. Every change writes
``user.changed`` in its own transaction (calendar and notify refuse a deactivated person's
sessions and tokens once they apply it; booking refuses them at once), and the last active
admin is never demoted or deactivated."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from services.booking.commands import ChangePerson, InvitePerson, PeopleQuery
from services.booking.domain import Actor, AlreadyExists, NotFound, require
from services.booking.domain.people import PersonConflict, Standing, check_admins_left
from services.booking.password_links import Purpose
from services.booking.persistence import people as found
from services.booking.persistence.models import User
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import PersonView
from services.booking.usecases.passwords import mail_link
from services.booking.usecases.users import apply_change, new_user
from shared.events import Language, Role
from shared.messages import Msg


@dataclass(frozen=True)
class Operator:
    """Whoever runs the command line on the server: trusted as an admin."""

    user_id: str = ""
    email: str = "operator"
    name: str = "operator"
    role: str = Role.ADMIN.value
    is_infra: bool = True
    is_admin: bool = True


OPERATOR = Operator()


def _require_admin(actor: Actor) -> None:
    require(actor.is_admin, Msg("only_admins_keep_people"))


def person_view(user: User, teams: dict[str, list[tuple[str, str]]]) -> PersonView:
    return PersonView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        active=user.active,
        teams=tuple(teams.get(user.email, ())),
        last_login_at=user.last_login_at,
        sso=user.oidc_subject is not None,
        has_password=user.password_hash is not None,
        language=Language(user.language),
    )


def _one(session, user: User) -> PersonView:
    return person_view(user, found.teams_of(session, [user.email]))


def list_people(ctx: Context, actor: Actor, query: PeopleQuery) -> list[PersonView]:
    """People by name, found by part of their name or address, role and activity."""
    _require_admin(actor)
    with ctx.uow(readonly=True) as uow:
        users = found.search(uow.session, query)
        teams = found.teams_of(uow.session, [u.email for u in users])
        return [person_view(u, teams) for u in users]


def read_person(ctx: Context, actor: Actor, user_id: str) -> PersonView:
    """One person by id."""
    _require_admin(actor)
    with ctx.uow(readonly=True) as uow:
        return _one(uow.session, _get(uow.session, user_id))


def find_person(ctx: Context, email: str) -> PersonView:
    """One person by address (the command line names people so)."""
    with ctx.uow(readonly=True) as uow:
        user = found.by_email(uow.session, email)
        if user is None:
            raise NotFound(Msg("no_such_user", email=email))
        return _one(uow.session, user)


def _get(session, user_id: str, *, lock: bool = False) -> User:
    user = found.by_id(session, user_id, lock=lock)
    if user is None:
        raise NotFound(Msg("no_such_user", email=user_id))
    return user


def change_person(ctx: Context, actor: Actor, user_id: str, change: ChangePerson) -> PersonView:
    """Change a person's name, role or activity (admin). Deactivation stops their sessions
    and tokens on every service; the last active admin stays one (409). A change that
    changes nothing writes nothing."""
    _require_admin(actor)
    with ctx.uow() as uow:
        session = uow.session
        admins = found.lock_active_admins(session) if {"role", "active"} & change.given else []
        user = _get(session, user_id, lock=True)
        before = Standing(Role(user.role), user.active)
        after = Standing(
            change.role if change.has("role") else before.role,
            change.active if change.has("active") else before.active,
        )
        check_admins_left(before, after, len([a for a in admins if a != user.id]))
        apply_change(
            session,
            user,
            name=change.name if change.has("name") else None,
            role=after.role.value,
            active=after.active,
        )
        view = _one(session, user)
        uow.commit()
    return view


def invite_person(ctx: Context, actor: Actor, cmd: InvitePerson) -> PersonView:
    """Add a person without a password and mail them a link to choose one (valid seven
    days, once), through notify (``account.invited``, written with the user); 409 when
    the address has a user."""
    _require_admin(actor)
    taken = AlreadyExists("email", Msg("user_exists", email=cmd.email))
    try:
        with ctx.uow() as uow:
            if found.by_email(uow.session, cmd.email) is not None:
                raise taken
            user = new_user(
                uow.session, cmd.email, cmd.name, cmd.role.value, language=cmd.language.value
            )
            mail_link(ctx, uow, user, Purpose.INVITE)
            view = _one(uow.session, user)
            uow.commit()
    except IntegrityError as exc:  # the same address invited twice at once: the other won
        raise taken from exc
    return view


def invite_again(ctx: Context, actor: Actor, user_id: str) -> PersonView:
    """Mail a new invitation to someone who has no password yet (the old link keeps
    working until either is used); 409 once they have one (they may reset it)."""
    _require_admin(actor)
    with ctx.uow() as uow:
        user = _get(uow.session, user_id, lock=True)
        if user.password_hash is not None:
            raise PersonConflict("email", Msg("has_password_already", email=user.email))
        if not user.active:
            raise PersonConflict("active", Msg("user_deactivated", email=user.email))
        mail_link(ctx, uow, user, Purpose.INVITE)
        view = _one(uow.session, user)
        uow.commit()
    return view
