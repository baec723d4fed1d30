"""Deciding from a mail's link: a team's shared mailbox decides its team's lines and no
other (the domain's rule)."""

from __future__ import annotations

import pytest

from services.booking.domain import (
    ResourceRules,
    TeamMailbox,
    decides,
    may_decide_line,
    may_see,
)

MAILBOX = "kommunikation@example.org"


# --- the rule: a team's mailbox decides the team's lines ------------------------------------

STUDIO = ResourceRules(
    resource_id="r1",
    name="Photographer",
    managers=frozenset({"sam@example.org"}),
    team_members=frozenset({"tove@example.org"}),
    team_mailbox=MAILBOX,
)
HALL = ResourceRules(resource_id="r2", name="Hall", team_mailbox="infrastruktur@example.org")
NO_TEAM = ResourceRules(resource_id="r3", name="Room")


@pytest.mark.parametrize(
    ("who", "room", "expected"),
    [
        (TeamMailbox(MAILBOX), STUDIO, True),
        (TeamMailbox("Kommunikation@Example.org"), STUDIO, True),
        (TeamMailbox(MAILBOX), HALL, False),
        (TeamMailbox(MAILBOX), NO_TEAM, False),
        (TeamMailbox(""), NO_TEAM, False),
        (TeamMailbox("kommunikation@example.org.evil"), STUDIO, False),
    ],
    ids=["own-team", "address-case", "other-team", "no-team", "empty-address", "lookalike"],
)
def test_a_teams_mailbox_decides_that_teams_lines_only(who, room, expected):
    assert decides(who, room) is expected
    assert may_decide_line(who, room, "organiser-id") is expected


def test_a_mailbox_is_neither_infra_nor_anyones_organiser():
    mailbox = TeamMailbox(MAILBOX, "Kommunikation")
    assert not mailbox.is_infra and not mailbox.is_admin
    assert not may_see(mailbox, "organiser-id", [NO_TEAM])
    assert may_see(mailbox, "organiser-id", [STUDIO])  # a decider of one of its lines
