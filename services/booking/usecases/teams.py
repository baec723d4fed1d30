"""Keeping the teams that decide resources (Infrastructure: the venues; Kommunikation: the
photographers, film crews and studios): their members and shared mailbox. A change to a
team changes who decides its resources, so each of them gets a new ``resource.changed``."""

from __future__ import annotations

from collections.abc import Sequence

from services.booking.commands import ChangeTeam, CreateTeam
from services.booking.domain import Actor, AlreadyExists, require
from services.booking.persistence.mapping import team_ref, team_view
from services.booking.persistence.models import Team, TeamMember, new_id
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import TeamView
from services.booking.usecases.resources import lost_slug_race, revise, slugify
from shared.db import utcnow
from shared.messages import Msg


def list_teams(ctx: Context) -> list[TeamView]:
    """Every team with its resources, by name."""
    with ctx.uow(readonly=True) as uow:
        resources = uow.resources.list()
        return [
            team_view(team, sorted((r for r in resources if r.team_id == team.id), key=_named))
            for team in uow.teams.list()
        ]


def _named(resource) -> tuple[str, str]:
    return (resource.name, resource.id)


def read_team(ctx: Context, slug: str) -> TeamView:
    """One team by slug, with its resources."""
    with ctx.uow(readonly=True) as uow:
        team = uow.teams.get(slug)
        return team_view(team, uow.resources.of_team(team.id))


def _members(team: Team, emails: Sequence[str]) -> list[TeamMember]:
    """The team's members after a change: the rows of those who stay are kept."""
    wanted = set(emails)
    kept = [m for m in team.members if m.email in wanted]
    have = {m.email for m in kept}
    return kept + [TeamMember(team_id=team.id, email=e) for e in emails if e not in have]


def create_team(ctx: Context, actor: Actor, cmd: CreateTeam) -> TeamView:
    """Add a team (admin); 409 when its slug is taken."""
    require(actor.is_admin, Msg("only_admins_keep_teams"))
    slug = cmd.slug or slugify(cmd.name, "team")

    def taken() -> AlreadyExists:
        return AlreadyExists("slug" if cmd.slug else "name", Msg("team_slug_taken", slug=slug))

    with lost_slug_race(taken), ctx.uow() as uow:
        if uow.teams.exists(slug):
            raise taken()
        now = utcnow()
        team = Team(id=new_id(), slug=slug, name=cmd.name, email=cmd.email)
        team.created_at = team.updated_at = now
        team.members = [TeamMember(team_id=team.id, email=e) for e in cmd.members]
        uow.teams.add(team)
        uow.flush()
        view = team_view(team)
        uow.commit()
    return view


def update_team(ctx: Context, actor: Actor, slug: str, cmd: ChangeTeam) -> TeamView:
    """Change a team's name, slug, mailbox or members (admin). Each of its resources gets a
    new revision and ``resource.changed`` (its deciders changed), in the same transaction;
    a change that changes nothing writes nothing."""
    require(actor.is_admin, Msg("only_admins_keep_teams"))

    def taken() -> AlreadyExists:
        return AlreadyExists("slug", Msg("team_slug_taken", slug=cmd.slug))

    with lost_slug_race(taken), ctx.uow() as uow:
        team = uow.teams.get(slug, lock=True)
        before = team_ref(team)
        new_slug = cmd.slug if cmd.has("slug") and cmd.slug else team.slug
        if new_slug != team.slug and uow.teams.exists(new_slug):
            raise taken()
        team.slug = new_slug
        if cmd.has("name"):
            team.name = cmd.name
        if cmd.has("email"):
            team.email = cmd.email or ""
        if cmd.has("members"):
            team.members = _members(team, cmd.members)
        resources = uow.resources.of_team(team.id, lock=True)
        if team_ref(team) == before:
            return team_view(team, resources)  # leaving without a commit: nothing written
        team.updated_at = utcnow()
        for resource in resources:
            revise(uow, resource)
        view = team_view(team, resources)
        uow.commit()
    return view
