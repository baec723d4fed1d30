"""Deciding from a mail's link, over the fake unit of work: a team's shared mailbox decides
its team's lines and no other (the domain's rule), who a link acts as, what its
confirmation reads (nothing written), and a link that works once and only for the revision
it was sent for. The clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.booking.commands import ApproveBooking
from services.booking.domain import (
    Forbidden,
    InvalidTransition,
    ResourceRules,
    TeamMailbox,
    decides,
    may_decide_line,
    may_see,
)
from services.booking.persistence.models import Team, TeamMember
from services.booking.readmodels import LinkState
from services.booking.usecases import bookings, links, queries
from shared.config import Config
from shared.decision_links import Action, DecisionLink
from shared.events import Kind, LineStatus, Status
from tests.support.fake_booking import NOW, FakeBooking

MAILBOX = "kommunikation@example.org"
INFRA_TEAM = "Infrastructure <Infra-Team@example.org>; bookings@example.org"


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


# --- links over the fake store ---------------------------------------------------------------


class Links(FakeBooking):
    """A hall no team or manager decides (infra does, and is alerted at the infrastructure
    team's address) and a photographer of the Kommunikation team (Tove; a mailbox)."""

    def __init__(self) -> None:
        super().__init__()
        self.ctx.config = Config(infra_team_email=INFRA_TEAM)
        self.tove = self.person("tove@example.org", "organiser")
        for user in self.store.users.values():
            user.active = True
        self.hall = self.resource("Hall")
        self.photographer = self.resource("Photographer", kind=Kind.SERVICE)
        team = Team(id="t1", slug="kommunikation", name="Kommunikation", email=MAILBOX)
        team.members = [TeamMember(team_id="t1", email="tove@example.org")]
        self.store.teams[team.id] = team
        kept = self.store.resources[self.photographer.id]
        kept.team_id, kept.team = team.id, team

    def request(self):
        return self.submit(self.olle, self.hall, self.photographer, title="Symposium")

    def link(self, booking, decider: str, action: Action = Action.APPROVE, **extra: Any):
        facts: dict[str, Any] = dict(
            booking_id=booking.id,
            revision=booking.revision,
            decider=decider,
            action=action,
            resource_ids=(self.photographer.id,),
            issued_at=NOW - timedelta(hours=1),
        )
        facts.update(extra)
        return DecisionLink(**facts)

    def lines(self, booking_id: str) -> dict[str, LineStatus]:
        view = queries.read_booking(self.ctx, self.infra, booking_id)
        return {line.resource.name: line.status for line in view.lines}


@pytest.fixture
def site() -> Links:
    return Links()


def test_a_mailbox_link_decides_its_teams_line_and_leaves_the_venue_waiting(site):
    booking = site.request()
    link = site.link(booking, MAILBOX)
    shown = links.open_link(site.ctx, link)
    assert shown.state is LinkState.READY and shown.team == "Kommunikation"
    assert [line.resource.name for line in shown.lines] == ["Photographer"]
    assert site.store.commits == 3  # two resources and the request: opening wrote nothing
    after = links.decide_by_link(site.ctx, link)
    assert after.status is Status.PENDING
    assert site.lines(booking.id) == {"Hall": "pending", "Photographer": "approved"}
    [line] = [x for x in after.lines if x.resource.name == "Photographer"]
    assert line.decided_by == MAILBOX


def test_a_mailbox_link_naming_another_teams_line_decides_nothing(site):
    booking = site.request()
    link = site.link(booking, MAILBOX, resource_ids=(site.hall.id,))
    with pytest.raises(Forbidden) as caught:
        links.open_link(site.ctx, link)
    assert caught.value.message.code == "link_not_a_decider"
    with pytest.raises(Forbidden):
        links.decide_by_link(site.ctx, link)
    assert site.lines(booking.id) == {"Hall": "pending", "Photographer": "pending"}


def test_a_person_acts_as_themselves_and_a_deactivated_one_not_at_all(site):
    booking = site.request()
    assert links.open_link(site.ctx, site.link(booking, "TOVE@example.org")).team == ""
    site.store.users["tove"].active = False
    with pytest.raises(Forbidden) as caught:
        links.open_link(site.ctx, site.link(booking, "tove@example.org"))
    assert caught.value.message.code == "link_decider_gone"
    with pytest.raises(Forbidden):
        links.open_link(site.ctx, site.link(booking, "nobody@example.org"))


def test_a_link_works_once_and_says_so_rather_than_that_the_request_changed(site):
    booking = site.request()
    link = site.link(booking, "tove@example.org")
    links.decide_by_link(site.ctx, link)
    assert links.open_link(site.ctx, link).state is LinkState.USED
    with pytest.raises(InvalidTransition) as caught:
        links.decide_by_link(site.ctx, link)
    assert caught.value.message.code == "link_used"


def test_a_link_for_an_older_revision_decides_nothing_and_is_not_spent(site):
    booking = site.request()
    link = site.link(booking, MAILBOX)
    bookings.approve_booking(
        site.ctx, site.infra, booking.id, ApproveBooking(resource_ids=(site.hall.id,))
    )
    assert links.open_link(site.ctx, link).state is LinkState.CHANGED
    with pytest.raises(InvalidTransition) as caught:
        links.decide_by_link(site.ctx, link)
    assert caught.value.message.code == "request_changed_since"
    assert site.store.used_links == set()  # refused, so not used up either
    assert site.lines(booking.id) == {"Hall": "approved", "Photographer": "pending"}


def test_the_infrastructure_teams_address_decides_as_infra(site):
    booking = site.request()
    link = site.link(booking, "infra-team@example.org", resource_ids=(site.hall.id,))
    shown = links.open_link(site.ctx, link)
    assert shown.infra and [line.resource.name for line in shown.lines] == ["Hall"]
    links.decide_by_link(site.ctx, link)
    assert site.lines(booking.id) == {"Hall": "approved", "Photographer": "pending"}
    assert links.infra_addresses(site.ctx.config) == {
        "infra-team@example.org",
        "bookings@example.org",
    }
