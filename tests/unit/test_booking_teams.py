"""Teams, resource settings, resource.changed and closures that face their bookings: the
real use cases over the fake unit of work (persistence/fake.py), no database. The clock is
fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

from typing import Any

import pytest

from services.booking.commands import (
    AddClosure,
    CancelBooking,
    ChangeResource,
    ChangeTeam,
    CreateTeam,
)
from services.booking.domain import (
    AlreadyExists,
    ClosureOverBookings,
    Forbidden,
    NotFound,
    RuleViolation,
)
from services.booking.usecases import bookings, queries, resources, teams
from shared.events import EventType, Kind, LineStatus, ResourceSnapshot, Status, TeamRef
from tests.support.fake_booking import FakeBooking, at


class School(FakeBooking):
    """The fake store with one more person (Vera, a team member to be) and teams."""

    def __init__(self) -> None:
        super().__init__()
        self.vera = self.person("vera@example.org", "organiser")

    def team(self, name: str, **values: Any):
        return teams.create_team(self.ctx, self.admin, CreateTeam(name=name, **values))

    def resource_events(self, resource_id: str | None = None) -> list[ResourceSnapshot]:
        return [
            snapshot
            for event_type, snapshot in self.store.events
            if event_type == EventType.RESOURCE_CHANGED
            and (resource_id is None or snapshot.resource_id == resource_id)
        ]

    def booking_events(self, booking_id: str) -> list[EventType]:
        return [t for t, _ in self.events(booking_id)]


@pytest.fixture
def school() -> School:
    return School()


# --- teams ----------------------------------------------------------------------------------


def test_an_admin_creates_a_team_and_everyone_may_read_it(school):
    team = school.team(
        "Kommunikation",
        email="komm@example.org",
        members=("kim@example.org", "sam@example.org"),
    )
    assert (team.slug, team.name, team.email) == (
        "kommunikation",
        "Kommunikation",
        "komm@example.org",
    )
    assert team.members == ("kim@example.org", "sam@example.org")
    assert teams.read_team(school.ctx, "kommunikation") == team
    assert [t.slug for t in teams.list_teams(school.ctx)] == ["kommunikation"]


def test_a_team_slug_is_taken_once_and_only_admins_keep_teams(school):
    school.team("Infrastructure")
    commits = school.store.commits
    with pytest.raises(AlreadyExists) as caught:
        school.team("Infra again", slug="infrastructure")
    assert (caught.value.field, caught.value.message.code) == ("slug", "team_slug_taken")
    with pytest.raises(AlreadyExists) as by_name:
        school.team("Infrastructure")
    assert by_name.value.field == "name"
    with pytest.raises(Forbidden):
        teams.create_team(school.ctx, school.infra, CreateTeam(name="Mine"))
    with pytest.raises(Forbidden):
        teams.update_team(school.ctx, school.olle, "infrastructure", ChangeTeam.of(name="X"))
    with pytest.raises(NotFound):
        teams.update_team(school.ctx, school.admin, "nobody", ChangeTeam.of(name="X"))
    assert school.store.commits == commits
    assert [t.name for t in teams.list_teams(school.ctx)] == ["Infrastructure"]


def test_team_members_decide_their_resources_lines(school):
    school.team("Infrastructure", members=("vera@example.org",))
    hall = school.resource("Hall", team="infrastructure")
    assert hall.team == TeamRef("infrastructure", "Infrastructure", "", ("vera@example.org",))
    booking = school.submit(school.olle, hall)
    [line] = booking.lines
    assert line.deciders == ("vera@example.org",)
    approved = bookings.approve_booking(school.ctx, school.vera, booking.id)
    assert approved.booking.status == Status.APPROVED


# --- resource.changed ------------------------------------------------------------------------


def test_creating_a_resource_writes_resource_changed_at_revision_one(school):
    school.team("Infrastructure", email="infra-team@example.org", members=("vera@example.org",))
    hall = school.resource("Hall", team="infrastructure", managers=("mia@example.org",))
    [event] = school.resource_events(hall.id)
    assert (event.slug, event.name, event.kind, event.revision, event.active) == (
        "hall",
        "Hall",
        Kind.VENUE,
        1,
        True,
    )
    assert event.team == TeamRef(
        "infrastructure", "Infrastructure", "infra-team@example.org", ("vera@example.org",)
    )
    assert (event.managers, event.self_approval, event.former_slugs) == (
        ("mia@example.org",),
        False,
        (),
    )
    assert hall.revision == 1


def test_a_rename_keeps_the_former_slug_and_raises_the_revision(school):
    hall = school.resource("Hall")
    changed = resources.update_resource(
        school.ctx, school.admin, hall.id, ChangeResource.of(name="Great hall", slug="great-hall")
    )
    assert (changed.slug, changed.name, changed.revision) == ("great-hall", "Great hall", 2)
    latest = school.resource_events(hall.id)[-1]
    assert (latest.slug, latest.former_slugs, latest.revision) == ("great-hall", ("hall",), 2)
    # the old slug stays the resource's: no other resource may take it
    with pytest.raises(RuleViolation) as caught:
        school.resource("Other", slug="hall")
    assert caught.value.errors["slug"][0].code == "slug_taken"
    # going back to an old slug is allowed, and the one left becomes a former slug
    back = resources.update_resource(
        school.ctx, school.admin, hall.id, ChangeResource.of(slug="hall")
    )
    assert back.slug == "hall"
    assert school.resource_events(hall.id)[-1].former_slugs == ("great-hall",)


def test_a_change_that_changes_nothing_writes_no_event(school):
    hall = school.resource("Hall", capacity=50)
    same = resources.update_resource(
        school.ctx, school.admin, hall.id, ChangeResource.of(capacity=50, name="Hall")
    )
    assert same.revision == 1
    assert len(school.resource_events(hall.id)) == 1


def test_giving_a_resource_a_team_and_self_approval(school):
    school.team("Kommunikation", members=("vera@example.org",))
    camera = school.resource("Photographer", kind=Kind.SERVICE)
    changed = resources.update_resource(
        school.ctx,
        school.admin,
        camera.id,
        ChangeResource.of(team="kommunikation", self_approval=True),
    )
    assert (changed.team.slug, changed.self_approval, changed.revision) == (
        "kommunikation",
        True,
        2,
    )
    latest = school.resource_events(camera.id)[-1]
    assert (latest.team.slug, latest.self_approval) == ("kommunikation", True)
    # a team member approves their own request of a self-approval resource
    own = school.submit(school.vera, camera, hour=13, until=14, day=6)
    assert bookings.approve_booking(school.ctx, school.vera, own.id).booking.status == "approved"
    cleared = resources.update_resource(
        school.ctx, school.admin, camera.id, ChangeResource.of(team=None)
    )
    assert cleared.team is None and school.resource_events(camera.id)[-1].team is None


def test_an_unknown_team_is_refused_on_the_field_and_changes_nothing(school):
    hall = school.resource("Hall")
    with pytest.raises(RuleViolation) as caught:
        resources.update_resource(
            school.ctx, school.admin, hall.id, ChangeResource.of(slug="aula", team="nobody")
        )
    assert caught.value.errors == {"team": caught.value.errors["team"]}
    assert caught.value.errors["team"][0].code == "unknown_team"
    with pytest.raises(RuleViolation):
        school.resource("Studio", team="nobody")
    after = resources.read_resource(school.ctx, hall.id)
    assert (after.slug, after.revision) == ("hall", 1)
    assert len(school.store.resources) == 1
    assert len(school.resource_events()) == 1


def test_a_team_change_writes_resource_changed_for_each_of_its_resources(school):
    school.team("Kommunikation", members=("kim@example.org",))
    studio = school.resource("Studio", kind=Kind.STUDIO, team="kommunikation")
    camera = school.resource("Photographer", kind=Kind.SERVICE, team="kommunikation")
    hall = school.resource("Hall")
    changed = teams.update_team(
        school.ctx,
        school.admin,
        "kommunikation",
        ChangeTeam.of(members=("kim@example.org", "vera@example.org"), email="k@example.org"),
    )
    assert changed.members == ("kim@example.org", "vera@example.org")
    assert [r.slug for r in changed.resources] == ["photographer", "studio"]
    for resource in (studio, camera):
        latest = school.resource_events(resource.id)[-1]
        assert latest.revision == 2
        assert latest.team == TeamRef(
            "kommunikation",
            "Kommunikation",
            "k@example.org",
            ("kim@example.org", "vera@example.org"),
        )
    assert len(school.resource_events(hall.id)) == 1  # not the team's
    # the same again changes nothing and writes nothing
    teams.update_team(
        school.ctx, school.admin, "kommunikation", ChangeTeam.of(name="Kommunikation")
    )
    assert [e.revision for e in school.resource_events(studio.id)] == [1, 2]
    # a new slug for the team: its resources name it
    teams.update_team(school.ctx, school.admin, "kommunikation", ChangeTeam.of(slug="komm"))
    assert school.resource_events(studio.id)[-1].team.slug == "komm"
    assert resources.read_resource(school.ctx, studio.id).team.slug == "komm"


# --- closures -----------------------------------------------------------------------------------


def closure(day: int = 4, reason: str = "Water damage", **extra: Any) -> AddClosure:
    return AddClosure(start=at(day, 0), end=at(day + 1, 0), reason=reason, **extra)


def test_a_closure_over_approved_bookings_is_refused_with_them(school):
    hall = school.resource("Hall")
    held = school.submit(school.olle, hall, title="Defence")
    bookings.approve_booking(school.ctx, school.infra, held.id)
    school.submit(school.otto, hall, hour=14, until=15)  # pending: it holds nothing
    commits = school.store.commits
    with pytest.raises(ClosureOverBookings) as caught:
        resources.add_closure(school.ctx, school.infra, hall.id, closure())
    [conflict] = caught.value.conflicts
    assert (conflict.booking_id, conflict.resource_id, conflict.start, conflict.end) == (
        held.id,
        hall.id,
        at(4, 10),
        at(4, 12),
    )
    assert school.store.commits == commits and school.store.closures == []
    # another day is free
    resources.add_closure(school.ctx, school.infra, hall.id, closure(day=5))
    assert len(school.store.closures) == 1


def test_a_closure_with_cancel_bookings_declines_those_lines_with_its_reason(school):
    school.team("Kommunikation", members=("kim@example.org",))
    hall = school.resource("Hall")
    camera = school.resource("Photographer", kind=Kind.SERVICE, team="kommunikation")
    both = school.submit(school.olle, hall, camera, title="Both")
    bookings.approve_booking(school.ctx, school.infra, both.id)
    alone = school.submit(school.otto, hall, title="Alone", hour=13, until=14)
    bookings.approve_booking(school.ctx, school.infra, alone.id)
    resources.add_closure(school.ctx, school.infra, hall.id, closure(cancel_bookings=True))
    after = queries.read_booking(school.ctx, school.infra, both.id)
    lines = {line.resource_id: line for line in after.lines}
    assert after.status == Status.APPROVED  # the photographer goes on
    assert (lines[hall.id].status, lines[hall.id].reason) == (LineStatus.DECLINED, "Water damage")
    assert lines[hall.id].decided_by == "infra@example.org"
    assert lines[camera.id].status == LineStatus.APPROVED
    assert school.booking_events(both.id)[-1] == EventType.BOOKING_LINES_DECIDED
    gone = queries.read_booking(school.ctx, school.infra, alone.id)
    assert (gone.status, gone.reason) == (Status.CANCELLED, "Water damage")
    assert school.booking_events(alone.id)[-1] == EventType.BOOKING_CANCELLED
    assert len(school.store.closures) == 1


def test_a_slot_freed_by_a_closure_is_not_offered_on(school):
    hall = school.resource("Hall")
    held = school.submit(school.olle, hall)
    waiting = school.submit(school.otto, hall)
    bookings.approve_booking(school.ctx, school.infra, held.id)
    resources.add_closure(school.ctx, school.infra, hall.id, closure(cancel_bookings=True))
    assert school.booking_events(waiting.id) == [EventType.BOOKING_SUBMITTED]


def test_a_slot_freed_otherwise_is_offered_on(school):
    hall = school.resource("Hall")
    held = school.submit(school.olle, hall)
    waiting = school.submit(school.otto, hall)
    bookings.approve_booking(school.ctx, school.infra, held.id)
    bookings.cancel_booking(school.ctx, school.olle, held.id, CancelBooking("Ill"))
    assert school.booking_events(waiting.id)[-1] == EventType.BOOKING_SLOT_FREED


def test_removing_a_closure(school):
    hall = school.resource("Hall")
    added = resources.add_closure(school.ctx, school.infra, hall.id, closure())
    listed = resources.list_closures(school.ctx, hall.id, at(1, 0), at(30, 0))
    assert [c.id for c in listed] == [added.id]
    with pytest.raises(Forbidden):
        resources.remove_closure(school.ctx, school.olle, hall.id, added.id)
    with pytest.raises(NotFound):
        resources.remove_closure(school.ctx, school.infra, hall.id, "no-such-closure")
    other = school.resource("Other")
    with pytest.raises(NotFound):  # a closure of another resource
        resources.remove_closure(school.ctx, school.infra, other.id, added.id)
    resources.remove_closure(school.ctx, school.infra, hall.id, added.id)
    assert resources.list_closures(school.ctx, hall.id, at(1, 0), at(30, 0)) == []
    assert school.submit(school.olle, hall).status == Status.PENDING  # bookable again
