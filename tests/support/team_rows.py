"""Teams written straight into booking's database (rows of ``teams`` and ``team_members``,
and ``resources.team_id``), for tests that need teams whatever the way teams are kept."""

from __future__ import annotations

from collections.abc import Iterable

from services.booking.persistence.models import Resource, Team, TeamMember, new_id
from shared.db import Database


def add_team(
    db: Database,
    name: str,
    *,
    members: Iterable[str] = (),
    email: str = "",
    resources: Iterable[str] = (),
) -> str:
    """A team with these members (emails) and shared mailbox, deciding these resources (by
    id); its id."""
    team_id = new_id()
    with db.transaction() as session:
        session.add(
            Team(
                id=team_id,
                slug=name.lower().replace(" ", "-"),
                name=name,
                email=email.lower(),
                members=[TeamMember(team_id=team_id, email=m.lower()) for m in members],
            )
        )
        for resource_id in resources:
            session.get(Resource, resource_id).team_id = team_id
    return team_id
