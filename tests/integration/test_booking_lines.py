"""One decision per resource: a venue and a photographer in one request, each decided by
its own deciders, through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from services.booking.persistence.models import Resource, Team, TeamMember
from tests.support.booking import MONDAY, BookingApi, at

WEEKLY = "FREQ=WEEKLY;COUNT=4"


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def give_team(api: BookingApi, resource: dict[str, Any], slug: str, *members: str) -> None:
    """Put a resource in a team (made if new) with these members, straight in the database."""
    with api.db.transaction() as session:
        team = session.query(Team).filter_by(slug=slug).one_or_none()
        if team is None:
            team = Team(slug=slug, name=slug.title(), email="")
            team.members = [TeamMember(email=m) for m in members]
            session.add(team)
            session.flush()
        session.execute(
            update(Resource).where(Resource.id == resource["id"]).values(team_id=team.id)
        )


def allow_self_approval(api: BookingApi, resource: dict[str, Any]) -> None:
    with api.db.transaction() as session:
        session.execute(
            update(Resource).where(Resource.id == resource["id"]).values(self_approval=True)
        )


@pytest.fixture
def school(api):
    """Aula Magna decided by Infrastructure (Ivar), a photographer by Kommunikation (Karin)."""
    aula = api.make_resource(name="Aula Magna", slug="aula-magna")
    photo = api.make_resource(name="Photographer", slug="photographer", kind="service")
    ivar = api.user("organiser", "ivar@example.org", "Ivar Infra-team")
    karin = api.user("organiser", "karin@example.org", "Karin Kommunikation")
    give_team(api, aula, "infrastructure", ivar.email)
    give_team(api, photo, "kommunikation", karin.email)
    return aula, photo, ivar, karin


def lines(booking: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["resource"]["slug"]: line for line in booking["lines"]}


def states(booking: dict[str, Any]) -> dict[str, str]:
    return {slug: line["status"] for slug, line in lines(booking).items()}


def answer(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def event_types(api: BookingApi, booking_id: str) -> list[str]:
    return [e["type"] for e in api.events(booking_id)]


@pytest.mark.parametrize("first", ["venue", "photographer"])
def test_two_teams_decide_their_own_lines_in_either_order(api, school, first):
    aula, photo, ivar, karin = school
    booking = api.booking(api.organiser, aula, photo)
    assert booking["status"] == "pending"
    assert states(booking) == {"aula-magna": "pending", "photographer": "pending"}
    assert lines(booking)["aula-magna"]["deciders"] == ["ivar@example.org"]
    assert lines(booking)["photographer"]["deciders"] == ["karin@example.org"]

    order = [(ivar, "aula-magna"), (karin, "photographer")]
    if first == "photographer":
        order.reverse()
    (one, one_slug), (two, two_slug) = order
    after_one = answer(api.act(booking, "approve", one))
    assert after_one["status"] == "pending"
    assert states(after_one)[one_slug] == "approved"
    assert states(after_one)[two_slug] == "pending"
    assert lines(after_one)[one_slug]["decided_by"] == one.email
    # the first decider has nothing left; the second decides only their own line
    answer(api.act(booking, "approve", one), 409)
    answer(api.act(booking, "approve", two, {"resource_ids": [one_slug]}), 403)
    after_two = answer(api.act(booking, "approve", two))
    assert after_two["status"] == "approved"
    assert states(after_two) == {"aula-magna": "approved", "photographer": "approved"}

    events = api.events(booking["id"])
    assert [e["type"] for e in events] == [
        "booking.submitted",
        "booking.lines_decided",
        "booking.approved",
    ]
    assert events[1]["data"]["decided"] == [lines(booking)[one_slug]["resource_id"]]
    assert events[2]["data"]["decided"] == [lines(booking)[two_slug]["resource_id"]]
    assert {line["status"] for line in events[2]["data"]["lines"]} == {"approved"}
    history = answer(api.get(f"/api/v1/bookings/{booking['id']}/history", api.organiser))
    decided = [h for h in history["history"] if h["action"] == "approved"]
    assert [h["actor"] for h in decided] == [one.email, two.email]
    assert decided[0]["changes"] == [
        {"field": f"lines.{one_slug}", "from": "pending", "to": "approved"}
    ]


def test_a_declined_line_leaves_the_booking_and_the_rest_goes_on(api, school):
    aula, photo, ivar, karin = school
    booking = api.booking(api.organiser, aula, photo)
    answer(api.act(booking, "approve", ivar))
    declined = answer(
        api.act(booking, "reject", karin, {"reason": "Our photographers are booked that day"})
    )
    assert declined["status"] == "approved"
    assert [r["slug"] for r in declined["resources"]] == ["aula-magna"]
    line = lines(declined)["photographer"]
    assert (line["status"], line["reason"], line["decided_by"]) == (
        "declined",
        "Our photographers are booked that day",
        "karin@example.org",
    )
    last = api.events(booking["id"])[-1]
    assert last["type"] == "booking.approved"
    assert last["data"]["decided"] == [photo["id"]]
    assert [r["slug"] for r in last["data"]["resources"]] == ["aula-magna"]


def test_every_line_declined_rejects_the_booking(api, school):
    aula, photo, ivar, karin = school
    booking = api.booking(api.organiser, aula, photo)
    first = answer(api.act(booking, "reject", ivar, {"reason": "Exams in the hall"}))
    assert first["status"] == "pending"
    last = answer(api.act(booking, "reject", karin, {"reason": "No photographer free"}))
    assert last["status"] == "rejected"
    assert last["reason"] == "No photographer free"
    assert event_types(api, booking["id"])[-2:] == ["booking.lines_decided", "booking.rejected"]


def test_infra_decides_every_line_and_resource_ids_narrow_it(api, school):
    aula, photo, _, _ = school
    booking = api.booking(api.organiser, aula, photo)
    narrowed = answer(api.act(booking, "approve", api.infra, {"resource_ids": ["photographer"]}))
    assert states(narrowed) == {"aula-magna": "pending", "photographer": "approved"}
    rest = answer(api.act(booking, "approve", api.infra))
    assert rest["status"] == "approved"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resource_ids": []}, "resource_ids"),
        ({"resource_ids": ["no-such-thing"]}, "resource_ids"),
        ({"resource_ids": "aula-magna"}, "resource_ids"),
        ({"resource_ids": [7]}, "resource_ids"),
        ({"lines": ["aula-magna"]}, "lines"),
    ],
)
def test_bad_line_lists_are_refused_with_the_field_and_change_nothing(api, school, body, field):
    aula, photo, _, _ = school
    booking = api.booking(api.organiser, aula, photo)
    before = api.counts()
    problem = answer(api.act(booking, "approve", api.infra, body), 422)
    assert [key.split(".")[0] for key in problem["errors"]] == [field]
    assert api.counts() == before
    assert answer(api.get(f"/api/v1/bookings/{booking['id']}", api.infra))["revision"] == 1


def test_a_decider_cannot_approve_their_own_request_unless_the_resource_allows_it(api, school):
    aula, photo, ivar, _ = school
    own = api.booking(ivar, aula)
    assert lines(own)["aula-magna"]["deciders"] == []  # Ivar is the organiser
    before = api.counts()
    refused = answer(api.act(own, "approve", ivar), 403)
    assert refused["code"] == "no_self_approval"
    assert api.counts() == before
    # an admin who requests is no exception, and another decider may approve
    admins_own = api.booking(api.admin, aula, start=at(MONDAY, 14), end=at(MONDAY, 15))
    answer(api.act(admins_own, "approve", api.admin), 403)
    answer(api.act(own, "approve", api.infra))
    allow_self_approval(api, aula)
    later = api.booking(ivar, aula, start=at(MONDAY, 16), end=at(MONDAY, 17))
    assert answer(api.act(later, "approve", ivar))["status"] == "approved"


def test_a_decider_may_not_edit_someone_elses_booking(api, school):
    aula, photo, ivar, _ = school
    booking = api.booking(api.organiser, aula, photo)
    before = api.counts()
    for body in (
        {"visibility": "public"},
        {"participants": [{"email": "everyone@example.org"}]},
        {"title": "Hijacked"},
    ):
        refused = answer(api.patch(f"/api/v1/bookings/{booking['id']}", ivar, body), 403)
        assert refused["code"] == "only_organiser_edits"
    assert api.counts() == before
    # the organiser and infra still may
    answer(api.patch(f"/api/v1/bookings/{booking['id']}", api.organiser, {"title": "Defence"}))
    answer(api.patch(f"/api/v1/bookings/{booking['id']}", api.infra, {"title": "Defence II"}))


def test_a_move_sends_approved_lines_back_and_an_added_resource_waits_alone(api, school):
    aula, photo, ivar, karin = school
    streaming = api.make_resource(
        name="Streaming", slug="streaming", kind="service", requires_approval=False
    )
    booking = api.booking(api.organiser, aula)
    answer(api.act(booking, "approve", ivar))
    added = answer(
        api.patch(
            f"/api/v1/bookings/{booking['id']}",
            api.organiser,
            {"resource_ids": ["aula-magna", "photographer", "streaming"]},
        )
    )
    # the venue keeps its approval (and its slot), the photographer waits, streaming needs
    # no approval
    assert added["status"] == "pending"
    assert states(added) == {
        "aula-magna": "approved",
        "photographer": "pending",
        "streaming": "approved",
    }
    answer(api.act(booking, "approve", karin))
    moved = answer(
        api.patch(
            f"/api/v1/bookings/{booking['id']}",
            api.organiser,
            {"start": at(MONDAY, 13), "end": at(MONDAY, 15)},
        )
    )
    assert moved["status"] == "pending"
    assert states(moved) == {
        "aula-magna": "pending",
        "photographer": "pending",
        "streaming": "approved",
    }
    assert streaming["id"] in {line["resource_id"] for line in moved["lines"]}


def test_a_declined_line_asked_for_again_waits_anew(api, school):
    aula, photo, ivar, karin = school
    booking = api.booking(api.organiser, aula, photo)
    answer(api.act(booking, "reject", karin, {"reason": "Busy"}))
    again = answer(
        api.patch(
            f"/api/v1/bookings/{booking['id']}",
            api.organiser,
            {
                "resource_ids": ["aula-magna", "photographer"],
                "start": at(MONDAY, 13),
                "end": at(MONDAY, 15),
            },
        )
    )
    assert states(again) == {"aula-magna": "pending", "photographer": "pending"}
    assert lines(again)["photographer"]["reason"] is None


def freed_events(api: BookingApi, booking_id: str) -> list[dict[str, Any]]:
    return [e for e in api.events(booking_id) if e["type"] == "booking.slot_freed"]


@pytest.mark.parametrize(
    "free_it",
    ["cancel", "reject-approved-line", "move", "drop-resource"],
)
def test_a_freed_slot_is_offered_to_the_requests_that_wanted_it(api, school, free_it):
    aula, photo, ivar, _ = school
    holder = api.booking(api.organiser, aula, photo, rrule=WEEKLY)
    waiting = api.booking(api.other, aula, rrule=WEEKLY)
    elsewhere = api.booking(api.other, photo, start=at(MONDAY, 14), end=at(MONDAY, 15))
    answer(api.act(holder, "approve", api.infra))
    answer(api.act(waiting, "approve", ivar), 409)  # the slot is taken
    path = f"/api/v1/bookings/{holder['id']}"
    if free_it == "cancel":
        answer(api.act(holder, "cancel", api.organiser, {"reason": "Called off"}))
    elif free_it == "reject-approved-line":
        answer(api.act(holder, "reject", ivar, {"reason": "Exams", "resource_ids": ["aula-magna"]}))
    elif free_it == "move":
        answer(api.patch(path, api.organiser, {"start": at(MONDAY, 16), "end": at(MONDAY, 17)}))
    else:
        answer(api.patch(path, api.organiser, {"resource_ids": ["photographer"]}))
    offered = freed_events(api, waiting["id"])
    assert len(offered) == 1  # once per freed slot, not per date of the series
    assert offered[0]["data"]["freed"] == [aula["id"]]
    assert offered[0]["data"]["revision"] == waiting["revision"]  # a notice, not a change
    assert freed_events(api, elsewhere["id"]) == []  # wanted nothing that was freed
    assert answer(api.act(waiting, "approve", ivar))["status"] == "approved"


def test_one_cancelled_date_is_offered_to_a_request_for_that_date_only(api, school):
    aula, _, ivar, _ = school
    series = api.booking(api.organiser, aula, rrule=WEEKLY)
    third = MONDAY + timedelta(days=14)
    that_date = api.booking(api.other, aula, start=at(third, 10), end=at(third, 12))
    whole_series = api.booking(api.other, aula, rrule=WEEKLY)
    answer(api.act(series, "approve", ivar))
    answer(api.post(f"/api/v1/bookings/{series['id']}/occurrences/2/cancel", api.organiser, {}))
    assert [e["data"]["freed"] for e in freed_events(api, that_date["id"])] == [[aula["id"]]]
    assert freed_events(api, whole_series["id"]) == []  # three of its dates are still held


def test_no_offer_while_another_approved_booking_still_holds_the_slot(api, school):
    aula, _, ivar, _ = school
    first = api.booking(api.organiser, aula, start=at(MONDAY, 10), end=at(MONDAY, 11))
    second = api.booking(api.organiser, aula, start=at(MONDAY, 11), end=at(MONDAY, 12))
    waiting = api.booking(api.other, aula, start=at(MONDAY, 10), end=at(MONDAY, 12))
    answer(api.act(first, "approve", ivar))
    answer(api.act(second, "approve", ivar))
    answer(api.act(first, "cancel", api.organiser, {}))
    assert freed_events(api, waiting["id"]) == []
    answer(api.act(second, "cancel", api.organiser, {}))
    assert len(freed_events(api, waiting["id"])) == 1


def test_a_pending_line_holds_nothing_and_an_approved_one_holds_its_slot(api, school):
    aula, photo, ivar, karin = school
    booking = api.booking(api.organiser, aula, photo)
    answer(api.act(booking, "approve", karin))  # the photographer is held, the venue not
    other = api.booking(api.other, aula)  # the venue is still free to ask for
    clash = api.submit(api.other, photo)
    assert clash.status_code == 409
    assert clash.get_json()["conflicts"][0]["start"] == booking["start"]  # busy, to another
    answer(api.act(other, "approve", ivar))
    refused = answer(api.act(booking, "approve", ivar), 409)
    assert refused["conflicts"][0]["booking_id"] == other["id"]
