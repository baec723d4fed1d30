"""The team form (admins): the API's team schema over the form's fields (members typed one
a line), loading into the same :class:`~services.booking.commands.CreateTeam` or
``ChangeTeam``."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, pre_load

from services.booking.commands import ChangeTeam, CreateTeam
from services.booking.entrypoints.pages.forms.errors import Errors, flat, on_form
from services.booking.readmodels import TeamView
from services.booking.schemas import TeamInSchema
from shared.schema import ValidationError

SEPARATORS = re.compile(r"[\s,;]+")


class TeamForm(TeamInSchema):
    """The API's team with the members as text, one a line (commas and spaces work too)."""

    class Meta:
        unknown = EXCLUDE  # the post carries the page's token

    @pre_load
    def _from_form(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        data = dict(data)
        if partial:
            data.setdefault("email", "")  # a cleared mailbox is cleared
        data["members"] = [m for m in SEPARATORS.split(data.get("members", "")) if m]
        return data


TEAM_FORM = TeamForm()


def read_team(
    data: dict[str, Any], *, creating: bool
) -> tuple[CreateTeam | ChangeTeam | None, Errors]:
    """A team form as the command the API's schema gives (a change names every field but
    the short name, which stays unless typed), or every error by form field."""
    try:
        return TEAM_FORM.load(data, partial=() if creating else ("slug",)), {}
    except ValidationError as exc:
        return None, on_form(flat(exc.messages))


def team_form_values(team: TeamView) -> dict[str, Any]:
    """The team form filled from a team, to change it."""
    return {
        "name": team.name,
        "slug": team.slug,
        "email": team.email,
        "members": "\n".join(team.members),
    }
