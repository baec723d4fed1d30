"""Teams for booking's tests, made as an admin makes them: the team (members, a shared
mailbox), then each of its resources given that team."""

from __future__ import annotations

from collections.abc import Iterable

from services.booking.commands import ChangeResource, CreateTeam
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases import resources, teams
from shared.auth import Principal


def add_team(
    ctx: Context,
    admin: Principal,
    name: str,
    *,
    members: Iterable[str] = (),
    email: str = "",
    resources_decided: Iterable[str] = (),
) -> str:
    """A team with these members (emails) and shared mailbox, deciding these resources (by
    id or slug); its slug."""
    team = teams.create_team(
        ctx, admin, CreateTeam(name=name, email=email.lower(), members=tuple(members))
    )
    for key in resources_decided:
        resources.update_resource(ctx, admin, key, ChangeResource.of(team=team.slug))
    return team.slug
