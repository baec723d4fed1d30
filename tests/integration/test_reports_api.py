"""The reports and the bookings export through booking's JSON API, over a year counted by
hand (tests/support/report_fixtures.py: a series with a cancelled occurrence, a declined
line, a booking moved into the next month, one across midnight, one across the change to
summer time): the exact figures, the CSV and Excel files read back, who may see them,
and bad input (422 naming the field, never a 500)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.support import report_fixtures
from tests.support.booking import BookingApi, problem

YEAR = "from=2026-01-01&to=2026-12-31"


@pytest.fixture
def api(make_app) -> BookingApi:
    api = BookingApi(make_app("booking"))
    api.kim = api.user("organiser", "kim@example.org", "Kim Komm")
    api.area = report_fixtures.seed(api.db, api.organiser.user_id)
    return api


def report(api: BookingApi, path: str, user=None) -> dict:
    response = api.get(f"/api/v1/{path}", user or api.infra)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


# --- events ----------------------------------------------------------------------------------


def test_events_per_month_by_category_count_occurrences_in_the_month_of_their_start(api):
    found = report(api, f"reports/events?{YEAR}&group=month")
    counted = {(r["period"], r["category"]): (r["events"], r["attendees"]) for r in found["rows"]}
    assert counted == {
        ("2026-02", "seminar"): (2, 40),  # the series: 2 and 16 Feb (9 Feb cancelled)
        ("2026-03", "seminar"): (1, 20),
        ("2026-03", "conference"): (1, 100),
        ("2026-03", "recording"): (1, 5),  # across the change to summer time
        ("2026-04", "public-lecture"): (1, 50),  # moved from March
        ("2026-04", "reception"): (1, 80),  # across midnight: once, in April
        ("2026-06", "conference"): (1, 30),
    }
    assert found["totals"] == {"events": 8, "attendees": 325}
    assert by(found["rows"], "period", "category")[("2026-03", "recording")]["category_name"] == (
        "Recording/podcast"
    )


def test_events_per_quarter_unit_and_resource(api):
    quarters = report(api, f"reports/events?{YEAR}&group=quarter")["rows"]
    assert {(r["period"], r["category"]): r["events"] for r in quarters} == {
        ("2026-Q1", "seminar"): 3,
        ("2026-Q1", "conference"): 1,
        ("2026-Q1", "recording"): 1,
        ("2026-Q2", "public-lecture"): 1,
        ("2026-Q2", "reception"): 1,
        ("2026-Q2", "conference"): 1,
    }
    units = report(api, f"reports/events?{YEAR}&group=unit")
    assert {r["unit"]: (r["events"], r["attendees"], r["unit_name"]) for r in units["rows"]} == {
        "hist": (5, 115, "History"),
        "kansli": (3, 210, "School office"),
    }
    resources = report(api, f"reports/events?{YEAR}&group=resource")
    assert {r["resource_name"]: r["events"] for r in resources["rows"]} == {
        "Hall": 4,
        "Aula": 3,
        "Photo": 4,
        "Studio": 2,
    }
    assert resources["totals"] == {"events": 8, "attendees": 325}  # each event once


def test_events_filtered_by_unit_category_and_resource(api):
    hist = report(api, f"reports/events?{YEAR}&group=year&unit=hist")
    assert hist["totals"] == {"events": 5, "attendees": 115}
    seminars = report(api, f"reports/events?{YEAR}&group=year&category=seminar")
    assert seminars["totals"] == {"events": 3, "attendees": 60}
    hall = api.area.resources["hall"]
    assert report(api, f"reports/events?{YEAR}&resource={hall}")["totals"]["events"] == 4
    swedish = report(api, f"reports/events?{YEAR}&group=unit&lang=sv")
    assert {r["unit_name"] for r in swedish["rows"]} == {
        "Historiska institutionen",
        "Skolans kansli",
    }


# --- occupancy -------------------------------------------------------------------------------


def test_occupancy_per_week_against_opening_hours(api):
    hall = api.area.resources["hall"]
    found = report(api, f"reports/occupancy?from=2026-02-02&to=2026-02-15&resource={hall}")
    assert [
        (r["period"], r["booked_hours"], r["open_hours"], r["share"]) for r in found["rows"]
    ] == [
        ("2026-W06", 2.0, 50.0, 0.04),
        ("2026-W07", 0.0, 50.0, 0.0),  # the cancelled occurrence holds nothing
    ]
    year = report(api, f"reports/occupancy?{YEAR}&resource={hall}")
    first = year["rows"][0]
    assert (first["period"], first["open_hours"]) == ("2026-W01", 20.0)  # from Thu 1 Jan
    assert year["totals"]["booked_hours"] == 14.0  # the pending request holds nothing


def test_occupancy_clips_to_the_period_and_counts_the_short_day(api):
    aula = api.area.resources["aula"]
    months = report(
        api, f"reports/occupancy?from=2026-03-01&to=2026-05-31&group=month&resource={aula}"
    )
    assert [(r["period"], r["booked_hours"], r["open_hours"]) for r in months["rows"]] == [
        ("2026-03", 2.0, 743.0),  # 29 March has 23 hours; the recording took 2 real hours
        ("2026-04", 6.0, 720.0),  # the lecture, and the reception until midnight
        ("2026-05", 2.0, 744.0),  # the reception after midnight
    ]
    weeks = report(api, f"reports/occupancy?from=2026-03-23&to=2026-05-03&resource={aula}")
    assert by(weeks["rows"], "period")["2026-W13"]["open_hours"] == 167.0
    assert by(weeks["rows"], "period")["2026-W18"]["booked_hours"] == 6.0


def test_busiest_hours_of_the_week(api):
    found = report(api, f"reports/occupancy?{YEAR}&group=hour")
    assert len(found["rows"]) == 168
    busy = {
        (r["weekday"], r["hour"]): r["booked_hours"] for r in found["rows"] if r["booked_hours"]
    }
    assert busy == {
        ("mon", 10): 3.0,  # the series: three active Mondays in the hall
        ("mon", 11): 3.0,
        **{("tue", h): 1.0 for h in range(9, 17)},  # the conference
        ("wed", 18): 1.0,
        ("wed", 19): 1.0,
        **{("thu", h): 1.0 for h in range(20, 24)},  # the reception, across midnight
        ("fri", 0): 1.0,
        ("fri", 1): 1.0,
        ("sun", 1): 1.0,  # the recording, placed by its start's offset (CET)
        ("sun", 2): 1.0,
    }
    assert found["totals"] == {"booked_hours": 24.0}


# --- services --------------------------------------------------------------------------------


def test_service_hours_in_house_suppliers_and_cost(api):
    found = report(api, f"reports/services?{YEAR}")
    rows = {(r["resource_name"], r["period"]): r for r in found["rows"]}
    assert set(rows) == {
        ("Photo", "2026-02"),
        ("Photo", "2026-03"),
        ("Photo", "2026-06"),
        ("Studio", "2026-03"),
    }
    figures = (
        "requested_hours",
        "approved_hours",
        "declined_hours",
        "in_house_hours",
        "supplier_hours",
        "supplier_cost",
        "reference_rate",
        "in_house_cost_at_rates",
    )
    assert {key: tuple(row[f] for f in figures) for key, row in rows.items()} == {
        ("Photo", "2026-02"): (4.0, 4.0, 0.0, 4.0, 0.0, 0.0, 700.0, 2800.0),
        # the series' last Monday; the conference's and B7's declined photographers
        ("Photo", "2026-03"): (12.0, 2.0, 10.0, 2.0, 0.0, 0.0, 700.0, 1400.0),
        ("Photo", "2026-06"): (3.0, 3.0, 0.0, 0.0, 3.0, 2100.0, 700.0, 0.0),
        # 8 h booked, 5 delivered by Foto AB; the recording's 2 real hours in-house
        ("Studio", "2026-03"): (10.0, 10.0, 0.0, 2.0, 5.0, 4000.0, 800.0, 1600.0),
    }
    assert found["totals"] == {
        "requested_hours": 29.0,
        "approved_hours": 19.0,
        "declined_hours": 10.0,
        "in_house_hours": 8.0,
        "supplier_hours": 8.0,
        "supplier_cost": 6100.0,
        "in_house_cost_at_rates": 5800.0,
    }
    per_service = report(api, f"reports/services?{YEAR}&group=resource")["rows"]
    assert {r["resource_name"]: r["requested_hours"] for r in per_service} == {
        "Photo": 19.0,
        "Studio": 10.0,
    }


# --- decisions -------------------------------------------------------------------------------


def test_decision_times_per_team_and_reasons(api):
    found = report(api, f"reports/decisions?{YEAR}")
    rows = {r["team_name"]: r for r in found["rows"]}
    assert {
        name: (r["decided"], r["declined"], r["declined_share"], r["median_hours"], r["p90_hours"])
        for name, r in rows.items()
    } == {
        "Infrastruktur": (2, 0, 0.0, 25.0, 43.4),  # 2 h and 48 h
        "Kommunikation": (6, 2, 0.333, 15.0, 24.0),  # 0.5, 2, 6, 24, 24, 24 h
        None: (3, 0, 0.0, 2.0, 38.8),  # Aula, no team: 1, 2, 48 h
    }
    assert found["totals"] == {"decided": 11, "declined": 2, "declined_share": 0.182}
    reasons = report(api, f"reports/decisions?{YEAR}&group=reason")
    assert reasons["rows"] == [{"reason": "no photographer available", "lines": 2}]


# --- exports ---------------------------------------------------------------------------------

MARCH = "from=2026-03-01&to=2026-03-31"


def test_bookings_export_one_row_per_occurrence_and_line(api):
    found = report(api, f"exports/bookings?{MARCH}", api.kim)
    rows = found["rows"]
    assert found["totals"]["rows"] == len(rows) == 9
    studio = next(
        r for r in rows if r["resource_name"] == "Studio" and r["category"] == "conference"
    )
    assert (studio["assignee"], studio["hours"], studio["hours_delivered"]) == ("Foto AB", 8.0, 5.0)
    assert studio["unit_name"] == "School office"
    recording = [r for r in rows if r["category"] == "recording"]
    assert {r["resource_name"] for r in recording} == {"Aula", "Studio"}
    assert {(r["hours"], r["opt_outs"], r["start"]) for r in recording} == {
        (2.0, 2, "2026-03-29T01:00:00+01:00")
    }
    # who opted out: for the photographer's team on its studio line, not on the hall's
    who = {r["resource_name"]: r["opted_out"] for r in recording}
    assert who == {"Studio": "a@example.org, b@example.org", "Aula": None}
    private = next(r for r in rows if r["line_status"] == "pending")
    assert private["title"] is None  # Olle's private request, on another team's hall
    seen_by_infra = report(api, f"exports/bookings?{MARCH}")["rows"]
    assert next(r for r in seen_by_infra if r["line_status"] == "pending")["title"]
    assert {r["opted_out"] for r in seen_by_infra if r["category"] == "recording"} == {
        "a@example.org, b@example.org"
    }


def test_csv_and_xlsx_read_back(api):
    response = api.get(f"/api/v1/reports/events?{YEAR}&format=csv&lang=en", api.infra)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == ["Period", "Category (short name)", "Category", "Events", "Attendees"]
    assert ["2026-02", "seminar", "Seminar", "2", "40"] in table
    assert len(table) == 8

    response = api.get(f"/api/v1/exports/bookings?{MARCH}&format=xlsx&lang=sv", api.infra)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = book[book.sheetnames[0]]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    assert values[0][:3] == ["Bokning (id)", "Titel", "Bokningens status"]
    assert len(values) == 10
    header = values[0]
    studio = next(
        v for v in values[1:] if v[header.index("Resurs")] == "Studio" and v[7] == "conference"
    )
    assert studio[header.index("Utförs av")] == "Foto AB"
    assert studio[header.index("Levererade timmar (raden)")] == 5.0

    response = api.get(f"/api/v1/reports/services?{YEAR}&format=xlsx", api.admin)
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    totals = {k: v for k, v in book[book.sheetnames[1]].iter_rows(values_only=True)}
    book.close()
    assert totals["Supplier cost"] == 6100


# --- who and bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "reports/events",
        "reports/occupancy",
        "reports/services",
        "reports/decisions",
        "exports/bookings",
    ],
)
def test_organisers_outside_teams_may_not_see_reports(api, path):
    problem(api.get(f"/api/v1/{path}?{YEAR}", api.organiser), 403)
    assert api.get(f"/api/v1/{path}?{YEAR}", api.kim).status_code == 200  # a team member
    assert api.get(f"/api/v1/{path}?{YEAR}", api.admin).status_code == 200
    problem(api.get(f"/api/v1/{path}?{YEAR}"), 401)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-05-01&to=2026-04-01", "to"),
        ("from=2026-01-01&to=9999-12-31", "to"),
        ("from=9999-01-01", "from"),
        ("from=2020-01-01&to=2026-12-31", "to"),
        ("from=2026-13-01", "from"),
        (f"{YEAR}&unit=nowhere", "unit"),
        (f"{YEAR}&category=party", "category"),
        (f"{YEAR}&resource=00000000-0000-0000-0000-000000000000", "resource"),
        (f"{YEAR}&group=decade", "group"),
        (f"{YEAR}&format=pdf", "format"),
    ],
)
def test_bad_input_is_422_naming_the_field(api, query, field):
    body = problem(api.get(f"/api/v1/reports/events?{query}", api.infra), 422)
    assert field in body["errors"], body


def test_export_bad_input(api):
    body = problem(
        api.get("/api/v1/exports/bookings?from=2026-02-01&to=2026-01-01", api.infra), 422
    )
    assert "to" in body["errors"]
