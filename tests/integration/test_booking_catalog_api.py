"""Issue 15, booking's side: the categories and units admins keep (and a booking's category
and unit, in its JSON, history and events), the suppliers on agreements, and who does an
approved service or studio line's job (``PUT .../assignment``, ``booking.assigned``),
through booking's JSON API on the run's database. The clock is fixed at Friday 1 March
2030, 12:00; the bookings are on Monday 4 March."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import HistoryEntry, OutboxMessage, Supplier
from tests.integration.test_booking_statements import (
    APPROVE_STATEMENTS,
    READ_STATEMENTS,
    SUBMIT_STATEMENTS,
    statements_of,
)
from tests.support.booking import BookingApi, problem

MEMBER = "fia.foto@example.org"


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def codes(body: dict[str, Any]) -> dict[str, list[str]]:
    return body.get("codes", {})


def outbox_rows(api: BookingApi) -> int:
    with api.db.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage))


# --- categories and units ------------------------------------------------------------------


def test_anyone_reads_the_seeded_categories_in_both_languages(api):
    listed = api.get("/api/v1/categories", api.organiser)
    assert listed.status_code == 200
    categories = listed.get_json()["categories"]
    assert [c["slug"] for c in categories][:3] == ["seminar", "conference", "public-lecture"]
    assert categories[0] == {
        "slug": "seminar",
        "name_sv": "Seminarium",
        "name_en": "Seminar",
        "position": 0,
        "active": True,
    }
    assert api.get("/api/v1/units", api.organiser).get_json() == {"units": []}


@pytest.mark.parametrize("kind", ["categories", "units"])
def test_an_admin_adds_renames_and_retires_an_entry_and_others_may_not(api, kind):
    body = {"slug": "math", "name_sv": "Matematiska institutionen", "name_en": "Mathematics"}
    refused = api.post(f"/api/v1/{kind}", api.organiser, body)
    assert problem(refused, 403)
    problem(api.post(f"/api/v1/{kind}", api.infra, body), 403)
    created = api.post(f"/api/v1/{kind}", api.admin, body)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/{kind}/math")
    assert created.get_json() == {**body, "position": 0, "active": True}
    again = problem(api.post(f"/api/v1/{kind}", api.admin, body), 409)
    assert codes(again) == {"slug": ["list_slug_taken"]}

    problem(api.patch(f"/api/v1/{kind}/math", api.organiser, {"active": False}), 403)
    renamed = api.patch(f"/api/v1/{kind}/math", api.admin, {"name_en": "Maths", "position": 3})
    assert renamed.status_code == 200
    assert renamed.get_json()["name_en"] == "Maths"
    retired = api.patch(f"/api/v1/{kind}/math", api.admin, {"active": False})
    assert retired.get_json()["active"] is False
    one = api.get(f"/api/v1/{kind}/math", api.organiser).get_json()
    assert one == {**body, "name_en": "Maths", "position": 3, "active": False}
    problem(api.get(f"/api/v1/{kind}/nothing", api.organiser), 404)
    problem(api.patch(f"/api/v1/{kind}/nothing", api.admin, {"active": False}), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Bad Slug", "name_sv": "A", "name_en": "A"}, "slug"),
        ({"slug": "ok", "name_en": "A"}, "name_sv"),
        ({"slug": "ok", "name_sv": "A", "name_en": ""}, "name_en"),
        ({"slug": "x" * 41, "name_sv": "A", "name_en": "A"}, "slug"),
        ({"slug": "ok", "name_sv": "A", "name_en": "A", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(api, body, field):
    refused = problem(api.post("/api/v1/units", api.admin, body), 422)
    assert field in refused["errors"]


def test_a_slug_cannot_be_changed(api):
    refused = problem(api.patch("/api/v1/categories/seminar", api.admin, {"slug": "sem"}), 422)
    assert codes(refused) == {"slug": ["list_slug_stays"]}


# --- a booking's category and unit -----------------------------------------------------------


def add_unit(api: BookingApi, slug: str = "math", **body: Any) -> dict[str, Any]:
    names = {"name_sv": "Matematiska institutionen", "name_en": "Department of Mathematics"}
    response = api.post("/api/v1/units", api.admin, {"slug": slug, **names, **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_request_names_its_category_and_unit_in_its_json_and_events(api):
    add_unit(api)
    room = api.make_resource()
    booking = api.booking(api.organiser, room, category="seminar", unit="math")
    assert (booking["category"], booking["unit"]) == ("seminar", "math")
    read = api.get(f"/api/v1/bookings/{booking['id']}", api.organiser).get_json()
    assert (read["category"], read["unit"]) == ("seminar", "math")
    [submitted] = api.events(booking["id"])
    assert submitted["data"]["category"] == {
        "slug": "seminar",
        "name_sv": "Seminarium",
        "name_en": "Seminar",
    }
    assert submitted["data"]["unit"] == {
        "slug": "math",
        "name_sv": "Matematiska institutionen",
        "name_en": "Department of Mathematics",
    }
    approved = api.approved(booking)
    assert approved["category"] == "seminar"
    assert api.events(booking["id"])[-1]["data"]["unit"]["slug"] == "math"

    plain = api.booking(
        api.organiser, room, start="2030-03-05T10:00:00+01:00", end="2030-03-05T11:00:00+01:00"
    )
    assert (plain["category"], plain["unit"]) == (None, None)
    assert api.events(plain["id"])[0]["data"]["category"] is None


def test_an_unknown_or_retired_category_or_unit_is_refused_naming_the_field(api):
    add_unit(api)
    api.patch("/api/v1/units/math", api.admin, {"active": False})
    room = api.make_resource()
    before = api.counts()
    unknown = problem(api.submit(api.organiser, room, category="gala"), 422)
    assert codes(unknown) == {"category": ["unknown_category"]}
    retired = problem(api.submit(api.organiser, room, unit="math"), 422)
    assert codes(retired) == {"unit": ["unknown_unit"]}
    both = problem(api.submit(api.organiser, room, category="gala", unit="nowhere"), 422)
    assert set(codes(both)) == {"category", "unit"}
    bad = problem(api.submit(api.organiser, room, category="Not A Slug"), 422)
    assert "category" in bad["errors"]
    assert api.counts() == before


def test_a_change_of_category_or_unit_is_recorded_in_the_history_and_the_event(api):
    add_unit(api)
    add_unit(api, "office", name_sv="Skolkansliet", name_en="School office")
    room = api.make_resource()
    booking = api.booking(api.organiser, room, category="seminar", unit="math")
    path = f"/api/v1/bookings/{booking['id']}"
    changed = api.patch(path, api.organiser, {"category": "conference", "unit": "office"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["category"], changed.get_json()["unit"]) == ("conference", "office")
    event = api.events(booking["id"])[-1]
    assert event["type"] == "booking.changed"
    assert event["data"]["category"]["name_en"] == "Conference"
    assert event["data"]["unit"]["name_sv"] == "Skolkansliet"
    assert {"field": "category", "from": "seminar", "to": "conference"} in event["data"]["changes"]
    history = api.get(f"{path}/history", api.organiser).get_json()["history"]
    assert history[-1]["action"] == "changed"
    assert {"field": "unit", "from": "math", "to": "office"} in history[-1]["changes"]

    refused = problem(api.patch(path, api.organiser, {"unit": "nowhere"}), 422)
    assert codes(refused) == {"unit": ["unknown_unit"]}
    # a retired entry stays on the bookings that have it, and another change goes through
    api.patch("/api/v1/units/office", api.admin, {"active": False})
    kept = api.patch(path, api.organiser, {"title": "Seminar in maths", "unit": "office"})
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["unit"] == "office"
    cleared = api.patch(path, api.organiser, {"category": None})
    assert cleared.get_json()["category"] is None
    assert api.events(booking["id"])[-1]["data"]["category"] is None


# --- suppliers -------------------------------------------------------------------------------

SUPPLIER = {
    "name": "Bildbyrån AB",
    "agreement_ref": "UH-2029-17",
    "hourly_rate": 950,
    "valid_from": "2030-01-01",
    "valid_to": "2030-12-31",
    "email": "Bokning@Bildbyran.example",
}


def add_supplier(api: BookingApi, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/suppliers", api.admin, {**SUPPLIER, **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_admin_keeps_suppliers_and_no_one_else_sees_them(api):
    for who in (api.organiser, api.infra):
        problem(api.get("/api/v1/suppliers", who), 403)
        problem(api.post("/api/v1/suppliers", who, SUPPLIER), 403)
    supplier = add_supplier(api)
    assert supplier == {
        **SUPPLIER,
        "id": supplier["id"],
        "hourly_rate": 950.0,
        "currency": "SEK",
        "email": "bokning@bildbyran.example",
        "active": True,
    }
    path = f"/api/v1/suppliers/{supplier['id']}"
    problem(api.get(path, api.organiser), 403)
    problem(api.patch(path, api.organiser, {"active": False}), 403)
    listed = api.get("/api/v1/suppliers", api.admin).get_json()["suppliers"]
    assert listed == [supplier]
    changed = api.patch(path, api.admin, {"hourly_rate": "1020.50", "valid_to": None})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["hourly_rate"], changed.get_json()["valid_to"]) == (1020.5, None)
    retired = api.patch(path, api.admin, {"active": False, "currency": "eur"})
    assert (retired.get_json()["active"], retired.get_json()["currency"]) == (False, "EUR")
    assert api.get(path, api.admin).get_json() == retired.get_json()
    problem(api.get("/api/v1/suppliers/nothing", api.admin), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hourly_rate": 0}, "hourly_rate"),
        ({"hourly_rate": -10}, "hourly_rate"),
        ({"hourly_rate": "lots"}, "hourly_rate"),
        ({"valid_to": "2029-12-31"}, "valid_to"),
        ({"valid_from": "9999-01-01"}, "valid_from"),
        ({"currency": "kronor"}, "currency"),
        ({"email": "not an address"}, "email"),
        ({"name": ""}, "name"),
        ({"agreement_ref": None}, "agreement_ref"),
    ],
)
def test_a_bad_supplier_is_refused_naming_the_field(api, change, field):
    refused = problem(api.post("/api/v1/suppliers", api.admin, {**SUPPLIER, **change}), 422)
    assert field in refused["errors"], refused
    with api.db.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Supplier)) == 0


def test_a_change_that_ends_an_agreement_before_it_starts_is_refused(api):
    supplier = add_supplier(api)
    path = f"/api/v1/suppliers/{supplier['id']}"
    refused = problem(api.patch(path, api.admin, {"valid_to": "2029-06-30"}), 422)
    assert codes(refused) == {"valid_to": ["valid_to_before_valid_from"]}
    assert api.get(path, api.admin).get_json()["valid_to"] == "2030-12-31"


# --- who does a line's job -------------------------------------------------------------------


@pytest.fixture
def photo(api) -> dict[str, Any]:
    """A photographer decided by the communication team (a member, Fia) and a manager."""
    team = {"name": "Kommunikation", "slug": "komm", "members": [MEMBER]}
    assert api.post("/api/v1/teams", api.admin, team).status_code == 201
    return api.make_resource(
        name="Photographer",
        kind="service",
        team="komm",
        managers=["mona.manager@example.org"],
    )


def assignment(api: BookingApi, booking: dict, resource: dict, user, body: Any):
    path = f"/api/v1/bookings/{booking['id']}/lines/{resource['id']}/assignment"
    return api.put(path, user, body)


def line_of(booking: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    return next(x for x in booking["lines"] if x["resource_id"] == resource["id"])


def test_a_team_member_assigns_a_colleague_and_the_event_says_who(api, photo):
    fia = api.user("organiser", MEMBER, "Fia Foto")
    room = api.make_resource()
    booking = api.approved(api.booking(api.organiser, room, photo, category="seminar"))
    revision = booking["revision"]
    events = len(api.events(booking["id"]))

    body = {"assignee": {"kind": "staff", "email": MEMBER.upper()}}
    answer = assignment(api, booking, photo, fia, body)
    assert answer.status_code == 200, answer.get_json()
    assigned = answer.get_json()
    assert assigned["revision"] == revision + 1
    line = line_of(assigned, photo)
    assert line["assignee"] == {
        "kind": "staff",
        "email": MEMBER,
        "supplier_id": None,
        "name": "Fia Foto",
    }
    assert line["hours_delivered"] is None
    assert line_of(assigned, room)["assignee"] is None
    for who in (api.organiser, api.infra, fia):  # everyone who may see the booking sees it
        read = api.get(f"/api/v1/bookings/{booking['id']}", who).get_json()
        assert line_of(read, photo)["assignee"]["name"] == "Fia Foto"

    found = api.events(booking["id"])
    assert len(found) == events + 1
    event = found[-1]
    assert event["type"] == "booking.assigned"
    assert event["data"]["revision"] == revision + 1
    assert event["data"]["category"]["slug"] == "seminar"
    [event_line] = [x for x in event["data"]["lines"] if x["resource_id"] == photo["id"]]
    assert event_line["assignee"] == {
        "kind": "staff",
        "email": MEMBER,
        "name": "Fia Foto",
        "supplier_id": None,
    }
    slug = photo["slug"]
    change = {
        "field": f"lines.{slug}.assignee",
        "from": None,
        "to": {"kind": "staff", "email": MEMBER, "supplier_id": None, "name": "Fia Foto"},
    }
    assert event["data"]["changes"] == [change]
    history = api.get(f"/api/v1/bookings/{booking['id']}/history", api.organiser).get_json()
    assert history["history"][-1]["action"] == "assigned"
    assert history["history"][-1]["actor"] == MEMBER
    assert history["history"][-1]["changes"] == [change]

    again = assignment(api, booking, photo, fia, body)  # the same again: nothing new
    assert again.status_code == 200
    assert again.get_json()["revision"] == revision + 1
    assert len(api.events(booking["id"])) == events + 1


def test_hours_delivered_are_recorded_and_an_assignment_cleared(api, photo):
    room = api.make_resource()
    booking = api.approved(api.booking(api.organiser, room, photo))
    staff = {"kind": "staff", "email": "mona.manager@example.org"}  # a manager may do it
    first = assignment(api, booking, photo, api.infra, {"assignee": staff})
    assert line_of(first.get_json(), photo)["assignee"]["name"] == "mona.manager@example.org"
    hours = assignment(api, booking, photo, api.admin, {"assignee": staff, "hours_delivered": 2.5})
    assert hours.status_code == 200, hours.get_json()
    assert line_of(hours.get_json(), photo)["hours_delivered"] == 2.5
    event = api.events(booking["id"])[-1]
    assert event["type"] == "booking.assigned"
    assert event["data"]["changes"] == [
        {"field": f"lines.{photo['slug']}.hours_delivered", "from": None, "to": 2.5}
    ]
    kept = assignment(api, booking, photo, api.admin, {"assignee": staff})  # hours stay
    assert line_of(kept.get_json(), photo)["hours_delivered"] == 2.5
    assert api.events(booking["id"])[-1] == event
    cleared = assignment(
        api, booking, photo, api.admin, {"assignee": None, "hours_delivered": None}
    )
    line = line_of(cleared.get_json(), photo)
    assert (line["assignee"], line["hours_delivered"]) == (None, None)
    last = api.events(booking["id"])[-1]
    assert [c["field"] for c in last["data"]["changes"]] == [
        f"lines.{photo['slug']}.assignee",
        f"lines.{photo['slug']}.hours_delivered",
    ]


def test_a_supplier_on_a_valid_agreement_is_assigned(api, photo):
    supplier = add_supplier(api)
    booking = api.approved(api.booking(api.organiser, photo))
    body = {"assignee": {"kind": "supplier", "supplier_id": supplier["id"]}}
    answer = assignment(api, booking, photo, api.infra, body)
    assert answer.status_code == 200, answer.get_json()
    assert line_of(answer.get_json(), photo)["assignee"] == {
        "kind": "supplier",
        "email": "bokning@bildbyran.example",
        "supplier_id": supplier["id"],
        "name": "Bildbyrån AB",
    }
    [event_line] = api.events(booking["id"])[-1]["data"]["lines"]
    assert event_line["assignee"]["supplier_id"] == supplier["id"]
    assert event_line["assignee"]["name"] == "Bildbyrån AB"


def test_who_may_assign_and_what_is_refused(api, photo):
    room = api.make_resource()
    pending = api.booking(api.organiser, room, photo)
    staff = {"assignee": {"kind": "staff", "email": MEMBER}}
    early = problem(assignment(api, pending, photo, api.infra, staff), 409)
    assert early["code"] == "assign_when_approved"
    assert early["detail"] == (
        "Photographer is not approved: who does it is decided once it is approved."
    )
    booking = api.approved(pending)
    rows, events = api.counts(), outbox_rows(api)

    problem(assignment(api, booking, photo, api.organiser, staff), 403)
    problem(assignment(api, booking, photo, api.other, staff), 403)
    venue = problem(assignment(api, booking, room, api.infra, staff), 422)
    assert codes(venue) == {"resource_id": ["assign_only_services"]}
    stranger = {"assignee": {"kind": "staff", "email": "otto@example.org"}}
    outside = problem(assignment(api, booking, photo, api.infra, stranger), 422)
    assert codes(outside) == {"assignee.email": ["assignee_not_in_team"]}
    for body, field in (
        ({"assignee": {"kind": "staff"}}, "assignee"),
        ({"assignee": {"kind": "robot", "email": MEMBER}}, "assignee"),
        ({"assignee": {"kind": "staff", "email": MEMBER, "supplier_id": "x"}}, "assignee"),
        ({"hours_delivered": 2}, "assignee"),
        ({**staff, "hours_delivered": -1}, "hours_delivered"),
        ({**staff, "hours_delivered": 100_000}, "hours_delivered"),
        ({**staff, "hours_delivered": "NaN"}, "hours_delivered"),
    ):
        refused = problem(assignment(api, booking, photo, api.infra, body), 422)
        assert any(key.startswith(field) for key in refused["errors"]), (body, refused)
    unknown = {"assignee": {"kind": "supplier", "supplier_id": "nothing"}}
    missing = problem(assignment(api, booking, photo, api.infra, unknown), 422)
    assert codes(missing) == {"assignee.supplier_id": ["no_such_supplier"]}
    expired = add_supplier(api, name="Old AB", valid_from="2028-01-01", valid_to="2030-03-03")
    retired = add_supplier(api, name="Gone AB")
    api.patch(f"/api/v1/suppliers/{retired['id']}", api.admin, {"active": False})
    for supplier, code in (
        (expired, "supplier_agreement_not_valid"),
        (retired, "supplier_retired"),
    ):
        body = {"assignee": {"kind": "supplier", "supplier_id": supplier["id"]}}
        refused = problem(assignment(api, booking, photo, api.infra, body), 422)
        assert codes(refused) == {"assignee.supplier_id": [code]}
    path = f"/api/v1/bookings/{booking['id']}/lines/nothing/assignment"
    problem(api.put(path, api.infra, staff), 404)
    problem(api.put("/api/v1/bookings/nothing/lines/x/assignment", api.infra, staff), 404)
    assert api.counts() == rows
    assert outbox_rows(api) == events


def test_a_cancelled_booking_takes_no_assignment(api, photo):
    booking = api.approved(api.booking(api.organiser, photo))
    assert api.act(booking, "cancel", api.organiser).status_code == 200
    body = {"assignee": {"kind": "staff", "email": MEMBER}}
    refused = problem(assignment(api, booking, photo, api.infra, body), 409)
    assert refused["code"] == "assign_when_approved"
    with api.db.transaction(readonly=True) as session:
        actions = session.scalars(
            select(HistoryEntry.action).where(HistoryEntry.booking_id == booking["id"])
        ).all()
    assert "assigned" not in actions


def test_names_in_the_events_cost_no_statement_per_booking_or_line(api, photo):
    """A request's category and unit are checked in one question; their names, and who
    does each line, are read with the booking's rows (issue 13's counts still hold)."""
    add_unit(api)
    supplier = add_supplier(api)
    counts = {}
    for n, size in enumerate((1, 5)):
        rooms = [api.make_resource(name=f"Room {size}.{k}") for k in range(size)]
        body = api.booking_body(*rooms, photo, category="seminar", unit="math")
        body.update(
            start=f"2030-03-0{4 + n}T10:00:00+01:00", end=f"2030-03-0{4 + n}T12:00:00+01:00"
        )
        submitted, submit = statements_of(
            api, lambda body=body: api.post("/api/v1/bookings", api.organiser, body)
        )
        assert submitted.status_code == 201, submitted.get_json()
        booking = submitted.get_json()
        path = f"/api/v1/bookings/{booking['id']}/approve"
        approved, approve = statements_of(api, lambda path=path: api.post(path, api.infra))
        assert approved.status_code == 200, approved.get_json()
        body = {"assignee": {"kind": "supplier", "supplier_id": supplier["id"]}}
        assigned, assign = statements_of(
            api, lambda booking=booking, body=body: assignment(api, booking, photo, api.infra, body)
        )
        assert assigned.status_code == 200, assigned.get_json()
        read, reading = statements_of(
            api, lambda booking=booking: api.get(f"/api/v1/bookings/{booking['id']}", api.admin)
        )
        assert line_of(read.get_json(), photo)["assignee"]["name"] == "Bildbyrån AB"
        assert len(submit) <= SUBMIT_STATEMENTS + 1  # the one question of the two lists
        assert len(approve) <= APPROVE_STATEMENTS
        counts[size] = (len(submit), len(approve), len(assign), len(reading))
    assert counts[1] == counts[5], counts
    assert counts[1][3] <= READ_STATEMENTS
    event = api.events(booking["id"])[-1]
    assert event["data"]["unit"]["name_en"] == "Department of Mathematics"
