"""The free/busy grid's JSON (``GET /api/v1/grid``) and page (``/grid``): approved bookings
and pending requests apart, another organiser's private booking as busy only, opening
hours, closures and buffers; a bounded range, 422 naming the field for anything else; and
the grid of 20 resources and a week in at most 5 SQL statements, however many bookings."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest

from services.booking.commands import GridQuery
from services.booking.usecases import grid, users
from shared.auth import Principal
from tests.integration.test_booking_statements import MAX_STATEMENTS, statements_of
from tests.support.accounts import quick_passwords
from tests.support.booking import MONDAY, BookingApi, at, parse, problem
from tests.support.pages import browser, text

WEEK = f"start={at(MONDAY, 0)}&end={at(MONDAY + timedelta(days=7), 0)}".replace("+", "%2B")


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"))


def the_grid(api: BookingApi, user, query: str = WEEK) -> dict[str, Any]:
    response = api.get(f"/api/v1/grid?{query}", user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def busy_of(body: dict[str, Any], resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in body["busy"] if b["resource_id"] == resource["id"]]


def test_approved_and_pending_apart_and_a_private_booking_only_busy(api):
    hall = api.make_resource(name="Hall", buffer_minutes=30)
    mine = api.booking(api.organiser, hall, title="My seminar")
    api.approved(mine)
    others = api.booking(
        api.other, hall, title="Secret merger", start=at(MONDAY, 14), end=at(MONDAY, 15)
    )
    api.approved(others)
    wanted = api.booking(
        api.other, hall, title="Hidden wish", start=at(MONDAY, 16), end=at(MONDAY, 17)
    )
    public = api.booking(
        api.other,
        hall,
        title="Open lecture",
        visibility="public",
        start=at(MONDAY + timedelta(days=1), 9),
        end=at(MONDAY + timedelta(days=1), 10),
    )
    api.approved(public)

    seen = busy_of(the_grid(api, api.organiser), hall)

    assert [(b["start"], b["status"], b.get("title")) for b in seen] == [
        (at(MONDAY, 10), "approved", "My seminar"),
        (at(MONDAY, 14), "approved", None),
        (at(MONDAY, 16), "pending", None),
        (at(MONDAY + timedelta(days=1), 9), "approved", "Open lecture"),
    ]
    hidden = seen[1:3]
    assert all("title" not in b and "booking_id" not in b for b in hidden)
    assert seen[0]["booking_id"] == mine["id"]
    assert parse(seen[0]["buffer_end"]) == parse(at(MONDAY, 12, 30))  # the 30 minutes after
    # Infra decides every resource: every title, and the pending one's id.
    by_infra = busy_of(the_grid(api, api.infra), hall)
    assert [b.get("title") for b in by_infra] == [
        "My seminar",
        "Secret merger",
        "Hidden wish",
        "Open lecture",
    ]
    assert by_infra[2]["booking_id"] == wanted["id"]


def test_opening_hours_closures_and_the_resources_asked_for(api):
    hall = api.make_resource(name="Hall", opening_hours={"mon": [["08:00", "17:00"]]})
    studio = api.make_resource(name="Studio", kind="studio")
    body = {"start": at(MONDAY, 12), "end": at(MONDAY, 13), "reason": "Cleaning"}
    assert api.post(f"/api/v1/resources/{hall['id']}/closures", api.infra, body).status_code == 201

    answer = the_grid(api, api.organiser, f"{WEEK}&resource_ids={hall['slug']},{studio['id']}")

    assert [r["name"] for r in answer["resources"]] == ["Studio", "Hall"]  # by kind, name
    hall_open = [(o["start"], o["end"]) for o in answer["open"] if o["resource_id"] == hall["id"]]
    assert hall_open == [(at(MONDAY, 8), at(MONDAY, 17))]  # Monday only
    studio_open = [o for o in answer["open"] if o["resource_id"] == studio["id"]]
    assert [(o["start"], o["end"]) for o in studio_open] == [
        (at(MONDAY, 0), at(MONDAY + timedelta(days=7), 0))  # no opening hours: always open
    ]
    assert answer["closed"] == [
        {
            "resource_id": hall["id"],
            "start": at(MONDAY, 12),
            "end": at(MONDAY, 13),
            "reason": "Cleaning",
        }
    ]
    only_venues = the_grid(api, api.organiser, f"{WEEK}&kind=venue")
    assert [r["id"] for r in only_venues["resources"]] == [hall["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2030-03-04T00:00&end=2030-04-05T00:00", "end"),  # 32 days
        ("start=2030-03-04T10:00&end=2030-03-04T09:00", "end"),  # backwards
        ("start=0001-01-01T00:00&end=0001-01-02T00:00", "start"),
        ("start=9999-12-30T00:00&end=9999-12-31T23:59", "start"),
        ("start=2030-03-04T00:00", "end"),
        ("start=yesterday&end=2030-03-04T00:00", "start"),
        ("start=2030-03-04T00:00&end=2030-03-05T00:00&kind=room", "kind"),
        ("start=2030-03-04T00:00&end=2030-03-05T00:00&resource_ids=nowhere", "resource_ids"),
        ("start=2030-03-04T00:00&end=2030-03-05T00:00&colour=red", "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api, query, field):
    body = problem(api.get(f"/api/v1/grid?{query}", api.organiser), 422)
    assert field in body["errors"], body


def test_a_range_of_31_days_to_the_last_year_answers(api):
    api.make_resource(name="Hall", opening_hours={"fri": [["22:00", "00:00"]]})
    answer = the_grid(api, api.organiser, "start=2200-12-01T00:00&end=2200-12-31T23:59")
    assert len(answer["open"]) == 4  # the Fridays of December 2200: 5, 12, 19, 26


def test_anyone_logged_in_and_nobody_else(api):
    assert api.get(f"/api/v1/grid?{WEEK}").status_code == 401
    assert the_grid(api, api.other)["resources"] == []


def test_the_grid_of_20_resources_and_a_week_takes_at_most_5_statements(api):
    rooms = [
        api.make_resource(
            name=f"Room {n:02}", buffer_minutes=15 * (n % 3), managers=[f"m{n}@example.org"]
        )
        for n in range(20)
    ]
    for n, room in enumerate(rooms):
        day = MONDAY + timedelta(days=n % 5)
        for hour in (9, 13):
            booking = api.booking(
                api.organiser if n % 2 else api.other,
                room,
                title=f"Meeting {n}.{hour}",
                start=at(day, hour),
                end=at(day, hour + 1),
            )
            if hour == 9:
                api.approved(booking)
        body = {"start": at(day, 17), "end": at(day, 18), "reason": "Cleaning"}
        api.post(f"/api/v1/resources/{room['id']}/closures", api.infra, body)
    ctx = api.app.extensions["booking_context"]
    who = Principal(api.organiser.user_id, api.organiser.email, api.organiser.name, "organiser")
    week = GridQuery(parse(at(MONDAY, 0)), parse(at(MONDAY + timedelta(days=7), 0)))

    found, statements = statements_of(api, lambda: grid.read_grid(ctx, who, week))

    assert len(statements) <= MAX_STATEMENTS, statements
    assert len(statements) <= 4, statements  # BEGIN (on SQLite), resources, closures, slots
    assert len(found.resources) == 20
    assert len(found.busy) == 40 and len(found.closed) == 20
    assert sum(b.title is None for b in found.busy) == 20  # Otto's, to Olle
    # and as many through the API for 2 resources as for 20
    few = f"{WEEK}&resource_ids={rooms[0]['id']},{rooms[1]['id']}"
    _, two = statements_of(api, lambda: api.get(f"/api/v1/grid?{few}", api.organiser))
    _, all_of_them = statements_of(api, lambda: api.get(f"/api/v1/grid?{WEEK}", api.organiser))
    assert len(two) == len(all_of_them), (two, all_of_them)


# --- the page -------------------------------------------------------------------------------

PASSWORD = "a long enough password"


def page_user(api: BookingApi, email: str, role: str = "organiser"):
    users.add_user(api.db, email, email.split("@")[0].title(), role, PASSWORD)
    return browser(api.app, email, PASSWORD)


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_the_page_without_script_links_each_free_cell_to_the_filled_in_form(api, lang, monkeypatch):
    quick_passwords(monkeypatch)
    hall = api.make_resource(name="Hall", opening_hours={"mon": [["08:00", "17:00"]]})
    taken = api.booking(api.other, hall, title="Secret merger")
    api.approved(taken)
    client = page_user(api, "pia@example.org")
    client.set_cookie("evenemang_lang", lang)

    page = client.get(f"/grid?week=2030-W10&resource={hall['slug']}")

    assert page.status_code == 200
    body = text(page)
    assert "Secret merger" not in body
    words = {
        "en": ("Free: Hall, Mon 4 Mar 08:00–09:00", "Booked: Hall, Mon 4 Mar 10:00–11:00"),
        "sv": ("Ledig: Hall, mån 4 mars 08:00–09:00", "Bokad: Hall, mån 4 mars 10:00–11:00"),
    }
    for said in words[lang]:
        assert said in html.unescape(body), said
    link = (
        "/bookings/new?date=2030-03-04&amp;start_time=08:00&amp;end_time=09:00"
        f"&amp;resource={hall['id']}"
    )
    assert link in body
    assert "/grid?week=2030-W11" in html.unescape(body)  # the next week, as a link
    one_day = client.get("/grid?day=2030-03-04&partial=1")
    assert one_day.status_code == 200 and "<html" not in text(one_day)
    assert "fb-day-grid" in text(one_day)


def test_the_form_opens_filled_in_from_the_grid(api, monkeypatch):
    quick_passwords(monkeypatch)
    hall, studio = api.make_resource(name="Hall"), api.make_resource(name="Studio", kind="studio")
    client = page_user(api, "pia@example.org")
    query = (
        "date=2030-03-04&start_time=10:00&end_time=00:00&end_date=2030-03-05"
        f"&resource={hall['id']}&resource={studio['id']}"
    )

    body = text(client.get(f"/bookings/new?{query}"))

    assert 'value="2030-03-05"' in body and 'value="10:00"' in body
    for chosen in (hall, studio):
        assert f'value="{chosen["id"]}" checked' in body


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "2030-W99", "nonsense", "2200-W52"])
def test_a_week_the_page_cannot_show_is_this_week(api, week, monkeypatch):
    quick_passwords(monkeypatch)
    api.make_resource(name="Hall")
    client = page_user(api, "pia@example.org")
    for query in (f"week={week}", f"day={week}", "day=9999-12-31", "kind=ship&resource=nowhere"):
        assert client.get(f"/grid?{query}").status_code == 200, query
